// `harrier replay --fields FILE`: evaluates rules over events given as JSON lines of field values
// and prints alerts as Falco would (text lines, or JSON lines with --json / json_output=true).

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import {
  ENGINE_VERSION,
  fieldMapAccessor,
  formatDiagnostic,
  parseFieldMapLines,
  Ruleset,
  toAlertJson,
  toAlertText,
  type AlertInput,
  type FieldMapEvent,
} from '@harrier/rules';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { loadRulesFor, rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings } from '../settings.js';

const EXAMPLE_EVENTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'examples', 'events.ndjson');

function eventTimeNs(e: FieldMapEvent): bigint {
  const raw = e['evt.rawtime'];
  if (typeof raw === 'number') return BigInt(Math.trunc(raw));
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return BigInt(raw);
  const t = e['evt.time.iso8601'] ?? e['evt.time'];
  if (typeof t === 'string') {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(t);
    if (m) return BigInt(Date.parse(m[1] + 'Z')) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  }
  return BigInt(Date.now()) * 1_000_000n;
}

export async function runReplay(args: CliArgs): Promise<number> {
  if (args.eventsFile !== undefined) {
    throw new UsageError(`-e ${args.eventsFile}: reading .scap capture files is not available in this version; give events as JSON lines of field values with --fields FILE`);
  }
  const file = args.fieldsFile ?? args.positionals[0] ?? (args.command[0] === 'run' ? EXAMPLE_EVENTS : undefined);
  if (file === undefined) throw new UsageError('replay needs events: harrier replay --fields EVENTS.ndjson');
  const settings = readSettings(args.overrides, args.config);
  const json = args.json || settings.jsonOutput;
  const { result, readErrors } = loadRulesFor(rulePaths(args, settings));
  const errors = [...readErrors, ...result.errors];
  for (const d of errors) process.stderr.write(formatDiagnostic(d) + '\n');
  if (errors.length > 0) {
    process.stderr.write(`harrier: the rules have ${errors.length} error(s); fix them first (see harrier rules validate)\n`);
    return 1;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`harrier: cannot read events file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 1;
  }
  const { events, errors: lineErrors } = parseFieldMapLines(text);
  for (const e of lineErrors) process.stderr.write(`${file}:${e.line}: skipped: ${e.message}\n`);
  const ruleset = new Ruleset(result.rules, fieldMapAccessor, { ...rulesetOptions(args, settings), source: 'syscall' });
  const host = hostname();
  let alerts = 0;
  events.forEach((ev, i) => {
    ruleset.evaluate(ev, (r) => {
      alerts++;
      const input: AlertInput = {
        rule: r.rule.name,
        priority: r.rule.priority,
        source: r.rule.source,
        tags: r.rule.tags,
        output: r.output.render(ev),
        timeNs: eventTimeNs(ev),
        hostname: host,
        uuid: randomUUID(),
        node: host,
        eventId: `replay:${i + 1}`,
        engineVersion: ENGINE_VERSION,
      };
      if (!json) {
        process.stdout.write(toAlertText(input, settings.timeFormatIso8601) + '\n');
        return;
      }
      const obj: Record<string, unknown> = { ...toAlertJson(input) };
      if (!settings.jsonIncludeOutputProperty) delete obj['output'];
      if (!settings.jsonIncludeTagsProperty) delete obj['tags'];
      process.stdout.write(JSON.stringify(obj) + '\n');
    });
  });
  process.stderr.write(`Events processed: ${events.length}, skipped: ${lineErrors.length}, alerts: ${alerts}, rules enabled: ${ruleset.enabledCount()}\n`);
  return lineErrors.length > 0 && events.length === 0 ? 1 : 0;
}
