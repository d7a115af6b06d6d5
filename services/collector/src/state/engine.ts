// The state engine: turns raw syscall events into process, fd, user and container state, the way
// libsinsp's parsers do, and tells for each event which thread and fd it concerns. Pure: no I/O.
// Capture replay seeds it from the file's tables; the live collector from /proc.

import { bigUint, exactUint, int, param, sockAddr, sockTuple, str, strList, uint, type RawEvent, type SockTuple } from './params.js';
import { DEFAULT_LIMITS, FdEntry, FdTable, StateTables, ThreadInfo, type FdKind, type StateLimits } from './tables.js';
import { EVENT_FLAGS } from '@harrier/events';

const FD_FLAGS = EVENT_FLAGS.USES_FD | EVENT_FLAGS.CREATES_FD | EVENT_FLAGS.DESTROYS_FD;

/**
 * What fd.* shows on the enter event of an open: the fd does not exist yet, so libsinsp reports
 * fd.num -1 and a file.
 */
const OPENING = new FdEntry(-1, 'file');
/** The same for socket() (libsinsp shows an IPv4 socket whatever the domain) and pipe(). */
const SOCKETING = new FdEntry(-1, 'ipv4');
const PIPING = new FdEntry(-1, 'pipe');

// libscap's encodings (driver/ppm_events_public.h).
const PPM_O_RDONLY = 1 << 0;
const PPM_O_WRONLY = 1 << 1;
const PPM_O_CREAT = 1 << 2;
const PPM_O_DIRECTORY = 1 << 10;
const PPM_O_CLOEXEC = 1 << 12;
const PPM_O_TMPFILE = 1 << 13;
const PPM_S_IXANY = (1 << 0) | (1 << 3) | (1 << 6);
const PPM_CL_CLONE_FILES = 1 << 0;
const PPM_CL_CLONE_FS = 1 << 1;
const PPM_CL_CLONE_PARENT = 1 << 8;
const PPM_CL_CLONE_THREAD = 1 << 13;
const PPM_CL_CHILD_IN_PIDNS = 1 << 29;
const PPM_EXE_WRITABLE = 1 << 0;
const PPM_EXE_UPPER_LAYER = 1 << 1;
const PPM_EXE_FROM_MEMFD = 1 << 2;
const PPM_AT_FDCWD = -100;
const PPM_FCNTL_F_DUPFD = 1;
const PPM_FCNTL_F_SETFD = 3;
const PPM_PR_SET_NAME = 15;
const PPM_FCNTL_F_DUPFD_CLOEXEC = 26;
/** MFD_CLOEXEC and EPOLL_CLOEXEC as libscap encodes them. */
const PPM_MFD_CLOEXEC = 1 << 0;
const PPM_EPOLL_CLOEXEC = 1 << 0;
/** The kernel's own values: socket()'s and socketpair()'s type and accept4()'s flags are sent as given. */
const SOCK_CLOEXEC = 0o2000000;
const FD_CLOEXEC = 1;
const EINPROGRESS = 115;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

/** What the state engine says about one event. */
export interface EventState {
  readonly thread: ThreadInfo | undefined;
  readonly fd: FdEntry | undefined;
  /** For open events: what the open asked for (evt.is_open_*). */
  readonly open: { readonly read: boolean; readonly write: boolean; readonly exec: boolean; readonly create: boolean } | undefined;
}

export interface StateStats {
  threadsCreated: number;
  threadsRemoved: number;
  threadsPurged: number;
  threadsDropped: number;
  eventsWithoutThread: number;
}

/** Seed data for one process (from a capture's process list or /proc). */
export interface SeedThread {
  readonly tid: number;
  readonly pid: number;
  readonly ptid: number;
  readonly sid?: number | undefined;
  readonly vpgid?: number | undefined;
  readonly vtid?: number | undefined;
  readonly vpid?: number | undefined;
  readonly comm?: string | undefined;
  readonly exe?: string | undefined;
  readonly exepath?: string | undefined;
  readonly args?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  readonly env?: readonly string[] | undefined;
  readonly fdlimit?: number | undefined;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  readonly loginuid?: number | undefined;
  readonly tty?: number | undefined;
  readonly cgroups?: readonly string[] | undefined;
  readonly capPermitted?: bigint | undefined;
  readonly capEffective?: bigint | undefined;
  readonly capInheritable?: bigint | undefined;
  readonly exeIno?: number | bigint | undefined;
  readonly exeWritable?: boolean | undefined;
  readonly exeUpperLayer?: boolean | undefined;
  readonly exeFromMemfd?: boolean | undefined;
  readonly startTs?: bigint | undefined;
  readonly pidnsInitStartTs?: bigint | undefined;
}

export interface SeedFd {
  readonly num: number;
  readonly kind: FdKind;
  readonly name?: string | undefined;
  readonly cip?: string | undefined;
  readonly sip?: string | undefined;
  readonly cport?: number | undefined;
  readonly sport?: number | undefined;
  readonly l4proto?: string | undefined;
  readonly isServer?: boolean | undefined;
  readonly openFlags?: number | undefined;
  /** Close-on-exec (/proc/PID/fdinfo's flags show it); else O_CLOEXEC in openFlags says it. */
  readonly cloexec?: boolean | undefined;
  readonly dev?: number | undefined;
  readonly ino?: number | bigint | undefined;
}

/**
 * Whether thread `tid` of process `pid` still runs on this machine (live capture: /proc tells).
 * Capture replay has none: a capture's threads cannot be asked about.
 */
export type ThreadAlive = (pid: number, tid: number) => boolean;

export interface StateOptions extends Partial<StateLimits> {
  /** Asked, at a purge, about a thread idle past the timeout: a live one is kept (libsinsp's rule). */
  readonly threadAlive?: ThreadAlive | undefined;
}

