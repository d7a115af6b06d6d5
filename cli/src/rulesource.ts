// Loads the rules a command works on: -r paths, or the configured rules_files, with -D/-T/-t and
// the `priority` / `rule_matching` settings turned into ruleset options.

import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { loadRules, readRulesPaths, substringSelector, type LoadResult, type RulesetOptions, type Diagnostic, parsePriority } from '@harrier/rules';
import type { CliArgs } from './args.js';
import { UsageError } from './args.js';
import type { Settings } from './settings.js';

/** Harrier's own default rules, shipped in the repository's rules/ folder. */
export const DEFAULT_RULES_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'rules');

export interface LoadedRules {
  readonly result: LoadResult;
  readonly readErrors: readonly Diagnostic[];
  readonly paths: readonly string[];
  /** The rules files read, in load order (a folder's .yaml files one by one). */
  readonly files: readonly string[];
}

export function loadRulesFor(paths: readonly string[]): LoadedRules {
  const read = readRulesPaths(paths);
  const result = loadRules(read.sources);
  return { result, readErrors: read.errors, paths, files: read.sources.map((s) => s.name) };
}

export function rulePaths(args: CliArgs, settings: Settings): string[] {
  if (args.rules.length > 0) return args.rules;
  if (settings.rulesFiles.length > 0) return [...settings.rulesFiles];
  return [DEFAULT_RULES_DIR];
}

export function rulesetOptions(args: CliArgs, settings: Settings): RulesetOptions {
  if (args.onlyTags.length > 0 && (args.disableTags.length > 0 || args.disableRules.length > 0)) {
    throw new UsageError('Error: You can not specify both disabled (-D/-T) and enabled (-t) rules: keep either the -t options or the -D/-T ones', 1);
  }
  const selections: { enable: boolean; selector: { rule?: string; tag?: string } }[] = [...settings.selections];
  for (const d of args.disableRules) selections.push({ enable: false, selector: substringSelector(d) });
  for (const t of args.disableTags) selections.push({ enable: false, selector: { tag: t } });
  if (args.onlyTags.length > 0) {
    selections.push({ enable: false, selector: {} });
    for (const t of args.onlyTags) selections.push({ enable: true, selector: { tag: t } });
  }
  let minPriority;
  if (settings.priority !== undefined) {
    minPriority = parsePriority(settings.priority);
    if (!minPriority) throw new UsageError(`priority '${settings.priority}' is not a priority: use emergency, alert, critical, error, warning, notice, informational or debug`);
  }
  return { selections, minPriority, ruleMatching: settings.ruleMatching, appendOutput: settings.appendOutput };
}
