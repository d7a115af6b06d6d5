// The collector's statistics, published every few seconds as a small JSON message on
// harrier.stats.collector.<collectorId> (core NATS: a lost one is replaced by the next). The
// engine turns drops in them into internal alerts; counters are cumulative since start.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@harrier/kit';
import type { PublisherStats } from './publisher.js';

export const STATS_SUBJECT_PREFIX = 'harrier.stats.collector';

export function statsSubject(collectorId: string): string {
  return `${STATS_SUBJECT_PREFIX}.${collectorId}`;
}

/** The wire form (snake_case JSON). */
export interface CollectorStatsMessage {
  readonly type: 'collector_stats';
  readonly collector_id: string;
  readonly node: string;
  /** ISO 8601. */
  readonly time: string;
  readonly uptime_ms: number;
  readonly source: { readonly name: string; readonly state: string };
  readonly events_in: number;
  readonly events_published: number;
  readonly batches_published: number;
  readonly bytes_published: number;
  readonly duplicates: number;
  readonly publish_errors: number;
  readonly retries: number;
  /** Events the collector dropped, by place (publish_queue, publish_shutdown, ...). */
  readonly drops: Readonly<Record<string, number>>;
  /** Drops the source reported, by place (the probe's ring_buffer, ...), cumulative. */
  readonly source_drops: Readonly<Record<string, number>>;
  readonly queue_events: number;
  readonly queue_batches: number;
  readonly inflight: number;
  readonly nats_connected: boolean;
}

export function statsMessage(s: PublisherStats, info: { collectorId: string; node: string; startedAt: number; source: { name: string; state: string } }, now = Date.now()): CollectorStatsMessage {
  return {
    type: 'collector_stats',
    collector_id: info.collectorId,
    node: info.node,
    time: new Date(now).toISOString(),
    uptime_ms: now - info.startedAt,
    source: info.source,
    events_in: s.eventsIn,
    events_published: s.eventsPublished,
    batches_published: s.batchesPublished,
    bytes_published: s.bytesPublished,
    duplicates: s.duplicates,
    publish_errors: s.publishErrors,
    retries: s.retries,
    drops: s.drops,
    source_drops: s.sourceDrops,
    queue_events: s.queueEvents,
    queue_batches: s.queueBatches,
    inflight: s.inflight,
    nats_connected: s.natsConnected,
  };
}

/** Publishes `message()` every `intervalMs`, and once more on stop. */
export class StatsReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly subject: string;

  constructor(
    private readonly nc: NatsConnection,
    collectorId: string,
    private readonly intervalMs: number,
    private readonly message: () => CollectorStatsMessage,
    private readonly log?: Logger,
  ) {
    this.subject = statsSubject(collectorId);
  }

  start(): void {
    this.timer ??= setInterval(() => this.publishNow(), this.intervalMs);
  }

  publishNow(): void {
    if (this.nc.isClosed()) return;
    try {
      this.nc.publish(this.subject, JSON.stringify(this.message()));
    } catch (err) {
      this.log?.warn({ err }, 'cannot publish collector statistics');
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.publishNow();
  }
}
