// Live capture: the state engine seeded from /proc, then fed by the probe; each event enriched and
// handed on with its partition key. The collector's eBPF source wraps this.

import { statSync } from 'node:fs';
import type { ContainerInfo, EnrichedEvent, GroupInfo, UserInfo } from '@harrier/batch';
import { StateEngine } from '../state/engine.js';
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
}

export interface LiveCounters {
  seededThreads: number;
  events: number;
  /** Events handed on (their type is one the rules need). */
  emitted: number;
  /** Events the state engine used but no rule needs. */
  stateOnly: number;
  containersUsersRead: number;
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
  readonly counters: LiveCounters = { seededThreads: 0, events: 0, emitted: 0, stateOnly: 0, containersUsersRead: 0 };
  private enricher: Enricher;
  private types: ReadonlySet<string> | 'all';
  private readonly hostKey: string;
  /** Per container: which /etc/passwd its users were read from (device:inode:mtime). */
  private readonly containersRead = new Map<string, string>();
  /** Containers whose metadata is known or asked for. */
  private readonly containersAsked = new Set<string>();

  constructor(
    private readonly opts: LiveCaptureOptions,
    private readonly sink: LiveSink,
  ) {
    this.types = opts.types;
    this.hostKey = `host:${opts.node}`;
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
  }

  /** Seeds the state from /proc and the host's users, then starts the probe. */
  async start(): Promise<void> {
    const root = this.opts.procRoot ?? '/proc';
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
    for (const t of this.state.tables.threads.values()) if (t.container) this.readContainerUsers(t.container, t.pid);
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
    if (t.container && this.opts.containers && !this.containersAsked.has(t.container.id)) this.askContainer(t.container);
  }

  private onEvent(e: RawEvent): void {
    this.counters.events++;
    const st = this.state.process(e);
    const t = st.thread;
    if (t?.container && this.opts.containers && !this.containersAsked.has(t.container.id)) this.askContainer(t.container);
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

  /**
   * Metadata from the runtime, merged into the state's container object: events after it carry
   * the name, image and labels (earlier batches went out with the id alone, as Falco's do).
   */
  private askContainer(c: ContainerInfo): void {
    this.containersAsked.add(c.id);
    const info = this.opts.containers!.get(c.id, c.type);
    if (info) this.mergeContainer(info);
  }

  /** For the cache's onUpdate: metadata that arrived later. */
  mergeContainer(info: ContainerInfo): void {
    const c = this.state.tables.containers.get(info.id);
    if (c) Object.assign(c, { ...info, type: c.type ?? info.type });
    else this.state.tables.containers.set(info.id, { ...info });
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
      return; // gone, or no /etc/passwd in the image: the host's tables stand in
    }
    if (this.containersRead.get(c.id) === key) return;
    const root = rootDir;
    try {
      const users = new Map<number, UserInfo>();
      for (const u of readPasswd(`${root}/etc/passwd`)) users.set(u.uid, u);
      const groups = new Map<number, GroupInfo>();
      for (const g of readGroup(`${root}/etc/group`)) groups.set(g.gid, g);
      this.state.tables.containerUsers.set(c.id, users);
      this.state.tables.containerGroups.set(c.id, groups);
      this.counters.containersUsersRead++;
      this.containersRead.set(c.id, key);
    } catch {
      // The process went away between stat and read: a later exec gets another try.
    }
  }
}
