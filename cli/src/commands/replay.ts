// `harrier replay --fields FILE`: evaluates rules over events given as JSON lines of field values
// and prints alerts as Falco would (text lines, or JSON lines with --json / json_output=true).

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { batchAccessor, type BatchCursor, type DecodedBatch } from '@harrier/batch';
import { readScap, replayCapture, ReplayPipeline, ScapError, type ScapCapture } from '@harrier/collector';
import {
  ENGINE_VERSION,
  alertTimeNs,
  compileOutput,
  fieldMapAccessor,
  loadRules,
  formatDiagnostic,
  parseFieldMapLines,
  Ruleset,
  toAlertJson,
  type AlertInput,
  type CompiledOutput,
  type FieldMapEvent,
  type LoadResult,
} from '@harrier/rules';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { loadRulesFor, rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings } from '../settings.js';
import { AlertOutputs, alertFormatter, internalAlert } from '../alerts.js';
import { CaptureDropCheck, dropSettings } from '@harrier/engine';
import { infoLog, logStart, type InfoLog } from '../log.js';
import { HARRIER_VERSION } from '../version.js';

const EXAMPLE_EVENTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'examples', 'events.ndjson');

function eventTimeNs(e: FieldMapEvent): bigint {
  const raw = e['evt.rawtime'];
  if (typeof raw === 'number') return BigInt(Math.trunc(raw));
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return BigInt(raw);
  const t = e['evt.time.iso8601'] ?? e['evt.time'];
  const ns = typeof t === 'string' ? alertTimeNs(t) : undefined;
  return ns ?? BigInt(Date.now()) * 1_000_000n;
}

export async function runReplay(args: CliArgs): Promise<number> {
  const capture = args.eventsFile ?? (args.fieldsFile === undefined ? args.positionals[0] : undefined);
  if (capture !== undefined) return runCaptureReplay(args, capture);
  if (args.command[0] === 'run' && args.fieldsFile === undefined) {
    const demo = runDemo();
    // The demo's own rules unless the user named rules (-r) or a configuration (-c).
    if (demo) return runCaptureReplay(args.rules.length > 0 || args.config !== undefined ? args : { ...args, rules: demo.rules }, demo.capture);
  }
  const file = args.fieldsFile ?? (args.command[0] === 'run' ? EXAMPLE_EVENTS : undefined);
  if (file === undefined) throw new UsageError('replay needs events: harrier replay CAPTURE.scap, or harrier replay --fields EVENTS.ndjson');
  if (args.print !== undefined) throw new UsageError('--print works on capture files: harrier replay CAPTURE.scap --print FORMAT');
  const settings = readSettings(args.overrides, args.config);
  const json = args.json || settings.jsonOutput;
  const loaded = loadRulesFor(rulePaths(args, settings));
  const { result, readErrors } = loaded;
  const log = infoLog(settings);
  logStart(log, HARRIER_VERSION, settings, loaded);
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
  log(`Reading events from file: ${file}`);
  const { events, errors: lineErrors } = parseFieldMapLines(text);
  for (const e of lineErrors) process.stderr.write(`${file}:${e.line}: skipped: ${e.message}\n`);
  const ruleset = new Ruleset(result.rules, fieldMapAccessor, { ...rulesetOptions(args, settings), source: 'syscall' });
  const host = process.env['FALCO_HOSTNAME'] ?? process.env['HARRIER_HOSTNAME'] ?? hostname();
  let alerts = 0;
  const outputs = await openOutputs(settings, json);
  if (outputs === undefined) return 1;
  try {
    evaluateAll();
  } catch (err) {
    await outputs.close(); // a started gRPC server would keep the process alive
    throw err;
  }
  await serveRemaining(outputs, args.durationSec, log);
  const delivered = await outputs.close();
  process.stderr.write(`Events processed: ${events.length}, skipped: ${lineErrors.length}, alerts: ${alerts}, rules enabled: ${ruleset.enabledCount()}\n`);
  return (lineErrors.length > 0 && events.length === 0) || !delivered ? 1 : 0;

  /** Every event through the rules, each match to the outputs. */
  function evaluateAll(): void {
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
        outputs!.write(toAlertJson(input, settings.timeFormatIso8601));
      });
    });
  }
}

/**
 * `harrier run` before the live pipeline exists: the richest capture of the conformance corpus
 * with the upstream Falco rules, when the corpus is beside the repository.
 */
function runDemo(): { capture: string; rules: string[] } | undefined {
  const corpus = process.env['HARRIER_CORPUS'] ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..', 'shared', 'corpus');
  const capture = join(corpus, 'scap', 'libs', 'test_ipv6_client.scap');
  const rules = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'].map((f) => join(corpus, 'rules', 'falcosecurity-rules@main', f));
  if (![capture, ...rules].every((f) => existsSync(f))) return undefined;
  process.stderr.write(`harrier run: replaying ${capture} with the upstream Falco rules\n`);
  return { capture, rules };
}

