// The state engine's tables: threads (with their processes' fds, cwd and credentials), users,
// groups and containers. Thread and fd objects are what batches encode (ProcessInfo, FdInfo):
// their `version` moves whenever they change so a batch never shows an event a later value.

import type { ContainerInfo, FdInfo, GroupInfo, ProcessInfo, UserInfo } from '@harrier/batch';

/** libsinsp's fd types with the fd.type text and fd.typechar letter they show as. */
export const FD_KINDS = {
  file: 'f',
  directory: 'd',
  ipv4: '4',
  ipv6: '6',
  unix: 'u',
  pipe: 'p',
  event: 'e',
  signalfd: 's',
  eventpoll: 'l',
  inotify: 'i',
  timerfd: 't',
  netlink: 'n',
  bpf: 'b',
  userfaultfd: 'u',
  io_uring: 'r',
  memfd: 'm',
  pidfd: 'P',
  unknown: 'o',
} as const;

export type FdKind = keyof typeof FD_KINDS;

export class FdEntry implements FdInfo {
  version = 0;
  name: string | undefined;
  nameRaw: string | undefined;
  cip: string | undefined;
  sip: string | undefined;
  cport: number | undefined;
  sport: number | undefined;
  l4proto: string | undefined;
  /** From socket(): shown as l4proto once the socket has a tuple. */
  pendingL4: string | undefined;
  connected = false;
  /** The socket accepted connections (accept, listen, bind): local end is the server end. */
  isServer = false;
  dev: number | undefined;
  ino: number | bigint | undefined;
  openFlags: number | undefined;
  /**
   * Close-on-exec (FD_CLOEXEC): a flag of this fd number, not of the open file, so a dup of the fd
   * does not inherit it (dup, dup2 and F_DUPFD clear it; dup3 and F_DUPFD_CLOEXEC set it as asked).
   */
  cloexec = false;

  constructor(
    public num: number,
    public kind: FdKind,
  ) {}

  get type(): string {
    return this.kind;
  }

  get typechar(): string {
    return FD_KINDS[this.kind];
  }

  get sockfamily(): string | undefined {
    if (this.kind === 'ipv4' || this.kind === 'ipv6') return 'ip';
    return this.kind === 'unix' ? 'unix' : undefined;
  }

  get directory(): string | undefined {
    if (this.kind === 'directory') return this.name;
    if (this.kind !== 'file' || this.name === undefined) return undefined;
    const cut = this.name.lastIndexOf('/');
    return cut < 0 ? undefined : cut === 0 ? '/' : this.name.slice(0, cut);
  }

  get filename(): string | undefined {
    if (this.kind !== 'file' || this.name === undefined) return undefined;
    return this.name.slice(this.name.lastIndexOf('/') + 1);
  }

  get lip(): string | undefined {
    return this.isServer ? this.sip : this.cip;
  }

  get rip(): string | undefined {
    return this.isServer ? this.cip : this.sip;
  }

  get lport(): number | undefined {
    return this.isServer ? this.sport : this.cport;
  }

  get rport(): number | undefined {
    return this.isServer ? this.cport : this.sport;
  }

  /**
   * A copy under another number, sharing nothing mutable. A fork's copy keeps close-on-exec; the
   * dup family passes the flag the new fd gets.
   */
  copy(num: number, cloexec = this.cloexec): FdEntry {
    const c = new FdEntry(num, this.kind);
    Object.assign(c, this, { num, version: 0, cloexec });
    return c;
  }

  touch(): void {
    this.version++;
  }

  /** Never changed since it was made, and nothing of a socket in it: what a fresh open makes. */
  isPlainFile(): boolean {
    return (
      this.version === 0 &&
      this.cip === undefined &&
      this.sip === undefined &&
      this.cport === undefined &&
      this.sport === undefined &&
      this.l4proto === undefined &&
      this.pendingL4 === undefined &&
      !this.connected &&
      !this.isServer
    );
  }
}

