// Container metadata for the collector's hot path: `get` answers from memory at once and, on a miss,
// starts one background lookup (deduplicated, at most `concurrency` at a time, each with a timeout)
// against the container runtimes; `onUpdate` delivers the result for later events. Failed lookups
// are retried with backoff a bounded number of times. A runtime that cannot be reached is reported
// once, skipped, and tried again after `unreachableRetryMs`.

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
  /** Lookups in flight at once (default 4). */
  readonly concurrency?: number;
  /** Lookups waiting for a slot; past it a miss is counted as dropped and tried at its next `get` (default 1024). */
  readonly maxQueued?: number;
  /** One lookup across all runtimes (default 5000 ms). */
  readonly lookupTimeoutMs?: number;
  /** Attempts per container before giving up (default 4). */
  readonly maxAttempts?: number;
  /** Backoff before attempt n+1: min(retryMinMs * 2^(n-1), retryMaxMs) (defaults 500 and 30000 ms). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** After giving up, a `get` starts over once this has passed (default 300000 ms). */
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
  retries: number;
  /** Containers given up on after maxAttempts. */
  gaveUp: number;
  /** Misses not queued because the queue was full. */
  dropped: number;
  evicted: number;
  readonly runtimes: RuntimeCounters[];
}

type Pending = { state: 'queued' | 'running' | 'waiting'; attempts: number; lookupId: string; type: string | undefined; timer?: NodeJS.Timeout } | { state: 'failed'; until: number };

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
  readonly #entries = new Map<string, ContainerInfo>();
  readonly #pending = new Map<string, Pending>();
  readonly #queue: string[] = [];
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
    this.counters = { hits: 0, misses: 0, lookups: 0, found: 0, notFound: 0, errors: 0, retries: 0, gaveUp: 0, dropped: 0, evicted: 0, runtimes: this.#rc };
  }

  /**
   * The cached metadata of a container (full or 12-character id), or undefined. A miss starts a
   * background lookup unless one is already under way or recently gave up; never blocks.
   * `type` is the container type from the cgroup (`docker`, `podman`, `containerd`, `cri-o`).
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
    const p = this.#pending.get(key);
    if (p) {
      if (p.state !== 'failed' || this.#o.now() < p.until) return undefined;
      this.#pending.delete(key);
    }
    if (this.#queue.length >= this.#o.maxQueued && this.#running >= this.#o.concurrency) {
      this.counters.dropped++;
      return undefined;
    }
    this.#pending.set(key, { state: 'queued', attempts: 0, lookupId: id, type });
    this.#queue.push(key);
    this.#pump();
    return undefined;
  }

  /** The container exited: drop its metadata and any lookup still to come. */
  forget(id: string): void {
    const key = shortContainerId(id);
    this.#entries.delete(key);
    const p = this.#pending.get(key);
    if (p && p.state !== 'failed' && p.timer) clearTimeout(p.timer);
    this.#pending.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Resolves when no lookup is queued, running or waiting to retry (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    // Retry timers do not keep the process alive, except while someone waits for them.
    for (const p of this.#pending.values()) if (p.state === 'waiting') p.timer?.ref();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /** Stops lookups (in-flight ones are aborted, their results dropped) and closes the runtimes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new Error('container metadata cache closed'));
    for (const p of this.#pending.values()) if (p.state !== 'failed' && p.timer) clearTimeout(p.timer);
    this.#pending.clear();
    this.#queue.length = 0;
    for (const r of this.#runtimes) r.close();
    this.#settleIdle();
  }

  #isIdle(): boolean {
    if (this.#running > 0 || this.#queue.length > 0) return false;
    for (const p of this.#pending.values()) if (p.state !== 'failed') return false;
    return true;
  }

  #settleIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idle) resolve();
    this.#idle.clear();
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.#o.concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      const p = this.#pending.get(key);
      if (!p || p.state !== 'queued') continue; // forgotten meanwhile
      p.state = 'running';
      p.attempts++;
      this.#running++;
      void this.#lookup(key, p).finally(() => {
        this.#running--;
        this.#pump();
        this.#settleIdle();
      });
    }
  }

  /** One attempt: each candidate runtime in turn until one knows the container. Never rejects. */
  async #lookup(key: string, p: Extract<Pending, { state: 'queued' | 'running' | 'waiting' }>): Promise<void> {
    this.counters.lookups++;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.lookupTimeoutMs)]);
    let info: ContainerInfo | undefined;
    let failure: unknown;
    let retryAfter = 0;
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
          this.#log?.debug({ runtime: r.kind, endpoint: r.endpoint, containerId: key, err }, 'container metadata lookup failed');
        }
        if (signal.aborted) break;
      }
    }
    if (this.#closed || this.#pending.get(key) !== p) return; // closed or forgotten meanwhile
    if (info) {
      this.counters.found++;
      this.#pending.delete(key);
      this.#store(key, info);
      return;
    }
    if (failure === undefined) this.counters.notFound++;
    else this.counters.errors++;
    if (p.attempts >= this.#o.maxAttempts) {
      this.counters.gaveUp++;
      this.#pending.set(key, { state: 'failed', until: this.#o.now() + this.#o.giveUpMs });
      this.#log?.debug({ containerId: key, attempts: p.attempts, err: failure }, 'gave up on container metadata for now');
      return;
    }
    this.counters.retries++;
    const backoff = Math.min(this.#o.retryMinMs * 2 ** (p.attempts - 1), this.#o.retryMaxMs);
    p.state = 'waiting';
    p.timer = setTimeout(
      () => {
        if (this.#pending.get(key) !== p || this.#closed) return;
        p.state = 'queued';
        delete p.timer;
        this.#queue.push(key);
        this.#pump();
      },
      Math.max(backoff, retryAfter),
    );
    if (this.#idle.size === 0) p.timer.unref();
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

  #reachable(i: number): void {
    const rc = this.#rc[i]!;
    this.#downUntil[i] = 0;
    if (rc.reachable) return;
    rc.reachable = true;
    this.#log?.info({ runtime: rc.kind, endpoint: rc.endpoint }, 'container runtime reachable again');
  }
}
