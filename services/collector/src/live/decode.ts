// Turns the probe's frames (probe/FORMAT.md) into RawEvents with libscap's parameter layout, so the
// state engine and the renderers treat live events exactly like events read from a capture. Each
// syscall's exit event takes every parameter the event table lists; a parameter is filled from the
// frame's registers, result and items by name.

import { eventCodes, eventInfo, EVENT_FLAGS, type EventInfo, type ParamDesc } from '@harrier/events';
import type { RawEvent } from '../state/params.js';
import { cloneFlags, encodeDev, fchownatFlags, fcntlCmd, fdFlags, mountFlags, openFlags, openMode, ptraceRequest } from './convert.js';
import { FRAME_HELLO, FRAME_PROCEXIT, FRAME_STATS, FRAME_SYSCALL, HEADER_SIZE, type Frame } from './frames.js';

/** x86_64 syscall numbers the probe traces (probe/src/syscalls.h; a test keeps the two in step). */
export const PROBE_SYSCALLS: Readonly<Record<number, string>> = {
  2: 'open', 3: 'close', 22: 'pipe', 32: 'dup', 33: 'dup2', 41: 'socket', 42: 'connect', 43: 'accept',
  44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 47: 'recvmsg', 49: 'bind', 50: 'listen', 53: 'socketpair',
  56: 'clone', 57: 'fork', 58: 'vfork', 59: 'execve', 72: 'fcntl', 80: 'chdir', 81: 'fchdir', 82: 'rename',
  83: 'mkdir', 84: 'rmdir', 85: 'creat', 86: 'link', 87: 'unlink', 88: 'symlink', 90: 'chmod', 91: 'fchmod',
  92: 'chown', 93: 'fchown', 94: 'lchown', 101: 'ptrace', 105: 'setuid', 106: 'setgid', 117: 'setresuid',
  119: 'setresgid', 157: 'prctl', 165: 'mount', 166: 'umount2', 175: 'init_module', 272: 'unshare',
  257: 'openat', 258: 'mkdirat', 260: 'fchownat', 263: 'unlinkat', 264: 'renameat', 265: 'linkat',
  266: 'symlinkat', 268: 'fchmodat', 288: 'accept4', 292: 'dup3', 293: 'pipe2', 308: 'setns',
  313: 'finit_module', 316: 'renameat2', 319: 'memfd_create', 321: 'bpf', 322: 'execveat',
  323: 'userfaultfd', 437: 'openat2', 435: 'clone3',
};

// Item tags (probe/src/harrier.h).
const I_USTR0 = 1;
const I_SOCKADDR = 10;
const I_TUPLE = 11;
const I_FILE = 12;
const I_UMEM = 13;
const I_EXEC = 20;
const I_ARGS = 21;
const I_ENV = 22;
const I_EXEPATH = 23;
const I_CWD = 24;
const I_CGROUP = 25;
const I_CGROUP2 = 26;
const I_FILE2 = 27;
/** The first bytes of a send's or receive's data (at most the probe's snaplen). */
const I_DATA = 28;
/** A successful accept's listening queue: struct hrr_backlog (len, max). */
const I_BACKLOG = 29;
const MAX_TAG = 32;

/**
 * Items with a fixed layout, by tag: their struct and its size in probe/src/harrier.h (a test
 * compiles the header to keep the two in step). FrameView.load() rejects an item shorter than
 * this, so the accessors read any of its fields without a check of their own, never past it.
 */
export const FIXED_ITEMS: Readonly<Record<number, { readonly type: string; readonly size: number }>> = {
  [I_TUPLE]: { type: 'hrr_tuple', size: 168 },
  [I_FILE]: { type: 'hrr_file', size: 32 },
  [I_FILE2]: { type: 'hrr_file', size: 32 },
  [I_EXEC]: { type: 'hrr_exec', size: 112 },
  [I_BACKLOG]: { type: 'hrr_backlog', size: 8 },
};
const ITEM_SIZE = new Int32Array(MAX_TAG);
for (const [tag, { size }] of Object.entries(FIXED_ITEMS)) ITEM_SIZE[Number(tag)] = size;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const FMODE_CREATED = 0x100000;

const SLAB_SIZE = 1 << 20;

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** The frame being decoded: header fields and where each item is. */
export class FrameView {
  bytes!: Uint8Array;
  view!: DataView;
  off = 0;
  len = 0;
  nr = 0;
  ret = 0;
  tid = 0;
  pid = 0;
  ppid = 0;
  uid = 0;
  gid = 0;
  loginuid = 0;
  vtid = 0;
  vpid = 0;
  /** Item offsets (absolute, in bytes) and lengths by tag; -1 when absent. */
  readonly itemOff = new Int32Array(MAX_TAG);
  readonly itemLen = new Int32Array(MAX_TAG);

