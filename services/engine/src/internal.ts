// Internal alerts (`source: internal`): the one place that raises them. Collector drop statistics
// become Falco's "syscall event drop" alert under Falco's syscall_event_drops settings (threshold,
// then a token bucket of rate/max_burst); reload failures and partitions without an owner come from
// the worker. Each has a key that names the occurrence, so workers raising the same one store it once.

import { ENGINE_VERSION, formatJsonTime, formatTextTime, type AlertJson, type Priority } from '@harrier/rules';
import { alertId, alertSubject, type AlertPublisher } from './alerts.js';

export type InternalFields = Record<string, string | number | boolean | null>;

export interface InternalAlertInput {
  readonly rule: string;
  readonly priority: Priority;
  readonly text: string;
  readonly fields: InternalFields;
  /** Names this occurrence; the same key raised twice (by any worker) is stored once. Default: unique. */
  readonly key?: string;
}

/** What the rules manager and the lease watcher call; the worker publishes. */
export type RaiseInternal = (a: InternalAlertInput) => void;

export const INTERNAL_SOURCE = 'internal';

/** Builds the alert JSON and its subject and id. */
export function internalAlert(a: InternalAlertInput, node: string, now = Date.now()): { subject: string; msgId: string; json: AlertJson } {
  const key = a.key ?? `${node}:${now}:${Math.random().toString(36).slice(2)}`;
  const eventId = `internal:${key}`;
  const timeNs = BigInt(now) * 1_000_000n;
  return {
    subject: alertSubject(INTERNAL_SOURCE, a.priority, a.rule),
    msgId: eventId,
    json: {
      hostname: node,
      output: `${formatTextTime(timeNs, false)}: ${a.priority} ${a.text}`,
      output_fields: a.fields,
      priority: a.priority,
      rule: a.rule,
      source: INTERNAL_SOURCE,
      tags: [],
      time: formatJsonTime(timeNs),
      uuid: alertId(eventId, a.rule),
      node,
      event_id: eventId,
      engine_version: ENGINE_VERSION,
    },
  };
}

/** Publishes internal alerts in the background, counting what could not be stored. */
export class InternalAlerts {
  raised = 0;
  failed = 0;

  constructor(
    private readonly publisher: AlertPublisher,
    private readonly node: string,
    private readonly onError: (err: unknown, a: InternalAlertInput) => void,
  ) {}

  readonly raise: RaiseInternal = (a) => {
    this.raised++;
    this.publisher.publish(internalAlert(a, this.node)).catch((err: unknown) => {
      this.failed++;
      this.onError(err, a);
    });
  };
}

/** Falco's `syscall_event_drops` section. */
export interface DropSettings {
  /** Drops over events in an interval above which it counts as a drop (0..1, Falco default 0.1). */
  readonly threshold: number;
  readonly actions: readonly ('ignore' | 'log' | 'alert' | 'exit')[];
  /** Alerts per second the token bucket refills (Falco default 1/30). */
  readonly rate: number;
  readonly maxBurst: number;
  /** Falco's `simulate_drops`: every check counts one drop more than it saw (for testing the actions). */
  readonly simulateDrops: boolean;
}

export const DEFAULT_DROP_SETTINGS: DropSettings = { threshold: 0.1, actions: ['log', 'alert'], rate: 0.03333, maxBurst: 1, simulateDrops: false };

/** Reads Falco's syscall_event_drops keys from the raw configuration, defaults where absent. */
export function dropSettings(raw: Readonly<Record<string, unknown>>): DropSettings {
  const s = (raw['syscall_event_drops'] ?? {}) as Record<string, unknown>;
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const actions = Array.isArray(s['actions']) ? (s['actions'] as unknown[]).filter((a): a is DropSettings['actions'][number] => a === 'ignore' || a === 'log' || a === 'alert' || a === 'exit') : DEFAULT_DROP_SETTINGS.actions;
  return {
    threshold: num(s['threshold'], DEFAULT_DROP_SETTINGS.threshold),
    actions,
    rate: num(s['rate'], DEFAULT_DROP_SETTINGS.rate),
    maxBurst: num(s['max_burst'], DEFAULT_DROP_SETTINGS.maxBurst),
    simulateDrops: s['simulate_drops'] === true,
  };
}

/** Falco's token bucket: `rate` tokens a second up to `max`, full at the start. */
class TokenBucket {
  private tokens: number;
  constructor(
    private readonly rate: number,
    private readonly max: number,
    private last: number,
  ) {
    this.tokens = max;
  }