/** Events of the kernel or of libscap itself, not syscalls: they never pair with an exit. */
const NOT_SYSCALLS = new Set(['switch', 'procinfo', 'drop', 'container', 'signaldeliver', 'page_fault', 'notification', 'infra', 'cpu_hotplug']);
const CLONE_TYPES = new Set(['clone', 'fork', 'vfork', 'clone3']);
const EXEC_TYPES = new Set(['execve', 'execveat']);
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);
const DUP_TYPES = new Set(['dup', 'dup2', 'dup3']);
const SETUID_TYPES = new Set(['setuid', 'setresuid', 'setreuid']);
const SETGID_TYPES = new Set(['setgid', 'setresgid', 'setregid']);
/**
 * The fd an event is about is its enter event's first param (libsinsp's rule for EF_USES_FD). Where
 * current libs appends it to the exit under another name, an exit-only stream finds it there.
 */
const FD_ON_EXIT: Readonly<Record<string, string>> = { dup: 'oldfd', dup2: 'oldfd', dup3: 'oldfd', copy_file_range: 'fdin', splice: 'fd_in', sendfile: 'out_fd' };

export class StateEngine {
  readonly tables = new StateTables();
  readonly stats: StateStats = { threadsCreated: 0, threadsRemoved: 0, threadsPurged: 0, threadsDropped: 0, eventsWithoutThread: 0 };
  private readonly limits: StateLimits;
  private lastPurge = -1n;
  /** Event time from which the next purge is due (0 before the first event). */
  private nextPurge = 0n;
  /** Threads that exited with the previous event: removed before the next one (libsinsp's order). */
  private exiting: ThreadInfo | undefined;
  /** Its procexit's reaper_tid: 0 when it left no children, -1 when the kernel could not tell. */
  private exitingReaper: number | undefined;
  /** While seeding: the first thread seen of each process, by pid. */
  private readonly seededGroups = new Map<number, ThreadInfo>();
  /** How many threads of each process (by pid) the table holds, so a leader's exit need not scan it. */
  private readonly groupSizes = new Map<number, number>();
  /** The thread of the event being handled: never purged from under it. */
  private currentTid = -1;
  /** Set by a live source (undefined for capture replay): see StateOptions. */
  threadAlive: ThreadAlive | undefined;
  /**
   * Boot time in ns since the epoch (a capture's machine info; the live probe's header, through
   * `bootEpochOf` as it arrives after start): a clone's pidns_init_start_ts counts from boot.
   */
  bootEpoch = 0n;
  bootEpochOf: (() => bigint) | undefined;

  constructor(options: StateOptions = {}) {
    const { threadAlive, ...limits } = options;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.threadAlive = threadAlive;
  }

  get threadCount(): number {
    return this.tables.threads.size;
  }

  seedThread(s: SeedThread): ThreadInfo {
    const t = new ThreadInfo(s.tid, this.tables);
    t.pid = s.pid;
    t.ppid = s.ptid;
    t.sid = s.sid;
    t.vpgid = s.vpgid;
    t.vtid = s.vtid;
    t.vpid = s.vpid;
    t.name = s.comm;
    t.exe = s.exe;
    // Older process tables have no exepath: libsinsp shows it empty, not missing.
    t.exepath = s.exepath ?? '';
    // Lists are replaced, never changed in place: the seed's arrays can be kept (and shared).
    t.args = s.args;
    t.fs = { cwd: s.cwd === undefined ? undefined : withSlash(s.cwd) };
    t.env = s.env;
    t.fdlimit = s.fdlimit;
    t.uid = s.uid;
    t.gid = s.gid;
    t.loginuid = s.loginuid;
    t.tty = s.tty;
    t.container = this.tables.containerOf(s.cgroups);
    t.capPermitted = s.capPermitted;
    t.capEffective = s.capEffective;
    t.capInheritable = s.capInheritable;
    t.exeIno = s.exeIno;
    t.exeWritable = s.exeWritable;
    t.exeUpperLayer = s.exeUpperLayer;
    t.exeFromMemfd = s.exeFromMemfd;
    t.startTs = s.startTs;
    t.pidnsInitStartTs = s.pidnsInitStartTs;
    // Threads of a process share the main thread's fds and working directory.
    // Threads of a process share one fd table and working directory: the leader's, or, when the
    // table has no leader, the first thread seen of the process.
    const main = s.pid !== s.tid ? (this.tables.threads.get(s.pid) ?? this.seededGroups.get(s.pid)) : undefined;
    if (main) {
      t.fdTable = main.fdTable;
      t.fs = main.fs;
    } else this.seededGroups.set(s.pid, t);
    this.insert(t);
    return t;
  }

  /** Seeds one fd of the process whose leader is `tid` (or of any thread of it, if the leader is unknown). */
  seedFd(tid: number, f: SeedFd): void {
    const t = this.tables.threads.get(tid) ?? this.seededGroups.get(tid);
    if (!t) return;
    const e = new FdEntry(f.num, f.kind);
    e.name = f.name;
    e.nameRaw = f.name;
    e.cip = f.cip;
    e.sip = f.sip;
    e.cport = f.cport;
    e.sport = f.sport;
    e.l4proto = f.l4proto;
    e.isServer = f.isServer ?? false;
    e.openFlags = f.openFlags;
    e.cloexec = f.cloexec ?? (f.openFlags !== undefined && (f.openFlags & PPM_O_CLOEXEC) !== 0);
    e.dev = f.dev;
    e.ino = f.ino;
    t.fdTable.fds.set(f.num, e);
  }

  /** Applies one event to the state and tells which thread and fd it concerns. */
  process(e: RawEvent): EventState {
    let t = this.begin(e.tid, e.ts, e);
    if (e.enter) return this.enter(e, t);
    const isOpen = OPEN_TYPES.has(e.type);
    const open = isOpen ? openBits(e, t) : undefined;
    // The fd as it was before the call (close removes it, yet its exit event shows it). An open
    // shows the fd it made, or none when it failed.
    const before = t && !isOpen ? this.eventFd(e, t) : undefined;
    if (CLONE_TYPES.has(e.type)) t = this.onClone(e, t);
    else if (t) this.exit(e, t, isOpen);
    let fd = (t ? this.eventFd(e, t) : undefined) ?? before;
    if (!fd && t && isOpen) fd = this.failedOpen(e, t);
    if (fd && t && e.type === 'connect') fd = this.failedConnect(e, fd) ?? fd;
    if (t) {
      t.enterType = undefined;
      t.enterParams = undefined;
    }
    return { thread: t, fd, open };
  }

