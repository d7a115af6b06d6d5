// Prometheus metrics of the publisher, read from its counters at scrape time (nothing on the
// event path). Registered on a registry the service owns: no global default registry.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventPublisher, PublisherStats } from './publisher.js';

type CounterKey = 'eventsIn' | 'eventsPublished' | 'batchesPublished' | 'bytesPublished' | 'duplicates' | 'publishErrors' | 'retries';

const COUNTERS: [CounterKey, string, string][] = [
  ['eventsIn', 'harrier_collector_events_in_total', 'Events accepted by the publisher'],
  ['eventsPublished', 'harrier_collector_events_published_total', 'Events in batches acknowledged by JetStream'],
  ['batchesPublished', 'harrier_collector_batches_published_total', 'Batches acknowledged by JetStream'],
  ['bytesPublished', 'harrier_collector_published_bytes_total', 'Bytes of batches acknowledged by JetStream'],
  ['duplicates', 'harrier_collector_duplicate_acks_total', 'Publishes the stream had already stored (retries of batches that had landed)'],
  ['publishErrors', 'harrier_collector_publish_errors_total', 'Failed or timed-out publishes (each retried)'],
  ['retries', 'harrier_collector_publish_retries_total', 'Publishes of a batch after its first attempt'],
];

export function registerPublisherMetrics(registry: Registry, publisher: EventPublisher): void {
  // One snapshot per scrape, shared by every metric's collect().
  let snap: PublisherStats | undefined;
  let snapAt = -1;
  const stats = (): PublisherStats => {
    const now = performance.now();
    if (!snap || now - snapAt > 50) {
      snap = publisher.stats();
      snapAt = now;
    }
    return snap;
  };
  for (const [key, name, help] of COUNTERS) {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const v = stats()[key];
        if (v > seen) this.inc(v - seen);
        seen = v;
      },
    });
  }
  // Every place is exported from its first report (the publisher's own from the start), at 0
  // too: an alert on rate() or increase() needs the series before the first drop.
  const labelled = (name: string, help: string, pick: (s: PublisherStats) => Record<string, number>, places: readonly string[] = []): void => {
    const seen = new Map<string, number>();
    const c = new Counter({
      name,
      help,
      labelNames: ['place'],
      registers: [registry],
      collect() {
        for (const [place, v] of Object.entries(pick(stats()))) {
          const before = seen.get(place);
          if (before === undefined || v > before) this.inc({ place }, v - (before ?? 0));
          seen.set(place, v);
        }
      },
    });
    for (const place of places) {
      c.inc({ place }, 0);
      seen.set(place, 0);
    }
  };
  labelled('harrier_collector_dropped_events_total', 'Events the collector dropped, by place (publish_queue, publish_rejected, publish_shutdown, publish_closed)', (s) => s.drops, ['publish_queue', 'publish_rejected', 'publish_shutdown', 'publish_closed']);
  labelled('harrier_collector_source_dropped_events_total', 'Events the source reported dropped, by place (e.g. the probe kernel rings)', (s) => s.sourceDrops);
  const gauge = (name: string, help: string, pick: (s: PublisherStats) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(stats()));
      },
    });
  };
  gauge('harrier_collector_queue_events', 'Events accepted and not yet acknowledged', (s) => s.queueEvents);
  gauge('harrier_collector_queue_batches', 'Closed batches waiting to be sent', (s) => s.queueBatches);
  gauge('harrier_collector_inflight_batches', 'Publishes awaiting their ack', (s) => s.inflight);
  gauge('harrier_collector_nats_connected', '1 when connected to NATS', (s) => (s.natsConnected ? 1 : 0));
}

/** The source's health as metrics: up (running, and e.g. its probe alive) and its restarts. */
export function registerSourceMetrics(registry: Registry, read: () => { up: boolean; restarts: number }): void {
  new Gauge({
    name: 'harrier_collector_source_up',
    help: '1 while the event source runs and can produce events (0 while, e.g., the probe is down)',
    registers: [registry],
    collect() {
      this.set(read().up ? 1 : 0);
    },
  });
  let seen = 0;
  new Counter({
    name: 'harrier_collector_source_restarts_total',
    help: 'Restarts of a part of the event source after a failure (the probe after it exited)',
    registers: [registry],
    collect() {
      const v = read().restarts;
      if (v > seen) this.inc(v - seen);
      seen = v;
    },
  });
}
