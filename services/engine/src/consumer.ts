// One partition of EVENTS, consumed in order by its current owner. Taking a partition over creates
// a fresh durable consumer that starts right after the previous owners' ack floor (then removes
// theirs), so nothing the old owner left unacknowledged is delivered late and out of order. Each
// batch is acknowledged (AckAll) once every alert it produced, and anything it set aside, is stored.
// AckAll also acknowledges every batch before it, so a batch the server counted delivered but the
// worker never got (lost on its way when the worker's server died) would be acknowledged unseen:
// a gap in the delivery sequence stops delivery, and the consumer is made again after the last
// batch done, as it is when its delivery ends for any other reason while the partition is owned.

import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerInfo, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type Logger, type NatsConnection } from '@harrier/kit';

/** What the worker does with each message; the returned promise settles when the message may be acknowledged. */
export type BatchHandler = (partition: number, msg: JsMsg, owned: () => boolean) => Promise<void>;

export interface PartitionConsumerOptions {
  readonly partition: number;
  /** Redelivery of an unacknowledged batch waits this long (ms). */
  readonly ackWaitMs: number;
  /** Batches evaluated whose alerts are not yet stored, at most; then evaluation waits. */
  readonly maxPendingBatches: number;
  /** Messages the client keeps buffered ahead of evaluation. */
  readonly prefetch: number;
  readonly log: Logger;
  readonly stream?: string;
}

export interface PartitionProgress {
  /** The stream sequence of the last batch handed to the handler. */
  lastSeq: number;
  /** Messages the consumer still has to deliver (from the last delivery's metadata). */
  pending: number;
  batches: number;
  redeliveriesSkipped: number;
  /** Times the consumer was made again while owned (a lost delivery, a failed batch, delivery ending). */
  restarts: number;
}

export const consumerPrefix = (p: number): string => `harrier-engine-p${p}-`;

/** Why delivery to the handler stopped. */
type LoopEnd =
  | { readonly kind: 'stopping' }
  | { readonly kind: 'lost'; readonly afterDelivery: number; readonly delivery: number; readonly seq: number }
  | { readonly kind: 'failed'; readonly err: unknown }
  | { readonly kind: 'ended'; readonly err?: unknown };

/** Tries, a second, 2, 4 and 8 s apart, to remove a stale consumer whose removal failed. */
const STALE_RETRIES = 4;
/** The longest wait between two attempts to make the consumer again. */
const RESTART_BACKOFF_MAX_MS = 5000;