  /**
   * The exit of close(fd) with result `res`, given as numbers: what process() does with a close
   * exit event, for a caller that has no RawEvent to hand (the live collector, when no rule needs
   * close events, skips building one). Returns the thread.
   */
  closeExit(tid: number, ts: bigint, fd: number, res: number): ThreadInfo {
    const t = this.begin(tid, ts, undefined)!;
    if (res >= 0) t.fdTable.close(fd);
    t.enterType = undefined;
    t.enterParams = undefined;
    return t;
  }

  /**
   * What comes before any event: the thread that exited with the previous event goes, stale
   * threads are purged, and the event's thread is found, or made up for a syscall (`e` undefined:
   * a close exit): events of threads never seen still evaluate, and the placeholder keeps their fds.
   */
  private begin(tid: number, ts: bigint, e: RawEvent | undefined): ThreadInfo | undefined {
    this.currentTid = tid;
    if (this.exiting) {
      if (this.exitingReaper) this.reparent(this.exiting, this.exitingReaper);
      this.stats.threadsRemoved += this.retire(this.exiting);
      this.exiting = undefined;
    }
    this.maybePurge(ts);
    let t = this.tables.threads.get(tid);
    if (!t && (e === undefined || (!NOT_SYSCALLS.has(e.type) && !(CLONE_TYPES.has(e.type) && !e.enter)))) {
      this.stats.eventsWithoutThread++;
      t = this.placeholder(tid);
    }
    if (t) {
      if (ts > t.lastSeen) t.lastSeen = ts;
      // A leader kept dead for its threads that has events again is alive (an exec took its tid).
      if (t.exited) t.exited = false;
    }
    return t;
  }

  private enter(e: RawEvent, t: ThreadInfo | undefined): EventState {
    if (!t) return { thread: undefined, fd: undefined, open: undefined };
    // Scheduler switches and the like come between a syscall's enter and exit: they must not
    // replace the enter event the exit will look at.
    if (!NOT_SYSCALLS.has(e.type) && (e.flags === undefined || (e.flags & EVENT_FLAGS.SKIPPARSERESET) === 0)) {
      t.enterType = e.type;
      t.enterParams = { names: e.names, params: e.params };
    }
    if (e.type === 'procexit') {
      t.exited = true;
      this.exiting = t;
      this.exitingReaper = int(param(e, 'reaper_tid'));
    }
    const open = OPEN_TYPES.has(e.type);
    const opening = open ? OPENING : e.type === 'socket' || e.type === 'accept' || e.type === 'accept4' ? SOCKETING : e.type === 'pipe' || e.type === 'pipe2' ? PIPING : undefined;
    if (!usesFd(e)) return { thread: t, fd: opening, open: open ? openBits(e, t) : undefined };
    const n = int(param(e, 'fd'));
    const fd = n === undefined ? undefined : t.fdTable.fds.get(n);
    return { thread: t, fd: fd ?? opening, open: open ? openBits(e, t) : undefined };
  }

  /** The parameter from this exit event, or else from its enter event. */
  private arg(e: RawEvent, t: ThreadInfo, name: string): Uint8Array | undefined {
    const own = param(e, name);
    if (own !== undefined) return own;
    if (t.enterType !== e.type || !t.enterParams) return undefined;
    return param({ ...e, names: t.enterParams.names, params: t.enterParams.params }, name);
  }

  /**
   * A failed open has no fd, yet libsinsp shows the file it was about: fd.name from the path,
   * fd.num the (negative) result.
   */
  private failedOpen(e: RawEvent, t: ThreadInfo): FdEntry | undefined {
    const res = int(param(e, 'fd')) ?? int(param(e, 'res'));
    const path = this.openedPath(e, t);
    if (res === undefined || res >= 0 || path === undefined) return undefined;
    const f = new FdEntry(res, 'file');
    f.nameRaw = path.raw;
    f.name = path.name;
    return f;
  }

  /** The path an open family call names, as given and resolved against its dirfd or the cwd. */
  private openedPath(e: RawEvent, t: ThreadInfo): { raw: string; name: string } | undefined {
    const raw = str(this.arg(e, t, 'name')) ?? str(this.arg(e, t, 'path'));
    if (raw === undefined) return undefined;
    let base = t.fs.cwd;
    const dirfd = int(this.arg(e, t, 'dirfd'));
    if (dirfd !== undefined && dirfd !== PPM_AT_FDCWD) base = withSlash(t.fdTable.fds.get(dirfd)?.name ?? '');
    return { raw, name: resolvePath(base, raw) };
  }

  /**
   * The exit of a failed connect shows the socket named after the event's tuple, though the
   * socket stays unconnected in the table (libsinsp's behaviour).
   */
  private failedConnect(e: RawEvent, fd: FdEntry): FdEntry | undefined {
    const res = int(param(e, 'res'));
    if (res === undefined || res >= 0 || res === -EINPROGRESS) return undefined;
    const tuple = sockTuple(param(e, 'tuple'));
    if (!tuple || !sameFamily(fd, tuple)) return undefined;
    const shown = fd.copy(fd.num);
    applyTuple(shown, tuple, false);
    return shown;
  }

  private eventFd(e: RawEvent, t: ThreadInfo): FdEntry | undefined {
    if (!usesFd(e)) return undefined;
    if (e.type === 'pipe' || e.type === 'pipe2' || e.type === 'socketpair') {
      const first = int(param(e, 'fd1'));
      return first === undefined || first < 0 ? undefined : t.fdTable.fds.get(first);
    }
    let n = int(this.arg(e, t, 'fd'));
    if (n === undefined) {
      const alias = FD_ON_EXIT[e.type];
      if (alias !== undefined) n = int(this.arg(e, t, alias));
    }
    return n === undefined || n < 0 ? undefined : t.fdTable.fds.get(n);
  }

