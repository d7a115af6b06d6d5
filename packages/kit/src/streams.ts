// JetStream streams every service relies on are created by whoever starts first and brought to
// the configured limits by the rest; a concurrent create by another process is not an error.

import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';

export interface StreamLimits {
  readonly subjects: readonly string[];
  /** ms; publishes with a Nats-Msg-Id seen within it are dropped as duplicates. */
  readonly duplicateWindowMs: number;
  /** ms; 0 keeps messages until maxBytes. */
  readonly maxAgeMs: number;
  /** -1: unbounded. */
  readonly maxBytes: number;
  readonly replicas: number;
}

const ns = (ms: number): number => ms * 1_000_000; // JetStream durations are in ns

/** Creates the stream (file storage, limits retention, oldest discarded), or updates it to these limits. */
export async function ensureStream(jsm: JetStreamManager, name: string, limits: StreamLimits): Promise<StreamInfo> {
  const wanted = {
    subjects: [...limits.subjects],
    duplicate_window: ns(limits.duplicateWindowMs),
    max_age: ns(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    num_replicas: limits.replicas,
  };
  for (let attempt = 0; ; attempt++) {
    const existing = await jsm.streams.info(name).catch((err: unknown) => {
      if (isStreamNotFound(err)) return undefined;
      throw err;
    });
    if (existing) {
      const c = existing.config;
      const same =
        c.subjects?.join('\n') === wanted.subjects.join('\n') &&
        c.duplicate_window === wanted.duplicate_window &&
        c.max_age === wanted.max_age &&
        c.max_bytes === wanted.max_bytes &&
        c.num_replicas === wanted.num_replicas;
      return same ? existing : jsm.streams.update(name, wanted);
    }
    try {
      return await jsm.streams.add({ name, ...wanted, storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old });
    } catch (err) {
      // Someone else created it between our look and our create: look again, update if needed.
      if (attempt === 0 && err instanceof JetStreamApiError && /already in use/i.test(err.message)) continue;
      throw err;
    }
  }
}

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10059 || /not found/i.test(err.message));
}

/** The events stream (ARCHITECTURE.md, "Partitioning"): collectors write it, engines read it. */
export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'harrier.events';

export interface EventsStreamOptions {
  readonly name?: string;
  /** Publishes with a Nats-Msg-Id seen within this window are dropped as duplicates (default 2 min). */
  readonly duplicateWindowMs?: number;
  /** Batches older than this are removed (default 24 h; 0 keeps them until max bytes). */
  readonly maxAgeMs?: number;
  /** The stream's size bound, oldest batches removed first (default 1 GiB; -1 unbounded). */
  readonly maxBytes?: number;
  readonly replicas?: number;
}

/** Creates or updates the events stream; returns its info. Tolerates a concurrent create. */
export async function ensureEventsStream(jsm: JetStreamManager, opts: EventsStreamOptions = {}): Promise<StreamInfo> {
  return ensureStream(jsm, opts.name ?? EVENTS_STREAM, {
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    duplicateWindowMs: opts.duplicateWindowMs ?? 120_000,
    maxAgeMs: opts.maxAgeMs ?? 24 * 3600 * 1000,
    maxBytes: opts.maxBytes ?? 1024 ** 3,
    replicas: opts.replicas ?? 1,
  });
}
