// Reads ../shared/corpus/scap/EXPECTATIONS.json (Falco's legacy regression suites: capture + rules
// + options -> alerts) into cases Harrier's replay can run: which rules, which selection options,
// and what to check about the alerts. Kept apart from the test so the mapping itself is testable.

export interface AlertSummary {
  readonly rule: string;
  /** Falco's spelling: Warning, Error, ... */
  readonly priority: string;
}

export interface ReplayCase {
  readonly name: string;
  readonly capture: string;
  readonly rulesFiles: readonly string[];
  readonly allEvents: boolean;
  readonly enabledTags: readonly string[];
  readonly disabledTags: readonly string[];
  /** -D: substrings (or wildcards) of rule names to disable. */
  readonly disabledRules: readonly string[];
  readonly minPriority: string | undefined;
  /** Checks on the alerts; each returns an error message or undefined. */
  readonly checks: readonly ((alerts: readonly AlertSummary[]) => string | undefined)[];
  /** Why the row cannot run (and what would make it run), when it cannot. */
  readonly skip?: string;
}

interface LegacyRow {
  readonly test: string;
  readonly capture: string;
  readonly rules_files: readonly string[];
  readonly detect: boolean;
  readonly detect_level: readonly string[] | null;
  readonly detect_counts: Readonly<Record<string, number>> | readonly Readonly<Record<string, number>>[] | null;
  readonly all_events: boolean;
  readonly other_keys: Readonly<Record<string, unknown>>;
}

interface TestingRow {
  readonly test: string;
  readonly capture: string;
  readonly rules_files: readonly string[];
  readonly filters: readonly (readonly string[])[];
  /** An exact count, or '>0' for at least one. */
  readonly expected_count: number | string;
  readonly extra_options: readonly (readonly string[])[];
}

const PRIORITY_WORDS: Record<string, string> = {
  EMERGENCY: 'Emergency',
  ALERT: 'Alert',
  CRITICAL: 'Critical',
  ERROR: 'Error',
  WARNING: 'Warning',
  NOTICE: 'Notice',
  INFORMATIONAL: 'Informational',
  INFO: 'Informational',
  DEBUG: 'Debug',
};

function word(p: string): string {
  return PRIORITY_WORDS[p.toUpperCase()] ?? p;
}

/** other_keys that only concern the rules loader or outputs, which other suites test; the alerts are still checked. */
const OUTPUT_ONLY = new Set(['json_output', 'json_include_output_property', 'json_include_tags_property', 'time_iso_8601', 'stdout_contains', 'rules_warning']);

export function casesFrom(doc: { rows: readonly unknown[] }): ReplayCase[] {
  return doc.rows.map((raw, i) => ('detect' in (raw as object) ? legacyCase(raw as LegacyRow, i) : testingCase(raw as TestingRow, i)));
}

function legacyCase(r: LegacyRow, i: number): ReplayCase {
  const k = r.other_keys;
  const checks: ReplayCase['checks'][number][] = [];
  if (!r.detect) checks.push((a) => (a.length === 0 ? undefined : `expected no alerts, got ${a.length} (${summarise(a)})`));
  else checks.push((a) => (a.length > 0 ? undefined : 'expected alerts, got none'));
  if (r.detect && r.detect_level) {
    const want = new Set(r.detect_level.map(word));
    checks.push((a) => {
      const missing = [...want].filter((p) => !a.some((x) => x.priority === p));
      return missing.length === 0 ? undefined : `expected alerts of priority ${missing.join(', ')}; got ${summarise(a)}`;
    });
  }
  if (r.detect_counts) {
    const counts: Record<string, number> = {};
    for (const part of Array.isArray(r.detect_counts) ? (r.detect_counts as Record<string, number>[]) : [r.detect_counts as Record<string, number>]) Object.assign(counts, part);
    for (const [rule, n] of Object.entries(counts)) {
      checks.push((a) => {
        const got = a.filter((x) => x.rule === rule).length;
        return got === n ? undefined : `rule '${rule}': expected ${n} alerts, got ${got}`;
      });
    }
  }
  const skip = legacySkip(r);
  const list = (key: string): string[] => (Array.isArray(k[key]) ? (k[key] as string[]) : []);
  const base = {
    name: `${i} ${r.test}`,
    capture: r.capture,
    rulesFiles: r.rules_files,
    allEvents: r.all_events,
    enabledTags: list('run_tags'),
    disabledTags: list('disable_tags'),
    disabledRules: list('disabled_rules'),
    minPriority: typeof k['priority'] === 'string' ? k['priority'] : undefined,
    checks,
  };
  return skip === undefined ? base : { ...base, skip };
}

