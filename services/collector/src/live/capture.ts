// Live capture: the state engine seeded from /proc, then fed by the probe; each event enriched and
// handed on with its partition key. The collector's eBPF source wraps this.

import { statSync } from 'node:fs';
import type { ContainerInfo, EnrichedEvent, GroupInfo, UserInfo } from '@harrier/batch';
import { StateEngine } from '../state/engine.js';
import { procThreadAlive } from '../state/host.js';
import type { ContainerMetadataCache } from '../containers/cache.js';
import { int, type RawEvent } from '../state/params.js';
import { Enricher, type ArgSelection } from '../replay/enrich.js';
import { readGroup, readPasswd, scanProc } from './procfs.js';
import { ProbeProcess, type ProbeOptions } from './probe.js';
import type { ClosedFd, ProbeStats } from './decode.js';
import { PROBE_SYSCALLS } from './decode.js';

/**
 * Syscalls the state engine needs whatever the rules ask: process lifecycle, fd creation and
 * destruction, working directory and credentials. Without them, later events lose their context.
 */
export const STATE_SYSCALLS: readonly string[] = [
  'clone', 'clone3', 'fork', 'vfork', 'execve', 'execveat',
  'open', 'openat', 'openat2', 'creat', 'close', 'dup', 'dup2', 'dup3', 'fcntl', 'pipe', 'pipe2',
  'socket', 'socketpair', 'connect', 'accept', 'accept4', 'bind', 'memfd_create', 'userfaultfd',
  'chdir', 'fchdir', 'setuid', 'setgid', 'setresuid', 'setresgid', 'prctl',
];

const ALL_PROBE = new Set(Object.values(PROBE_SYSCALLS));

/** The syscalls to trace for rules that need `types` ('all': every one the probe knows). */
export function syscallSet(types: ReadonlySet<string> | 'all'): string[] {
  if (types === 'all') return [...ALL_PROBE].sort();
  const out = new Set(STATE_SYSCALLS);
  for (const t of types) if (ALL_PROBE.has(t)) out.add(t);
  return [...out].sort();
}

export interface LiveCaptureOptions {
  readonly node: string;
  readonly probe: Omit<ProbeOptions, 'syscalls'>;
  /** Event types the rules can match: only these are handed on ('all': every event). */
  readonly types: ReadonlySet<string> | 'all';
  readonly args?: ArgSelection;
  /** Root of the proc file system (tests may point elsewhere). */
  readonly procRoot?: string;
  /** Container metadata (name, image, labels, pod): filled in when the runtime answers, never waited for. */
  readonly containers?: ContainerMetadataCache | undefined;
  /**
   * A container without a live thread for this long (event time) is forgotten: its state entry,
   * users, groups and metadata lookups (default 10000 ms). Checked every half of it.
   */
  readonly containerGraceMs?: number;
}

export interface LiveCounters {
  seededThreads: number;
  events: number;
  /** Events handed on (their type is one the rules need). */
  emitted: number;
  /** Events the state engine used but no rule needs. */
  stateOnly: number;
  containersUsersRead: number;
  /** Containers forgotten once they had no thread left. */
  containersForgotten: number;
}

export interface LiveSink {
  /** One enriched event and its partition key; false asks the capture to pause reading. */
  event(e: EnrichedEvent, partitionKey: string): boolean;
  stats?(s: ProbeStats): void;
  problem?(message: string, fatal: boolean): void;
  info?(message: string): void;
}

export class LiveCapture {
  readonly state = new StateEngine();
  readonly probe: ProbeProcess;
  readonly counters: LiveCounters = { seededThreads: 0, events: 0, emitted: 0, stateOnly: 0, containersUsersRead: 0, containersForgotten: 0 };
  private enricher: Enricher;
  private types: ReadonlySet<string> | 'all';
  private readonly hostKey: string;
  /** What the capture keeps per container in the state, until the container is forgotten. */
  private readonly books = new Map<string, ContainerBook>();
  /** Containers found without a live thread by a scan: since when (event time). */
  private readonly emptySince = new Map<string, bigint>();
  private readonly graceNs: bigint;
  private readonly scanEveryNs: bigint;
  private nextScan = 0n;
  /** Threads the state had removed or purged at the last scan: none since, no container emptied. */
  private removedAtScan = -1;
  private scansSinceFull = 0;

  constructor(
    private readonly opts: LiveCaptureOptions,
    private readonly sink: LiveSink,
  ) {
    this.types = opts.types;
    this.hostKey = `host:${opts.node}`;
    const graceMs = opts.containerGraceMs ?? 10_000;
    if (!(graceMs >= 1)) throw new RangeError(`LiveCapture: containerGraceMs must be at least 1, got ${graceMs}`);
    this.graceNs = BigInt(Math.round(graceMs * 1e6));
    this.scanEveryNs = this.graceNs / 2n > 0n ? this.graceNs / 2n : 1n;
    this.enricher = new Enricher(this.state.tables, opts.args ?? 'all');
    this.probe = new ProbeProcess(
      { ...opts.probe, syscalls: syscallSet(opts.types) },
      {
        event: (e) => this.onEvent(e),
        closed: (c) => this.onClosed(c),
        stats: (s) => sink.stats?.(s),
        problem: (m, fatal) => sink.problem?.(m, fatal),
        info: (m) => sink.info?.(m),
      },
    );
    this.closeOnlyForState();
  }

