// Partition ownership for engine workers: one lease per partition in a NATS KV bucket, taken and
// renewed with compare-and-swap on the key's revision, and placed by rendezvous hashing (with
// bounded loads) over the workers whose heartbeat keys are live.
//
// Time: no host's wall clock decides anything. An entry (lease or heartbeat) lives `ttl` ms from when
// the NATS server stored it, by the server's clock; a worker maps that onto its own monotonic clock
// with an offset learned from its own heartbeat's stored time, each tick. So workers whose wall
// clocks disagree (no NTP, a clock stepped by minutes) neither take each other's live leases nor
// wait minutes for a dead worker's. A worker's own lease runs by its monotonic clock from when it
// sent the write: it gives the lease up if it could not renew it by then.

import { createHash } from 'node:crypto';
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger, NatsConnection } from '@harrier/kit';

/** Failed handler starts of a partition logged one by one; after that only every tenth is. */
const START_FAILURES_LOGGED = 3;

export const DEFAULT_LEASES_BUCKET = 'harrier-leases';

export interface PartitionHandler {
  /** Begin consuming partition p; resolves once started. */
  start(p: number): Promise<void>;
  /** Stop partition p; resolves when p sees no more acks or publishes from this worker. */
  stop(p: number, reason: StopReason): Promise<void>;
}

export type StopReason = 'rebalance' | 'lost' | 'shutdown';

export interface PartitionLeasesOptions {
  workerId: string;
  partitions: number;
  ttlMs: number;
  renewMs: number;
  /** KV bucket (default "harrier-leases"). */
  bucket?: string;
  /** Replicas when the bucket has to be created (default 1). */
  replicas?: number;
  log: Logger;
  /** This host's wall clock in ms since the epoch, only for the `expires` people read (default Date.now; tests skew it). */
  clock?: () => number;
}

/** The JSON value of a lease key (`p.<n>`) or a heartbeat key (`w.<workerId>`). */
export interface LeaseValue {
  owner: string;
  /** Milliseconds since the epoch, by the owner's clock: for people reading the bucket. */
  expires: number;
  /** How long the entry lives after the server stored it (ms); what other workers go by. */
  ttl?: number;
  /** Fencing token, strictly increasing per partition across owners (leases only). */
  epoch?: number;
}

/** A key as read: its revision (0 when absent) and its value, unless absent, deleted or not a lease. */
export interface LeaseSlot {
  revision: number;
  value: LeaseValue | undefined;
  /** When the server stored the entry (ms), to age delete markers. */
  storedAt: number;
}

const FREE: LeaseSlot = { revision: 0, value: undefined, storedAt: 0 };

/**
 * When a key's entry ends, by the server's clock: `ttl` after the server stored it. An entry
 * without `ttl` (written by an older worker) has only its writer's `expires` to go by.
 */
export function slotExpiry(slot: LeaseSlot): number {
  const v = slot.value;
  if (!v) return slot.storedAt;
  return v.ttl === undefined ? v.expires : slot.storedAt + v.ttl;
}

/** Offset estimates kept; the smallest is the one least inflated by a slow round trip. */
const OFFSET_SAMPLES = 8;

/** A KV key token sequence: no empty tokens, no wildcards, so `w.<id>` is a valid key. */
const WORKER_ID = /^[-\w=/]+(\.[-\w=/]+)*$/;

/** True when a write failed only because the key moved past the revision we expected. */
export function isCasConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * The owner of every partition among the live workers: rendezvous (highest-random-weight) hashing
 * with bounded loads. (worker, partition) pairs are taken in order of weight, each worker up to
 * ceil(partitions / workers), so every worker computes the same answer from the same set, shares
 * stay even (plain rendezvous gives 3 of 16 partitions to one of two workers often enough), and a
 * join or leave moves little beyond what the joiner gets or the leaver had.
 */
