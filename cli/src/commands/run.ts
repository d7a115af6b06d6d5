// `harrier run` (and `harrier` with no events given) on a machine where the probe can load: the
// whole pipeline on this machine, as `falco` would run. A private nats-server when no NATS URL is
// configured, the collector (probe + state) and one engine worker in this process, and Falco's
// alert lines (or JSON lines) on stdout as they reach ALERTS, until SIGINT/SIGTERM or -M seconds.
// Service logs go to stderr so that stdout carries alerts only.

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import { EbpfSource, defaultProbeBinary, startCollector, type CollectorService } from '@harrier/collector';
import { ALERTS_STREAM, consumerPrefix, pushRuleset, readRuleset, startEngine, type EngineService } from '@harrier/engine';
import {
  EVENTS_STREAM,
  Lifecycle,
  componentLogger,
  connectNats,
  createLogger,
  drainNats,
  startEmbeddedNats,
  type EmbeddedNats,
  type HarrierConfig,
  type Logger,
  type NatsConnection,
} from '@harrier/kit';
import { formatDiagnostic, loadRules, readRulesPaths, type AlertJson } from '@harrier/rules';
import { AlertOutputs } from '../alerts.js';
import { infoLog, logStart } from '../log.js';
import { HARRIER_VERSION } from '../version.js';
import { CollectorRules, fileTypes } from '../collectorrules.js';
import type { CliArgs } from '../args.js';
import { rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings, type Settings } from '../settings.js';

/** How long a stop waits for the engine to evaluate what the collector published, and for its alerts. */
const CATCH_UP_MS = 5000;

/** Why live capture cannot run here, or undefined when it can. */
export function liveUnavailable(probePath?: string): string | undefined {
  if (process.getuid?.() !== 0) return 'live capture needs root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'live capture needs a kernel with BTF (/sys/kernel/btf/vmlinux)';
  if (!existsSync(probePath ?? defaultProbeBinary())) return `the probe is not built (${probePath ?? defaultProbeBinary()}): run make -C probe`;
  return undefined;
}

