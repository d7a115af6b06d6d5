// The EVENTS stream: created at collector start, or brought to the configured limits when it
// exists (another collector, or an operator, may have made it first).

import { JetStreamApiError, RetentionPolicy, StorageType, DiscardPolicy, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';

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

const ms = (v: number): number => v * 1_000_000; // JetStream durations are in ns

/** Creates or updates the events stream; returns its info. Tolerates a concurrent create. */
export async function ensureEventsStream(jsm: JetStreamManager, opts: EventsStreamOptions = {}): Promise<StreamInfo> {
  const name = opts.name ?? EVENTS_STREAM;
  const wanted = {
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    duplicate_window: ms(opts.duplicateWindowMs ?? 120_000),
    max_age: ms(opts.maxAgeMs ?? 24 * 3600 * 1000),
    max_bytes: opts.maxBytes ?? 1024 ** 3,
    num_replicas: opts.replicas ?? 1,
  };
  for (let attempt = 0; ; attempt++) {
    const existing = await jsm.streams.info(name).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (existing) {
      const c = existing.config;
      const same = c.subjects?.length === 1 && c.subjects[0] === wanted.subjects[0] && c.duplicate_window === wanted.duplicate_window && c.max_age === wanted.max_age && c.max_bytes === wanted.max_bytes && c.num_replicas === wanted.num_replicas;
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

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10059 || /not found/i.test(err.message));
}