export function placePartitions(workers: readonly string[], partitions: number): (string | undefined)[] {
  const owners: (string | undefined)[] = new Array<string | undefined>(partitions).fill(undefined);
  if (workers.length === 0) return owners;
  const cap = Math.ceil(partitions / workers.length);
  const pairs: { weight: number; p: number; w: string }[] = [];
  for (const w of workers) {
    for (let p = 0; p < partitions; p++) pairs.push({ weight: createHash('sha256').update(`${w}\n${p}`).digest().readUIntBE(0, 6), p, w });
  }
  // Ties (48-bit weights, so practically none) are broken by name, to stay deterministic.
  pairs.sort((x, y) => y.weight - x.weight || (x.w < y.w ? -1 : x.w > y.w ? 1 : x.p - y.p));
  const load = new Map<string, number>();
  for (const { p, w } of pairs) {
    const n = load.get(w) ?? 0;
    if (owners[p] !== undefined || n >= cap) continue;
    owners[p] = w;
    load.set(w, n + 1);
  }
  return owners;
}

/** A key's last message in the bucket's stream (a KV entry: `KV-Operation` marks deletes and purges). */
function parseSlot(e: StoredMsg | null): LeaseSlot {
  if (!e) return FREE;
  const slot: LeaseSlot = { revision: e.seq, value: undefined, storedAt: e.time.getTime() };
  if ((e.header?.get('KV-Operation') || 'PUT') !== 'PUT') return slot;
  try {
    const v = e.json<Partial<LeaseValue>>();
    // Anything else under our keys is treated as free, so a CAS write replaces it.
    if (typeof v.owner === 'string' && typeof v.expires === 'number' && (v.epoch === undefined || typeof v.epoch === 'number') && (v.ttl === undefined || typeof v.ttl === 'number')) {
      slot.value = { owner: v.owner, expires: v.expires, ...(v.epoch === undefined ? {} : { epoch: v.epoch }), ...(v.ttl === undefined ? {} : { ttl: v.ttl }) };
    }
  } catch {
    // not JSON: free, as above
  }
  return slot;
}

/** The KV side of leases: reads and compare-and-swap writes, no policy. */
export class LeaseTable {
  readonly #stream: string;
  readonly #keyPrefix: string;

