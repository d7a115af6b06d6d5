// `harrier engine`: one worker, started in named steps (NATS, streams, alert publishing, the rules
// in force, collector statistics, partition leases and their consumers, the health server) and
// stopped in reverse: partitions are handed back (their in-flight batches acknowledged first),
// then NATS drains.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { Registry, type Histogram } from 'prom-client';
import { BatchError, type BatchCursor } from '@harrier/batch';
import { Lifecycle, componentLogger, connectNats, drainNats, ensureEventsStream, serveHealth, type HarrierConfig, type Logger, type NatsConnection } from '@harrier/kit';
import type { Ruleset, RulesetOptions } from '@harrier/rules';
import { AlertPublisher, DEADLETTER_SUBJECT_PREFIX, ensureAlertsStream, ensureDeadLetterStream } from './alerts.js';
import { PartitionConsumer } from './consumer.js';
import { BatchEvaluator } from './evaluate.js';
import { DropMonitor, InternalAlerts, dropSettings, isCollectorStats, type RaiseInternal } from './internal.js';
import { PartitionLeases, type PartitionHandler } from './leases.js';
import { newCounters, registerEngineMetrics, type EngineCounters } from './metrics.js';
import { RulesManager, type RulesInForce } from './rules.js';

export interface StartEngineOptions {
  readonly config: HarrierConfig;
  readonly log: Logger;
  /** Rules files used when the rules bucket holds no ruleset, and on SIGHUP. */
  readonly rules: { readonly files: readonly string[]; readonly options: RulesetOptions };
  readonly workerId?: string;
  /** Stop on SIGTERM/SIGINT and reload on SIGHUP (default true). */
  readonly handleSignals?: boolean;
  /** Serve /healthz and /metrics (default: config.webserver.enabled). */
  readonly http?: boolean;
}

export interface EngineStats {
  readonly workerId: string;
  readonly owned: readonly number[];
  readonly workers: readonly string[];
  readonly rulesVersion: string;
  readonly counters: Readonly<Omit<EngineCounters, 'matches'>>;
  /** Events per second over the last 10 s. */
  readonly eventsPerSecond: number;
  readonly natsConnected: boolean;
}

export interface EngineService {
  readonly workerId: string;
  readonly http: { readonly address: string; readonly port: number } | undefined;
  readonly registry: Registry;
  stats(): EngineStats;
  /** The rules in force. */
  rules(): RulesInForce;
  /** Reads the rules files again (what SIGHUP does). */
  reloadFromFiles(): ReturnType<RulesManager['reloadFromFiles']>;
  stop(): Promise<void>;
  /** Resolves with the exit status once stopped. */
  readonly stopped: Promise<number>;
}

/** Collector statistics arrive here; one worker of the queue group handles each message. */
export const STATS_SUBJECTS = 'harrier.stats.collector.*';
const STATS_QUEUE = 'harrier-engine';
const UNOWNED_RULE = 'Harrier internal: partition without owner';
/**
 * Batches each partition's consumer keeps buffered. Small on purpose: a worker owns many partitions,
 * and 32 x 64 batches of ~30 KB queued at once made nats-server cut the connection as a slow consumer.
 */
const PREFETCH = 8;
/** How long JetStream waits for a batch's acknowledgement before delivering it again. */
const ACK_WAIT_MS = 30_000;

/** How long start-up waits for JetStream to answer before it gives up. */
const JETSTREAM_READY_MS = 60_000;

/**
 * True for JetStream failures that pass: no answer in time, or "temporarily unavailable", while a
 * cluster elects its meta leader, or a clustered stream or bucket another worker has just created
 * (or whose server restarts) elects its leader. Not "no responders": that is a server without
 * JetStream, which should fail at once with its own message.
 */
function isTransient(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e.name === 'TimeoutError') return true;
    if (e instanceof JetStreamApiError && e.status === 503) return true;
  }
  return false;
}

/**
 * Runs an idempotent start-up step again while JetStream fails for a passing reason. Workers
 * started together on a new cluster hit this: the first creates ALERTS with three replicas and
 * the others' look-ups time out until its leader is elected, which must not end them.
 */
