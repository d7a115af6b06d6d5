// The CLI's view of the configuration: the config file (-c, or the first default path that
// exists), environment variables and -o overrides, through the kit's one schema.

import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_PATHS, loadConfig, type HarrierConfig } from '@harrier/kit';
import { UsageError } from './args.js';

export interface Settings {
  readonly rulesFiles: readonly string[];
  readonly jsonOutput: boolean;
  readonly jsonIncludeOutputProperty: boolean;
  readonly jsonIncludeTagsProperty: boolean;
  readonly jsonIncludeOutputFieldsProperty: boolean;
  readonly jsonIncludeMessageProperty: boolean;
  readonly timeFormatIso8601: boolean;
  readonly priority: string | undefined;
  readonly ruleMatching: 'first' | 'all';
  readonly appendOutput: string | undefined;
  readonly selections: { enable: boolean; selector: { rule?: string; tag?: string } }[];
  readonly config: HarrierConfig;
  /** The configuration files read (-c, or the first default path that exists). */
  readonly configFiles: readonly string[];
}

export function readSettings(overrides: readonly string[], configFile?: string): Settings {
  const files = configFile !== undefined ? [configFile] : DEFAULT_CONFIG_PATHS.filter((p) => existsSync(p)).slice(0, 1);
  const r = loadConfig({ files, overrides, env: process.env });
  // A configuration that does not load ends the command with status 1, as Falco ends.
  if (!r.ok) throw new UsageError(`invalid configuration:\n${r.errors.map((e) => `  ${e.where}: ${e.message}`).join('\n')}`, 1);
  const c = r.config;
  return {
    rulesFiles: c.rules.files,
    jsonOutput: c.output.json,
    jsonIncludeOutputProperty: c.output.jsonIncludeOutput,
    jsonIncludeTagsProperty: c.output.jsonIncludeTags,
    jsonIncludeOutputFieldsProperty: c.output.jsonIncludeOutputFields,
    jsonIncludeMessageProperty: c.output.jsonIncludeMessage,
    timeFormatIso8601: c.output.timeIso8601,
    priority: c.rules.minPriority,
    ruleMatching: c.rules.matching,
    appendOutput: c.rules.appendOutput,
    selections: c.rules.selections.map((s) => ({ enable: s.enable, selector: { ...(s.rule !== undefined ? { rule: s.rule } : {}), ...(s.tag !== undefined ? { tag: s.tag } : {}) } })),
    config: c,
    configFiles: files,
  };
}
