// One partition of EVENTS, consumed in order by its current owner. Taking a partition over creates
// a fresh durable consumer that starts right after the previous owners' ack floor (then removes
// theirs), so nothing the old owner left unacknowledged is delivered late and out of order. Each
// batch is acknowledged (AckAll) once every alert it produced, and anything it set aside, is stored.

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
}

export const consumerPrefix = (p: number): string => `harrier-engine-p${p}-`;

export class PartitionConsumer {
  readonly progress: PartitionProgress = { lastSeq: 0, pending: 0, batches: 0, redeliveriesSkipped: 0 };
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private chain: Promise<void> = Promise.resolve();
  private inChain = 0;
  private chainFailed: unknown;
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
  }

  /** Creates this owner's consumer at the ack floor and starts delivering. */
  async start(): Promise<void> {
    const p = this.opts.partition;
    const prefix = consumerPrefix(p);
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
    const resume = previous.length > 0 ? Math.max(...previous.map((c) => c.resume)) : undefined;
    this.name = `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}`;
    await this.jsm.consumers.add(this.stream, {
      durable_name: this.name,
      filter_subject: `${EVENTS_SUBJECT_PREFIX}.${p}.>`,
      ack_policy: AckPolicy.All,
      ack_wait: this.opts.ackWaitMs * 1_000_000,
      max_ack_pending: Math.max(1000, this.opts.prefetch * 4),
      ...(resume !== undefined ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: resume } : { deliver_policy: DeliverPolicy.All }),
    });
    for (const c of previous) {
      await this.jsm.consumers.delete(this.stream, c.name).catch((err: unknown) => this.opts.log.warn({ partition: p, consumer: c.name, err }, 'could not remove the previous owner\'s consumer'));
    }
    this.opts.log.info({ partition: p, consumer: this.name, resumeSeq: resume ?? 'start' }, 'partition consumer started');
    const consumer = await this.js.consumers.get(this.stream, this.name);
    this.messages = await consumer.consume({ max_messages: this.opts.prefetch, expires: 5000 });
    this.loop = this.run(this.messages);
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

  private async run(messages: ConsumerMessages): Promise<void> {
    const owned = (): boolean => !this.stopping;
    for await (const m of messages) {
      if (this.stopping) break;
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
        if (this.chainFailed === undefined) ackSoon(this, m);
      })()
        .catch((err: unknown) => {
          // Never acknowledge past a batch whose alerts were not stored: it will be delivered again.
          if (this.chainFailed === undefined) this.opts.log.error({ partition: this.opts.partition, seq: m.seq, err }, 'alerts of a batch could not be stored; the batch stays unacknowledged');
          this.chainFailed ??= err;
        })
        .finally(() => this.inChain--);
      if (this.inChain >= this.opts.maxPendingBatches) await this.chain;
      if (this.chainFailed !== undefined) break;
      await yieldWhenBusy();
    }
  }

  /** True when the consumer stopped by itself (its alerts could not be stored). */
  get failed(): boolean {
    return this.chainFailed !== undefined;
  }

  /** Stops delivery, then waits (at most `waitMs`) for the batches in flight to be acknowledged. */
  async stop(waitMs: number): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
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