async function whenJetStreamAnswers<T>(log: Logger, what: string, f: () => Promise<T>): Promise<T> {
  const end = Date.now() + JETSTREAM_READY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (!isTransient(err) || Date.now() > end) throw err;
      log.warn({ step: what, attempt, err: (err as Error).message }, 'JetStream is not ready; trying again');
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}

export async function startEngine(opts: StartEngineOptions): Promise<EngineService> {
  const { config } = opts;
  const ec = config.engine;
  const workerId = opts.workerId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const log = componentLogger(opts.log, 'engine');
  const life = new Lifecycle({ log, teardownTimeoutMs: 30_000 });
  const registry = new Registry();
  const counters = newCounters();
  const consumers = new Map<number, PartitionConsumer>();
  const node = config.collector.node;
  let nc!: NatsConnection;
  let js!: JetStreamClient;
  let publisher!: AlertPublisher;
  let rules!: RulesManager;
  let leases: PartitionLeases | undefined;
  let histogram: Histogram | undefined;
  let http: { address: string; port: number } | undefined;
  let onStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (onStopped = r));
  const rate = { at: Date.now(), events: 0, perSecond: 0 };
  // What this worker did, for whoever reads its log after it is gone (the stats subject is too).
  const finish = (): void => {
    const { matches: _m, deadLetters, ...totals } = counters;
    void _m;
    log.info({ ...totals, deadLetters, alertRetries: publisher?.stats.retries ?? 0 }, 'stopped');
    onStopped(0);
  };
  const stop = async (): Promise<void> => {
    await life.stop();
    finish();
  };

  await life.step('nats', async () => {
    // A worker that starts before NATS waits for it rather than exiting into a restart loop.
    nc = await connectNats(config.nats, log, config.nats.servers, { waitForServer: true });
    js = jetstream(nc);
    return () => drainNats(nc, log);
  });
  await life.step('streams', () =>
    whenJetStreamAnswers(log, 'streams', async () => {
      const jsm = await jetstreamManager(nc);
      const replicas = config.collector.eventsStream.replicas;
      await ensureEventsStream(jsm, config.collector.eventsStream);
      // ALERTS' duplicate window must outlast a takeover: lease expiry + ack wait + recovery.
      await ensureAlertsStream(jsm, { replicas, duplicateWindowMs: Math.max(300_000, 4 * (ec.leaseTtlMs + ACK_WAIT_MS)) });
      await ensureDeadLetterStream(jsm, replicas);
    }),
  );
  const internal = new InternalAlerts(new AlertPublisher(nc, { maxAttempts: 5 }), node, (err, a) => log.error({ err, rule: a.rule }, 'an internal alert could not be stored'));
  const raise: RaiseInternal = (a) => {
    counters.internalAlerts++;
    log.warn({ rule: a.rule, priority: a.priority, fields: a.fields }, a.text);
    internal.raise(a);
  };
  await life.step('alerts', () => {
    publisher = new AlertPublisher(nc);
  });
  await life.step('rules', async () => {
    rules = new RulesManager({ nc, bucket: ec.rulesBucket, files: opts.rules.files, options: opts.rules.options, log: opts.log, raiseInternal: raise });
    const r = await rules.start();
    log.info({ version: r.version, enabled: r.ruleset.enabledCount(), origin: r.origin }, 'rules in force');
    return () => rules.stop();
  });

  const evaluator = new BatchEvaluator({ rulesetFor: (source): Ruleset<BatchCursor> | undefined => (source === 'syscall' ? rules.current().ruleset : undefined) }, { timeIso8601: config.output.timeIso8601 });
  const enc = new TextEncoder();

  const deadLetter = async (p: number, m: JsMsg, reason: string, detail: string, body: Uint8Array, extra: Record<string, string> = {}): Promise<void> => {
    counters.deadLetters[reason] = (counters.deadLetters[reason] ?? 0) + 1;
    const h = headers();
    h.set('Harrier-Reason', reason);
    h.set('Harrier-Detail', detail.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    h.set('Harrier-Stream-Seq', String(m.seq));
    h.set('Harrier-Subject', m.subject);
    const batchId = m.headers?.get('Nats-Msg-Id');
    if (batchId) h.set('Harrier-Batch-Id', batchId);
    for (const [k, v] of Object.entries(extra)) h.set(k, v);
    await js.publish(`${DEADLETTER_SUBJECT_PREFIX}.events.${p}`, body, { msgID: `${m.seq}:${reason}`, headers: h });
  };

  // Per partition (and per consumer, which `owned` identifies), the store of its latest alert. A
  // partition's alerts are stored one after another, so ALERTS holds them in event order: stored
  // concurrently, an alert whose store failed (the ALERTS leader going away, say) and was retried
  // lands after later alerts that went through meanwhile. A failed store fails every later one of
  // the partition, so nothing is stored past a gap (the batches stay unacknowledged).
  const alertTails = new Map<number, { owned: () => boolean; last: Promise<void> }>();

  const handleBatch = (p: number, m: JsMsg, owned: () => boolean): Promise<void> => {
    const t0 = process.hrtime.bigint();
    let ev;
    try {
      ev = evaluator.evaluate(m.data);
    } catch (err) {
      if (!(err instanceof BatchError)) throw err;
      log.warn({ partition: p, seq: m.seq, problem: err.message }, 'a malformed batch was set aside in the dead-letter stream');
      return deadLetter(p, m, 'malformed_batch', err.message, m.data);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    counters.evalNs += ns;
    histogram?.observe(ns / 1e9);
    counters.events += ev.events;
    counters.batches++;
    for (const x of ev.matches) {
      const key = `${x.rule}\0${x.priority}\0${x.source}`;
      counters.matches.set(key, (counters.matches.get(key) ?? 0) + 1);
    }
    // Each alert is stored after the partition's previous one (see alertTails).
    let tail = alertTails.get(p);
    if (tail?.owned !== owned) alertTails.set(p, (tail = { owned, last: Promise.resolve() }));
    for (const a of ev.alerts) {
      tail.last = tail.last.then(() => publisher.publish(a, owned)).then((ack) => {
        counters.alertsStored++;
        if (ack.duplicate) counters.alertDuplicates++;
      });
    }
    const waits: Promise<unknown>[] = ev.alerts.length > 0 ? [tail.last] : [];
    if (ev.unknownTypes.size > 0) {
      const rows = [...ev.unknownTypes.values()].reduce((n, r) => n + r.length, 0);
      counters.unknownTypeEvents += rows;
      const types = Object.fromEntries([...ev.unknownTypes].map(([t, r]) => [t || '(none)', r]));
      const detail = `${rows} event(s) of a type the event table does not know: ${Object.keys(types).join(', ')}`;
      log.warn({ partition: p, seq: m.seq, types: Object.keys(types) }, 'events of an unknown type were set aside in the dead-letter stream');
      const body = enc.encode(JSON.stringify({ collector_id: ev.batch.msg.collectorId, sequence: String(ev.batch.msg.sequence), node: ev.batch.msg.node, rows: types }));
      waits.push(deadLetter(p, m, 'unknown_event_type', detail, body));
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  };

  await life.step('metrics', () => {
    histogram = registerEngineMetrics(registry, counters, {
      owned: () => leases?.owned() ?? [],
      lag: () => new Map([...consumers].map(([p, c]) => [p, c.progress.pending])),
      rulesVersion: () => rules.current().version,
      rulesEnabled: () => rules.current().ruleset.enabledCount(),
    });
    const t = setInterval(() => {
      const now = Date.now();
      rate.perSecond = ((counters.events - rate.events) * 1000) / Math.max(1, now - rate.at);
      rate.at = now;
      rate.events = counters.events;
    }, 10_000);
    t.unref();
    return () => clearInterval(t);
  });
  await life.step('collector statistics', () => {
    const drops = new DropMonitor(dropSettings(config.raw), raise, (text, fields) => log.warn({ fields }, text));
    const sub = nc.subscribe(STATS_SUBJECTS, {
      queue: STATS_QUEUE,
      callback: (err, msg) => {
        if (err) return;
        let v: unknown;
        try {
          v = msg.json();
        } catch {
          v = undefined;
        }
        if (isCollectorStats(v)) drops.observe(v);
        else log.warn({ subject: msg.subject }, 'a collector statistics message is not valid JSON of the expected shape; ignored');
      },
    });
    return () => sub.unsubscribe();
  });
  await life.step('partitions', async () => {
    const consumerLog = componentLogger(opts.log, 'engine.partition');
    const jsm = await whenJetStreamAnswers(log, 'partitions', () => jetstreamManager(nc));
    const handler: PartitionHandler = {
      start: async (p) => {
        const c = new PartitionConsumer(nc, js, jsm, { partition: p, ackWaitMs: ACK_WAIT_MS, maxPendingBatches: 16, prefetch: PREFETCH, log: consumerLog }, handleBatch);
        consumers.set(p, c);
        try {
          await c.start();
        } catch (err) {
          consumers.delete(p);
          throw err;
        }
      },
      stop: async (p, reason) => {
        const c = consumers.get(p);
        if (!c) return;
        consumers.delete(p);
        // A lost lease means someone else may already be evaluating: do not wait to acknowledge.
        await c.stop(reason === 'lost' ? 0 : 5000);
        counters.redeliveriesSkipped += c.progress.redeliveriesSkipped;
        counters.consumerRestarts += c.progress.restarts;
      },
    };
    leases = await whenJetStreamAnswers(log, 'leases bucket', () =>
      PartitionLeases.open(
        nc,
        { workerId, partitions: config.partitions, ttlMs: ec.leaseTtlMs, renewMs: ec.leaseRenewMs, replicas: config.collector.eventsStream.replicas, log: componentLogger(opts.log, 'engine.leases') },
        handler,
      ),
    );
    leases.start();
    const owner = leases;
    // A partition nobody holds for two lease periods means its events wait: say so once a minute.
    const reported = new Map<number, number>();
    const t = setInterval(() => {
      const now = Date.now();
      for (const u of owner.unowned()) {
        if (u.sinceMs < 2 * ec.leaseTtlMs || now - (reported.get(u.partition) ?? 0) < 60_000) continue;
        reported.set(u.partition, now);
        raise({
          rule: UNOWNED_RULE,
          priority: 'Warning',
          text: `Harrier internal: partition ${u.partition} has had no engine worker for ${Math.round(u.sinceMs / 1000)} s; its events wait in EVENTS (live workers: ${owner.workers().length})`,
          fields: { partition: u.partition, unowned_ms: u.sinceMs, workers: owner.workers().length },
          key: `unowned:${u.partition}:${Math.floor(now / 60_000)}`,
        });
      }
    }, Math.max(1000, ec.leaseRenewMs));
    t.unref();
    return async () => {
      clearInterval(t);
      await owner.stop();
    };
  });
  const statsNow = (): EngineStats => {
    const { matches: _m, ...rest } = counters;
    void _m;
    return {
      workerId,
      owned: leases?.owned() ?? [],
      workers: leases?.workers() ?? [],
      rulesVersion: rules.current().version,
      counters: { ...rest, alertRetries: publisher.stats.retries, redeliveriesSkipped: counters.redeliveriesSkipped + [...consumers.values()].reduce((n, c) => n + c.progress.redeliveriesSkipped, 0), consumerRestarts: counters.consumerRestarts + [...consumers.values()].reduce((n, c) => n + c.progress.restarts, 0) },
      eventsPerSecond: Math.round(rate.perSecond),
      natsConnected: !nc.isClosed() && nc.getServer() !== '',
    };
  };
  if (opts.http ?? config.webserver.enabled) {
    await life.step('http', async () => {
      const server = await serveHealth({
        port: config.webserver.listenPort,
        host: config.webserver.listenAddress,
        healthPath: config.webserver.healthzPath,
        health: () => {
          const s = statsNow();
          return { ok: s.natsConnected, body: { status: s.natsConnected ? 'ok' : 'unavailable', ...s } };
        },
        metrics: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
      });
      http = { address: server.address, port: server.port };
      log.info({ address: server.address, port: server.port }, 'serving /healthz and /metrics');
      return () => server.close();
    });
  }
  if (opts.handleSignals !== false) {
    life.handleSignals(finish);
    process.on('SIGHUP', () => {
      const r = rules.reloadFromFiles();
      if (r.ok) log.info({ version: r.version }, 'SIGHUP: rules reloaded from files');
      else log.error({ reason: r.reason }, 'SIGHUP: rules reload refused; the rules in force stay');
    });
  }
  log.info({ workerId, partitions: config.partitions }, 'engine worker started');
  return {
    workerId,
    http,
    registry,
    stats: statsNow,
    rules: () => rules.current(),
    reloadFromFiles: () => rules.reloadFromFiles(),
    stop,
    stopped,
  };
}