  load(f: Frame): void {
    const v = f.view;
    const o = f.off;
    this.bytes = f.bytes;
    this.view = v;
    this.off = o;
    this.len = f.len;
    if (f.len < HEADER_SIZE) throw new DecodeError(`event frame of ${f.len} bytes is shorter than its ${HEADER_SIZE}-byte header`);
    this.nr = v.getUint16(o + 6, true);
    this.tid = v.getUint32(o + 16, true);
    this.pid = v.getUint32(o + 20, true);
    this.ppid = v.getUint32(o + 24, true);
    this.uid = v.getUint32(o + 28, true);
    this.gid = v.getUint32(o + 32, true);
    this.loginuid = v.getUint32(o + 36, true);
    this.vtid = v.getUint32(o + 60, true);
    this.vpid = v.getUint32(o + 64, true);
    this.ret = i64(v, o + 72);
    this.itemOff.fill(-1);
    let p = o + HEADER_SIZE;
    const end = o + f.len;
    // Every item must lie inside the frame, and one of a fixed layout must be whole: a short one
    // would have its accessor read the next item, or the next frame, as its own.
    while (p < end) {
      if (end - p < 4) throw new DecodeError(`item header cut at byte ${p - o} of a ${f.len}-byte frame`);
      const tag = v.getUint16(p, true);
      const len = v.getUint16(p + 2, true);
      if (p + 4 + len > end) throw new DecodeError(`item ${tag} of ${len} bytes overruns its ${f.len}-byte frame at byte ${p - o}`);
      if (tag < MAX_TAG) {
        if (len < ITEM_SIZE[tag]!) throw new DecodeError(`item ${tag} (struct ${FIXED_ITEMS[tag]!.type}) of ${len} bytes is shorter than its ${ITEM_SIZE[tag]} bytes, at byte ${p - o} of a ${f.len}-byte frame`);
        this.itemOff[tag] = p + 4;
        this.itemLen[tag] = len;
      }
      p += 4 + len;
    }
  }

  /** args[i] as a signed 32-bit int (fds, ints). */
  int(i: number): number {
    return this.view.getInt32(this.off + 80 + i * 8, true);
  }

  /** args[i]'s low 32 bits, unsigned (flags, modes, ids). */
  u32(i: number): number {
    return this.view.getUint32(this.off + 80 + i * 8, true);
  }

  /** args[i] as a 64-bit value (exact up to 2^53). */
  u64(i: number): number {
    const o = this.off + 80 + i * 8;
    return this.view.getUint32(o + 4, true) * 4294967296 + this.view.getUint32(o, true);
  }

  has(tag: number): boolean {
    return this.itemOff[tag]! >= 0;
  }

  item(tag: number): Uint8Array | undefined {
    const o = this.itemOff[tag]!;
    // The constructor makes a view for half what subarray costs.
    return o < 0 ? undefined : new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + o, this.itemLen[tag]);
  }

  /**
   * Where a raw user memory item starts (-1 when absent), once it is known to hold `need` bytes:
   * its layout depends on the syscall, so load() cannot check it. Throws DecodeError when short.
   */
  umem(need: number, what: string): number {
    const o = this.itemOff[I_UMEM]!;
    const len = this.itemLen[I_UMEM]!;
    if (o >= 0 && len < need) throw new DecodeError(`item ${I_UMEM} (${what}) of ${len} bytes is shorter than its ${need} bytes`);
    return o;
  }

  /** The user string of args[i], NUL included, when the probe could read it. */
  ustr(i: number): Uint8Array | undefined {
    return this.item(I_USTR0 + i);
  }

  // The fixed-layout accessors below read inside the item: load() checked its size (ITEM_SIZE).

  exec(field: number, size: 4): number;
  exec(field: number, size: 8): number | bigint;
  exec(field: number, size: 4 | 8): number | bigint {
    const o = this.itemOff[I_EXEC]!;
    if (o < 0) return 0;
    return size === 4 ? this.view.getUint32(o + field, true) : u64(this.view, o + field);
  }

  execBig(field: number): bigint {
    const o = this.itemOff[I_EXEC]!;
    return o < 0 ? 0n : this.view.getBigUint64(o + field, true);
  }

  /** The file item's inode number. */
  fileIno(tag: number): number | bigint {
    const o = this.itemOff[tag]!;
    return o < 0 ? 0 : u64(this.view, o);
  }

  file(tag: number, field: 'dev' | 'flags' | 'magic' | 'fmode'): number {
    const o = this.itemOff[tag]!;
    if (o < 0) return 0;
    const v = this.view;
    switch (field) {
      case 'dev':
        return v.getUint32(o + 8, true);
      case 'flags':
        return v.getUint32(o + 12, true);
      case 'magic':
        return v.getUint32(o + 16, true);
      case 'fmode':
        return v.getUint32(o + 24, true);
    }
  }
}

/** A u64 exactly: a number while it fits 2^53, else a bigint (overlayfs xino inode numbers). */
function u64(v: DataView, o: number): number | bigint {
  const hi = v.getUint32(o + 4, true);
  return hi <= 0x1fffff ? hi * 4294967296 + v.getUint32(o, true) : v.getBigUint64(o, true);
}

function i64(v: DataView, o: number): number {
  return v.getInt32(o + 4, true) * 4294967296 + v.getUint32(o, true);
}

// hrr_exec field offsets.
const X_CAP_INH = 0;
const X_CAP_PERM = 8;
const X_CAP_EFF = 16;
const X_EXE_INO = 24;
const X_CTIME = 32;
const X_MTIME = 40;
const X_PIDNS_START = 48;
const X_TTY = 56;
const X_FLAGS = 60;
const X_PGID = 64;
const X_VM_SIZE = 68;
const X_VM_RSS = 72;
const X_VM_SWAP = 76;
const X_FDLIMIT = 80;
const X_PGFT_MAJ = 88;
const X_PGFT_MIN = 96;
const X_EUID = 104;

