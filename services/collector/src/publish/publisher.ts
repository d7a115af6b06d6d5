// Enriched events -> one batch per (partition, source) -> protobuf -> JetStream, on
// harrier.events.<partition>.<source> with Nats-Msg-Id `<collectorId>-<sequence>`.
//
// A batch closes at `batchMaxEvents` events, at about `batchMaxBytes` (at most half the server's
// max_payload, so a batch of long command lines still fits in one message), or `batchLingerMs`
// after its first event. Closed batches
// wait in a queue and go out as asynchronous publishes, at most `maxInflight` awaiting their ack.
// A failed or timed-out publish goes back into the queue (in sequence order) and is retried with
// backoff; while NATS is disconnected nothing is sent. A retry that the stream already stored is
// dropped there by its Nats-Msg-Id (and counted here as a duplicate ack).
//
// Order: one connection's publishes are stored in the order sent, so a partition's batches land in
// sequence order unless some are lost. A lost connection loses the publishes in flight; their acks
// would only time out later, after the queue had gone out on the new connection. So on a disconnect
// every publish in flight goes back into the queue at once, and is sent again first, in sequence
// order. (What stays possible: in a cluster, a publish lost in a stream-leader change on a
// connection that stays up times out while later ones, sent after the new leader took over, land.)
//
// A publish nobody answers (no stream stores the subject: the server came back without its
// storage, or the stream was deleted) calls `restoreStream`, once at a time, and the queue goes out
// again once the stream is back; until then it is retried with backoff like any failure.
//
// A batch the server refuses whatever the number of tries (larger than its max_payload or the
// stream's max_msg_size) is not retried: its events are counted as dropped at `publish_rejected`
// and logged as an error, and the queue behind it goes on.
//
// Everything accepted and not yet acknowledged counts against `bufferEvents`: at the bound `add`
// refuses the event and counts it as dropped at `publish_queue`; before that, `shouldPause` tells a
// source to stop reading (the probe's pipe and kernel rings then fill, and the probe counts what the
// kernel drops). Nothing accepted is lost silently: what is still pending when `close` gives up is
// counted at `publish_shutdown`.

import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BatchBuilder, batchMsgId, partitionOf, type EnrichedEvent } from '@harrier/batch';
import type { Logger } from '@harrier/kit';
import { EVENTS_SUBJECT_PREFIX } from './stream.js';

export interface EventPublisherOptions {
  /** Batch ids are `<collectorId>-<sequence>`; a subject token ([A-Za-z0-9_-]). */
  readonly collectorId: string;
  readonly node: string;
  readonly partitions: number;
  readonly batchMaxEvents: number;
  /** Encoded size a batch closes at (default, and at most, half the server's max_payload). */
  readonly batchMaxBytes?: number;
  /** 1-20 ms. */
  readonly batchLingerMs: number;
  /** Events accepted and not yet acknowledged, at most. */
  readonly bufferEvents: number;
  /** Publishes awaiting their ack, at most (default 64). */
  readonly maxInflight?: number;
  /** How long to wait for a publish's ack before retrying it (default 5000 ms). */
  readonly publishTimeoutMs?: number;
  /** Retry backoff: doubles from min to max, with jitter (defaults 100 ms and 5000 ms). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Source of events added without one (default `syscall`). */
  readonly source?: string;
  /**
   * The first batch sequence. Default: the wall clock in µs at start, so a restarted collector
   * never reuses a Nats-Msg-Id inside the stream's duplicate window (it would be dropped as a
   * duplicate); sequences then grow by one per batch, far slower than the clock.
   */
  readonly firstSequence?: number;
  readonly subjectPrefix?: string;
  /**
   * Creates the stream again when publishes find none (JetStream answers no one on the subject):
   * a server restarted without its storage, a deleted stream. Without it such publishes are
   * retried until someone creates the stream.
   */
  readonly restoreStream?: () => Promise<unknown>;
  readonly log?: Logger;
}

