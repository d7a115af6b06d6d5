// Container metadata for the collector's hot path: `get` answers from memory at once and, on a miss,
// starts tracking the container: background lookups (deduplicated, at most `concurrency` at a time,
// each with a timeout) against the container runtimes until one answers or `forget` is called, and
// `onUpdate` delivers the result for later events. Nobody has to ask again: a failed lookup is
// retried with backoff, a bounded number of times per round, rounds `giveUpMs` apart; a lookup that
// found the queue full is put off by a backoff; one that found every runtime unreachable waits for
// the runtime's next try. A runtime that cannot be reached is reported once per outage.

import type { ContainerInfo } from '@harrier/batch';
import type { Logger } from '@harrier/kit';
import { ContainerRuntimeError, shortContainerId, type ContainerRuntime } from './runtime.js';

export interface ContainerMetadataCacheOptions {
  /** Asked in this order (those whose kind matches the cgroup's container type first). */
  readonly runtimes: readonly ContainerRuntime[];
  /** Called once per lookup that found the container; exceptions are logged, not propagated. */
  readonly onUpdate?: (info: ContainerInfo) => void;
  readonly log?: Logger;
  /** Containers kept, least recently used evicted (default 4096). */
  readonly maxEntries?: number;
  /**
   * Containers without metadata tracked at once (looked up, waiting to retry, resting); past it a
   * miss is counted as dropped and tracked at its next `get` (default 16384). Callers `forget`
   * containers that exited.
   */
  readonly maxTracked?: number;
  /** Lookups in flight at once (default 4). */
  readonly concurrency?: number;
  /** Lookups waiting for a slot; past it a lookup is deferred by a backoff and counted (default 1024). */
  readonly maxQueued?: number;
  /** One lookup across all runtimes (default 5000 ms). */
  readonly lookupTimeoutMs?: number;
  /** Failed attempts in a row (not found, or an error other than an unreachable runtime) before resting (default 4). */
  readonly maxAttempts?: number;
  /** Backoff before attempt n+1: min(retryMinMs * 2^(n-1), retryMaxMs) (defaults 500 and 30000 ms). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** After maxAttempts, the container rests this long, then a new round starts (default 300000 ms). */
  readonly giveUpMs?: number;
  /** How long an unreachable runtime is skipped (default 30000 ms). */
  readonly unreachableRetryMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

export interface RuntimeCounters {
  readonly kind: string;
  readonly endpoint: string;
  lookups: number;
  found: number;
  notFound: number;
  errors: number;
  /** Lookups that passed this runtime by because it was unreachable. */
  skipped: number;
  reachable: boolean;
}

export interface ContainerCacheCounters {
  /** `get` calls answered from the cache. */
  hits: number;
  /** `get` calls that found nothing cached (whether or not they started a lookup). */
  misses: number;
  /** Lookup attempts made (each may ask several runtimes). */
  lookups: number;
  /** Attempts that ended with the metadata. */
  found: number;
  /** Attempts no runtime knew the container for. */
  notFound: number;
  /** Attempts that failed on an error (every runtime asked failed, timed out or was unreachable). */
  errors: number;
  /** Failed attempts scheduled again (after a backoff, or when an unreachable runtime is due). */
  retries: number;
  /** Rounds ended after maxAttempts: the container rests giveUpMs, then is tried again. */
  gaveUp: number;
  /** Lookups put off by a backoff because the queue was full (tried again, not lost). */
  deferred: number;
  /** Misses not tracked because maxTracked containers already were (tracked at their next `get`). */
  dropped: number;
  evicted: number;
  /** Containers dropped by `forget` while still tracked (their lookups stop). */
  forgotten: number;
  readonly runtimes: RuntimeCounters[];
}

/**
 * A container being looked up. `waiting`: a backoff (retry, or a deferral from a full queue);
 * `parked`: every runtime was unreachable, tried again when one is due; `resting`: gave up for
 * this round, until `until`.
 */
interface Tracked {
  state: 'queued' | 'running' | 'waiting' | 'parked' | 'resting';
  /** Failed attempts in this round. */
  attempts: number;
  /** Times in a row the queue was full. */
  deferrals: number;
  readonly lookupId: string;
  readonly type: string | undefined;
  until: number;
  timer: NodeJS.Timeout | undefined;
}

/** Container types a runtime kind answers for; `cri` stands for any CRI runtime. */
function serves(kind: string, type: string): boolean {
  if (kind === type) return true;
  if (kind === 'cri') return type === 'containerd' || type === 'cri-o' || type === 'cri';
  return false;
}

export class ContainerMetadataCache {
  readonly counters: ContainerCacheCounters;
  readonly #runtimes: readonly ContainerRuntime[];
  readonly #rc: RuntimeCounters[];
  /** Per runtime: until when it is skipped as unreachable (0 = reachable). */
  readonly #downUntil: number[];
  /** Per runtime: failing with errors other than unreachable since the last good answer (reported once). */
  readonly #erring: boolean[];
  readonly #entries = new Map<string, ContainerInfo>();
  readonly #tracked = new Map<string, Tracked>();
  /** Keys waiting for a slot, oldest first (a Set: forget removes one at once). */
  readonly #queue = new Set<string>();
  readonly #abort = new AbortController();
  readonly #idle = new Set<() => void>();
  readonly #o: Required<Omit<ContainerMetadataCacheOptions, 'onUpdate' | 'log' | 'runtimes'>>;
  readonly #onUpdate: ((info: ContainerInfo) => void) | undefined;
  readonly #log: Logger | undefined;
  #running = 0;
  #closed = false;