type Value = number | bigint | Uint8Array | string | undefined;
type Getter = (f: FrameView) => Value;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What libsinsp gives for a path too long to build: no real path is mistaken for it. */
export const PATH_TOO_LONG = '/PATH_TOO_LONG';

/**
 * Path components (leaf first, NUL-terminated) as an absolute path. The probe ends a path it could
 * not walk to the top with an empty component: that path is PATH_TOO_LONG, not the leaf-side part
 * the probe got (which would look like a real, other path). An empty component first, then one
 * name, is a pseudo file's own name (a memfd's "memfd:NAME"), given as it is, as libscap gives it.
 */
export function joinComponents(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const parts = dec.decode(b).split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 2 && parts[0] === '' && parts[1] !== '') return parts[1];
  if (parts.length > 0 && parts[parts.length - 1] === '') return PATH_TOO_LONG;
  return `/${parts.reverse().join('/')}`;
}

/** argv[0] of the ARGS item, and the rest (libscap's exe and args). */
function argv0(f: FrameView): Uint8Array | undefined {
  const a = f.item(I_ARGS);
  if (!a) return undefined;
  const z = a.indexOf(0);
  return z < 0 ? a : a.subarray(0, z + 1);
}

function argsRest(f: FrameView): Uint8Array | undefined {
  const a = f.item(I_ARGS);
  if (!a) return undefined;
  const z = a.indexOf(0);
  return z < 0 ? new Uint8Array(0) : a.subarray(z + 1);
}

/**
 * The cgroups param. The cpuset hierarchy names the container on v1 and hybrid hosts; on a v2-only
 * host without the cpuset controller it is the root, and the unified path names it instead.
 */
function cgroups(f: FrameView): string | undefined {
  const v1 = joinComponents(f.item(I_CGROUP));
  const v2 = joinComponents(f.item(I_CGROUP2));
  const path = v1 === undefined || (v1 === '/' && v2 !== undefined) ? v2 : v1;
  return path === undefined ? undefined : `cpuset=${path}\0`;
}

/** A user sockaddr (kernel layout) in libscap's sockaddr param layout. */
export function scapSockaddr(raw: Uint8Array | undefined): Uint8Array | undefined {
  if (!raw || raw.length < 2) return undefined;
  const family = raw[0]! | (raw[1]! << 8);
  if (family === AF_INET && raw.length >= 8) {
    const out = new Uint8Array(7);
    out[0] = AF_INET;
    out.set(raw.subarray(4, 8), 1);
    out[5] = raw[3]!; // port: network order in, little-endian out
    out[6] = raw[2]!;
    return out;
  }
  if (family === AF_INET6 && raw.length >= 24) {
    const out = new Uint8Array(19);
    out[0] = AF_INET6;
    out.set(raw.subarray(8, 24), 1);
    out[17] = raw[3]!;
    out[18] = raw[2]!;
    return out;
  }
  if (family === AF_UNIX) {
    let path = raw.subarray(2);
    // Abstract sockets start with a NUL; libscap shows them with '@'.
    const z = path[0] === 0 ? path.indexOf(0, 1) : path.indexOf(0);
    if (z >= 0) path = path.subarray(0, z);
    const out = new Uint8Array(path.length + 2);
    out[0] = AF_UNIX;
    out.set(path, 1);
    if (out[1] === 0 && out.length > 2) out[1] = 0x40;
    return out;
  }
  const out = new Uint8Array(1);
  out[0] = family & 0xff;
  return out;
}

/**
 * The socket's tuple in libscap's socktuple layout. Outbound calls (connect, send) put the local
 * end first, inbound ones (accept, recv) the remote end. A remote end the socket does not know
 * (an unconnected datagram socket) comes from the call's own address when it has one.
 */
export function scapTuple(f: FrameView, inbound: boolean): Uint8Array | undefined {
  const o = f.itemOff[I_TUPLE]!;
  if (o < 0) return undefined;
  const b = f.bytes;
  const v = f.view;
  const family = b[o]!;
  const addr = scapSockaddr(f.item(I_SOCKADDR));
  if (family === AF_INET || family === AF_INET6) {
    const n = family === AF_INET ? 4 : 16;
    const local = b.subarray(o + 8, o + 8 + n);
    let remote = b.subarray(o + 24, o + 24 + n);
    const lport = v.getUint16(o + 2, true);
    let rport = v.getUint16(o + 4, true);
    if (rport === 0 && remote.every((x) => x === 0) && addr && addr[0] === family) {
      remote = addr.subarray(1, 1 + n);
      rport = addr[1 + n]! | (addr[2 + n]! << 8);
    }
    const out = new Uint8Array(1 + 2 * (n + 2));
    const ov = new DataView(out.buffer);
    out[0] = family;
    const [a1, p1, a2, p2] = inbound ? [remote, rport, local, lport] : [local, lport, remote, rport];
    out.set(a1, 1);
    ov.setUint16(1 + n, p1, true);
    out.set(a2, 3 + n);
    ov.setUint16(3 + 2 * n, p2, true);
    return out;
  }
  if (family === AF_UNIX) {
    let path = b.subarray(o + 56, o + 56 + 108);
    if (addr && addr[0] === AF_UNIX && addr.length > 1) path = addr.subarray(1);
    const z = path[0] === 0 ? path.indexOf(0, 1) : path.indexOf(0);
    if (z >= 0) path = path.subarray(0, z);
    const out = new Uint8Array(17 + path.length + 1);
    out[0] = AF_UNIX;
    out.set(b.subarray(o + 40, o + 48), 1); // this socket
    out.set(b.subarray(o + 48, o + 56), 9); // its peer
    out.set(path, 17);
    if (out[17] === 0 && path.length > 0) out[17] = 0x40;
    return out;
  }
  return undefined;
}