  private exit(e: RawEvent, t: ThreadInfo, isOpen: boolean): void {
    if (isOpen) return this.onOpen(e, t);
    const res = int(param(e, 'res'));
    const type = e.type;
    if (EXEC_TYPES.has(type)) return this.onExec(e, t, res);
    switch (type) {
      case 'close':
        if (res === undefined || res >= 0) {
          const n = int(this.arg(e, t, 'fd'));
          if (n !== undefined) t.fdTable.close(n);
        }
        return;
      case 'socket':
        return this.onSocket(e, t);
      case 'connect':
        return this.onConnect(e, t, res);
      case 'accept':
      case 'accept4':
        return this.onAccept(e, t);
      case 'bind':
        return this.onBind(e, t, res);
      case 'sendto':
      case 'sendmsg': {
        // A datagram socket not connected yet takes the address it first sends to.
        const f = this.eventFd(e, t);
        const tuple = sockTuple(this.arg(e, t, 'tuple'));
        if (f && tuple && (tuple.family === 'ipv4' || tuple.family === 'ipv6') && sameFamily(f, tuple) && f.sip === undefined && (res === undefined || res >= 0)) {
          const unspecified = tuple.src === '::' || tuple.src === '0.0.0.0';
          applyTuple(f, unspecified ? { ...tuple, src: tuple.dst } : tuple, false);
          f.touch();
        }
        return;
      }
      case 'listen': {
        const f = this.eventFd(e, t);
        if (f && (res === undefined || res >= 0)) {
          f.isServer = true;
          f.touch();
        }
        return;
      }
      case 'pipe':
      case 'pipe2':
        return this.onPair(e, t, 'pipe');
      case 'socketpair':
        return this.onPair(e, t, 'unix');
      case 'eventfd':
      case 'eventfd2':
        return this.simpleFd(t, res, 'event');
      case 'signalfd':
      case 'signalfd4':
        return this.simpleFd(t, res, 'signalfd');
      case 'epoll_create':
        return this.simpleFd(t, res, 'eventpoll');
      case 'epoll_create1':
        return this.simpleFd(t, res, 'eventpoll', ((uint(this.arg(e, t, 'flags')) ?? 0) & PPM_EPOLL_CLOEXEC) !== 0);
      case 'inotify_init':
      case 'inotify_init1':
        return this.simpleFd(t, res, 'inotify');
      case 'timerfd_create':
        return this.simpleFd(t, res, 'timerfd');
      case 'userfaultfd':
        return this.simpleFd(t, res, 'userfaultfd', ((uint(param(e, 'flags')) ?? 0) & PPM_O_CLOEXEC) !== 0);
      case 'memfd_create': {
        const fd = int(param(e, 'fd')) ?? res;
        if (fd !== undefined && fd >= 0) {
          const f = new FdEntry(fd, 'memfd');
          f.name = `memfd:${str(this.arg(e, t, 'name')) ?? ''}`;
          f.cloexec = ((uint(param(e, 'flags')) ?? 0) & PPM_MFD_CLOEXEC) !== 0;
          t.fdTable.fds.set(fd, f);
        }
        return;
      }
      case 'chdir':
        if (res === 0) {
          const path = str(this.arg(e, t, 'path'));
          if (path !== undefined) {
            t.fs.cwd = withSlash(resolvePath(t.fs.cwd, path));
            t.touch();
          }
        }
        return;
      case 'fchdir':
        if (res === 0) {
          const f = this.eventFd(e, t);
          if (f?.name !== undefined) {
            t.fs.cwd = withSlash(f.name);
            t.touch();
          }
        }
        return;
      case 'prctl': {
        // PR_SET_NAME renames the thread (its comm, which is proc.name).
        const name = str(param(e, 'arg2_str'));
        if (res === 0 && uint(param(e, 'option')) === PPM_PR_SET_NAME && name !== undefined) {
          t.name = name.slice(0, 15);
          t.touch();
        }
        return;
      }
      case 'fcntl': {
        const cmd = uint(this.arg(e, t, 'cmd'));
        if ((cmd === PPM_FCNTL_F_DUPFD || cmd === PPM_FCNTL_F_DUPFD_CLOEXEC) && res !== undefined && res >= 0) this.dup(t, int(this.arg(e, t, 'fd')), res, cmd === PPM_FCNTL_F_DUPFD_CLOEXEC);
        else if (cmd === PPM_FCNTL_F_SETFD && res === 0) {
          // The event table's fcntl has no third argument: only an event that carries it (as
          // `arg`) can say whether FD_CLOEXEC went on or off. Without it the flag stays as it was.
          const arg = int(this.arg(e, t, 'arg'));
          const f = this.eventFd(e, t);
          if (f && arg !== undefined) f.cloexec = (arg & FD_CLOEXEC) !== 0;
        }
        return;
      }
      default:
        break;
    }
    if (DUP_TYPES.has(type)) {
      const to = res;
      const from = int(this.arg(e, t, 'oldfd')) ?? int(this.arg(e, t, 'fd'));
      // dup3's flags are libscap's file flags; dup and dup2 always clear close-on-exec.
      const cloexec = type === 'dup3' && ((uint(param(e, 'flags')) ?? 0) & PPM_O_CLOEXEC) !== 0;
      if (to !== undefined && to >= 0) this.dup(t, from, to, cloexec);
      return;
    }
    if (SETUID_TYPES.has(type) && res === 0) {
      const uid = type === 'setuid' ? uint(this.arg(e, t, 'uid')) : uint(this.arg(e, t, 'euid'));
      if (uid !== undefined && uid !== 0xffffffff) {
        t.uid = uid;
        t.touch();
      }
      return;
    }
    if (SETGID_TYPES.has(type) && res === 0) {
      const gid = type === 'setgid' ? uint(this.arg(e, t, 'gid')) : uint(this.arg(e, t, 'egid'));
      if (gid !== undefined && gid !== 0xffffffff) {
        t.gid = gid;
        t.touch();
      }
    }
  }