export async function runPipeline(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  const config = settings.config;
  const json = args.json || settings.jsonOutput;
  const paths = rulePaths(args, settings);
  const options = rulesetOptions(args, settings);
  const read = readRulesPaths(paths);
  const loaded = loadRules(read.sources);
  logStart(infoLog(settings), HARRIER_VERSION, settings, { result: loaded, readErrors: read.errors, paths, files: read.sources.map((s) => s.name) });
  const errors = [...read.errors, ...loaded.errors];
  for (const d of [...errors, ...loaded.warnings]) process.stderr.write(formatDiagnostic(d) + '\n');
  if (errors.length > 0) {
    process.stderr.write(`harrier: the rules have ${errors.length} error(s); fix them first (see harrier rules validate)\n`);
    return 1;
  }

  const log = createLogger({ level: runLogLevel(config), name: 'harrier', destination: process.stderr });
  const life = new Lifecycle({ log, teardownTimeoutMs: 15_000 });
  let exitCode = 0;
  let stopRequested = false;
  let wake!: () => void;
  const stopSignal = new Promise<void>((r) => (wake = r));
  const requestStop = (why: string, code = 0): void => {
    if (code !== 0) exitCode = code;
    if (stopRequested) return;
    stopRequested = true;
    log.info({ reason: why }, 'stopping');
    wake();
  };
  // Repeated signals are normal (a Ctrl-C reaches both the bin/harrier.js wrapper, which passes it
  // on, and this process): the first one stops, every stop step is bounded, the rest are ignored.
  const onSignal = (sig: NodeJS.Signals): void => requestStop(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let embedded: EmbeddedNats | undefined;
  /** The private server died: nothing can reach it any more, so no part waits on it at shutdown. */
  let serverGone = false;
  let cfg: HarrierConfig = config;
  let nc: NatsConnection | undefined;
  let engine: EngineService | undefined;
  let collector: CollectorService | undefined;
  let probePid: number | undefined;
  let traced = 'all' as ReadonlySet<string> | 'all';
  let reloadProbe: (() => void) | undefined;
  const printer = new AlertPrinter(settings, json, log);
  try {
    await life.step('nats server', async () => {
      if (config.nats.servers.length > 0) return;
      if (!config.nats.embedded.enabled) throw new Error('no NATS server: set nats.url (or HARRIER_NATS_URL), or enable nats.embedded');
      const e = config.nats.embedded;
      const server = await startEmbeddedNats({ stateDir: e.stateDir, port: e.port, binary: e.binary, log: componentLogger(log, 'nats-server') });
      embedded = server;
      void server.exited.then(({ code, signal }) => {
        if (stopRequested) return;
        serverGone = true;
        process.stderr.write(`harrier: the embedded NATS server exited (${signal ?? `code ${code}`}); stopping\n`);
        requestStop(`the embedded NATS server exited (${signal ?? `code ${code}`})`, 1);
      });
      return () => server.stop();
    });
    // Every service here talks to the same server; their HTTP endpoints would fight over one port.
    cfg = { ...config, nats: { ...config.nats, servers: embedded ? [embedded.url] : config.nats.servers }, webserver: { ...config.webserver, enabled: false } };
    await life.step('nats', async () => {
      const conn = await connectNats(cfg.nats, componentLogger(log, 'run'));
      nc = conn;
      return () => drainNats(conn, log);
    });
    await life.step('rules', async () => {
      if (embedded) {
        // A private server: the bucket's ruleset wins over the workers' files, so this run's rules
        // are pushed to become the ones in force.
        const pushed = await pushRuleset(nc!, cfg.engine.rulesBucket, read.sources);
        log.info({ bucket: cfg.engine.rulesBucket, revision: pushed.revision, digest: pushed.digest }, 'rules pushed');
        return;
      }
      // A shared NATS: this run joins its workers and never changes their rules. A ruleset pushed
      // there is in force here too; otherwise this run's files are.
      const inBucket = await readRuleset(nc!, cfg.engine.rulesBucket);
      if (inBucket) {
        process.stderr.write(
          `harrier: the rules bucket ${cfg.engine.rulesBucket} on ${cfg.nats.servers.join(', ')} holds a pushed ruleset (revision ${inBucket.revision}): it is in force for this run too, not ${paths.join(', ')} (harrier rules push changes it for every worker)\n`,
        );
      }
    });
    await life.step('engine', async () => {
      const e = await startEngine({ config: cfg, log, rules: { files: paths, options }, handleSignals: false, http: false });
      engine = e;
      void e.stopped.then((code) => {
        if (!stopRequested) requestStop('the engine worker stopped', code === 0 ? 1 : code);
      });
      return () => e.stop();
    });
    // After the engine, which creates ALERTS with its limits; before the collector, so no alert of this run is missed.
    await life.step('alerts', async () => {
      await printer.start(nc!, await jetstreamManager(nc!));
      return async () => {
        await printer.stop();
        // Losses were reported as they happened and are summed up here; the run itself went on.
        await printer.outputs?.close();
      };
    });
    // Stops after the collector: by then nothing more is published, so the engine can catch up.
    await life.step('catch up', () => async () => {
      if (exitCode !== 0) return; // a part failed: stop now rather than wait on it
      const jsm = await jetstreamManager(nc!);
      const deadline = Date.now() + CATCH_UP_MS;
      if (!(await waitUntil(() => engineCaughtUp(jsm, cfg.partitions), deadline))) log.warn({ waitedMs: CATCH_UP_MS }, 'the engine had not evaluated every published batch when the wait ended');
      const last = (await jsm.streams.info(ALERTS_STREAM)).state.last_seq;
      if (!(await waitUntil(async () => printer.lastSeq >= last, Date.now() + 2000))) log.warn({ printed: printer.lastSeq, last }, 'not every alert reached this process before the wait ended');
    });
    await life.step('collector', async () => {
      // The probe traces what the rules in force can match, and follows the bucket as the engine does.
      const follower = new CollectorRules({ nc: nc!, bucket: cfg.engine.rulesBucket, log: componentLogger(log, 'collector.rules'), options, files: () => fileTypes(paths, options) });
      const t = await follower.initial();
      if (!t.ok) throw new Error(t.message);
      traced = t.types;
      const source = new EbpfSource({
        types: t.types,
        args: t.args,
        probePath: cfg.collector.probe.path,
        ringBufferMb: cfg.collector.probe.ringbufMb,
        bufferMb: cfg.collector.probe.bufferMb,
        statsIntervalMs: cfg.collector.probe.statsIntervalMs,
        excludePids: [...cfg.collector.probe.excludePids, ...(embedded ? [embedded.pid] : [])],
        natsServers: cfg.nats.servers,
        containerRuntimes: cfg.collector.containerRuntimes,
      });
      const c = await startCollector({ config: cfg, source, log, handleSignals: false });
      collector = c;
      probePid = source.capture?.probe.pid;
      void c.stopped.then((code) => {
        if (!stopRequested) requestStop('the collector stopped', code === 0 ? 1 : code);
      });
      reloadProbe = () => follower.reloadFiles((u) => source.setTypes(u.types, u.args));
      try {
        await follower.follow((u) => source.setTypes(u.types, u.args));
      } catch (err) {
        log.error({ err }, 'cannot follow the rules bucket: pushed rules will not retune the probe until a restart');
      }
      return async () => {
        await follower.stop();
        await c.stop();
      };
    });
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stderr.write(`harrier: cannot start: ${(err as Error).message}\n`);
    return 1;
  }

  // SIGHUP, as in Falco: the rules files again. On the private server they are checked, then
  // pushed (engine and probe follow the bucket); on a shared one they are reloaded here only, and
  // a pushed ruleset in force wins over them as it does on every worker.
  const onHangup = (): void => {
    if (embedded) return void reloadRules(paths, nc!, cfg.engine.rulesBucket, log);
    const r = engine!.reloadFromFiles();
    if (r.ok) reloadProbe?.();
    else process.stderr.write(`harrier: rules reload: ${r.reason}\n`);
  };
  process.on('SIGHUP', onHangup);
  process.stderr.write(
    `harrier: live detection: ${engine!.rules().ruleset.enabledCount()} rules from ${paths.join(', ')}, ${traced === 'all' ? 'all' : traced.size} event types traced; ` +
      (embedded ? `nats-server pid ${embedded.pid} at ${embedded.url} (embedded, state in ${embedded.stateDir})` : `NATS at ${cfg.nats.servers.join(', ')}`) +
      `, probe pid ${probePid ?? '?'}, engine worker ${engine!.workerId} in pid ${process.pid}` +
      `${args.durationSec ? `, for ${args.durationSec} s` : ''}; Ctrl-C stops\n`,
  );
  const timer = args.durationSec ? setTimeout(() => requestStop(`-M ${args.durationSec}`), args.durationSec * 1000) : undefined;
  await stopSignal;
  clearTimeout(timer);
  process.off('SIGHUP', onHangup);
  await life.stop(serverGone ? SERVER_GONE_TEARDOWN_MS : undefined);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const published = collector!.publisher.stats();
  const drops = { ...published.sourceDrops, ...published.drops };
  const dropText = Object.entries(drops)
    .filter(([, n]) => n > 0)
    .map(([place, n]) => `${place} ${n}`)
    .join(', ');
  const st = engine!.stats();
  process.stderr.write(
    `Events published: ${published.eventsPublished}, evaluated: ${st.counters.events}, alerts: ${printer.printed}, rules enabled: ${engine!.rules().ruleset.enabledCount()}` +
      `${dropText ? `; dropped: ${dropText}` : ''}\n`,
  );
  // Teardowns cut short by a dead server may leave timers and reconnect attempts behind: they
  // would hold the process for their full time, with nothing left to do.
  if (serverGone) process.exit(exitCode);
  return exitCode;
}

/** How long each part may take to stop once the private server is gone (outputs get this long to flush, too). */
const SERVER_GONE_TEARDOWN_MS = 1500;

/** Reads the rules files again; pushes them when they load, else says why and keeps the rules in force. */
async function reloadRules(paths: readonly string[], nc: NatsConnection, bucket: string, log: Logger): Promise<void> {
  const read = readRulesPaths(paths);
  const errors = [...read.errors, ...loadRules(read.sources).errors];
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(formatDiagnostic(d) + '\n');
    process.stderr.write(`harrier: rules reload refused: ${errors.length} error(s) in ${paths.join(', ')}; the rules in force stay\n`);
    return;
  }
  try {
    const pushed = await pushRuleset(nc, bucket, read.sources);
    log.info({ revision: pushed.revision, digest: pushed.digest }, 'rules reloaded and pushed');
  } catch (err) {
    process.stderr.write(`harrier: rules reload failed: ${(err as Error).message}\n`);
  }
}