  /** Close events feed the state alone unless a rule needs them: then they skip decoding. */
  private closeOnlyForState(): void {
    this.probe.closeAsNumbers = this.types !== 'all' && !this.types.has('close');
    this.state.bootEpochOf = () => this.probe.decoder.bootEpochNs;
  }

  /** Seeds the state from /proc and the host's users, then starts the probe. */
  async start(): Promise<void> {
    const root = this.opts.procRoot ?? '/proc';
    // Idle threads are purged only once /proc says they are gone.
    this.state.threadAlive = procThreadAlive(root);
    const scan = scanProc(root);
    for (const t of scan.threads) this.state.seedThread(t);
    for (const [tid, fds] of scan.fds) for (const f of fds) this.state.seedFd(tid, f);
    this.counters.seededThreads = scan.threads.length;
    try {
      for (const u of readPasswd('/etc/passwd')) this.state.tables.users.set(u.uid, u);
      for (const g of readGroup('/etc/group')) this.state.tables.groups.set(g.gid, g);
    } catch (err) {
      this.sink.problem?.(`cannot read the host's users and groups: ${(err as Error).message}`, false);
    }
    for (const t of this.state.tables.threads.values()) {
      if (!t.container) continue;
      this.bookOf(t.container);
      this.readContainerUsers(t.container, t.pid);
    }
    await this.probe.start();
  }

  /** New rules: trace and render what they need from now on. */
  setTypes(types: ReadonlySet<string> | 'all', args?: ArgSelection): void {
    this.types = types;
    this.closeOnlyForState();
    if (args) this.enricher = new Enricher(this.state.tables, args);
    this.probe.setSyscalls(syscallSet(types));
  }

  pause(): void {
    this.probe.pause();
  }

  resume(): void {
    this.probe.resume();
  }

  async stop(): Promise<void> {
    await this.probe.stop();
  }

  /** A close exit no rule needs: state only (onEvent's path for it, without an event). */
  private onClosed(c: ClosedFd): void {
    this.counters.events++;
    this.counters.stateOnly++;
    const t = this.state.closeExit(c.tid, c.ts, c.fd, c.res);
    if (t.container) this.noticeContainer(t.container);
    if (c.ts >= this.nextScan) this.scanContainers(c.ts);
  }

  private onEvent(e: RawEvent): void {
    this.counters.events++;
    const st = this.state.process(e);
    const t = st.thread;
    if (t?.container) this.noticeContainer(t.container);
    if (e.ts >= this.nextScan) this.scanContainers(e.ts);
    // After an exec the process sees its container's root (the runtime's own processes in the
    // container's cgroup see the host's until they pivot): look again whenever /etc/passwd changed.
    if (t?.container && (e.type === 'execve' || e.type === 'execveat') && st.thread && int(e.params[0]) === 0) this.readContainerUsers(t.container, t.pid);
    if (this.types !== 'all' && !this.types.has(e.type)) {
      this.counters.stateOnly++;
      return;
    }
    this.counters.emitted++;
    const enriched = this.enricher.enrich(e, st);
    const key = t?.container ? t.container.id : this.hostKey;
    if (!this.sink.event(enriched, key)) this.probe.pause();
  }

  /** A container an event's thread is in: booked, and its metadata asked for once (the cache keeps trying). */
  private noticeContainer(c: ContainerInfo): void {
    const book = this.books.get(c.id) ?? this.bookOf(c);
    if (!book.asked && this.opts.containers) this.askContainer(c, book);
  }

  /**
   * Metadata from the runtime, merged into the state's container object: events after it carry
   * the name, image and labels (earlier batches went out with the id alone, as Falco's do). A miss
   * is tracked by the cache until the runtime answers (then mergeContainer) or the container is
   * forgotten.
   */
  private askContainer(c: ContainerInfo, book: ContainerBook): void {
    const info = this.opts.containers!.get(c.id, c.type);
    book.asked = true;
    if (info) this.mergeContainer(info);
  }

  /**
   * The capture's record of a container, made at first sight. Its users and groups start as
   * libsinsp's do before its /etc/passwd is read: root, and nameless ids, never the host's.
   */
  private bookOf(c: ContainerInfo): ContainerBook {
    let book = this.books.get(c.id);
    if (!book) {
      book = { asked: false, meta: false, usersFrom: undefined };
      this.books.set(c.id, book);
      this.state.tables.containerUsers.set(c.id, new Map());
      this.state.tables.containerGroups.set(c.id, new Map());
    }
    return book;
  }