/** The publisher's counters: a plain snapshot (for /healthz, the stats message and metrics). */
export interface PublisherStats {
  eventsIn: number;
  eventsPublished: number;
  batchesPublished: number;
  /** Bytes of batches acknowledged by the stream. */
  bytesPublished: number;
  /** Acks that said the stream had the batch already (a retry of a publish that had landed). */
  duplicates: number;
  publishErrors: number;
  retries: number;
  /** Events dropped, by place: `publish_queue` (queue full), `publish_rejected` (a batch the server refuses for good), `publish_shutdown` (still pending when close gave up), `publish_closed` (added after close). */
  drops: Record<string, number>;
  /** Cumulative drops the source reported (e.g. the probe's `ring_buffer`), by place. */
  sourceDrops: Record<string, number>;
  /** Events accepted and not yet acknowledged (open batches, queue, in flight). */
  queueEvents: number;
  /** Closed batches waiting to be sent (not counting those in flight). */
  queueBatches: number;
  inflight: number;
  natsConnected: boolean;
  /** The sequence the next batch gets. */
  nextSequence: number;
  lastError: string | undefined;
  /** True from a failed publish until the next acknowledged one (or a reconnect). */
  failing: boolean;
}

interface OpenBatch {
  readonly partition: number;
  readonly source: string;
  readonly subject: string;
  readonly builder: BatchBuilder;
  timer: NodeJS.Timeout | undefined;
}

interface ClosedBatch {
  readonly seq: number;
  readonly msgId: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly events: number;
  attempts: number;
}