  constructor(opts: ContainerMetadataCacheOptions) {
    this.#runtimes = opts.runtimes;
    this.#onUpdate = opts.onUpdate;
    this.#log = opts.log;
    this.#o = {
      maxEntries: opts.maxEntries ?? 4096,
      maxTracked: opts.maxTracked ?? 16_384,
      concurrency: opts.concurrency ?? 4,
      maxQueued: opts.maxQueued ?? 1024,
      lookupTimeoutMs: opts.lookupTimeoutMs ?? 5000,
      maxAttempts: opts.maxAttempts ?? 4,
      retryMinMs: opts.retryMinMs ?? 500,
      retryMaxMs: opts.retryMaxMs ?? 30_000,
      giveUpMs: opts.giveUpMs ?? 300_000,
      unreachableRetryMs: opts.unreachableRetryMs ?? 30_000,
      now: opts.now ?? Date.now,
    };
    for (const [k, v] of Object.entries(this.#o)) {
      if (typeof v === 'number' && !(v >= (k === 'maxQueued' ? 0 : 1))) throw new RangeError(`ContainerMetadataCache: ${k} must be a positive number, got ${v}`);
    }
    this.#rc = opts.runtimes.map((r) => ({ kind: r.kind, endpoint: r.endpoint, lookups: 0, found: 0, notFound: 0, errors: 0, skipped: 0, reachable: true }));
    this.#downUntil = opts.runtimes.map(() => 0);
    this.#erring = opts.runtimes.map(() => false);
    this.counters = { hits: 0, misses: 0, lookups: 0, found: 0, notFound: 0, errors: 0, retries: 0, gaveUp: 0, deferred: 0, dropped: 0, evicted: 0, forgotten: 0, runtimes: this.#rc };
  }

  /**
   * The cached metadata of a container (full or 12-character id), or undefined. A miss starts
   * tracking the container: it is looked up in the background, and again after failures, until
   * found (then `onUpdate`) or forgotten. Never blocks. `type` is the container type from the
   * cgroup (`docker`, `podman`, `containerd`, `cri-o`).
   */
  get(id: string, type?: string): ContainerInfo | undefined {
    const key = shortContainerId(id);
    const hit = this.#entries.get(key);
    if (hit) {
      this.counters.hits++;
      // Most recently used goes last: eviction takes from the front.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    this.counters.misses++;
    if (this.#closed) return undefined;
    const p = this.#tracked.get(key);
    if (p) {
      // A rest that is over (its timer may not have fired yet) ends with this get.
      if (p.state === 'resting' && this.#o.now() >= p.until) this.#enqueue(key, p, true);
      return undefined;
    }
    if (this.#tracked.size >= this.#o.maxTracked) {
      this.counters.dropped++;
      return undefined;
    }
    const t: Tracked = { state: 'queued', attempts: 0, deferrals: 0, lookupId: id, type, until: 0, timer: undefined };
    this.#tracked.set(key, t);
    this.#enqueue(key, t, false);
    return undefined;
  }

  /** The container exited: drop its metadata and stop its lookups. */
  forget(id: string): void {
    const key = shortContainerId(id);
    this.#entries.delete(key);
    const p = this.#tracked.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.#tracked.delete(key);
    this.#queue.delete(key);
    this.counters.forgotten++;
    this.#settleIdle();
  }

  /** Containers with metadata held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Containers without metadata being looked up, waiting to retry or resting. */
  get tracked(): number {
    return this.#tracked.size;
  }

  /**
   * Resolves when no lookup is queued, running or waiting for a backoff (tests, shutdown).
   * Containers parked on an unreachable runtime or resting after giving up do not count.
   */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    // Retry timers do not keep the process alive, except while someone waits for them.
    for (const p of this.#tracked.values()) if (p.state === 'waiting') p.timer?.ref();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /** Stops lookups (in-flight ones are aborted, their results dropped) and closes the runtimes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new Error('container metadata cache closed'));
    for (const p of this.#tracked.values()) clearTimeout(p.timer);
    this.#tracked.clear();
    this.#queue.clear();
    for (const r of this.#runtimes) r.close();
    this.#settleIdle();
  }

  #isIdle(): boolean {
    if (this.#running > 0) return false;
    for (const p of this.#tracked.values()) if (p.state === 'queued' || p.state === 'running' || p.state === 'waiting') return false;
    return true;
  }

  #settleIdle(): void {
    if (this.#idle.size === 0 || !this.#isIdle()) return;
    for (const resolve of this.#idle) resolve();
    this.#idle.clear();
  }

  /** Queues a lookup, or defers it by a backoff when the queue is full. `newRound` resets the attempts. */
  #enqueue(key: string, p: Tracked, newRound: boolean): void {
    clearTimeout(p.timer);
    p.timer = undefined;
    if (newRound) p.attempts = 0;
    if (this.#queue.size >= this.#o.maxQueued && this.#running >= this.#o.concurrency) {
      this.counters.deferred++;
      p.deferrals++;
      // Jittered, so a burst deferred together does not come back together.
      const backoff = this.#backoff(p.deferrals);
      this.#wait(key, p, 'waiting', backoff / 2 + Math.random() * (backoff / 2));
      return;
    }
    p.deferrals = 0;
    p.state = 'queued';
    this.#queue.add(key);
    this.#pump();
  }

  #backoff(n: number): number {
    return Math.min(this.#o.retryMinMs * 2 ** Math.min(n - 1, 30), this.#o.retryMaxMs);
  }

  #wait(key: string, p: Tracked, state: 'waiting' | 'parked' | 'resting', ms: number): void {
    p.state = state;
    p.timer = setTimeout(
      () => {
        if (this.#closed || this.#tracked.get(key) !== p) return;
        this.#enqueue(key, p, p.state === 'resting');
      },
      Math.max(1, Math.ceil(ms)),
    );
    // Only backoffs someone waits for (whenIdle) keep the process alive.
    if (state !== 'waiting' || this.#idle.size === 0) p.timer.unref();
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.#o.concurrency && this.#queue.size > 0) {
      const key = this.#queue.values().next().value!;
      this.#queue.delete(key);
      const p = this.#tracked.get(key);
      if (!p || p.state !== 'queued') continue;
      p.state = 'running';
      this.#running++;
      void this.#lookup(key, p).finally(() => {
        this.#running--;
        this.#pump();
        this.#settleIdle();
      });
    }
  }

  /** One attempt: each candidate runtime in turn until one knows the container. Never rejects. */
  async #lookup(key: string, p: Tracked): Promise<void> {
    this.counters.lookups++;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.lookupTimeoutMs)]);
    let info: ContainerInfo | undefined;
    let failure: unknown;
    let retryAfter = 0;
    /** Some runtime answered (not found) or failed for another reason than being unreachable. */
    let answered = false;
    for (const i of this.#candidates(p.type)) {
      const r = this.#runtimes[i]!;
      const rc = this.#rc[i]!;
      const now = this.#o.now();
      if (this.#downUntil[i]! > now) {
        rc.skipped++;
        failure ??= new Error(`${r.kind} at ${r.endpoint} is unreachable`);
        retryAfter = retryAfter === 0 ? this.#downUntil[i]! - now : Math.min(retryAfter, this.#downUntil[i]! - now);
        continue;
      }
      rc.lookups++;
      try {
        info = await r.inspect(p.lookupId, signal);
        this.#reachable(i);
        answered = true;
        if (info) {
          rc.found++;
          break;
        }
        rc.notFound++;
      } catch (err) {
        if (this.#closed) return;
        rc.errors++;
        failure = err;
        if (err instanceof ContainerRuntimeError && err.code === 'unreachable') {
          this.#unreachable(i, err);
          retryAfter = retryAfter === 0 ? this.#o.unreachableRetryMs : Math.min(retryAfter, this.#o.unreachableRetryMs);
        } else {
          answered = true;
          this.#erred(i, err);
          this.#log?.debug({ runtime: r.kind, endpoint: r.endpoint, containerId: key, err }, 'container metadata lookup failed');
        }
        if (signal.aborted) break;
      }
    }
    if (this.#closed || this.#tracked.get(key) !== p) return; // closed or forgotten meanwhile
    if (info) {
      this.counters.found++;
      this.#tracked.delete(key);
      this.#store(key, info);
      return;
    }
    if (failure === undefined) this.counters.notFound++;
    else this.counters.errors++;
    if (!answered) {
      // No runtime could be asked: not the container's fault, so no attempt spent; it is asked
      // again when the first runtime is due, however long the outage lasts.
      this.counters.retries++;
      this.#wait(key, p, 'parked', retryAfter);
      return;
    }
    p.attempts++;
    if (p.attempts >= this.#o.maxAttempts) {
      this.counters.gaveUp++;
      p.until = this.#o.now() + this.#o.giveUpMs;
      this.#log?.debug({ containerId: key, attempts: p.attempts, err: failure }, 'gave up on container metadata for this round');
      this.#wait(key, p, 'resting', this.#o.giveUpMs);
      return;
    }
    this.counters.retries++;
    this.#wait(key, p, 'waiting', Math.max(this.#backoff(p.attempts), retryAfter));
  }

  #candidates(type: string | undefined): number[] {
    const all = this.#runtimes.map((_, i) => i);
    if (type === undefined) return all;
    const matching = all.filter((i) => serves(this.#runtimes[i]!.kind, type));
    return matching.length > 0 ? matching : all;
  }

  #store(key: string, info: ContainerInfo): void {
    this.#entries.set(key, info);
    while (this.#entries.size > this.#o.maxEntries) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.counters.evicted++;
    }
    try {
      this.#onUpdate?.(info);
    } catch (err) {
      this.#log?.error({ err, containerId: key }, 'container metadata onUpdate callback threw');
    }
  }

  #unreachable(i: number, err: ContainerRuntimeError): void {
    const rc = this.#rc[i]!;
    this.#downUntil[i] = this.#o.now() + this.#o.unreachableRetryMs;
    if (!rc.reachable) return;
    rc.reachable = false;
    // Once per outage, not per event: the message says what to check.
    this.#log?.warn(
      { runtime: rc.kind, endpoint: rc.endpoint, retryInMs: this.#o.unreachableRetryMs },
      `container runtime unreachable, container metadata will be missing until it answers: ${err.message}`,
    );
  }

  /**
   * A runtime that answers, but with errors (not the API it should speak, timeouts): once per
   * spell, as a warning, since its containers' metadata stays empty until it answers properly.
   */
  #erred(i: number, err: unknown): void {
    if (this.#erring[i]) return;
    this.#erring[i] = true;
    const rc = this.#rc[i]!;
    this.#log?.warn(
      { runtime: rc.kind, endpoint: rc.endpoint },
      `container runtime answers with errors, container metadata will be missing until it answers properly: ${err instanceof Error ? err.message : String(err)}; check collector.container_runtimes (the kind and socket of each runtime)`,
    );
  }

  #reachable(i: number): void {
    const rc = this.#rc[i]!;
    if (this.#erring[i]) {
      this.#erring[i] = false;
      this.#log?.info({ runtime: rc.kind, endpoint: rc.endpoint }, 'container runtime answers properly again');
    }
    this.#downUntil[i] = 0;
    if (rc.reachable) return;
    rc.reachable = true;
    this.#log?.info({ runtime: rc.kind, endpoint: rc.endpoint }, 'container runtime reachable again');
  }
}
