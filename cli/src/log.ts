// The CLI's informational lines on stderr, as Falco writes its own: each starts with the wall-clock
// time and ": ", asctime-style in local time ("Mon Nov 23 17:13:03 2026") or, with
// time_format_iso_8601, ISO 8601 in UTC ("2026-11-23T17:13:03+0000"). `log_stderr: false` turns
// them off, and so does a log level above info (Falco's notice and up). Errors and warnings are
// not these lines: they always reach stderr.

import type { LoadedRules } from './rulesource.js';
import type { Settings } from './settings.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The time prefix of a log line, for `now`. */
export function logTime(now: Date, iso: boolean): string {
  if (iso) {
    return `${now.getUTCFullYear()}-${two(now.getUTCMonth() + 1)}-${two(now.getUTCDate())}T${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}+0000`;
  }
  // asctime: the day of the month is padded with a space to two characters.
  return `${DAYS[now.getDay()]} ${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())} ${now.getFullYear()}`;
}

export type InfoLog = (message: string) => void;

/** A writer of informational lines for these settings (a no-op when they are turned off). */
export function infoLog(settings: Settings, out: NodeJS.WritableStream = process.stderr): InfoLog {
  if (!settings.config.logging.stderrInfo) return () => {};
  const iso = settings.timeFormatIso8601;
  return (message) => {
    out.write(`${logTime(new Date(), iso)}: ${message}\n`);
  };
}

/** The lines Falco starts with: version, configuration files, each rules file with its outcome. */
export function logStart(log: InfoLog, version: string, settings: Settings, rules: LoadedRules | undefined): void {
  log(`Harrier version: ${version} (${process.arch})`);
  if (settings.configFiles.length > 0) {
    log('Harrier initialized with configuration files:');
    for (const f of settings.configFiles) log(`   ${f}`);
  }
  if (rules === undefined) return;
  log('Loading rules from:');
  const warnings = new Map<string, number>();
  for (const w of rules.result.warnings) if (w.pos) warnings.set(w.pos.file, (warnings.get(w.pos.file) ?? 0) + 1);
  for (const f of rules.files) {
    const n = warnings.get(f) ?? 0;
    log(`   ${f}${n > 0 ? ` | ${n} warning(s) (harrier rules validate shows them)` : ''}`);
  }
}