  private constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    readonly bucket: string,
  ) {
    this.#stream = `KV_${bucket}`;
    this.#keyPrefix = `$KV.${bucket}.`;
  }

  /** Opens the bucket, creating it (history 1) when missing. */
  static async open(nc: NatsConnection, bucket: string, replicas: number, timeoutMs: number): Promise<LeaseTable> {
    const kvm = new Kvm(jetstream(nc, { timeout: timeoutMs }));
    let kv: KV;
    try {
      kv = await kvm.create(bucket, { history: 1, replicas });
    } catch {
      // Another worker may have created it between our lookup and our create: open what is there.
      try {
        kv = await kvm.create(bucket, { history: 1, replicas });
      } catch (err) {
        throw new Error(`cannot open or create the leases KV bucket "${bucket}" (is JetStream enabled on the NATS server?)`, { cause: err });
      }
    }
    return new LeaseTable(kv, await jetstreamManager(nc, { timeout: timeoutMs }), bucket);
  }

  /**
   * The key as the stream's leader has it. Not a KV get: the bucket allows direct gets, which any
   * replica answers, and one catching up after a restart answers with old revisions. A renewal
   * that trusted such a read would expect the revision its own write (whose reply was lost) has
   * already moved past, and lose the lease to itself, again and again while the replica lags.
   */
  async read(key: string): Promise<LeaseSlot> {
    return parseSlot(await this.jsm.streams.getMessage(this.#stream, { last_by_subj: `${this.#keyPrefix}${key}` }));
  }

  /** Every heartbeat key (`w.*`), including ones whose last entry is a delete marker. */
  async heartbeats(): Promise<Map<string, LeaseSlot>> {
    // Stream info with a subject filter lists the keys in one request, without a consumer.
    const info = await this.jsm.streams.info(this.#stream, { subjects_filter: `${this.#keyPrefix}w.>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(this.#keyPrefix.length));
    const slots = await Promise.all(keys.map((k) => this.read(k)));
    return new Map(keys.map((k, i) => [k.slice(2), slots[i] ?? FREE]));
  }

  /** Writes `value` if the key is still at `from.revision`; the new revision, or undefined if it moved. */
  async swap(key: string, from: LeaseSlot, value: LeaseValue): Promise<number | undefined> {
    const data = JSON.stringify(value);
    try {
      // An update on a delete marker's revision takes a deleted key; create is for absent keys.
      return from.revision > 0 ? await this.kv.update(key, data, from.revision) : await this.kv.create(key, data);
    } catch (err) {
      if (isCasConflict(err)) return undefined;
      throw err;
    }
  }

  /** Deletes the key if it is still at `revision`; false if it moved. */
  async remove(key: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isCasConflict(err)) return false;
      throw err;
    }
  }

  async heartbeat(workerId: string, expires: number, ttl: number): Promise<void> {
    // Only this worker writes its heartbeat, so no CAS is needed.
    await this.kv.put(`w.${workerId}`, JSON.stringify({ owner: workerId, expires, ttl } satisfies LeaseValue));
  }

  async removeHeartbeat(workerId: string): Promise<void> {
    await this.kv.delete(`w.${workerId}`);
  }

  /** Drops a dead worker's heartbeat key up to the revision we saw; a newer write survives. */
  async purgeHeartbeat(workerId: string, revision: number): Promise<void> {
    await this.jsm.streams.purge(this.#stream, { filter: `${this.#keyPrefix}w.${workerId}`, seq: revision + 1 });
  }
}

interface Held {
  revision: number;
  /** By our monotonic clock (performance.now), from when the write was sent. */
  expires: number;
  epoch: number;
  /** Its handler is being stopped to hand it to another worker; renewals go on until then. */
  releasing?: boolean;
}

type Phase = 'new' | 'running' | 'stopping' | 'stopped';

export class PartitionLeases {
  readonly #id: string;
  readonly #partitions: number;
  readonly #ttl: number;
  readonly #renew: number;
  /** A lease is given up this long before it expires if it could not be renewed by then. */
  readonly #margin: number;
  /** Heartbeat keys dead for this long are purged, so the key list does not grow forever. */
  readonly #gcAfter: number;
  readonly #table: LeaseTable;
  readonly #handler: PartitionHandler;
  readonly #log: Logger;
  readonly #clock: () => number;
  /**
   * The server's clock minus our monotonic clock, estimated from our heartbeats' stored times: each
   * sample is too large by at most that write's round trip, so the smallest recent one is used.
   */
  #offsets: number[] = [];
  #offset = 0;

  /** Leases this worker holds in the KV, as far as it knows. */
  readonly #held = new Map<number, Held>();
  /** Partitions whose handler is started. */
  readonly #running = new Set<number>();
  /** Per-partition queue of handler calls, so start and stop never interleave. */
  readonly #queues = new Map<number, Promise<void>>();
  readonly #unownedSince = new Map<number, number>();
  #workers: readonly string[] = [];
  #phase: Phase = 'new';
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #unreachable = false;
  /** When the bucket stopped answering (the first failed tick of an outage). */
  #unreachableSince = 0;
  /**
   * After an outage of the bucket, until `until`: a heartbeat that was still live when the outage
   * began counts as live. Its worker could not renew it either; taking its partitions now would
   * only hand them back at the next tick, once its heartbeat is renewed. A worker that died during
   * the outage is seen as dead one lease expiry later. `from` is by the server's clock, `until` by ours.
   */
  #grace = { from: 0, until: 0 };
  #placement: { key: string; owners: readonly (string | undefined)[] } | undefined;

  private constructor(opts: PartitionLeasesOptions, table: LeaseTable, handler: PartitionHandler) {
    this.#id = opts.workerId;
    this.#partitions = opts.partitions;
    this.#ttl = opts.ttlMs;
    this.#renew = opts.renewMs;
    // At most one period, and at least half of what remains after the first due renewal, so a
    // renewal that is merely slow never counts as lost.
    this.#margin = Math.min(opts.renewMs, (opts.ttlMs - opts.renewMs) / 2);
    this.#gcAfter = opts.ttlMs;
    this.#table = table;
    this.#handler = handler;
    this.#log = opts.log;
    this.#clock = opts.clock ?? Date.now;
  }

  static async open(nc: NatsConnection, opts: PartitionLeasesOptions, handler: PartitionHandler): Promise<PartitionLeases> {
    validate(opts);
    // A request may take at most one renewal period, so a tick against an unreachable server ends.
    const table = await LeaseTable.open(nc, opts.bucket ?? DEFAULT_LEASES_BUCKET, opts.replicas ?? 1, opts.renewMs);
    return new PartitionLeases(opts, table, handler);
  }

  start(): void {
    if (this.#phase !== 'new') throw new Error(`PartitionLeases.start: already ${this.#phase}`);
    this.#phase = 'running';
    this.#schedule(0);
    this.#watchdog = setInterval(() => this.#expire(), Math.max(10, Math.min(this.#renew / 4, this.#margin / 2)));
  }

  owned(): readonly number[] {
    return [...this.#held.keys()].filter((p) => this.#running.has(p)).sort((a, b) => a - b);
  }

  workers(): readonly string[] {
    return this.#workers;
  }

  unowned(): readonly { partition: number; sinceMs: number }[] {
    const now = performance.now();
    return [...this.#unownedSince].sort(([a], [b]) => a - b).map(([partition, since]) => ({ partition, sinceMs: now - since }));
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#phase = 'stopping';
    clearTimeout(this.#timer);
    clearInterval(this.#watchdog);
    await this.#tick;
    const held = [...this.#held];
    // Handlers stop before their leases go, so the next owner never overlaps with us.
    await Promise.all([...new Set([...this.#running, ...this.#held.keys()])].map((p) => this.#enqueue(p, () => this.#stopHandler(p, 'shutdown'))));
    await Promise.all(
      held.map(async ([p, h]) => {
        try {
          if (await this.#table.remove(`p.${p}`, h.revision)) this.#log.info({ partition: p, reason: 'shutdown' }, 'lease released');
        } catch (err) {
          this.#log.warn({ err, partition: p }, 'could not delete lease at shutdown; it expires on its own');
        }
      }),
    );
    this.#held.clear();
    try {
      await this.#table.removeHeartbeat(this.#id);
    } catch (err) {
      this.#log.warn({ err }, 'could not delete worker heartbeat at shutdown; it expires on its own');
    }
    await Promise.all(this.#queues.values());
    this.#phase = 'stopped';
  }

  /** The placement for this set of live workers, recomputed only when the set changes. */
  #place(workers: readonly string[]): readonly (string | undefined)[] {
    const key = workers.join('\n');
    if (this.#placement?.key !== key) this.#placement = { key, owners: placePartitions(workers, this.#partitions) };
    return this.#placement.owners;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      const began = performance.now();
      this.#tick = this.#runTick().finally(() => {
        this.#tick = undefined;
        // Ticks never overlap: the next one is scheduled only when this one is done.
        if (this.#phase === 'running') this.#schedule(Math.max(0, this.#renew - (performance.now() - began)));
      });
    }, delay);
  }

  async #runTick(): Promise<void> {
    const now = performance.now();
    let leases: LeaseSlot[];
    let beats: Map<string, LeaseSlot>;
    try {
      await this.#table.heartbeat(this.#id, this.#clock() + this.#ttl, this.#ttl);
      [leases, beats] = await Promise.all([Promise.all(Array.from({ length: this.#partitions }, (_, p) => this.#table.read(`p.${p}`))), this.#table.heartbeats()]);
    } catch (err) {
      // Leases that cannot be renewed are given up by the watchdog as they near expiry.
      if (!this.#unreachable) {
        this.#log.warn({ err }, 'leases bucket unreachable; holding leases until they expire');
        this.#unreachableSince = now;
      }
      this.#unreachable = true;
      return;
    }
    // Our heartbeat was stored after `now`: a sample of the offset, too large by up to the round trip.
    const own = beats.get(this.#id);
    if (own?.value?.owner === this.#id && own.storedAt > 0) {
      this.#offsets.push(own.storedAt - now);
      if (this.#offsets.length > OFFSET_SAMPLES) this.#offsets.shift();
      this.#offset = Math.min(...this.#offsets);
    }
    // Now by the server's clock, for other workers' entries.
    const serverNow = now + this.#offset;
    if (this.#unreachable) {
      this.#log.info({ unreachableMs: now - this.#unreachableSince }, 'leases bucket reachable again');
      this.#grace = { from: this.#unreachableSince + this.#offset, until: now + this.#ttl };
    }
    this.#unreachable = false;

    const live = new Set([this.#id]);
    for (const [w, slot] of beats) {
      const ends = slotExpiry(slot);
      if (slot.value && (ends > serverNow || (now < this.#grace.until && ends > this.#grace.from))) live.add(w);
      else if (w !== this.#id && serverNow - ends > this.#gcAfter) {
        this.#table.purgeHeartbeat(w, slot.revision).catch((err: unknown) => this.#log.debug({ err, worker: w }, 'heartbeat purge failed'));
      }
    }
    const workers = [...live].sort();
    this.#workers = workers;

    for (const [p, slot] of leases.entries()) {
      // A lease of ours whose handler is not started (start failing) counts as unowned too.
      const leased = slot.value !== undefined && slotExpiry(slot) > serverNow && (slot.value.owner !== this.#id || this.#running.has(p));
      if (leased) this.#unownedSince.delete(p);
      else if (!this.#unownedSince.has(p)) this.#unownedSince.set(p, now);
    }
    const desired = this.#place(workers);
    await Promise.all(leases.map((slot, p) => this.#settle(p, slot, desired[p], serverNow)));
  }

  /**
   * One partition's step in a tick: renew, release, take, or leave alone. Handlers start and stop
   * outside the tick (#transition): a tick that waited for them would renew none of this worker's
   * leases meanwhile, so a start slower than the expiry margin (creating a consumer while a
   * clustered server restarts takes seconds) or a rebalance stop waiting for acknowledgements
   * would cost every lease, and the partitions would churn between workers.
   */
  async #settle(p: number, slot: LeaseSlot, desired: string | undefined, serverNow: number): Promise<void> {
    const key = `p.${p}`;
    const held = this.#held.get(p);
    const v = slot.value;
    try {
      if (held) {
        // A read older than our last write (answered before it landed) says nothing; our name
        // and epoch at a newer revision is our own write whose reply we missed.
        if (slot.revision >= held.revision) {
          if (v?.owner !== this.#id || v.epoch !== held.epoch) return this.#transition(p, this.#lose(p, held, v ? `taken by ${v.owner}` : 'lease deleted'));
          held.revision = slot.revision;
        }
        const sent = performance.now();
        const revision = await this.#table.swap(key, { ...slot, revision: held.revision }, { owner: this.#id, expires: this.#clock() + this.#ttl, ttl: this.#ttl, epoch: held.epoch });
        if (this.#held.get(p) !== held) return; // the watchdog gave it up meanwhile
        if (revision === undefined) return this.#transition(p, this.#lose(p, held, 'renewal conflict'));
        held.revision = revision;
        held.expires = sent + this.#ttl;
        if (desired !== this.#id && !held.releasing) {
          held.releasing = true;
          this.#transition(p, this.#release(p, held, desired));
        }
        return;
      }
      const mine = v?.owner === this.#id;
      const free = !v || slotExpiry(slot) <= serverNow;
      if (desired === this.#id && (free || mine)) await this.#take(p, slot);
      else if (mine && !free && !this.#running.has(p) && !this.#queues.has(p)) {
        // A lease in our name we do not hold (a write whose reply we missed, or an earlier run
        // under this id) for a partition that is not ours: free it rather than wait for expiry.
        await this.#table.remove(key, slot.revision);
      }
    } catch (err) {
      // A transient failure: the next tick retries, the watchdog covers the expiry.
      this.#log.debug({ err, partition: p }, 'lease step failed');
    }
  }

  async #take(p: number, slot: LeaseSlot): Promise<void> {
    const sent = performance.now();
    // The previous revision plus one grows with every take, across owners and delete markers.
    const epoch = slot.revision + 1;
    const revision = await this.#table.swap(`p.${p}`, slot, { owner: this.#id, expires: this.#clock() + this.#ttl, ttl: this.#ttl, epoch });
    if (revision === undefined) {
      this.#log.debug({ partition: p }, 'lease taken by another worker first');
      return;
    }
    const held: Held = { revision, expires: sent + this.#ttl, epoch };
    this.#held.set(p, held);
    const previous = slot.value?.owner;
    const reason = previous === undefined ? 'free' : previous === this.#id ? 'own lease not held' : 'expired';
    this.#log.info({ partition: p, epoch, reason, ...(previous && previous !== this.#id ? { previous } : {}) }, 'lease acquired');
    this.#transition(p, this.#startTaken(p, held));
  }

  /**
   * Starts the handler of a partition just taken, and tries again (250 ms, then 500 ms, then every
   * renewal period) for as long as the lease is held: a start fails while a clustered server
   * restarts (creating a consumer times out, or the previous owner's consumer has no leader yet).
   * The lease is not given back meanwhile: placement hands the partition to this worker again at
   * the next tick, so giving it back would only change its epoch, as often as starts fail. The
   * partition counts as unowned until started, which raises an internal alert if it lasts.
   */
  async #startTaken(p: number, held: Held): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = await this.#enqueue(p, () => this.#startHandler(p, held, attempt));
      if (started || !this.#wantsStart(p, held)) return;
      await new Promise((r) => setTimeout(r, Math.min(this.#renew, 250 * 2 ** (attempt - 1))));
      if (!this.#wantsStart(p, held)) return;
    }
  }

  /** True while `held` is this worker's lease of p, not being handed over, and the worker runs. */
  #wantsStart(p: number, held: Held): boolean {
    return this.#held.get(p) === held && !held.releasing && this.#phase === 'running';
  }

  /** Lets a handler start or stop run on past the tick (see #settle); its failure is the next tick's to retry. */
  #transition(p: number, work: Promise<void>): void {
    work.catch((err: unknown) => this.#log.debug({ err, partition: p }, 'lease step failed'));
  }

  async #release(p: number, held: Held, to: string | undefined): Promise<void> {
    await this.#enqueue(p, () => this.#stopHandler(p, 'rebalance'));
    if (this.#held.get(p) !== held) return;
    this.#held.delete(p);
    if (await this.#table.remove(`p.${p}`, held.revision)) this.#log.info({ partition: p, reason: 'rebalance', to }, 'lease released');
  }

  #lose(p: number, held: Held, reason: string): Promise<void> {
    if (this.#held.get(p) !== held) return Promise.resolve();
    this.#held.delete(p);
    this.#log.info({ partition: p, reason, epoch: held.epoch }, 'lease lost');
    return this.#enqueue(p, () => this.#stopHandler(p, 'lost'));
  }

  /** Gives up leases that could not be renewed in time, even while a tick hangs on NATS. */
  #expire(): void {
    const now = performance.now();
    for (const [p, held] of this.#held) {
      if (now >= held.expires - this.#margin) void this.#lose(p, held, 'not renewed before expiry');
    }
  }

  async #startHandler(p: number, held: Held, attempt: number): Promise<boolean> {
    if (!this.#wantsStart(p, held)) return false;
    if (this.#running.has(p)) return true;
    try {
      await this.#handler.start(p);
    } catch (err) {
      if (attempt <= START_FAILURES_LOGGED || attempt % 10 === 0) this.#log.warn({ err, partition: p, attempt }, 'partition handler failed to start; trying again while the lease is held');
      return false;
    }
    this.#running.add(p);
    this.#unownedSince.delete(p);
    this.#log.info({ partition: p, epoch: held.epoch }, 'partition started');
    return true;
  }

  async #stopHandler(p: number, reason: StopReason): Promise<void> {
    if (!this.#running.has(p)) return;
    try {
      await this.#handler.stop(p, reason);
    } catch (err) {
      // Counted as stopped anyway: the lease must not stay with a handler we cannot control.
      this.#log.error({ err, partition: p, reason }, 'partition handler failed to stop');
    }
    this.#running.delete(p);
    this.#log.info({ partition: p, reason }, 'partition stopped');
  }

  #enqueue<T>(p: number, fn: () => Promise<T>): Promise<T> {
    const result = (this.#queues.get(p) ?? Promise.resolve()).then(fn);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(p, done);
    void done.then(() => {
      if (this.#queues.get(p) === done) this.#queues.delete(p);
    });
    return result;
  }
}

function validate(o: PartitionLeasesOptions): void {
  if (!WORKER_ID.test(o.workerId)) throw new Error(`leases: workerId "${o.workerId}" must be letters, digits, "-", "_", "=", "/" in dot-separated tokens (it names the KV key w.<workerId>)`);
  if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new Error(`leases: partitions must be a positive integer, got ${o.partitions}`);
  if (!(o.renewMs > 0) || !(o.ttlMs > 0)) throw new Error(`leases: lease_ttl_ms and lease_renew_ms must be positive, got ${o.ttlMs} and ${o.renewMs}`);
  if (o.renewMs * 2 > o.ttlMs) {
    throw new Error(`leases: lease_renew_ms (${o.renewMs}) must be at most half of lease_ttl_ms (${o.ttlMs}), so a lease is renewed at least once before it expires; raise engine.lease_ttl_ms or lower engine.lease_renew_ms`);
  }
  if (o.replicas !== undefined && (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 5)) throw new Error(`leases: replicas must be 1 to 5, got ${o.replicas}`);
}