  /** Takes one token at time `now` (seconds) if there is one. */
  claim(now: number): boolean {
    if (now > this.last) this.tokens = Math.min(this.max, this.tokens + (now - this.last) * this.rate);
    this.last = Math.max(this.last, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What a drop action produces; `exit` asks the caller to stop. */
export interface DropActionHooks {
  log(text: string): void;
  alert(text: string, fields: InternalFields, tsNs: bigint): void;
}

const NS_PER_S = 1_000_000_000n;

/**
 * Falco's drop check over a capture's event time: once a second of event time it compares the
 * drops counted since the last check (a capture records none, so only `simulate_drops` makes one),
 * and when their share passes the threshold takes the actions, as the token bucket allows.
 * `detected` and `actionsTaken` are the counts Falco prints when it stops.
 */
export class CaptureDropCheck {
  detected = 0;
  actionsTaken = 0;
  private nextCheck = 0n;
  private bucket: TokenBucket | undefined;

  constructor(
    private readonly settings: DropSettings,
    private readonly hooks: DropActionHooks,
  ) {}

  /** Called before each event with its time; false when an `exit` action says to stop. */
  onEvent(tsNs: bigint): boolean {
    if (tsNs <= 0n) return true;
    if (this.nextCheck === 0n) {
      this.nextCheck = tsNs + NS_PER_S;
      this.bucket = new TokenBucket(this.settings.rate, this.settings.maxBurst, Number(tsNs / 1_000_000n) / 1000);
      return true;
    }
    if (tsNs <= this.nextCheck) return true;
    this.nextCheck = tsNs + NS_PER_S;
    const drops = this.settings.simulateDrops ? 1 : 0;
    if (drops === 0) return true;
    this.detected++;
    // A capture counts no delivered events per interval: the share is the drop count itself.
    const ratio = drops;
    if (ratio <= this.settings.threshold) return true;
    if (!this.bucket!.claim(Number(tsNs / 1_000_000n) / 1000)) return true;
    this.actionsTaken++;
    const text = `Falco internal: syscall event drop. ${drops} system calls dropped in last second.`;
    let go = true;
    for (const a of this.settings.actions) {
      if (a === 'log') this.hooks.log(text);
      else if (a === 'alert') this.hooks.alert(text, { n_drops: drops, n_evts: 0, simulated: this.settings.simulateDrops }, tsNs);
      else if (a === 'exit') {
        this.hooks.log(`${text} Exiting.`);
        go = false;
      }
    }
    return go;
  }

  /** Falco's closing lines about drop monitoring. */
  summary(): string {
    return `Syscall event drop monitoring:\n   - event drop detected: ${this.detected} occurrences\n   - num times actions taken: ${this.actionsTaken}\n`;
  }
}

/** The part of a collector's statistics message the drop check reads. */
export interface CollectorStats {
  readonly collector_id: string;
  readonly node: string;
  readonly time: string;
  readonly events_in: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly source_drops: Readonly<Record<string, number>>;
}

export function isCollectorStats(v: unknown): v is CollectorStats {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const counts = (x: unknown): boolean => typeof x === 'object' && x !== null && Object.values(x).every((n) => typeof n === 'number');
  return typeof o['collector_id'] === 'string' && typeof o['node'] === 'string' && typeof o['time'] === 'string' && typeof o['events_in'] === 'number' && counts(o['drops']) && counts(o['source_drops']);
}

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * Turns successive cumulative statistics of each collector into drop alerts. A collector that
 * restarted (counters went down) starts a new baseline.
 */
export class DropMonitor {
  private readonly last = new Map<string, { events: number; drops: Record<string, number>; at: number }>();
  private tokens: number;
  private lastRefill: number;
  dropsSeen = 0;
  alertsSuppressed = 0;

  constructor(
    private readonly settings: DropSettings,
    private readonly raise: RaiseInternal,
    private readonly log: (msg: string, fields: InternalFields) => void,
    now = Date.now(),
  ) {
    this.tokens = settings.maxBurst;
    this.lastRefill = now;
  }

  observe(s: CollectorStats, now = Date.now()): void {
    const drops: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.source_drops)) drops[k] = (drops[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.drops)) drops[k] = (drops[k] ?? 0) + v;
    const prev = this.last.get(s.collector_id);
    this.last.set(s.collector_id, { events: s.events_in, drops, at: now });
    if (!prev || s.events_in < prev.events || sum(drops) < sum(prev.drops)) return;
    const delta: Record<string, number> = {};
    for (const [k, v] of Object.entries(drops)) if (v - (prev.drops[k] ?? 0) > 0) delta[k] = v - (prev.drops[k] ?? 0);
    // simulate_drops, as Falco has it: each check counts one drop more than it saw, so the actions
    // can be tried out (with a threshold of 0 they run at every check).
    if (this.settings.simulateDrops) delta['simulated'] = 1;
    const nDrops = sum(delta);
    if (nDrops === 0) return;
    const nEvts = s.events_in - prev.events + nDrops;
    const ratio = nEvts > 0 ? nDrops / nEvts : 1;
    this.dropsSeen += nDrops;
    if (ratio <= this.settings.threshold || this.settings.actions.includes('ignore')) return;
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    const fields: InternalFields = { n_drops: nDrops, n_evts: nEvts, collector_id: s.collector_id, node: s.node, interval_s: Math.round(seconds * 1000) / 1000, ...(this.settings.simulateDrops ? { simulated: true } : {}) };
    for (const [k, v] of Object.entries(delta)) fields[`n_drops_${k}`] = v;
    const text = `Falco internal: syscall event drop. ${nDrops} system calls dropped in last ${seconds.toFixed(1)} s on ${s.node} (collector ${s.collector_id}).`;
    if (this.settings.actions.includes('log')) this.log(text, fields);
    if (!this.settings.actions.includes('alert') && !this.settings.actions.includes('exit')) return;
    this.tokens = Math.min(this.settings.maxBurst, this.tokens + ((now - this.lastRefill) / 1000) * this.settings.rate);
    this.lastRefill = now;
    if (this.tokens < 1) {
      this.alertsSuppressed++;
      return;
    }
    this.tokens -= 1;
    this.raise({ rule: 'Falco internal: syscall event drop', priority: 'Debug', text, fields, key: `drops:${s.collector_id}:${s.time}` });
  }
}