  private onOpen(e: RawEvent, t: ThreadInfo): void {
    const fd = int(param(e, 'fd')) ?? int(param(e, 'res'));
    if (fd === undefined || fd < 0) return;
    const path = this.openedPath(e, t);
    const flags = uint(this.arg(e, t, 'flags')) ?? 0;
    const kind: FdKind = flags & PPM_O_DIRECTORY ? 'directory' : 'file';
    const dev = uint(param(e, 'dev'));
    const ino = exactUint(param(e, 'ino'));
    const table = t.fdTable;
    // The same file opened again under the fd it was just closed as (a loop of open/close):
    // the closed entry, identical in every field, serves again, and batches encode it once.
    const last = table.lastClosed;
    if (last !== undefined) {
      table.lastClosed = undefined;
      if (last.num === fd && last.kind === kind && last.nameRaw === path?.raw && last.name === path?.name && last.openFlags === flags && last.cloexec === ((flags & PPM_O_CLOEXEC) !== 0) && last.dev === dev && last.ino === ino && last.isPlainFile()) {
        table.fds.set(fd, last);
        return;
      }
    }
    const f = new FdEntry(fd, kind);
    f.nameRaw = path?.raw;
    f.name = path?.name;
    f.openFlags = flags;
    f.cloexec = (flags & PPM_O_CLOEXEC) !== 0;
    f.dev = dev;
    f.ino = ino;
    table.fds.set(fd, f);
  }

  private onExec(e: RawEvent, t: ThreadInfo, res: number | undefined): void {
    if (res !== undefined && res < 0) return;
    // The exit carries the thread's ids too: a thread first seen here (started before the
    // capture) learns its process and parent.
    this.setPid(t, int(param(e, 'pid')) ?? t.pid);
    // A parent the table knows is not traded for one it does not (after an exec by a thread of
    // the parent's process, the children passed to its leader; the event still names the old tid).
    const ptid = int(param(e, 'ptid'));
    if (ptid !== undefined && (this.tables.threads.has(ptid) || !this.tables.threads.has(t.ppid))) t.ppid = ptid;
    // A successful exec leaves the process one thread, under the leader's tid: when another thread
    // called it, the kernel killed the leader (its procexit came first, and the leader was kept for
    // this) and the caller took over its tid. The leader's entry goes on with the process's fds,
    // parent and start time; every other thread's is gone.
    if (t.tid === t.pid && (this.groupSizes.get(t.pid) ?? 0) > 1) this.dropOtherThreads(t);
    t.vtid = int(param(e, 'vtid')) ?? t.vtid;
    t.vpid = int(param(e, 'vpid')) ?? t.vpid;
    const exe = str(param(e, 'exe'));
    const args = strList(param(e, 'args'));
    const comm = str(param(e, 'comm'));
    if (exe !== undefined) t.exe = exe;
    if (args !== undefined) t.args = args;
    t.name = comm ?? (exe !== undefined ? exe.slice(exe.lastIndexOf('/') + 1) : t.name);
    const cwd = str(param(e, 'cwd'));
    if (cwd !== undefined && cwd !== '') t.fs.cwd = withSlash(cwd);
    // The kernel's path of the executable when the driver sends it; older captures only have the
    // path given to execve (its enter event's filename), resolved as libsinsp does; else none.
    const trusted = str(param(e, 'trusted_exepath'));
    const filename = str(this.arg(e, t, 'filename'));
    if (trusted !== undefined && trusted !== '') t.exepath = trusted;
    else t.exepath = filename === undefined ? '' : resolvePath(t.fs.cwd, filename);
    const env = strList(param(e, 'env'));
    if (env !== undefined) t.env = env;
    t.tty = uint(param(e, 'tty')) ?? t.tty;
    t.vpgid = int(param(e, 'pgid')) ?? t.vpgid;
    t.loginuid = int(param(e, 'loginuid')) ?? t.loginuid;
    const flags = uint(param(e, 'flags'));
    if (flags !== undefined) {
      t.exeWritable = (flags & PPM_EXE_WRITABLE) !== 0;
      t.exeUpperLayer = (flags & PPM_EXE_UPPER_LAYER) !== 0;
      t.exeFromMemfd = (flags & PPM_EXE_FROM_MEMFD) !== 0;
    }
    t.capInheritable = bigUint(param(e, 'cap_inheritable')) ?? t.capInheritable;
    t.capPermitted = bigUint(param(e, 'cap_permitted')) ?? t.capPermitted;
    t.capEffective = bigUint(param(e, 'cap_effective')) ?? t.capEffective;
    t.exeIno = exactUint(param(e, 'exe_ino')) ?? t.exeIno;
    t.uid = uint(param(e, 'uid')) ?? t.uid;
    t.gid = uint(param(e, 'gid')) ?? t.gid;
    t.fdlimit = int(param(e, 'fdlimit')) ?? t.fdlimit;
    const cg = strList(param(e, 'cgroups'));
    if (cg) t.container = this.tables.containerOf(cg);
    // exec closes the fds marked close-on-exec.
    for (const [n, f] of t.fdTable.fds) if (f.cloexec) t.fdTable.fds.delete(n);
    t.touch();
  }

