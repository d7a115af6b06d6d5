// The alert contract (ARCHITECTURE.md, "Alert contract"): the ALERTS stream, alert subjects,
// Falco-shaped JSON with Harrier's identity fields, and publishing with Nats-Msg-Id = event id + rule
// so a redelivered batch never stores an alert twice.

import { createHash } from 'node:crypto';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager, type PubAck, type StreamInfo } from '@nats-io/jetstream';
import { ensureStream } from '@harrier/kit';
import { alertJsonText, eventTimeKey, type AlertJson } from '@harrier/rules';

export const ALERTS_STREAM = 'ALERTS';
export const ALERTS_SUBJECT_PREFIX = 'harrier.alerts';

/** A rule name as a subject token: lower-case, runs outside [a-z0-9] become '-', trimmed, at most 64 characters. */
export function ruleSlug(rule: string): string {
  const s = rule
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return s === '' ? 'rule' : s;
}

/** harrier.alerts.<source>.<priority>.<rule-slug>, source and priority lower-case. */
export function alertSubject(source: string, priority: string, rule: string): string {
  const src = source.toLowerCase().replace(/[^a-z0-9_-]+/g, '-') || 'unknown';
  return `${ALERTS_SUBJECT_PREFIX}.${src}.${priority.toLowerCase()}.${ruleSlug(rule)}`;
}

/** The alert's id: a UUID derived from the event id and the rule, so re-evaluation gives the same one. */
export function alertId(eventId: string, rule: string): string {
  const h = createHash('sha1').update(eventId).update('\0').update(rule).digest('hex');
  // RFC 4122 layout with the name-based (version 5) and variant bits set.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Nats-Msg-Id of an alert: the event id and the rule name. */
export function alertMsgId(eventId: string, rule: string): string {
  return `${eventId}/${rule}`;
}

export interface AlertsStreamOptions {
  /** Must exceed lease expiry + ack wait + recovery time (default 5 min). */
  readonly duplicateWindowMs?: number;
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
  readonly replicas?: number;
}

/** Creates the ALERTS stream, or brings an existing one to these limits. */
export async function ensureAlertsStream(jsm: JetStreamManager, opts: AlertsStreamOptions = {}): Promise<StreamInfo> {
  return ensureStream(jsm, ALERTS_STREAM, {
    subjects: [`${ALERTS_SUBJECT_PREFIX}.>`],
    duplicateWindowMs: opts.duplicateWindowMs ?? 300_000,
    maxAgeMs: opts.maxAgeMs ?? 7 * 24 * 3600 * 1000,
    maxBytes: opts.maxBytes ?? 1024 ** 3,
    replicas: opts.replicas ?? 1,
  });
}

export const DEADLETTER_STREAM = 'DEADLETTER';
export const DEADLETTER_SUBJECT_PREFIX = 'harrier.deadletter';

/** The stream that keeps what the engine set aside (malformed batches, unknown event types). */
export async function ensureDeadLetterStream(jsm: JetStreamManager, replicas = 1): Promise<StreamInfo> {
  return ensureStream(jsm, DEADLETTER_STREAM, {
    subjects: [`${DEADLETTER_SUBJECT_PREFIX}.>`],
    duplicateWindowMs: 300_000,
    maxAgeMs: 7 * 24 * 3600 * 1000,
    maxBytes: 256 * 1024 ** 2,
    replicas,
  });
}

export interface PublishedAlert {
  readonly subject: string;
  readonly msgId: string;
  readonly json: AlertJson;
}

export interface AlertPublisherStats {
  published: number;
  duplicates: number;
  retries: number;
}

/**
 * Stores alerts in ALERTS. A publish that fails is retried with backoff until it is stored or the
 * caller gives up (the returned promise then rejects): an alert is never dropped silently, and the
 * events behind it are not acknowledged until it is stored.
 */
export class AlertPublisher {
  readonly stats: AlertPublisherStats = { published: 0, duplicates: 0, retries: 0 };
  private readonly js: JetStreamClient;
  private readonly enc = new TextEncoder();

  constructor(
    nc: NatsConnection,
    private readonly opts: { readonly timeoutMs?: number; readonly maxAttempts?: number } = {},
  ) {
    this.js = jetstream(nc, { timeout: opts.timeoutMs ?? 5000 });
  }

  async publish(a: PublishedAlert, stillWanted: () => boolean = () => true): Promise<PubAck> {
    // Falco's JSON: output_fields start with the event time in nanoseconds, exact.
    const body = this.enc.encode(alertJsonText(a.json, eventTimeKey(a.json)));
    const h = headers();
    h.set('Harrier-Alert-Id', a.json.uuid);
    h.set('Harrier-Priority', a.json.priority);
    h.set('Harrier-Rule', a.json.rule);
    const max = this.opts.maxAttempts ?? Infinity;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(a.subject, body, { msgID: a.msgId, headers: h });
        this.stats.published++;
        if (ack.duplicate) this.stats.duplicates++;
        return ack;
      } catch (err) {
        if (attempt >= max || !stillWanted()) throw err;
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(attempt, 6))));
      }
    }
  }
}