/** `harrier replay FILE.scap` / `harrier -e FILE`: Falco's capture replay, or `--print` like `sysdig -p`. */
async function runCaptureReplay(args: CliArgs, file: string): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  const json = args.json || settings.jsonOutput;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    process.stderr.write(`harrier: cannot read capture file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 1;
  }
  let capture: ScapCapture;
  try {
    capture = readScap(bytes, { truncated: 'stop' });
  } catch (err) {
    if (err instanceof ScapError) {
      process.stderr.write(`harrier: ${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const printing = args.print !== undefined;
  // --print writes what sysdig -p would, nothing else; replay logs as Falco does.
  const log = printing ? () => {} : infoLog(settings);
  let result: LoadResult | undefined;
  if (!printing || args.rules.length > 0) {
    const loaded = loadRulesFor(rulePaths(args, settings));
    logStart(log, HARRIER_VERSION, settings, loaded);
    const errors = [...loaded.readErrors, ...loaded.result.errors];
    for (const d of errors) process.stderr.write(formatDiagnostic(d) + '\n');
    if (errors.length > 0) {
      process.stderr.write(`harrier: the rules have ${errors.length} error(s); fix them first (see harrier rules validate)\n`);
      return 1;
    }
    result = loaded.result;
  }
  log(`Reading events from capture file: ${file}`);
  const accessor = batchAccessor();
  let print: CompiledOutput<BatchCursor> | undefined;
  if (printing) {
    const fmt = args.print.startsWith('*') ? args.print.slice(1) : args.print;
    const c = compileOutput(fmt, accessor);
    if (!c.ok) throw new UsageError(`--print ${JSON.stringify(args.print)}: ${c.message}`);
    print = c.output;
  }
  const host = process.env['FALCO_HOSTNAME'] ?? process.env['HARRIER_HOSTNAME'] ?? hostname();
  const out: string[] = [];
  const flushOut = (): void => {
    if (out.length > 0) process.stdout.write(out.join(''));
    out.length = 0;
  };
  let alerts = 0;
  const format = alertFormatter(settings, host);
  // Alerts go to the configured outputs, opened once everything that can refuse the command has
  // run; --print lines (no alerts then) to stdout only.
  let outputs: AlertOutputs | undefined;
  const pipeline = new ReplayPipeline(
    result ?? loadRules([]),
    (m) => {
      if (printing) return;
      alerts++;
      outputs!.write(format(m));
    },
    {
      ruleset: rulesetOptions(args, settings),
      node: host,
      ...(print
        ? {
            onBatch: (batch: DecodedBatch) => {
              for (let row = 0; row < batch.rows; row++) out.push(print.render(accessor.at(batch, row)).text + '\n');
            },
          }
        : {}),
    },
  );
  // Falco's syscall_event_drops check runs over the capture's event time, with its actions.
  const drops = printing
    ? undefined
    : new CaptureDropCheck(dropSettings(settings.config.raw), {
        log: (text) => {
          pipeline.flush();
          flushOut();
          process.stderr.write(`harrier: ${text}\n`);
        },
        alert: (text, fields, timeNs) => {
          pipeline.flush();
          alerts++;
          const a = internalAlert(settings, host, { rule: 'Falco internal: syscall event drop', priority: 'Debug', text, fields, timeNs });
          outputs!.write(a.alert, a.text);
        },
      });
  if (!printing) {
    outputs = await openOutputs(settings, json);
    if (outputs === undefined) return 1;
  }
  let completed: boolean;
  try {
    completed = replayCapture(pipeline, capture, drops && ((ts) => drops.onEvent(ts)));
  } catch (err) {
    flushOut();
    await outputs?.close();
    if (err instanceof ScapError) {
      process.stderr.write(`harrier: ${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  flushOut();
  if (outputs) await serveRemaining(outputs, args.durationSec, log);
  const delivered = outputs ? await outputs.close() : true;
  if (capture.truncated) process.stderr.write(`harrier: ${file}: ${capture.truncated.message}; the events before it were replayed\n`);
  const c = pipeline.counts;
  if (!printing) process.stderr.write(`Events processed: ${c.events}, evaluated: ${c.evaluated}, alerts: ${alerts}, rules enabled: ${pipeline.ruleset.enabledCount()}\n`);
  if (drops && drops.detected > 0) process.stderr.write(drops.summary());
  return capture.truncated || !completed || !delivered ? 1 : 0;
}

/** The configured outputs, or undefined after saying on stderr why they cannot start. */
async function openOutputs(settings: ReturnType<typeof readSettings>, json: boolean): Promise<AlertOutputs | undefined> {
  try {
    return await AlertOutputs.open(settings, json);
  } catch (err) {
    process.stderr.write(`harrier: ${(err as Error).message}\n`);
    return undefined;
  }
}

/**
 * After the events, the gRPC server stays up for its clients, as Falco's does while it runs: until
 * -M seconds from the start when given, or else until a client has fetched every queued alert.
 * Ctrl-C (or SIGTERM) ends the wait.
 */
async function serveRemaining(outputs: AlertOutputs, durationSec: number | undefined, log: InfoLog): Promise<void> {
  const server = outputs.server;
  if (server === undefined) return;
  const untilMs = durationSec === undefined ? undefined : STARTED_AT + durationSec * 1000 - Date.now();
  if (untilMs === undefined && (outputs.grpc === undefined || server.pending === 0)) return;
  if (untilMs !== undefined && untilMs <= 0) return;
  log(untilMs !== undefined ? `Serving gRPC clients on ${outputs.address} for ${Math.ceil(untilMs / 1000)} s more (Ctrl-C stops)` : `Serving gRPC clients on ${outputs.address} until ${server.pending} alert(s) are fetched (Ctrl-C stops)`);
  // Handlers stay for the rest of the run: a Ctrl-C reaches this process twice (from the terminal
  // and passed on by bin/harrier.js), and the second must not kill it before the outputs close.
  // A later one, a second after the first, does end it at once.
  let onSignal!: () => void;
  const signalled = new Promise<void>((resolve) => (onSignal = resolve));
  let first = 0;
  const handler = (): void => {
    if (first === 0) {
      first = Date.now();
      onSignal();
    } else if (Date.now() - first > 1000) process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([signalled, untilMs !== undefined ? new Promise<void>((resolve) => (timer = setTimeout(resolve, untilMs))) : server.drained()]);
  clearTimeout(timer);
}

const STARTED_AT = Date.now();