/** A process's fds; threads of one process share it (CLONE_FILES). */
export class FdTable {
  readonly fds = new Map<number, FdEntry>();
  /** The entry the last close removed: an open of the same file under the same fd may reuse it. */
  lastClosed: FdEntry | undefined;

  close(num: number): void {
    const f = this.fds.get(num);
    if (f === undefined) return;
    this.fds.delete(num);
    this.lastClosed = f;
  }

  copy(): FdTable {
    const t = new FdTable();
    for (const [n, f] of this.fds) t.fds.set(n, f.copy(n));
    return t;
  }
}

/** Working directory, shared by threads created with CLONE_FS. */
export interface FsState {
  cwd: string | undefined;
}

export class ThreadInfo implements ProcessInfo {
  version = 0;
  pid: number;
  ppid = 0;
  vtid: number | undefined;
  vpid: number | undefined;
  sid: number | undefined;
  vpgid: number | undefined;
  name: string | undefined;
  exe: string | undefined;
  exepath: string | undefined;
  /** Replaced, never changed in place: threads of a process, clones and seeded processes share them. */
  args: readonly string[] | undefined;
  env: readonly string[] | undefined;
  tty: number | undefined;
  loginuid: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  fdlimit: number | undefined;
  exeUpperLayer: boolean | undefined;
  exeFromMemfd: boolean | undefined;
  exeWritable: boolean | undefined;
  exeIno: number | bigint | undefined;
  capPermitted: bigint | undefined;
  capEffective: bigint | undefined;
  capInheritable: bigint | undefined;
  startTs: bigint | undefined;
  pidnsInitStartTs: bigint | undefined;
  container: ContainerInfo | undefined;
  fdTable = new FdTable();
  fs: FsState = { cwd: undefined };
  /** ns of the last event seen for this thread, for purging idle entries. */
  lastSeen = 0n;
  exited = false;
  /** From the last enter event: its type and fd, for its exit. */
  enterType: string | undefined;
  enterParams: { readonly names: readonly string[]; readonly params: readonly Uint8Array[] } | undefined;

  constructor(
    readonly tid: number,
    private readonly state: StateTables,
  ) {
    this.pid = tid;
  }

  get cwd(): string | undefined {
    return this.fs.cwd;
  }

  /** The thread group's leader, for a thread that is not it. */
  get main(): ThreadInfo | undefined {
    if (this.pid === this.tid) return undefined;
    const m = this.state.threads.get(this.pid);
    return m === this ? undefined : m;
  }

  get parent(): ThreadInfo | undefined {
    if (this.ppid <= 0) return undefined;
    const p = this.state.threads.get(this.ppid);
    return p === this ? undefined : p;
  }

  get comm(): string | undefined {
    return this.name;
  }

  get user(): UserInfo | undefined {
    return this.uid === undefined ? undefined : this.state.user(this.uid, this.container);
  }

  get loginUser(): UserInfo | undefined {
    return this.loginuid === undefined || this.loginuid < 0 || this.loginuid === 0xffffffff ? undefined : this.state.user(this.loginuid, this.container);
  }

  get group(): GroupInfo | undefined {
    return this.gid === undefined ? undefined : this.state.group(this.gid, this.container);
  }

  touch(): void {
    this.version++;
  }
}

export interface StateLimits {
  /** Most threads kept (Falco's default: 262,144). */
  readonly maxThreads: number;
  /** How often idle threads are purged, in ns of event time (default 5 minutes). */
  readonly purgeIntervalNs: bigint;
  /** A thread with no event for this long is purged (default 30 minutes). */
  readonly threadTimeoutNs: bigint;
}

export const DEFAULT_LIMITS: StateLimits = {
  maxThreads: 262_144,
  purgeIntervalNs: 300_000_000_000n,
  threadTimeoutNs: 1_800_000_000_000n,
};