  /**
   * clone/fork exit: in the parent (res > 0, the child's tid) or in the child (res = 0). The
   * child is created by whichever arrives first, from the parent's state and the event's params.
   */
  private onClone(e: RawEvent, caller: ThreadInfo | undefined): ThreadInfo | undefined {
    const res = int(param(e, 'res'));
    if (res === undefined || res < 0) return caller ?? this.placeholder(e.tid);
    const flags = uint(param(e, 'flags')) ?? 0;
    const childTid = res > 0 ? res : e.tid;
    // The params describe the thread that returned: the parent when res > 0, else the child.
    const pPid = int(param(e, 'pid'));
    const pPtid = int(param(e, 'ptid'));
    if (res > 0 && !caller) caller = this.placeholder(e.tid);
    // In a pid namespace the parent sees the child's namespace pid, not its tid: the child's own
    // exit event creates it.
    if (res > 0 && (flags & PPM_CL_CHILD_IN_PIDNS || (caller!.vpid !== undefined && caller!.vpid !== caller!.pid))) return caller;
    let child = this.tables.threads.get(childTid);
    // A dead leader kept for its threads cannot share its tid with a new thread: the kernel reuses
    // a pid only once its whole group is gone, so the group's exits were missed.
    if (child?.exited) child = undefined;
    if (child && res === 0) return child; // the parent's exit created it already
    if (child && res > 0) return caller; // created by the child's own exit, which came first
    const parent = res > 0 ? caller : pPtid !== undefined ? this.tables.threads.get(pPtid) : undefined;
    child = new ThreadInfo(childTid, this.tables);
    const thread = (flags & PPM_CL_CLONE_THREAD) !== 0;
    // A new thread's parent is the thread that created it (libsinsp: proc.pname of a thread is
    // its process's name); a new process's is the caller (or the caller's parent with CLONE_PARENT).
    if (res > 0) {
      child.pid = thread ? (pPid ?? caller!.pid) : childTid;
      child.ppid = thread ? e.tid : flags & PPM_CL_CLONE_PARENT ? (pPtid ?? caller!.ppid) : (pPid ?? caller!.pid);
    } else {
      child.pid = pPid ?? childTid;
      child.ppid = thread ? child.pid : (pPtid ?? 0);
    }
    child.vtid = res > 0 ? undefined : int(param(e, 'vtid'));
    child.vpid = res > 0 ? undefined : int(param(e, 'vpid'));
    const src = parent;
    // libsinsp: the event's pid-namespace init start (from boot) plus the boot time; else inherited.
    const pidnsStart = bigUint(param(e, 'pidns_init_start_ts'));
    child.pidnsInitStartTs = pidnsStart ? pidnsStart + (this.bootEpochOf?.() ?? this.bootEpoch) : src?.pidnsInitStartTs;
    child.name = str(param(e, 'comm')) ?? src?.name;
    child.exe = str(param(e, 'exe')) ?? src?.exe;
    child.args = strList(param(e, 'args')) ?? src?.args;
    child.exepath = src?.exepath ?? child.exe;
    child.env = src?.env;
    child.tty = src?.tty;
    child.sid = src?.sid;
    child.vpgid = src?.vpgid;
    child.loginuid = src?.loginuid;
    child.uid = uint(param(e, 'uid')) ?? src?.uid;
    child.gid = uint(param(e, 'gid')) ?? src?.gid;
    child.fdlimit = int(param(e, 'fdlimit')) ?? src?.fdlimit;
    child.capPermitted = src?.capPermitted;
    child.capEffective = src?.capEffective;
    child.capInheritable = src?.capInheritable;
    child.exeIno = src?.exeIno;
    child.exeWritable = src?.exeWritable;
    child.exeUpperLayer = src?.exeUpperLayer;
    child.exeFromMemfd = src?.exeFromMemfd;
    child.startTs = e.ts;
    const cg = strList(param(e, 'cgroups'));
    child.container = cg ? this.tables.containerOf(cg) : src?.container;
    if (src) {
      child.fdTable = flags & PPM_CL_CLONE_FILES ? src.fdTable : src.fdTable.copy();
      child.fs = flags & PPM_CL_CLONE_FS ? src.fs : { cwd: src.fs.cwd };
    } else {
      child.fdTable = new FdTable();
      const cwd = str(param(e, 'cwd'));
      child.fs = { cwd: cwd === undefined ? undefined : withSlash(cwd) };
    }
    child.lastSeen = e.ts;
    if (this.insert(child)) this.stats.threadsCreated++;
    return res > 0 ? caller : child;
  }

  private onSocket(e: RawEvent, t: ThreadInfo): void {
    const fd = int(param(e, 'fd')) ?? int(param(e, 'res'));
    if (fd === undefined || fd < 0) return;
    const domain = uint(this.arg(e, t, 'domain'));
    const type = uint(this.arg(e, t, 'type'));
    const kind: FdKind = domain === AF_INET ? 'ipv4' : domain === AF_INET6 ? 'ipv6' : domain === AF_UNIX ? 'unix' : domain === AF_NETLINK ? 'netlink' : 'unknown';
    const f = new FdEntry(fd, kind);
    f.name = '';
    f.cloexec = ((type ?? 0) & SOCK_CLOEXEC) !== 0;
    // libsinsp shows the protocol once the socket is connected or accepted.
    if (kind === 'ipv4' || kind === 'ipv6') f.pendingL4 = l4proto(type, uint(this.arg(e, t, 'proto')));
    t.fdTable.fds.set(fd, f);
  }

  private onConnect(e: RawEvent, t: ThreadInfo, res: number | undefined): void {
    const n = int(this.arg(e, t, 'fd'));
    if (n === undefined || n < 0) return;
    if (res !== undefined && res < 0 && res !== -EINPROGRESS) return;
    const tuple = sockTuple(param(e, 'tuple'));
    if (!tuple) return;
    let f = t.fdTable.fds.get(n);
    if (!f || !sameFamily(f, tuple)) {
      f = new FdEntry(n, tupleKind(tuple));
      t.fdTable.fds.set(n, f);
    }
    // libsinsp keeps the first connection of a socket: a datagram socket connected again keeps
    // showing its first peer.
    if (f.connected && f.sip !== undefined) return;
    applyTuple(f, tuple, false);
    f.connected = true;
    f.touch();
  }

  private onAccept(e: RawEvent, t: ThreadInfo): void {
    const fd = int(param(e, 'fd')) ?? int(param(e, 'res'));
    if (fd === undefined || fd < 0) return;
    const tuple = sockTuple(param(e, 'tuple'));
    const f = new FdEntry(fd, tuple ? tupleKind(tuple) : 'unknown');
    if (tuple) applyTuple(f, tuple, true);
    f.isServer = true;
    f.connected = true;
    // accept4's flags (the drivers send them as given, or 0); accept has none.
    if (e.type === 'accept4') f.cloexec = ((int(this.arg(e, t, 'flags')) ?? 0) & SOCK_CLOEXEC) !== 0;
    t.fdTable.fds.set(fd, f);
  }

  private onBind(e: RawEvent, t: ThreadInfo, res: number | undefined): void {
    if (res !== undefined && res < 0) return;
    const f = this.eventFd(e, t);
    const addr = sockAddr(param(e, 'addr'));
    if (!f || !addr) return;
    if (addr.family === 'unix') f.name = addr.path;
    else if (addr.family === 'ipv4' || addr.family === 'ipv6') {
      f.name = `${addr.addr}:${addr.port}`;
      // Binding to port 0 (any port) names the socket but does not make it a server.
      if (addr.port !== 0) {
        f.sip = addr.addr;
        f.sport = addr.port;
        f.isServer = true;
        f.l4proto ??= f.pendingL4;
      }
    }
    f.touch();
  }