export class PartitionConsumer {
  readonly progress: PartitionProgress = { lastSeq: 0, pending: 0, batches: 0, redeliveriesSkipped: 0, restarts: 0 };
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private chain: Promise<void> = Promise.resolve();
  private inChain = 0;
  private chainFailed: unknown;
  /** The stream sequence of the last batch whose alerts (and anything set aside) are stored. */
  private doneSeq = 0;
  /** Consumers of this partition left to remove: the previous owners', and ours once replaced. */
  private readonly stale = new Set<string>();
  /** Settles when stop() is called, to end a restart's waits early. */
  private readonly stopped: Promise<void>;
  private onStop!: () => void;
  private readonly stream: string;
  name = '';

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: PartitionConsumerOptions,
    private readonly handle: BatchHandler,
  ) {
    this.stream = opts.stream ?? EVENTS_STREAM;
    this.stopped = new Promise((r) => (this.onStop = r));
  }

  /** Creates this owner's consumer at the ack floor and starts delivering. */
  async start(): Promise<void> {
    const prefix = consumerPrefix(this.opts.partition);
    const previous: { name: string; resume: number }[] = [];
    // Not CONSUMER.LIST: in a cluster it leaves out consumers whose leader does not answer in time
    // (one on a restarting server), and resuming without them would go back to an older ack floor
    // or the partition's start (evaluating again what the dedupe window may no longer cover) and
    // leave their consumers behind. Names are complete; a look-up that fails fails the start,
    // which the lease retries.
    for (const name of (await this.consumerNames()).filter((n) => n.startsWith(prefix))) {
      let ci: ConsumerInfo;
      try {
        ci = await this.jsm.consumers.info(this.stream, name);
      } catch (err) {
        // Removed since the names were read, by an owner before us: nothing to resume from.
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) continue;
        throw err;
      }
      // AckAll: everything up to the ack floor is done. A consumer that never acked resumes where it started.
      const floor = ci.ack_floor.stream_seq;
      previous.push({ name: ci.name, resume: floor > 0 ? floor + 1 : (ci.config.opt_start_seq ?? 1) });
    }
    for (const c of previous) this.stale.add(c.name);
    await this.open(previous.length > 0 ? Math.max(...previous.map((c) => c.resume)) : undefined);
    this.loop = this.supervise();
  }

  /**
   * Creates a consumer delivering from `resume` (the partition's start when undefined), removes the
   * stale ones, and starts delivery. A consumer created by an attempt that fails later stays stale,
   * for the next attempt (or the next owner) to resume from and remove.
   */
  private async open(resume: number | undefined): Promise<void> {
    const p = this.opts.partition;
    const name = `${consumerPrefix(p)}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}`;
    await this.jsm.consumers.add(this.stream, {
      durable_name: name,
      filter_subject: `${EVENTS_SUBJECT_PREFIX}.${p}.>`,
      ack_policy: AckPolicy.All,
      ack_wait: this.opts.ackWaitMs * 1_000_000,
      max_ack_pending: Math.max(1000, this.opts.prefetch * 4),
      ...(resume !== undefined ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: resume } : { deliver_policy: DeliverPolicy.All }),
    });
    this.name = name;
    await this.removeStale();
    this.opts.log.info({ partition: p, consumer: name, resumeSeq: resume ?? 'start' }, 'partition consumer started');
    const consumer = await this.js.consumers.get(this.stream, name);
    this.messages = await consumer.consume({ max_messages: this.opts.prefetch, expires: 5000 });
    this.doneSeq = this.progress.lastSeq = (resume ?? 1) - 1;
  }

  /** Removes the stale consumers; one that cannot be removed now is tried again on the next open, and a few times later. */
  private async removeStale(retry = 0): Promise<void> {
    for (const old of [...this.stale]) {
      if (old === this.name) continue;
      try {
        await this.jsm.consumers.delete(this.stream, old);
        this.stale.delete(old);
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) this.stale.delete(old);
        else this.opts.log.warn({ partition: this.opts.partition, consumer: old, err }, 'could not remove a previous consumer of the partition; trying again');
      }
    }
    // A delete whose reply was lost (its consumer's leader on a server going away) removed it all
    // the same, or the next try does; without one the consumer would stay beside ours for good.
    if (retry < STALE_RETRIES && !this.stopping && [...this.stale].some((n) => n !== this.name)) setTimeout(() => void this.removeStale(retry + 1), 1000 * 2 ** retry).unref();
  }

  /** Every consumer of the stream by name, from its assignments (paged as the API pages it). */
  private async consumerNames(): Promise<string[]> {
    const names: string[] = [];
    for (;;) {
      const reply = await this.nc.request(`${this.js.apiPrefix}.CONSUMER.NAMES.${this.stream}`, JSON.stringify({ offset: names.length }), { timeout: 5000 });
      const r = reply.json<{ error?: { description?: string }; total?: number; consumers?: string[] | null }>();
      if (r.error) throw new Error(`cannot list the consumers of ${this.stream}: ${r.error.description ?? 'JetStream error'}`);
      const page = r.consumers ?? [];
      names.push(...page);
      if (page.length === 0 || names.length >= (r.total ?? 0)) return names;
    }
  }

  /**
   * Delivers to the handler until stopped. When delivery ends while the partition is still owned
   * (a delivery lost, a batch whose alerts could not be stored, the consumer gone), the batches
   * already handed over are finished first, then a new consumer delivers from the first batch not
   * done, so every batch is handled, in order, before anything after it is acknowledged.
   */
  private async supervise(): Promise<void> {
    let fruitless = 0;
    for (;;) {
      const doneBefore = this.doneSeq;
      const end = await this.run(this.messages!);
      this.messages?.stop();
      if (end.kind === 'stopping' || this.stopping) return;
      // stop() waits for the batches in hand itself, as long as its caller allows.
      await Promise.race([this.chain, this.stopped]);
      if (this.stopping) return;
      ackNow(this);
      const log = { partition: this.opts.partition, consumer: this.name, resumeSeq: this.doneSeq + 1 };
      if (end.kind === 'lost') this.opts.log.warn({ ...log, delivery: end.delivery, afterDelivery: end.afterDelivery, seq: end.seq }, 'a delivery was lost on its way (the delivery sequence skips); the partition\'s consumer is made again after the last batch done');
      else if (end.kind === 'failed') this.opts.log.warn({ ...log, err: end.err }, 'a batch was not done; the partition\'s consumer is made again after the last batch done');
      else this.opts.log.warn({ ...log, err: end.err }, 'delivery ended while the partition is owned; its consumer is made again after the last batch done');
      // Restarts that get nothing done back off, so a batch that always fails does not spin.
      fruitless = this.doneSeq > doneBefore ? 0 : fruitless + 1;
      for (let attempt = 0; ; attempt++) {
        const wait = fruitless + attempt === 0 ? 0 : Math.min(RESTART_BACKOFF_MAX_MS, 250 * 2 ** (fruitless + attempt - 1));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, wait))), this.stopped]);
        clearTimeout(timer);
        if (this.stopping) return;
        this.chain = Promise.resolve();
        this.chainFailed = undefined;
        this.stale.add(this.name);
        try {
          await this.open(this.doneSeq + 1);
          break;
        } catch (err) {
          this.opts.log.warn({ partition: this.opts.partition, attempt: attempt + 1, err }, 'could not make the partition\'s consumer again; trying again');
          if (this.stopping) return;
        }
      }
      if (this.stopping) {
        this.messages?.stop();
        return;
      }
      this.progress.restarts++;
    }
  }

  private async run(messages: ConsumerMessages): Promise<LoopEnd> {
    const owned = (): boolean => !this.stopping;
    // Each delivery, first or again, takes the consumer's next delivery sequence, and only this
    // worker pulls from it: a sequence skipped is a delivery that never arrived.
    let lastDelivery = 0;
    try {
      for await (const m of messages) {
        if (this.stopping) return { kind: 'stopping' };
        const delivery = m.info.deliverySequence;
        if (delivery > lastDelivery + 1) return { kind: 'lost', afterDelivery: lastDelivery, delivery, seq: m.seq };
        lastDelivery = delivery;
        if (m.seq <= this.progress.lastSeq) {
          // A redelivery of a batch still on its way (ack wait passed): AckAll on a later batch covers it.
          this.progress.redeliveriesSkipped++;
          continue;
        }
        this.progress.lastSeq = m.seq;
        this.progress.pending = m.info.pending;
        this.progress.batches++;
        let done: Promise<void>;
        try {
          done = this.handle(this.opts.partition, m, owned);
        } catch (err) {
          // Handlers report bad batches themselves; anything thrown here is a programming error.
          this.opts.log.error({ partition: this.opts.partition, seq: m.seq, err }, 'batch handler failed');
          done = Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
        // The chain awaits `done` only after the batches before it: a rejection that comes sooner
        // (alerts given up once the partition is being stopped) would be unhandled until then, and
        // an unhandled rejection ends the process. A no-op handler now marks it handled; the chain
        // still sees the rejection when it gets there.
        done.catch(() => undefined);
        this.inChain++;
        const prev = this.chain;
        this.chain = (async () => {
          await prev;
          await done;
          if (this.chainFailed === undefined) {
            this.doneSeq = m.seq;
            ackSoon(this, m);
          }
        })()
          .catch((err: unknown) => {
            // Never acknowledge past a batch whose alerts were not stored: it will be delivered again.
            if (this.chainFailed !== undefined) return;
            this.opts.log.error({ partition: this.opts.partition, seq: m.seq, err }, 'alerts of a batch could not be stored; the batch stays unacknowledged');
            this.chainFailed = err;
            // Ends the delivery loop even when no batch follows to notice.
            messages.stop();
          })
          .finally(() => this.inChain--);
        if (this.inChain >= this.opts.maxPendingBatches) await this.chain;
        if (this.chainFailed !== undefined) return { kind: 'failed', err: this.chainFailed };
        await yieldWhenBusy();
      }
    } catch (err) {
      if (!this.stopping && this.chainFailed === undefined) return { kind: 'ended', err };
    }
    return this.stopping ? { kind: 'stopping' } : this.chainFailed !== undefined ? { kind: 'failed', err: this.chainFailed } : { kind: 'ended' };
  }

  /** True when the last batch handed over could not be done (its consumer is then made again). */
  get failed(): boolean {
    return this.chainFailed !== undefined;
  }

  /** Stops delivery, then waits (at most `waitMs`) for the batches in flight to be acknowledged. */
  async stop(waitMs: number): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    this.onStop();
    // A consumer being made again is finished first (a request at most), so none starts delivering after this.
    await this.loop?.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    ackNow(this);
  }
}