export class StateTables {
  readonly threads = new Map<number, ThreadInfo>();
  /** Host users and groups, by id. */
  readonly users = new Map<number, UserInfo>();
  readonly groups = new Map<number, GroupInfo>();
  /**
   * Per container id: its own users and groups (its /etc/passwd and /etc/group), once a live
   * source has a table for it. A container with a table never gets the host's names: an id it
   * does not list is nameless (root is root), as in libsinsp. Without one (a capture has host
   * tables only) the host's serve.
   */
  readonly containerUsers = new Map<string, Map<number, UserInfo>>();
  readonly containerGroups = new Map<string, Map<number, GroupInfo>>();
  readonly containers = new Map<string, ContainerInfo>();
  private readonly unknownUsers = new Map<number, UserInfo>();
  private readonly unknownGroups = new Map<number, GroupInfo>();
  private readonly rootGroup: GroupInfo = { gid: 0, name: 'root' };

  user(uid: number, container: ContainerInfo | undefined): UserInfo {
    const own = container && this.containerUsers.get(container.id);
    const u = own ? own.get(uid) : this.users.get(uid);
    if (u) return u;
    let x = this.unknownUsers.get(uid);
    if (!x) {
      // libsinsp knows root without a user table.
      x = uid === 0 ? { uid, name: 'root', homedir: '/root' } : { uid };
      this.unknownUsers.set(uid, x);
    }
    return x;
  }

  group(gid: number, container: ContainerInfo | undefined): GroupInfo {
    const own = container && this.containerGroups.get(container.id);
    const g = own ? (own.get(gid) ?? (gid === 0 ? this.rootGroup : undefined)) : this.groups.get(gid);
    if (g) return g;
    let x = this.unknownGroups.get(gid);
    if (!x) {
      x = { gid };
      this.unknownGroups.set(gid, x);
    }
    return x;
  }

  /** The container a cgroup list places a process in, or undefined on the host. */
  containerOf(cgroups: readonly string[] | undefined): ContainerInfo | undefined {
    if (!cgroups) return undefined;
    for (const c of cgroups) {
      const found = containerIdFromCgroup(c);
      if (!found) continue;
      let info = this.containers.get(found.id);
      if (!info) {
        info = { id: found.id, type: found.type };
        this.containers.set(found.id, info);
      }
      return info;
    }
    return undefined;
  }
}

const CGROUP_PATTERNS: readonly [RegExp, string][] = [
  [/\/libpod-([0-9a-f]{64})(?:\.scope)?(?:\/|$)/, 'podman'],
  [/\/libpod-conmon-([0-9a-f]{64})/, 'podman'],
  [/\/docker[-/]([0-9a-f]{64})(?:\.scope)?(?:\/|$)/, 'docker'],
  [/\/cri-containerd-([0-9a-f]{64})(?:\.scope)?(?:\/|$)/, 'containerd'],
  [/\/crio-([0-9a-f]{64})(?:\.scope)?(?:\/|$)/, 'cri-o'],
  [/\/kubepods[^ ]*\/(?:pod[^/]+\/)?([0-9a-f]{64})(?:\/|$)/, 'containerd'],
  [/\/containerd\/([0-9a-f]{64})(?:\/|$)/, 'containerd'],
];

/**
 * The container id (12 hex digits, as Falco shows it) in a cgroup line such as
 * `cpuset=/docker/<64 hex>` or `0::/machine.slice/libpod-<64 hex>.scope/container`.
 */
export function containerIdFromCgroup(line: string): { id: string; type: string } | undefined {
  const ref = containerRefFromCgroup(line);
  return ref && { id: ref.id, type: ref.type };
}

/** Like containerIdFromCgroup, with the full 64-hex id too (what runtimes are best asked with). */
export function containerRefFromCgroup(line: string): { id: string; fullId: string; type: string } | undefined {
  const path = line.slice(line.indexOf('=') + 1);
  for (const [re, type] of CGROUP_PATTERNS) {
    const m = re.exec(path);
    if (m) return { id: m[1]!.slice(0, 12), fullId: m[1]!, type };
  }
  return undefined;
}