const ret: Getter = (f) => f.ret;
/** The listening queue's length (0) or limit (4); 0 without the item (a failed accept), as in libscap. */
const backlog = (field: 0 | 4): Getter => (f) => {
  const o = f.itemOff[I_BACKLOG]!;
  return o < 0 ? 0 : f.view.getUint32(o + field, true);
};
/** How full the queue is, in percent: libscap's integer division, kept to its u8. */
const queuepct: Getter = (f) => {
  const o = f.itemOff[I_BACKLOG]!;
  if (o < 0) return 0;
  const len = f.view.getUint32(o, true);
  const max = f.view.getUint32(o + 4, true);
  return len && max ? Math.floor((len * 100) / max) & 0xff : 0;
};
const ACCEPT: Record<string, Getter> = { fd: ret, tuple: (f) => scapTuple(f, true), queuepct, queuelen: backlog(0), queuemax: backlog(4) };
const arg = (i: number): Getter => (f) => f.int(i);
/** A send's or receive's data as far as the probe took it (its snaplen); absent when none moved. */
const data: Getter = (f) => f.item(I_DATA);
const u32 = (i: number): Getter => (f) => f.u32(i);
const str = (i: number): Getter => (f) => f.ustr(i);
const dev: Getter = (f) => encodeDev(f.file(I_FILE, 'dev'));
const ino: Getter = (f) => f.fileIno(I_FILE);
const openedFlags = (flagsArg: number): Getter => (f) => openFlags(f.u32(flagsArg), (f.file(I_FILE, 'fmode') & FMODE_CREATED) !== 0);

const PROCESS: Record<string, Getter> = {
  exe: argv0,
  args: argsRest,
  tid: (f) => f.tid,
  pid: (f) => f.pid,
  ptid: (f) => f.ppid,
  cwd: (f) => joinComponents(f.item(I_CWD)),
  fdlimit: (f) => f.exec(X_FDLIMIT, 8),
  pgft_maj: (f) => f.exec(X_PGFT_MAJ, 8),
  pgft_min: (f) => f.exec(X_PGFT_MIN, 8),
  vm_size: (f) => f.exec(X_VM_SIZE, 4),
  vm_rss: (f) => f.exec(X_VM_RSS, 4),
  vm_swap: (f) => f.exec(X_VM_SWAP, 4),
  comm: (f) => {
    const o = f.off + 128;
    const z = f.bytes.subarray(o, o + 16).indexOf(0);
    return f.bytes.subarray(o, o + (z < 0 ? 16 : z + 1));
  },
  cgroups,
  uid: (f) => (f.has(I_EXEC) ? f.exec(X_EUID, 4) : f.uid),
  gid: (f) => f.gid,
  vtid: (f) => f.vtid,
  vpid: (f) => f.vpid,
  pidns_init_start_ts: (f) => f.exec(X_PIDNS_START, 8),
  env: (f) => f.item(I_ENV),
  tty: (f) => f.exec(X_TTY, 4),
  pgid: (f) => f.exec(X_PGID, 4),
  loginuid: (f) => f.loginuid,
  cap_inheritable: (f) => f.execBig(X_CAP_INH),
  cap_permitted: (f) => f.execBig(X_CAP_PERM),
  cap_effective: (f) => f.execBig(X_CAP_EFF),
  exe_ino: (f) => f.exec(X_EXE_INO, 8),
  exe_ino_ctime: (f) => f.execBig(X_CTIME),
  exe_ino_mtime: (f) => f.execBig(X_MTIME),
  trusted_exepath: (f) => joinComponents(f.item(I_EXEPATH)),
};

const cloneSpec = (flags: Getter): Record<string, Getter> => ({ ...PROCESS, res: ret, flags });
const execSpec = (): Record<string, Getter> => ({
  ...PROCESS,
  res: ret,
  // A failed exec leaves the caller's image: its exe is the path it asked for.
  exe: (f) => (f.ret < 0 ? (f.ustr(f.nr === 322 ? 1 : 0) ?? argv0(f)) : argv0(f)),
  flags: (f) => {
    const x = f.exec(X_FLAGS, 4);
    // HRR_EXE_UPPER_LAYER 1, FROM_MEMFD 2, WRITABLE 4 -> PPM_EXE_WRITABLE b0, UPPER_LAYER b1, FROM_MEMFD b2
    return (x & 4 ? 1 : 0) | (x & 1 ? 2 : 0) | (x & 2 ? 4 : 0);
  },
});
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_GET_CHILD_SUBREAPER = 37;
const isNameOption = (f: FrameView): boolean => f.int(0) === PR_SET_NAME || f.int(0) === PR_GET_NAME;
const OPEN_HOW_SIZE = 24;
const pipeFd = (which: 0 | 1): Getter => (f) => {
  const o = f.umem(8, 'int[2]');
  return o < 0 ? -1 : f.view.getInt32(o + which * 4, true);
};