  private onPair(e: RawEvent, t: ThreadInfo, kind: FdKind): void {
    const a = int(param(e, 'fd1'));
    const b = int(param(e, 'fd2'));
    // pipe2's flags are libscap's file flags; socketpair's type is the kernel's, SOCK_CLOEXEC in it.
    const cloexec =
      e.type === 'pipe2' ? ((uint(param(e, 'flags')) ?? 0) & PPM_O_CLOEXEC) !== 0 : e.type === 'socketpair' ? ((uint(this.arg(e, t, 'type')) ?? 0) & SOCK_CLOEXEC) !== 0 : false;
    for (const n of [a, b]) {
      if (n === undefined || n < 0) continue;
      const f = new FdEntry(n, kind);
      f.cloexec = cloexec;
      const ino = exactUint(param(e, 'ino'));
      // libsinsp gives pipes an empty name (their inode is in fd.ino).
      if (kind === 'pipe') f.name = '';
      f.ino = ino;
      t.fdTable.fds.set(n, f);
    }
  }

  private simpleFd(t: ThreadInfo, res: number | undefined, kind: FdKind, cloexec = false): void {
    if (res === undefined || res < 0) return;
    const f = new FdEntry(res, kind);
    f.cloexec = cloexec;
    t.fdTable.fds.set(res, f);
  }

  /** The dup family: the new fd shares the open file but has its own close-on-exec flag. */
  private dup(t: ThreadInfo, from: number | undefined, to: number, cloexec: boolean): void {
    if (from === undefined || from === to) return;
    const src = t.fdTable.fds.get(from);
    if (src) t.fdTable.fds.set(to, src.copy(to, cloexec));
    else t.fdTable.fds.delete(to);
  }

  private placeholder(tid: number): ThreadInfo {
    const t = new ThreadInfo(tid, this.tables);
    t.exepath = '';
    this.insert(t);
    return t;
  }

  private insert(t: ThreadInfo): boolean {
    const threads = this.tables.threads;
    if (threads.size >= this.limits.maxThreads && !threads.has(t.tid)) {
      this.purge(t.lastSeen, true);
      if (threads.size >= this.limits.maxThreads) {
        this.stats.threadsDropped++;
        return false;
      }
    }
    this.link(t);
    return true;
  }

  /** Puts a thread in the table (in place of any other of its tid) and counts it in its process. */
  private link(t: ThreadInfo): void {
    const threads = this.tables.threads;
    const old = threads.get(t.tid);
    if (old === t) return;
    if (old) this.ungroup(old);
    threads.set(t.tid, t);
    this.groupSizes.set(t.pid, (this.groupSizes.get(t.pid) ?? 0) + 1);
  }

  private unlink(t: ThreadInfo): boolean {
    if (this.tables.threads.get(t.tid) !== t) return false;
    this.tables.threads.delete(t.tid);
    this.ungroup(t);
    return true;
  }

  private ungroup(t: ThreadInfo): void {
    const n = (this.groupSizes.get(t.pid) ?? 1) - 1;
    if (n > 0) this.groupSizes.set(t.pid, n);
    else this.groupSizes.delete(t.pid);
  }

  /** A thread's process changes (exec tells it): it moves to its new group's count. */
  private setPid(t: ThreadInfo, pid: number): void {
    if (pid === t.pid) return;
    const inTable = this.tables.threads.get(t.tid) === t;
    if (inTable) this.ungroup(t);
    t.pid = pid;
    if (inTable) this.groupSizes.set(pid, (this.groupSizes.get(pid) ?? 0) + 1);
  }

  /**
   * Removes a thread that exited or went stale, as libsinsp does: a process's leader stays, marked
   * dead, while other threads of it remain (they show it as their process, and an exec by one of
   * them takes over its tid); the last of them takes a dead leader along. Returns how many
   * entries went.
   */
  private retire(t: ThreadInfo): number {
    const threads = this.tables.threads;
    if (threads.get(t.tid) !== t) return 0;
    if (t.tid === t.pid && (this.groupSizes.get(t.pid) ?? 0) > 1) {
      t.exited = true;
      return 0;
    }
    this.unlink(t);
    if (t.tid !== t.pid && this.groupSizes.get(t.pid) === 1) {
      const leader = threads.get(t.pid);
      if (leader?.exited && leader.pid === t.pid && leader.tid !== this.currentTid && this.unlink(leader)) return 2;
    }
    return 1;
  }

  /**
   * A process's children outlive it: they pass to its reaper, as in libsinsp's remove_thread, so
   * their proc.ppid and proc.pname name the process that now has them (a subreaper, the pid
   * namespace's init, another thread of the same process) instead of one gone, or one that later
   * reused its pid. The reaper is the one the kernel named at the exit if the state has it, else a
   * live thread of the same process, else none (ppid 0, as libsinsp gives). Runs only for exits
   * the kernel saw children for (or could not tell): the walk is over the whole table.
   */
  private reparent(t: ThreadInfo, reaperTid: number): void {
    const threads = this.tables.threads;
    let reaper = reaperTid > 0 ? threads.get(reaperTid) : undefined;
    if (reaper === t || reaper?.exited) reaper = undefined;
    if (!reaper) {
      for (const o of threads.values()) {
        if (o.pid === t.pid && o !== t && !o.exited) {
          reaper = o;
          break;
        }
      }
    }
    const to = reaper?.tid ?? 0;
    for (const c of threads.values()) {
      // Threads of the same process are no children of it in the kernel's sense.
      if (c.ppid === t.tid && c.pid !== t.pid) {
        c.ppid = to;
        c.touch();
      }
    }
  }

  /**
   * After an exec: the other threads of t's process, which the kernel ended. Their children pass
   * to t, as the kernel hands a dying thread's children to a live thread of its group.
   */
  private dropOtherThreads(t: ThreadInfo): void {
    const gone = new Set<number>();
    for (const other of this.tables.threads.values()) {
      if (other.pid !== t.pid || other === t || !this.unlink(other)) continue;
      this.stats.threadsRemoved++;
      gone.add(other.tid);
    }
    if (gone.size === 0) return;
    for (const child of this.tables.threads.values()) {
      if (gone.has(child.ppid)) {
        child.ppid = t.tid;
        child.touch();
      }
    }
  }