export class EventPublisher {
  private readonly js: JetStreamClient;
  private readonly open = new Map<string, OpenBatch[]>();
  private queue: ClosedBatch[] = [];
  /** Publishes awaiting their ack, each with the attempt it was sent as. */
  private readonly sending = new Map<ClosedBatch, number>();
  private pending = 0;
  private seq: number;
  private connected = true;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private restoring: Promise<void> | undefined;
  private lastError: string | undefined;
  private readonly counters = { eventsIn: 0, eventsPublished: 0, batchesPublished: 0, bytesPublished: 0, duplicates: 0, publishErrors: 0, retries: 0 };
  private readonly drops: Record<string, number> = {};
  private readonly sourceDrops = new Map<string, { base: number; last: number }>();
  private readyWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly maxInflight: number;
  private readonly maxBatchBytes: number;
  private readonly timeoutMs: number;
  private readonly pauseAt: number;
  private readonly resumeAt: number;
  private readonly source: string;
  private readonly prefix: string;
  private readonly statusLoop: Promise<void>;
  private readonly status: AsyncIterable<{ type: string }> & { stop(): void };
  private lastKey: string | undefined;
  private lastPartition = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: EventPublisherOptions,
  ) {
    if (!/^[A-Za-z0-9_-]+$/.test(opts.collectorId)) throw new Error(`collector id '${opts.collectorId}' must hold only letters, digits, '_' and '-'`);
    if (opts.batchMaxEvents < 1 || opts.bufferEvents < 1 || opts.batchLingerMs < 0) throw new Error('batchMaxEvents and bufferEvents must be >= 1, batchLingerMs >= 0');
    this.maxInflight = opts.maxInflight ?? 64;
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.maxBatchBytes = Math.max(1024, Math.min(opts.batchMaxBytes ?? Infinity, Math.floor(maxPayload / 2)));
    this.timeoutMs = opts.publishTimeoutMs ?? 5000;
    this.pauseAt = Math.max(1, Math.floor(opts.bufferEvents * 0.9));
    this.resumeAt = Math.floor(opts.bufferEvents / 2);
    this.source = opts.source ?? 'syscall';
    this.prefix = opts.subjectPrefix ?? EVENTS_SUBJECT_PREFIX;
    this.seq = opts.firstSequence ?? Date.now() * 1000;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
    this.status = nc.status() as AsyncIterable<{ type: string }> & { stop(): void };
    this.statusLoop = this.watchConnection();
  }

  /**
   * Takes one event for the partition of `key` (container id or `host:<node>`). False: the queue
   * is full and the event was dropped (counted at `publish_queue`); a source should have paused
   * when `shouldPause` turned true.
   */
  add(e: EnrichedEvent, key: string, source: string = this.source): boolean {
    if (this.closed) {
      this.drop('publish_closed', 1);
      return false;
    }
    if (this.pending >= this.opts.bufferEvents) {
      this.drop('publish_queue', 1);
      return false;
    }
    this.counters.eventsIn++;
    this.pending++;
    // Events come in runs of one key (a process's, a container's): its partition is hashed once per run.
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastPartition = partitionOf(key, this.opts.partitions);
    }
    let o = this.openBatch(this.lastPartition, source);
    if (!o.builder.fits(e)) {
      this.closeBatch(o);
      o = this.openBatch(this.lastPartition, source);
    }
    o.builder.add(e);
    const n = o.builder.size;
    if (n >= this.opts.batchMaxEvents || o.builder.approxBytes >= this.maxBatchBytes) this.closeBatch(o);
    else if (n === 1) o.timer = setTimeout(() => this.closeBatch(o), this.opts.batchLingerMs);
    return true;
  }

  /** True once the pending events reach 90% of `bufferEvents`: the source should stop reading until `ready()`. */
  get shouldPause(): boolean {
    return this.pending >= this.pauseAt;
  }

  /** Resolves once the pending events are down to half of `bufferEvents` (at once when they are), or on close. */
  ready(): Promise<void> {
    if (this.pending <= this.resumeAt || this.closed) return Promise.resolve();
    return new Promise((done) => this.readyWaiters.push(done));
  }

  /** Closes every open batch now and resolves when nothing accepted is left unacknowledged. */
  flush(): Promise<void> {
    for (const list of this.open.values()) for (const o of list) if (o && o.builder.size > 0) this.closeBatch(o);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  /**
   * Stops taking events, flushes, and waits up to `timeoutMs` for the acks. Events still pending
   * then are counted as dropped at `publish_shutdown` (and logged); never throws.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const flushed = this.flush();
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([flushed.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!done && this.pending > 0) {
      this.opts.log?.error({ events: this.pending, batches: this.queue.length + this.sending.size, lastError: this.lastError }, 'events not acknowledged by JetStream at shutdown: counted as dropped at publish_shutdown');
      this.drop('publish_shutdown', this.pending);
      this.pending = 0;
      this.queue = [];
    }
    this.status.stop();
    await this.statusLoop;
    this.wake();
  }

  /**
   * Cumulative drop counters from the source (the probe's kernel rings, its pipe, ...). A counter
   * that goes back (the probe restarted) continues from where it was, so totals only grow.
   */
  recordSourceDrops(place: string, total: number): void {
    const s = this.sourceDrops.get(place);
    if (!s) this.sourceDrops.set(place, { base: 0, last: total });
    else if (total < s.last) {
      s.base += s.last;
      s.last = total;
    } else s.last = total;
  }

  stats(): PublisherStats {
    const sourceDrops: Record<string, number> = {};
    for (const [k, v] of this.sourceDrops) sourceDrops[k] = v.base + v.last;
    return {
      ...this.counters,
      drops: { ...this.drops },
      sourceDrops,
      queueEvents: this.pending,
      queueBatches: this.queue.length,
      inflight: this.sending.size,
      natsConnected: this.connected && !this.nc.isClosed(),
      nextSequence: this.seq,
      lastError: this.lastError,
      failing: this.failures > 0,
    };
  }

  private drop(place: string, n: number): void {
    this.drops[place] = (this.drops[place] ?? 0) + n;
  }

  private openBatch(partition: number, source: string): OpenBatch {
    let list = this.open.get(source);
    if (!list) {
      list = [];
      this.open.set(source, list);
    }
    let o = list[partition];
    if (!o) {
      o = { partition, source, subject: `${this.prefix}.${partition}.${source}`, builder: new BatchBuilder({ collectorId: this.opts.collectorId, node: this.opts.node, source }), timer: undefined };
      list[partition] = o;
    }
    return o;
  }

  private closeBatch(o: OpenBatch): void {
    clearTimeout(o.timer);
    o.timer = undefined;
    const events = o.builder.size;
    if (events === 0) return;
    const seq = this.seq++;
    const data = o.builder.finishEncoded(seq);
    this.queue.push({ seq, msgId: batchMsgId(this.opts.collectorId, seq), subject: o.subject, data, events, attempts: 0 });
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.sending.size < this.maxInflight && this.connected && this.retryTimer === undefined && !this.nc.isClosed()) {
      this.send(this.queue.shift()!);
    }
  }

  private send(b: ClosedBatch): void {
    if (b.attempts++ > 0) this.counters.retries++;
    const attempt = b.attempts;
    this.sending.set(b, attempt);
    // False once this attempt was given up (its connection was lost and the batch requeued).
    const current = (): boolean => {
      if (this.sending.get(b) !== attempt) return false;
      this.sending.delete(b);
      return true;
    };
    this.js.publish(b.subject, b.data, { msgID: b.msgId, timeout: this.timeoutMs }).then(
      (ack) => {
        if (!current()) return;
        this.failures = 0;
        this.pending -= b.events;
        this.counters.batchesPublished++;
        this.counters.eventsPublished += b.events;
        this.counters.bytesPublished += b.data.length;
        if (ack.duplicate) this.counters.duplicates++;
        this.pump();
        this.wake();
      },
      (err: unknown) => {
        if (!current()) return;
        this.counters.publishErrors++;
        this.lastError = (err as Error).message;
        if (refusedForGood(err)) {
          this.pending -= b.events;
          this.drop('publish_rejected', b.events);
          this.opts.log?.error(
            { err, subject: b.subject, msgId: b.msgId, bytes: b.data.length, events: b.events },
            'the server refuses this batch whatever the number of tries (too large for its max_payload or the stream\'s max_msg_size): its events are counted as dropped at publish_rejected; lower collector.batch_max_bytes or raise the limit',
          );
          this.pump();
          this.wake();
          return;
        }
        if (this.failures === 0) this.opts.log?.warn({ err, subject: b.subject, msgId: b.msgId }, 'publish failed; batches stay queued and are retried with backoff');
        this.requeue(b);
        this.backoff();
        if (noStream(err)) this.restore(b.subject);
        this.wake();
      },
    );
  }

  /** Back into the queue at its place by sequence, so a partition's batches keep their order as far as possible. */
  private requeue(b: ClosedBatch): void {
    let i = 0;
    while (i < this.queue.length && this.queue[i]!.seq < b.seq) i++;
    this.queue.splice(i, 0, b);
  }

  private backoff(): void {
    if (this.retryTimer !== undefined || this.closedForGood()) return;
    this.failures++;
    const min = this.opts.retryMinMs ?? 100;
    const max = this.opts.retryMaxMs ?? 5000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20)) * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
  }

  /** No stream answered a publish: create it again (once at a time), then send the queue at once. */
  private restore(subject: string): void {
    const restore = this.opts.restoreStream;
    if (!restore || this.restoring || this.closed) return;
    this.opts.log?.warn({ subject }, 'no JetStream stream stores this subject (the server lost it: restarted without its storage, or the stream was deleted): creating it again');
    this.restoring = restore().then(
      () => {
        this.restoring = undefined;
        this.opts.log?.info('stream created again; sending the queued batches');
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.pump();
      },
      (err: unknown) => {
        this.restoring = undefined;
        this.lastError = `cannot create the stream again: ${(err as Error).message}`;
        this.opts.log?.error({ err }, 'cannot create the stream again (is JetStream enabled on the server?); publishes are retried with backoff');
      },
    );
  }

  private closedForGood(): boolean {
    return this.nc.isClosed();
  }

  private wake(): void {
    if (this.readyWaiters.length > 0 && (this.pending <= this.resumeAt || this.closed)) {
      const w = this.readyWaiters;
      this.readyWaiters = [];
      for (const f of w) f();
    }
    if (this.idleWaiters.length > 0 && this.pending === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.status) {
      if (s.type === 'disconnect') {
        this.connected = false;
        // What was in flight went down with the connection (or its ack did): back into the queue,
        // to be sent first after the reconnect, in sequence order.
        for (const b of this.sending.keys()) this.requeue(b);
        this.sending.clear();
      } else if (s.type === 'reconnect') {
        this.connected = true;
        // Back at once: the queue goes out without waiting for the backoff.
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.failures = 0;
        this.pump();
      }
    }
  }
}

/** JetStream's error code for a message larger than the stream's max_msg_size. */
const MESSAGE_TOO_LARGE = 10054;

/**
 * True when no one answered a publish: no stream stores its subject (nats.js says "jetstream is
 * not enabled", its JetStreamNotEnabled, which the package does not export).
 */
function noStream(err: unknown): boolean {
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}

/** True for a publish error that sending the same bytes again cannot cure. */
function refusedForGood(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === MESSAGE_TOO_LARGE;
  return err instanceof Error && err.message.includes('max_payload size exceeded');
}