/** Per syscall: how each parameter of its exit event is filled (names not listed default to 0/empty). */
const SPECS: Readonly<Record<string, Record<string, Getter>>> = {
  open: { fd: ret, name: str(0), flags: openedFlags(1), mode: (f) => openMode(f.u32(1), f.u32(2)), dev, ino },
  creat: { fd: ret, name: str(0), mode: (f) => f.u32(1) & 0o7777, dev, ino, flags: (f) => openFlags(0o1101, (f.file(I_FILE, 'fmode') & FMODE_CREATED) !== 0) },
  openat: { fd: ret, dirfd: arg(0), name: str(1), flags: openedFlags(2), mode: (f) => openMode(f.u32(2), f.u32(3)), dev, ino },
  openat2: {
    fd: ret,
    dirfd: arg(0),
    name: str(1),
    // struct open_how: u64 flags, mode, resolve.
    flags: (f) => {
      const o = f.umem(OPEN_HOW_SIZE, 'struct open_how');
      return openFlags(o < 0 ? 0 : f.view.getUint32(o, true), (f.file(I_FILE, 'fmode') & FMODE_CREATED) !== 0);
    },
    mode: (f) => {
      const o = f.umem(OPEN_HOW_SIZE, 'struct open_how');
      return o < 0 ? 0 : openMode(f.view.getUint32(o, true), f.view.getUint32(o + 8, true));
    },
    resolve: (f) => {
      const o = f.umem(OPEN_HOW_SIZE, 'struct open_how');
      return o < 0 ? 0 : f.view.getUint32(o + 16, true) & 0x3f;
    },
    dev,
    ino,
  },
  close: { res: ret, fd: arg(0) },
  dup: { res: ret, fd: ret, oldfd: arg(0) },
  dup2: { res: ret, fd: ret, oldfd: arg(0), newfd: arg(1) },
  dup3: { res: ret, fd: ret, oldfd: arg(0), newfd: arg(1), flags: (f) => fdFlags(f.u32(2)) },
  fcntl: { res: ret, fd: arg(0), cmd: (f) => fcntlCmd(f.int(1)) },
  pipe: { res: ret, fd1: pipeFd(0), fd2: pipeFd(1), ino: (f) => f.fileIno(I_FILE) },
  pipe2: { res: ret, fd1: pipeFd(0), fd2: pipeFd(1), ino: (f) => f.fileIno(I_FILE), flags: (f) => fdFlags(f.u32(1)) },
  socketpair: {
    res: ret,
    fd1: pipeFd(0),
    fd2: pipeFd(1),
    source: (f) => (f.has(I_TUPLE) ? f.view.getBigUint64(f.itemOff[I_TUPLE]! + 40, true) : 0n),
    peer: (f) => (f.has(I_TUPLE) ? f.view.getBigUint64(f.itemOff[I_TUPLE]! + 48, true) : 0n),
    domain: u32(0),
    type: u32(1),
    proto: u32(2),
  },
  socket: { fd: ret, domain: u32(0), type: u32(1), proto: u32(2) },
  connect: { res: ret, tuple: (f) => scapTuple(f, false), fd: arg(0), addr: (f) => scapSockaddr(f.item(I_SOCKADDR)) },
  bind: { res: ret, addr: (f) => scapSockaddr(f.item(I_SOCKADDR)), fd: arg(0) },
  listen: { res: ret, fd: arg(0), backlog: arg(1) },
  accept: ACCEPT,
  accept4: { ...ACCEPT, flags: arg(3) },
  sendto: { res: ret, data, fd: arg(0), size: u32(2), tuple: (f) => scapTuple(f, false) },
  sendmsg: { res: ret, data, fd: arg(0), tuple: (f) => scapTuple(f, false) },
  recvfrom: { res: ret, data, fd: arg(0), size: u32(2), tuple: (f) => scapTuple(f, true) },
  recvmsg: { res: ret, data, fd: arg(0), size: (f) => Math.max(0, f.ret), tuple: (f) => scapTuple(f, true) },
  chdir: { res: ret, path: str(0) },
  fchdir: { res: ret, fd: arg(0) },
  unlink: { res: ret, path: str(0) },
  unlinkat: { res: ret, dirfd: arg(0), name: str(1), flags: (f) => f.u32(2) & 0x200 },
  rename: { res: ret, oldpath: str(0), newpath: str(1) },
  renameat: { res: ret, olddirfd: arg(0), oldpath: str(1), newdirfd: arg(2), newpath: str(3) },
  renameat2: { res: ret, olddirfd: arg(0), oldpath: str(1), newdirfd: arg(2), newpath: str(3), flags: (f) => f.u32(4) & 7 },
  mkdir: { res: ret, path: str(0), mode: u32(1) },
  mkdirat: { res: ret, dirfd: arg(0), path: str(1), mode: u32(2) },
  rmdir: { res: ret, path: str(0) },
  symlink: { res: ret, target: str(0), linkpath: str(1) },
  symlinkat: { res: ret, target: str(0), linkdirfd: arg(1), linkpath: str(2) },
  link: { res: ret, oldpath: str(0), newpath: str(1) },
  linkat: { res: ret, olddir: arg(0), oldpath: str(1), newdir: arg(2), newpath: str(3), flags: (f) => f.u32(4) & 0x1400 },
  chmod: { res: ret, filename: str(0), mode: (f) => f.u32(1) & 0o7777 },
  fchmod: { res: ret, fd: arg(0), mode: (f) => f.u32(1) & 0o7777 },
  fchmodat: { res: ret, dirfd: arg(0), filename: str(1), mode: (f) => f.u32(2) & 0o7777 },
  chown: { res: ret, path: str(0), uid: u32(1), gid: u32(2) },
  lchown: { res: ret, path: str(0), uid: u32(1), gid: u32(2) },
  fchown: { res: ret, fd: arg(0), uid: u32(1), gid: u32(2) },
  fchownat: { res: ret, dirfd: arg(0), pathname: str(1), uid: u32(2), gid: u32(3), flags: (f) => fchownatFlags(f.u32(4)) },
  setuid: { res: ret, uid: u32(0) },
  setgid: { res: ret, gid: u32(0) },
  setresuid: { res: ret, ruid: u32(0), euid: u32(1), suid: u32(2) },
  setresgid: { res: ret, rgid: u32(0), egid: u32(1), sgid: u32(2) },
  setns: { res: ret, fd: arg(0), nstype: (f) => cloneFlags(f.u32(1)) },
  unshare: { res: ret, flags: (f) => cloneFlags(f.u32(0)) },
  mount: { res: ret, dev: str(0), dir: str(1), type: str(2), flags: (f) => mountFlags(f.u32(3)) },
  umount2: { res: ret, name: str(0), flags: (f) => f.u32(1) & 0xf },
  ptrace: {
    res: ret,
    request: (f) => ptraceRequest(f.int(0)),
    pid: arg(1),
    // dyn params: index 0 (uint64) for addresses and data.
    addr: (f) => dynU64(f.u64(2)),
    data: (f) => dynU64(f.u64(3)),
  },
  init_module: { res: ret, length: (f) => f.u64(1), uargs: str(2) },
  finit_module: { res: ret, fd: arg(0), uargs: str(1), flags: (f) => f.u32(2) & 7 },
  bpf: { fd: ret, res: ret, cmd: arg(0) },
  memfd_create: { fd: ret, name: str(0), flags: (f) => f.u32(1) & 7 },
  userfaultfd: { res: ret, flags: (f) => fdFlags(f.u32(0)) },
  // libscap's prctl exit: the name for PR_SET_NAME and PR_GET_NAME (read after the call: the one
  // got), the int PR_GET_CHILD_SUBREAPER wrote at arg2, else arg2 itself.
  prctl: {
    res: ret,
    option: arg(0),
    arg2_str: (f) => (isNameOption(f) ? f.ustr(1) : undefined),
    arg2_int: (f) => {
      if (isNameOption(f)) return 0;
      if (f.int(0) === PR_GET_CHILD_SUBREAPER) {
        const o = f.umem(4, 'int');
        return o < 0 ? 0 : f.view.getInt32(o, true);
      }
      return f.view.getBigInt64(f.off + 88, true);
    },
  },
  execve: execSpec(),
  execveat: { ...execSpec(), dirfd: arg(0), pathname: str(1) },
  clone: cloneSpec((f) => cloneFlags(f.u32(0))),
  clone3: {
    ...cloneSpec((f) => {
      const o = f.umem(8, 'clone_args.flags');
      return o < 0 ? 0 : cloneFlags(f.view.getUint32(o, true));
    }),
  },
  fork: cloneSpec(() => 0),
  vfork: cloneSpec(() => cloneFlags(0x4000 | 0x100)),
};