  /**
   * For the cache's onUpdate: metadata that arrived later. A container the state no longer has
   * (forgotten meanwhile) is not brought back.
   */
  mergeContainer(info: ContainerInfo): void {
    const c = this.state.tables.containers.get(info.id);
    if (!c) return;
    Object.assign(c, { ...info, type: c.type ?? info.type });
    const book = this.books.get(info.id);
    if (book) book.meta = true;
  }

  /**
   * Forgets containers that have had no live thread for the grace period (libsinsp drops a
   * container once no thread is in it): the state's entry, its users and groups, the capture's
   * record and the cache's lookups. Live containers still without metadata are asked again (the
   * cache may have had no room to track them). Runs every half grace period of event time; the
   * thread walk is skipped while no thread went and no container waits out its grace.
   */
  private scanContainers(now: bigint): void {
    this.nextScan = now + this.scanEveryNs;
    const st = this.state.stats;
    const removed = st.threadsRemoved + st.threadsPurged;
    // A thread may also move to another cgroup: every tenth scan looks whatever happened.
    if (removed === this.removedAtScan && this.emptySince.size === 0 && ++this.scansSinceFull < 10) return;
    this.removedAtScan = removed;
    this.scansSinceFull = 0;
    const live = new Set<string>();
    for (const t of this.state.tables.threads.values()) if (t.container && !t.exited) live.add(t.container.id);
    const tables = this.state.tables;
    const consider = (id: string): void => {
      if (live.has(id)) {
        this.emptySince.delete(id);
        return;
      }
      const since = this.emptySince.get(id);
      // (A clock set back starts the grace period over.)
      if (since === undefined || since > now) this.emptySince.set(id, now);
      else if (now - since >= this.graceNs) this.forgetContainer(id);
    };
    for (const id of tables.containers.keys()) consider(id);
    for (const id of this.books.keys()) if (!tables.containers.has(id)) consider(id);
    for (const id of this.emptySince.keys()) if (!tables.containers.has(id) && !this.books.has(id)) this.emptySince.delete(id);
    const cache = this.opts.containers;
    if (!cache) return;
    for (const id of live) {
      const book = this.books.get(id);
      const c = tables.containers.get(id);
      if (book?.asked && !book.meta && c) this.askContainer(c, book);
    }
  }

  private forgetContainer(id: string): void {
    const tables = this.state.tables;
    tables.containers.delete(id);
    tables.containerUsers.delete(id);
    tables.containerGroups.delete(id);
    this.books.delete(id);
    this.emptySince.delete(id);
    this.opts.containers?.forget(id);
    this.counters.containersForgotten++;
  }

  /** How many containers each structure holds (tests, metrics). */
  containerCounts(): { state: number; users: number; groups: number; books: number; empty: number; cacheTracked: number; cacheEntries: number } {
    const t = this.state.tables;
    return {
      state: t.containers.size,
      users: t.containerUsers.size,
      groups: t.containerGroups.size,
      books: this.books.size,
      empty: this.emptySince.size,
      cacheTracked: this.opts.containers?.tracked ?? 0,
      cacheEntries: this.opts.containers?.size ?? 0,
    };
  }

  /** A container's own users and groups, read through one of its processes' root. */
  private readContainerUsers(c: ContainerInfo, pid: number | undefined): void {
    if (pid === undefined) return;
    const rootDir = `${this.opts.procRoot ?? '/proc'}/${pid}/root`;
    let key: string;
    try {
      const s = statSync(`${rootDir}/etc/passwd`);
      key = `${s.dev}:${s.ino}:${s.mtimeMs}`;
    } catch {
      // Gone, or no /etc/passwd in the image: as in libsinsp, root and nameless ids (the booked
      // tables), never the host's users.
      return;
    }
    const book = this.bookOf(c);
    if (book.usersFrom === key) return;
    try {
      const users: [number, UserInfo][] = [];
      for (const u of readPasswd(`${rootDir}/etc/passwd`)) users.push([u.uid, u]);
      const groups: [number, GroupInfo][] = [];
      try {
        for (const g of readGroup(`${rootDir}/etc/group`)) groups.push([g.gid, g]);
      } catch {
        // An image may have a passwd and no group file: its gids stay nameless.
      }
      this.state.tables.containerUsers.set(c.id, new Map(users));
      this.state.tables.containerGroups.set(c.id, new Map(groups));
      this.counters.containersUsersRead++;
      book.usersFrom = key;
    } catch {
      // The process went away between stat and read: a later exec gets another try.
    }
  }
}

interface ContainerBook {
  /** Its metadata was asked of the cache (which keeps trying until it answers or forgets). */
  asked: boolean;
  /** The metadata arrived and was merged into the state's container. */
  meta: boolean;
  /** Which /etc/passwd its users were read from (device:inode:mtime). */
  usersFrom: string | undefined;
}