  private maybePurge(now: bigint): void {
    // Captures start with metadata events stamped 0: they say nothing about time.
    if (now === 0n) return;
    // Compared with the next purge's time, not by subtracting: BigInt arithmetic allocates.
    if (now < this.nextPurge) return;
    if (this.lastPurge < 0n) {
      // The first event: seeded threads count as seen now, not at time zero.
      this.lastPurge = now;
      this.nextPurge = now + this.limits.purgeIntervalNs;
      for (const t of this.tables.threads.values()) if (t.lastSeen === 0n) t.lastSeen = now;
      if (now < this.nextPurge) return;
    }
    this.lastPurge = now;
    this.nextPurge = now + this.limits.purgeIntervalNs;
    this.purge(now, false);
  }

  /**
   * Drops threads that exited, and threads idle past the timeout unless the system says they still
   * run (libsinsp's rule: an idle daemon blocked in accept() is no stale entry). The thread of the
   * event being handled always stays. When the table is full, also the least recently seen tenth,
   * so new processes keep being tracked: there idleness alone decides, as that tenth is the idle.
   */
  private purge(now: bigint, full: boolean): void {
    const threads = this.tables.threads;
    const alive = full ? undefined : this.threadAlive;
    for (const t of threads.values()) {
      if (t.tid === this.currentTid) continue;
      if (!t.exited && (now - t.lastSeen <= this.limits.threadTimeoutNs || (alive !== undefined && alive(t.pid, t.tid)))) continue;
      this.stats.threadsPurged += this.retire(t);
    }
    if (full && threads.size >= this.limits.maxThreads) {
      const oldest = [...threads.values()].filter((t) => t.tid !== this.currentTid).sort((a, b) => (a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0));
      for (const t of oldest.slice(0, Math.max(1, Math.floor(oldest.length / 10)))) {
        this.unlink(t);
        this.stats.threadsPurged++;
      }
    }
  }
}

/** Whether fd.* fields apply to the event (the table's fd flags; any fd param for hand-built events). */
function usesFd(e: RawEvent): boolean {
  return e.flags === undefined ? true : (e.flags & FD_FLAGS) !== 0;
}

/** A param of the exit event, else of its enter event. (A plain function: this runs per open.) */
function exitOrEnter(e: RawEvent, t: ThreadInfo | undefined, name: string): Uint8Array | undefined {
  const own = param(e, name);
  if (own !== undefined || !t?.enterParams || t.enterType !== e.type) return own;
  return param({ ...e, names: t.enterParams.names, params: t.enterParams.params }, name);
}

function openBits(e: RawEvent, t: ThreadInfo | undefined): EventState['open'] {
  const flags = e.type === 'creat' ? PPM_O_CREAT | PPM_O_WRONLY : uint(exitOrEnter(e, t, 'flags'));
  if (flags === undefined) return undefined;
  const mode = uint(exitOrEnter(e, t, 'mode')) ?? 0;
  const exec = (flags & (PPM_O_CREAT | PPM_O_TMPFILE)) !== 0 && (mode & PPM_S_IXANY) !== 0;
  return OPEN_BITS[(flags & PPM_O_RDONLY ? 1 : 0) | (flags & PPM_O_WRONLY ? 2 : 0) | (flags & PPM_O_CREAT ? 4 : 0) | (exec ? 8 : 0)];
}

/** The 16 answers openBits can give, made once (they are read, never changed). */
const OPEN_BITS: readonly NonNullable<EventState['open']>[] = Array.from({ length: 16 }, (_, i) =>
  Object.freeze({ read: (i & 1) !== 0, write: (i & 2) !== 0, create: (i & 4) !== 0, exec: (i & 8) !== 0 }),
);

function l4proto(type: number | undefined, proto: number | undefined): string | undefined {
  if (proto === 1 || proto === 58) return 'icmp';
  // The low bits are the socket type; SOCK_NONBLOCK and SOCK_CLOEXEC ride above them.
  switch (type === undefined ? undefined : type & 0xf) {
    case 1:
      return 'tcp';
    case 2:
      return 'udp';
    case 3:
      return 'raw';
    default:
      return undefined;
  }
}

function tupleKind(t: SockTuple): FdKind {
  return t.family === 'ipv4' ? 'ipv4' : t.family === 'ipv6' ? 'ipv6' : 'unix';
}

function sameFamily(f: FdEntry, t: SockTuple): boolean {
  return f.kind === tupleKind(t);
}

/** Socket tuples read client -> server for connect and accept alike (the driver orders them). */
function applyTuple(f: FdEntry, t: SockTuple, server: boolean): void {
  if (t.family === 'unix') {
    // libsinsp: both ends' kernel addresses in hex, then the path.
    f.name = `${t.src.toString(16)}->${t.dst.toString(16)} ${t.path}`;
    return;
  }
  if (t.family !== 'ipv4' && t.family !== 'ipv6') return;
  f.cip = t.src;
  f.cport = t.sport;
  f.sip = t.dst;
  f.sport = t.dport;
  f.l4proto ??= f.pendingL4 ?? 'tcp';
  f.isServer = server;
  f.name = `${t.src}:${t.sport}->${t.dst}:${t.dport}`;
}

function withSlash(p: string): string {
  return p.endsWith('/') ? p : `${p}/`;
}

/** Resolves a path against a directory and removes `.`, `..` and repeated slashes, as libsinsp does. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|.\/$/;

/** Absolute paths lately found normal (the same few files are opened again and again). */
const normalPaths = new Set<string>();

export function resolvePath(base: string | undefined, path: string): string {
  const full = path.startsWith('/') || base === undefined ? path : `${withSlash(base)}${path}`;
  if (!full.startsWith('/') || normalPaths.has(full)) return full;
  // Most paths are already normal: no empty, `.` or `..` components and no trailing slash.
  if (!NOT_NORMAL.test(full)) {
    if (full === path) {
      if (normalPaths.size >= 4096) normalPaths.clear();
      normalPaths.add(full);
    }
    return full;
  }
  const out: string[] = [];
  for (const part of full.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}