function dynU64(x: number): Uint8Array {
  const out = new Uint8Array(9);
  const dv = new DataView(out.buffer);
  out[0] = 0;
  dv.setUint32(1, x >>> 0, true);
  dv.setUint32(5, Math.floor(x / 4294967296) >>> 0, true);
  return out;
}

interface Plan {
  readonly info: EventInfo;
  readonly names: readonly string[];
  readonly descs: readonly ParamDesc[];
  readonly getters: readonly (Getter | undefined)[];
  /** Byte size of each fixed-size param; 0 for variable-size ones. */
  readonly sizes: Int32Array;
  /** Variable-size params that are C strings (a JS string value gets its NUL). */
  readonly cstring: readonly boolean[];
}

/** The current (not OLD_VERSION) event of a name and direction. */
function currentEvent(name: string, dir: '<' | '>'): EventInfo | undefined {
  for (const c of eventCodes(name, dir)) {
    const i = eventInfo(c);
    if (i && !(i.flags & EVENT_FLAGS.OLD_VERSION)) return i;
  }
  return undefined;
}

function plan(info: EventInfo, spec: Record<string, Getter>): Plan {
  return {
    info,
    names: info.params.map((p) => p.name),
    descs: info.params.map((p) => ({ type: p.type, format: p.format, ...(p.info !== undefined ? { info: p.info } : {}) })),
    getters: info.params.map((p) => spec[p.name]),
    sizes: Int32Array.from(info.params.map((p) => FIXED[p.type] ?? 0)),
    cstring: info.params.map((p) => p.type === 'charbuf' || p.type === 'fspath' || p.type === 'fsrelpath'),
  };
}

const FIXED: Partial<Record<string, number>> = {
  int8: 1, uint8: 1, sigtype: 1, l4proto: 1, sockfamily: 1, flags8: 1, enumflags8: 1, bool: 1,
  int16: 2, uint16: 2, syscallid: 2, port: 2, flags16: 2, enumflags16: 2,
  int32: 4, uint32: 4, uid: 4, gid: 4, mode: 4, sigset: 4, flags32: 4, enumflags32: 4, ipv4addr: 4,
  int64: 8, uint64: 8, errno: 8, fd: 8, pid: 8, reltime: 8, abstime: 8, double: 8,
};

