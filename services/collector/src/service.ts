// `harrier collector`: one event source feeding the publisher, started in named steps (the health
// and metrics server, NATS, the EVENTS stream, the publisher and its statistics, the source)
// and stopped in reverse on SIGTERM: the source stops, the publisher flushes and waits for its
// acks, NATS drains.

import { jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { Lifecycle, componentLogger, connectNats, drainNats, serveHealth, type HarrierConfig, type Logger, type NatsConnection } from '@harrier/kit';
import type { EventSource, SourceOutput, SourceStatus } from './source.js';
import { EventPublisher, type PublisherStats } from './publish/publisher.js';
import { ensureEventsStream } from './publish/stream.js';
import { registerPublisherMetrics, registerSourceMetrics } from './publish/metrics.js';
import { StatsReporter, statsMessage } from './publish/stats.js';

export type SourceState = 'starting' | 'running' | 'finished' | 'failed' | 'stopped';

export interface StartCollectorOptions {
  readonly config: HarrierConfig;
  readonly source: EventSource;
  readonly log: Logger;
  /** Stop on SIGTERM and SIGINT (default true; tests that stop it themselves pass false). */
  readonly handleSignals?: boolean;
}

export interface CollectorHealth {
  /** `ok` when NATS is connected, publishes are acknowledged, and the source runs (or has read a capture through). */
  readonly status: 'ok' | 'unavailable';
  /** `connecting` while the service waits for NATS at start (it keeps trying; see connectNats). */
  readonly nats: 'connected' | 'disconnected' | 'connecting';
  /** `failing` from a failed publish until the next acknowledged one (see counters.lastError). */
  readonly publishing: 'ok' | 'failing';
  /** `detail` says why a running source is not ok (e.g. its probe is restarting). */
  readonly source: { readonly name: string; readonly state: SourceState; readonly detail?: string };
  /** The publisher's counters (none yet while NATS is awaited at start). */
  readonly counters?: PublisherStats;
}

export interface CollectorService {
  readonly publisher: EventPublisher;
  readonly registry: Registry;
  /** Where /healthz and /metrics are served (undefined when webserver.enabled is false). */
  readonly http: { readonly address: string; readonly port: number } | undefined;
  health(): CollectorHealth;
  /** Resolves with the exit status once stopped: 0 after a signal or stop(), 1 after the source failed. */
  readonly stopped: Promise<number>;
  stop(): Promise<void>;
}

export async function startCollector(opts: StartCollectorOptions): Promise<CollectorService> {
  const { config, source } = opts;
  const cc = config.collector;
  const log = componentLogger(opts.log, 'collector');
  const life = new Lifecycle({ log, teardownTimeoutMs: 30_000 });
  const registry = new Registry();
  const startedAt = Date.now();
  let nc: NatsConnection | undefined;
  let publisher: EventPublisher | undefined;
  let http: { address: string; port: number } | undefined;
  let sourceState: SourceState = 'starting';
  let exitCode = 0;
  let onStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (onStopped = r));
  const stop = async (): Promise<void> => {
    await life.stop();
    onStopped(exitCode);
  };

  const sourceStatus = (): SourceStatus | undefined => (sourceState === 'running' ? source.status?.() : undefined);
  const sourceUp = (s: SourceStatus | undefined): boolean => (sourceState === 'running' || sourceState === 'finished') && (s?.ok ?? true);
  const health = (): CollectorHealth => {
    if (!publisher) return { status: 'unavailable', nats: 'connecting', publishing: 'ok', source: { name: source.name, state: sourceState } };
    const counters = publisher.stats();
    const natsUp = counters.natsConnected;
    const ss = sourceStatus();
    return {
      status: natsUp && !counters.failing && sourceUp(ss) ? 'ok' : 'unavailable',
      nats: natsUp ? 'connected' : 'disconnected',
      publishing: counters.failing ? 'failing' : 'ok',
      source: { name: source.name, state: sourceState, ...(ss?.detail ? { detail: ss.detail } : {}) },
      counters,
    };
  };

  // Health and metrics first: while NATS is awaited, /healthz says so (503, nats: connecting).
  if (config.webserver.enabled) {
    await life.step('http', async () => {
      const server = await serveHealth({
        port: config.webserver.listenPort,
        host: config.webserver.listenAddress,
        healthPath: config.webserver.healthzPath,
        health: () => {
          const h = health();
          return { ok: h.status === 'ok', body: h };
        },
        metrics: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
      });
      http = { address: server.address, port: server.port };
      log.info({ address: server.address, port: server.port }, 'serving /healthz and /metrics');
      return () => server.close();
    });
  }
  await life.step('nats', async () => {
    // A collector that starts before NATS (a pod scheduled first, a server restarting) waits for
    // it instead of exiting into a restart loop; a credentials problem still stops it at once.
    const conn = await connectNats(config.nats, log, config.nats.servers, { waitForServer: true });
    nc = conn;
    return () => drainNats(conn, log);
  });
  let restoreStream!: () => Promise<unknown>;
  await life.step('events stream', async () => {
    const jsm = await jetstreamManager(nc!);
    restoreStream = () => ensureEventsStream(jsm, cc.eventsStream);
    const info = await ensureEventsStream(jsm, cc.eventsStream);
    log.info({ stream: info.config.name, subjects: info.config.subjects, messages: info.state.messages }, 'events stream ready');
  });
  await life.step('publisher', () => {
    const p = new EventPublisher(nc!, {
      collectorId: cc.id,
      node: cc.node,
      partitions: config.partitions,
      batchMaxEvents: cc.batchMaxEvents,
      batchMaxBytes: cc.batchMaxBytes,
      batchLingerMs: cc.batchLingerMs,
      bufferEvents: cc.bufferEvents,
      maxInflight: cc.maxInflight,
      publishTimeoutMs: cc.publishTimeoutMs,
      restoreStream,
      log: componentLogger(opts.log, 'collector.publish'),
    });
    publisher = p;
    registerPublisherMetrics(registry, p);
    registerSourceMetrics(registry, () => {
      const ss = sourceStatus();
      return { up: sourceUp(ss), restarts: ss?.restarts ?? 0 };
    });
    const reporter = new StatsReporter(nc!, cc.id, cc.statsIntervalMs, () => statsMessage(p.stats(), { collectorId: cc.id, node: cc.node, startedAt, source: { name: source.name, state: sourceState } }), log);
    reporter.start();
    return async () => {
      await p.close(cc.publishTimeoutMs * 2);
      reporter.stop();
      const s = p.stats();
      log.info({ eventsIn: s.eventsIn, eventsPublished: s.eventsPublished, batches: s.batchesPublished, drops: s.drops }, 'publisher closed');
    };
  });
  await life.step(`source ${source.name}`, async () => {
    const p = publisher!;
    const out: SourceOutput = {
      node: cc.node,
      log: componentLogger(opts.log, `collector.source.${source.name}`),
      push: (e, key, src) => p.add(e, key, src) && !p.shouldPause,
      ready: () => p.ready(),
      drops: (place, total) => p.recordSourceDrops(place, total),
      ended: (error) => {
        if (sourceState !== 'running' && sourceState !== 'starting') return;
        if (error) {
          sourceState = 'failed';
          exitCode = 1;
          log.error({ err: error }, 'the event source failed; stopping');
          void stop();
        } else {
          sourceState = 'finished';
          log.info({ source: source.name }, 'the event source has no more events; waiting for SIGTERM');
          void p.flush();
        }
      },
    };
    await source.start(out);
    if (sourceState === 'starting') sourceState = 'running';
    return async () => {
      if (sourceState === 'running' || sourceState === 'starting') sourceState = 'stopped';
      await source.stop();
    };
  });

  if (opts.handleSignals !== false) life.handleSignals(() => onStopped(exitCode));
  return { publisher: publisher!, registry, http, health, stopped, stop };
}