function legacySkip(r: LegacyRow): string | undefined {
  const keys = Object.keys(r.other_keys);
  if (keys.includes('validate_rules_file')) return 'a rules-validation case (no replay): packages/rules/src/loader/legacy_validate.test.ts runs it';
  if (keys.includes('grpc')) return 'Falco\'s gRPC outputs service on a unix socket: test/cli.test.ts runs it through the harrier command with a real gRPC client';
  if (keys.includes('conf_file') && String(r.other_keys['conf_file']).includes('drops')) return 'syscall_event_drops over a capture (exit status, stderr and stdout lines): test/cli.test.ts runs it through the harrier command';
  if (keys.includes('exit_status') && r.other_keys['exit_status'] !== 0) return 'a command-line error case (exit status and message): test/cli.test.ts runs it through the harrier command';
  if (keys.includes('output_strictly_contains')) {
    if (r.other_keys['json_output'] === true) return 'Falco\'s JSON lines: test/cli.test.ts checks every key and value of each (evt.time.iso8601 as exact text); the 2016 byte layout (output_fields last, after a space) is not imitated';
    return 'exact output lines on stdout, in file_output\'s file and through program_output: test/cli.test.ts compares them with output_files/single_rule_with_cat_write.txt';
  }
  const other = keys.filter((x) => !OUTPUT_ONLY.has(x) && !['run_tags', 'disable_tags', 'disabled_rules', 'priority', 'conf_file', 'exit_status'].includes(x));
  if (other.length > 0) return `checks the command's log lines (${other.join(', ')}) as well as alerts: test/cli.test.ts runs it through the harrier command`;
  if (r.rules_files.length === 0) return 'runs the built-in rules (Harrier\'s own, rules/, stand for Falco\'s): test/cli.test.ts runs it through the harrier command';
  return undefined;
}

function testingCase(r: TestingRow, i: number): ReplayCase {
  const enabledTags: string[] = [];
  const disabledTags: string[] = [];
  let allEvents = false;
  let minPriority: string | undefined;
  for (const o of r.extra_options) {
    if (o[0] === 'WithEnabledTags') enabledTags.push(...o.slice(1));
    else if (o[0] === 'WithDisabledTags') disabledTags.push(...o.slice(1));
    else if (o[0] === 'WithAllEvents') allEvents = true;
    else if (o[0] === 'WithMinRulePriority') minPriority = o[1];
  }
  const filters = r.filters;
  const want = r.expected_count;
  const match = (a: AlertSummary): boolean =>
    filters.every((f) => (f[0] === 'OfRule' ? a.rule === f[1] : f[0] === 'OfPriority' ? a.priority === word(f[1] ?? '') : false));
  return {
    name: `${i} ${r.test} ${filters.map((f) => f.join(' ')).join(', ')}`,
    capture: r.capture,
    rulesFiles: r.rules_files,
    allEvents,
    enabledTags,
    disabledTags,
    disabledRules: [],
    minPriority,
    checks: [
      (a) => {
        const got = a.filter(match).length;
        const ok = want === '>0' ? got > 0 : got === Number(want);
        return ok ? undefined : `expected ${want} alerts matching ${JSON.stringify(filters)}, got ${got} (${summarise(a)})`;
      },
    ],
  };
}

function summarise(a: readonly AlertSummary[]): string {
  const by = new Map<string, number>();
  for (const x of a) by.set(`${x.rule} [${x.priority}]`, (by.get(`${x.rule} [${x.priority}]`) ?? 0) + 1);
  return [...by].map(([k, n]) => `${k}: ${n}`).join('; ') || 'none';
}

/** A key identifying the replay a case needs (cases differing only in their checks share one). */
export function replayKey(c: ReplayCase): string {
  return JSON.stringify([c.capture, c.rulesFiles, c.allEvents, c.enabledTags, c.disabledTags, c.disabledRules, c.minPriority]);
}