export interface DecoderStats {
  events: number;
  procexits: number;
  /** Frames of an unknown kind or syscall, or malformed: reported and skipped. */
  malformed: number;
  unknownSyscall: number;
}

export interface ProbeStats {
  readonly seen: number;
  readonly sent: number;
  readonly dropped: number;
  readonly excluded: number;
  readonly frames: number;
  readonly bytes: number;
  readonly attached: number;
}

/** A close exit's numbers (FrameDecoder.readClose). */
export interface ClosedFd {
  tid: number;
  /** ns since the epoch. */
  ts: bigint;
  fd: number;
  res: number;
}

const NR_CLOSE = 3;

/** A plan's event kept for reuse: the object, its params array and views over fixed places. */
interface Reused {
  readonly event: { -readonly [K in keyof RawEvent]: RawEvent[K] };
  readonly params: Uint8Array[];
  readonly dv: DataView;
  /** Where each fixed-size param lives in `dv`'s buffer. */
  readonly offs: Int32Array;
}

const EMPTY = new Uint8Array(0);

function reusable(p: Plan, enter: boolean): Reused {
  const offs = new Int32Array(p.sizes.length);
  let total = 0;
  for (let i = 0; i < p.sizes.length; i++) {
    offs[i] = total;
    total += p.sizes[i]!;
  }
  const buf = new ArrayBuffer(Math.max(8, total));
  const params = Array.from(p.sizes, (size, i) => (size > 0 ? new Uint8Array(buf, offs[i], size) : EMPTY));
  const event = { num: 0, ts: 0n, tid: 0, cpu: 0, type: p.info.name, enter, names: p.names, descs: p.descs, flags: p.info.flags, params };
  return { event, params, dv: new DataView(buf), offs };
}

export interface FrameDecoderOptions {
  /**
   * Reuse one event per syscall: no allocation per event or param, and string params point into
   * the frame instead of being copied. The event decode() returns, its params and their bytes
   * then hold only until the next decode() (libscap's rule for its event buffer): a consumer that
   * keeps anything copies it. Off by default: each event is its own.
   */
  readonly reuse?: boolean;
}

/** Decodes frames; keeps the clock offset from the HELLO frame. */
export class FrameDecoder {
  private readonly plans = new Map<number, Plan>();
  private readonly procexit: Plan | undefined;
  private readonly fv = new FrameView();
  private slab = new Uint8Array(SLAB_SIZE);
  private slabView = new DataView(this.slab.buffer);
  private slabPos = 0;
  private bootEpoch = 0n;

  /** Boot time in ns since the epoch, from the probe's header frame (0 before it). */
  get bootEpochNs(): bigint {
    return this.bootEpoch;
  }
  private num = 0;
  readonly stats: DecoderStats = { events: 0, procexits: 0, malformed: 0, unknownSyscall: 0 };
  /** The probe's latest counters. */
  probe: ProbeStats | undefined;
  hello: { version: number; ncpus: number; pid: number } | undefined;
  /** The close exit readClose() read last. */
  readonly closed: ClosedFd = { tid: 0, ts: 0n, fd: 0, res: 0 };

  private readonly reuse: boolean;
  /** Per plan, when reusing. */
  private readonly reused = new Map<Plan, Reused>();

  constructor(opts: FrameDecoderOptions = {}) {
    this.reuse = opts.reuse === true;
    for (const [nr, name] of Object.entries(PROBE_SYSCALLS)) {
      const info = currentEvent(name, '<');
      const spec = SPECS[name];
      if (info && spec) this.plans.set(Number(nr), plan(info, spec));
    }
    const pe = currentEvent('procexit', '>');
    this.procexit = pe
      ? plan(pe, {
          status: (f) => f.ret,
          ret: (f) => (f.ret & 0x7f ? 0 : (f.ret >> 8) & 0xff),
          sig: (f) => f.ret & 0x7f,
          core: (f) => (f.ret & 0x80 ? 1 : 0),
          // The probe's args[0]: who takes the exiting thread's children (0 none, -1 unknown).
          reaper_tid: (f) => f.int(0),
        })
      : undefined;
  }

  /**
   * A close exit read straight from its frame, without building an event: tid, time, fd and
   * result land in `closed` (one object, reused). False for any other frame, which then goes
   * through decode(). Throws DecodeError for a close frame shorter than its header.
   */
  readClose(f: Frame): boolean {
    if (f.kind !== FRAME_SYSCALL || f.view.getUint16(f.off + 6, true) !== NR_CLOSE) return false;
    const v = f.view;
    const o = f.off;
    if (f.len < HEADER_SIZE) throw new DecodeError(`event frame of ${f.len} bytes is shorter than its ${HEADER_SIZE}-byte header`);
    this.stats.events++;
    this.num++;
    const c = this.closed;
    c.tid = v.getUint32(o + 16, true);
    c.ts = v.getBigUint64(o + 8, true) + this.bootEpoch;
    c.fd = v.getInt32(o + 80, true);
    c.res = i64(v, o + 72);
    return true;
  }

  /** Syscall names the decoder can turn into events. */
  syscalls(): string[] {
    return [...this.plans.keys()].map((nr) => PROBE_SYSCALLS[nr]!);
  }