/** Run mode logs warnings and errors only, unless a level is configured: stderr is the user's terminal. */
function runLogLevel(config: HarrierConfig): string {
  const raw = config.raw;
  const logging = raw['logging'] as Record<string, unknown> | undefined;
  return logging?.['level'] !== undefined || raw['log_level'] !== undefined ? config.logging.level : 'warn';
}

/** True once every partition has an engine consumer with nothing left to deliver or to acknowledge. */
async function engineCaughtUp(jsm: JetStreamManager, partitions: number): Promise<boolean> {
  const done = new Set<number>();
  for await (const ci of jsm.consumers.list(EVENTS_STREAM)) {
    for (let p = 0; p < partitions; p++) {
      if (!ci.name.startsWith(consumerPrefix(p))) continue;
      if (ci.num_pending > 0 || ci.num_ack_pending > 0) return false;
      done.add(p);
    }
  }
  return done.size === partitions;
}

async function waitUntil(cond: () => Promise<boolean>, deadline: number): Promise<boolean> {
  for (;;) {
    try {
      if (await cond()) return true;
    } catch {
      // A JetStream API hiccup during shutdown: ask again until the deadline.
    }
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** Reads ALERTS from the message after the last one stored when it starts, and prints each one. */
class AlertPrinter {
  printed = 0;
  /** The stream sequence of the last alert received. */
  lastSeq = 0;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  /** stdout_output, file_output, program_output and grpc_output as configured, once started. */
  outputs: AlertOutputs | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly json: boolean,
    private readonly log: Logger,
  ) {}

  async start(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
    const outputs = await AlertOutputs.open(this.settings, this.json);
    let messages: ConsumerMessages;
    try {
      const info = await jsm.streams.info(ALERTS_STREAM);
      this.lastSeq = info.state.last_seq;
      // An explicit start sequence rather than DeliverPolicy.New: "new" would be decided when the
      // consumer is created, possibly after the first alerts.
      const consumer = await jetstream(nc).consumers.get(ALERTS_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: info.state.last_seq + 1 });
      messages = await consumer.consume();
    } catch (err) {
      await outputs.close(); // a started gRPC server would keep the process alive
      throw err;
    }
    this.outputs = outputs;
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) {
        this.lastSeq = m.seq;
        let alert: AlertJson;
        try {
          alert = m.json<AlertJson>();
        } catch (err) {
          this.log.warn({ subject: m.subject, seq: m.seq, err }, 'an ALERTS message is not JSON; skipped');
          continue;
        }
        if (typeof alert !== 'object' || alert === null || typeof alert.output !== 'string') {
          this.log.warn({ subject: m.subject, seq: m.seq }, 'an ALERTS message is not an alert (no output); skipped');
          continue;
        }
        this.printed++;
        outputs.write(alert);
      }
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }
}
