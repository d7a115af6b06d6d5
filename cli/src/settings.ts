// The settings the rules commands honour, read from -o overrides (Falco's falco.yaml key names).
// Unknown keys that would change which rules run are refused rather than ignored.

import { UsageError } from './args.js';

export interface Settings {
  readonly rulesFiles: string[];
  readonly jsonOutput: boolean;
  readonly jsonIncludeOutputProperty: boolean;
  readonly jsonIncludeTagsProperty: boolean;
  readonly timeFormatIso8601: boolean;
  readonly priority: string | undefined;
  readonly ruleMatching: 'first' | 'all';
  readonly appendOutput: string | undefined;
  readonly selections: { enable: boolean; selector: { rule?: string; tag?: string } }[];
}

const BOOL = (key: string, v: string): boolean => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`-o ${key}=${v}: expected true or false`);
};

/** Keys that only affect delivery or the live pipeline: accepted here, used by those commands. */
const ACCEPTED = new Set(['stdout_output.enabled', 'buffered_outputs', 'log_level', 'log_stderr', 'log_syslog', 'webserver.enabled', 'json_include_message_property', 'json_include_output_fields_property']);

export function readSettings(overrides: readonly string[]): Settings {
  const s = {
    rulesFiles: [] as string[],
    jsonOutput: false,
    jsonIncludeOutputProperty: true,
    jsonIncludeTagsProperty: true,
    timeFormatIso8601: false,
    priority: undefined as string | undefined,
    ruleMatching: 'first' as 'first' | 'all',
    appendOutput: undefined as string | undefined,
    selections: [] as Settings['selections'],
  };
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UsageError(`-o takes KEY=VALUE, got '${o}'`);
    const key = o.slice(0, eq).trim();
    const value = o.slice(eq + 1).trim();
    switch (key) {
      case 'json_output':
        s.jsonOutput = BOOL(key, value);
        break;
      case 'json_include_output_property':
        s.jsonIncludeOutputProperty = BOOL(key, value);
        break;
      case 'json_include_tags_property':
        s.jsonIncludeTagsProperty = BOOL(key, value);
        break;
      case 'time_format_iso_8601':
        s.timeFormatIso8601 = BOOL(key, value);
        break;
      case 'priority':
        s.priority = value;
        break;
      case 'rule_matching':
        if (value !== 'first' && value !== 'all') throw new UsageError(`-o rule_matching=${value}: expected first or all`);
        s.ruleMatching = value;
        break;
      case 'rules_files':
      case 'rules_file':
        s.rulesFiles = [value];
        break;
      case 'rules_files[]':
      case 'rules_file[]':
        s.rulesFiles.push(value);
        break;
      case 'append_output':
        s.appendOutput = value;
        break;
      default:
        if (ACCEPTED.has(key)) break;
        throw new UsageError(`-o ${key}: this command does not support that key; keys it supports: json_output, json_include_output_property, json_include_tags_property, time_format_iso_8601, priority, rule_matching, rules_files, append_output`);
    }
  }
  return s;
}