  /**
   * One frame: a RawEvent for event frames, undefined for the loader's own frames (their content
   * lands in `hello`/`probe`). Throws DecodeError for a malformed event frame.
   */
  decode(f: Frame): RawEvent | undefined {
    switch (f.kind) {
      case FRAME_SYSCALL: {
        this.fv.load(f);
        const p = this.plans.get(this.fv.nr);
        if (!p) {
          this.stats.unknownSyscall++;
          return undefined;
        }
        const e = this.build(p, false);
        this.stats.events++;
        return e;
      }
      case FRAME_PROCEXIT: {
        if (!this.procexit) return undefined;
        this.fv.load(f);
        const e = this.build(this.procexit, true);
        this.stats.procexits++;
        return e;
      }
      case FRAME_HELLO: {
        const v = f.view;
        const o = f.off;
        if (f.len < 32) throw new DecodeError(`hello frame of ${f.len} bytes (expected 32)`);
        this.bootEpoch = v.getBigUint64(o + 16, true);
        this.hello = { version: v.getUint16(o + 6, true), ncpus: v.getUint32(o + 24, true), pid: v.getUint32(o + 28, true) };
        return undefined;
      }
      case FRAME_STATS: {
        const v = f.view;
        const o = f.off;
        if (f.len < 72) throw new DecodeError(`stats frame of ${f.len} bytes (expected 72)`);
        const n = (x: number): number => Number(v.getBigUint64(o + x, true));
        this.probe = { attached: v.getUint16(o + 6, true), seen: n(16), sent: n(24), dropped: n(32), excluded: n(40), frames: n(48), bytes: n(56) };
        return undefined;
      }
      default:
        this.stats.malformed++;
        throw new DecodeError(`frame of unknown kind ${f.kind}`);
    }
  }

  private build(p: Plan, enter: boolean): RawEvent {
    if (this.reuse) return this.buildReused(p, enter);
    const f = this.fv;
    const n = p.getters.length;
    const getters = p.getters;
    const sizes = p.sizes;
    // Params live in a shared slab: a fresh ArrayBuffer per event costs more than the whole
    // rest of decoding. A slab stays alive while any event still points into it. Each param is
    // written where it lands, in one pass; one that does not fit starts a new slab (an event's
    // params need not share one).
    let data = this.slab;
    let dv = this.slabView;
    let w = this.slabPos;
    const params = new Array<Uint8Array>(n);
    for (let i = 0; i < n; i++) {
      const g = getters[i];
      let v = g === undefined ? undefined : g(f);
      const size = sizes[i]!;
      let len: number;
      if (size > 0) len = size;
      else if (v instanceof Uint8Array) len = v.length;
      else if (typeof v === 'string') {
        v = enc.encode(p.cstring[i] ? `${v}\0` : v);
        len = v.length;
      } else len = 0;
      if (w + len > data.length) {
        data = this.slab = new Uint8Array(Math.max(SLAB_SIZE, len));
        dv = this.slabView = new DataView(data.buffer);
        w = 0;
      }
      if (size > 0) writeFixed(dv, w, size, v);
      else if (len > 0) data.set(v as Uint8Array, w);
      params[i] = new Uint8Array(data.buffer, w, len);
      w += len;
    }
    this.slabPos = w;
    const ts = f.view.getBigUint64(f.off + 8, true) + this.bootEpoch;
    return {
      num: ++this.num,
      ts,
      tid: f.tid,
      cpu: 0,
      type: p.info.name,
      enter,
      names: p.names,
      descs: p.descs,
      flags: p.info.flags,
      params,
    };
  }

  /** build() into the plan's reused event: fixed params written in place, the rest pointed at. */
  private buildReused(p: Plan, enter: boolean): RawEvent {
    let r = this.reused.get(p);
    if (r === undefined) this.reused.set(p, (r = reusable(p, enter)));
    const f = this.fv;
    const getters = p.getters;
    const sizes = p.sizes;
    const params = r.params;
    for (let i = 0; i < getters.length; i++) {
      const g = getters[i];
      const v = g === undefined ? undefined : g(f);
      const size = sizes[i]!;
      if (size > 0) writeFixed(r.dv, r.offs[i]!, size, v);
      else if (v instanceof Uint8Array) params[i] = v;
      else if (typeof v === 'string') params[i] = enc.encode(p.cstring[i] ? `${v}\0` : v);
      else params[i] = EMPTY;
    }
    const e = r.event;
    e.num = ++this.num;
    e.ts = f.view.getBigUint64(f.off + 8, true) + this.bootEpoch;
    e.tid = f.tid;
    return e;
  }
}

function writeFixed(sv: DataView, w: number, size: number, v: Value): void {
  if (size === 8) {
    if (typeof v === 'bigint') sv.setBigUint64(w, BigInt.asUintN(64, v), true);
    else {
      const n = typeof v === 'number' ? v : 0;
      const hi = Math.floor(n / 4294967296);
      sv.setUint32(w, (n - hi * 4294967296) >>> 0, true);
      sv.setUint32(w + 4, hi >>> 0, true);
    }
    return;
  }
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : 0;
  if (size === 4) sv.setUint32(w, n >>> 0, true);
  else if (size === 2) sv.setUint16(w, n & 0xffff, true);
  else sv.setUint8(w, n & 0xff);
}
