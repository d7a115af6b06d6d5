// The engine's Prometheus metrics, read from the worker's counters at scrape time (nothing on the
// evaluation path but plain counter increments). Falco's metric name where Falco has one.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface EngineCounters {
  events: number;
  batches: number;
  alertsStored: number;
  alertDuplicates: number;
  alertRetries: number;
  evalNs: number;
  internalAlerts: number;
  /** By reason: malformed_batch, unknown_event_type. */
  deadLetters: Record<string, number>;
  /** Events of an unknown type (set aside, not evaluated as their type). */
  unknownTypeEvents: number;
  redeliveriesSkipped: number;
  /** Partition consumers made again while owned (a delivery lost on its way, a batch not done). */
  consumerRestarts: number;
  /** Matches by `rule\0priority\0source`. */
  matches: Map<string, number>;
}

export function newCounters(): EngineCounters {
  return { events: 0, batches: 0, alertsStored: 0, alertDuplicates: 0, alertRetries: 0, evalNs: 0, internalAlerts: 0, deadLetters: {}, unknownTypeEvents: 0, redeliveriesSkipped: 0, consumerRestarts: 0, matches: new Map() };
}

export interface EngineGauges {
  owned(): readonly number[];
  /** Messages still to be delivered, per owned partition. */
  lag(): ReadonlyMap<number, number>;
  rulesVersion(): string;
  rulesEnabled(): number;
}

/** Counter that follows a monotonically growing value read at scrape time. */
function follow(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > seen) this.inc(v - seen);
      seen = v;
    },
  });
}

/** Registers the metrics; returns the batch evaluation-time histogram the worker observes. */
export function registerEngineMetrics(registry: Registry, c: EngineCounters, g: EngineGauges): Histogram {
  follow(registry, 'harrier_engine_events_total', 'Events evaluated', () => c.events);
  follow(registry, 'harrier_engine_batches_total', 'Event batches evaluated', () => c.batches);
  follow(registry, 'harrier_engine_alerts_stored_total', 'Alerts stored in ALERTS (duplicates included)', () => c.alertsStored);
  follow(registry, 'harrier_engine_alert_duplicates_total', 'Alerts ALERTS already held (a batch evaluated again after a takeover)', () => c.alertDuplicates);
  follow(registry, 'harrier_engine_alert_publish_retries_total', 'Alert publishes retried', () => c.alertRetries);
  follow(registry, 'harrier_engine_evaluation_seconds_total', 'Time spent decoding and evaluating batches', () => c.evalNs / 1e9);
  follow(registry, 'harrier_engine_internal_alerts_total', 'Internal alerts raised', () => c.internalAlerts);
  follow(registry, 'harrier_engine_unknown_type_events_total', 'Events of a type the event table does not know (dead-lettered)', () => c.unknownTypeEvents);
  follow(registry, 'harrier_engine_redeliveries_skipped_total', 'Redelivered batches skipped because a later acknowledgement covers them', () => c.redeliveriesSkipped);
  follow(registry, 'harrier_engine_consumer_restarts_total', 'Partition consumers made again after their last batch done (a delivery lost on its way, a batch not done)', () => c.consumerRestarts);
  const dl = new Map<string, number>();
  new Counter({
    name: 'harrier_engine_dead_letters_total',
    help: 'Messages set aside in the dead-letter stream, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, v] of Object.entries(c.deadLetters)) {
        const seen = dl.get(reason) ?? 0;
        if (v > seen) this.inc({ reason }, v - seen);
        dl.set(reason, v);
      }
    },
  });
  const seenMatches = new Map<string, number>();
  new Counter({
    name: 'falcosecurity_falco_rules_matches_total',
    help: 'Rule matches, by rule, priority and source',
    labelNames: ['rule_name', 'priority', 'source'],
    registers: [registry],
    collect() {
      for (const [key, v] of c.matches) {
        const seen = seenMatches.get(key) ?? 0;
        if (v <= seen) continue;
        const [rule_name, priority, source] = key.split('\0') as [string, string, string];
        this.inc({ rule_name, priority: priority.toLowerCase(), source }, v - seen);
        seenMatches.set(key, v);
      }
    },
  });
  new Gauge({
    name: 'harrier_engine_partitions_owned',
    help: 'Partitions this worker owns',
    registers: [registry],
    collect() {
      this.set(g.owned().length);
    },
  });
  new Gauge({
    name: 'harrier_engine_consumer_lag',
    help: 'Batches of an owned partition not yet delivered to this worker',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [p, n] of g.lag()) this.set({ partition: String(p) }, n);
    },
  });
  new Gauge({
    name: 'harrier_engine_rules_enabled',
    help: 'Rules enabled in the ruleset in force',
    labelNames: ['version'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ version: g.rulesVersion() }, g.rulesEnabled());
    },
  });
  return new Histogram({
    name: 'harrier_engine_batch_evaluation_seconds',
    help: 'Time to decode and evaluate one batch',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
}