/**
 * Acknowledgements wait for the next turn of the event loop, the latest batch per consumer (AckAll
 * covers the ones before it), and go out together: one socket write for every partition's, where
 * acknowledging each batch as it completes cost a write (and a wake-up of the server) per batch.
 * Under load they are at most one slice (SLICE_MS) late.
 */
const pendingAcks = new Map<PartitionConsumer, JsMsg>();
let ackTurn: NodeJS.Immediate | undefined;

function ackSoon(c: PartitionConsumer, m: JsMsg): void {
  pendingAcks.set(c, m);
  ackTurn ??= setImmediate(() => {
    ackTurn = undefined;
    const due = [...pendingAcks.values()];
    pendingAcks.clear();
    for (const x of due) x.ack();
  });
}

/** Sends the consumer's waiting acknowledgement at once (when it stops). */
function ackNow(c: PartitionConsumer): void {
  const m = pendingAcks.get(c);
  if (m === undefined) return;
  pendingAcks.delete(c);
  m.ack();
}

/**
 * Buffered batches are handed over as microtasks, so a busy worker could run batch after batch
 * without ever reaching its timers and sockets: lease renewals then time out and the worker loses
 * its partitions. Every consumer of the process shares this slice; past it, they let I/O run.
 */
const SLICE_MS = 20;
let sliceStart = performance.now();
async function yieldWhenBusy(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}
