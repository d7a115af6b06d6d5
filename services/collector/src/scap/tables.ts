// Decoders for the metadata blocks of a .scap capture (machine info, process list, fd list, user
// list, interface list), through a bounds-checked cursor: every read is checked against the end of
// its block, so a corrupt length becomes a ScapError, never a RangeError or a read past the block.

import { formatIpv6 } from '@harrier/events';
import { ScapError, type ScapErrorCode } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A read position inside one block's body. */
export class Cursor {
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    private readonly view: DataView,
    start: number,
    /** End of the readable region (exclusive). */
    public end: number,
    readonly block: string,
    readonly blockType: number,
    readonly blockOffset: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(what: string, code: ScapErrorCode = 'CORRUPT', at = this.pos): never {
    throw new ScapError(what, { code, block: this.block, blockType: this.blockType, blockOffset: this.blockOffset, offset: at });
  }

  private need(n: number, what: string): number {
    if (n > this.end - this.pos) {
      this.fail(`${what} needs ${n} bytes but only ${this.end - this.pos} are left in the block`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what: string): number {
    return this.view.getUint8(this.need(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  i32(what: string): number {
    return this.view.getInt32(this.need(4, what), true);
  }
  u64(what: string): bigint {
    return this.view.getBigUint64(this.need(8, what), true);
  }
  /** A signed 64-bit value as a number (tids, fds, limits: always in the safe range in practice). */
  i64n(what: string): number {
    return Number(this.view.getBigInt64(this.need(8, what), true));
  }
  u64n(what: string): number {
    return Number(this.view.getBigUint64(this.need(8, what), true));
  }
  bytes(n: number, what: string): Uint8Array {
    const at = this.need(n, what);
    return this.buf.subarray(at, at + n);
  }
  skip(n: number, what: string): void {
    this.need(n, what);
  }
  /** A string with a 16-bit length prefix, cut at the first NUL as libscap's C strings are. */
  str16(what: string): string {
    return cString(this.bytes(this.u16(`${what} length`), what));
  }
  /** A 16-bit-length NUL-separated list (args, env, cgroups). */
  list16(what: string): string[] {
    return splitNul(this.bytes(this.u16(`${what} length`), what));
  }
}

export function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return utf8.decode(nul < 0 ? b : b.subarray(0, nul));
}

function splitNul(b: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      out.push(utf8.decode(b.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < b.length) out.push(utf8.decode(b.subarray(start)));
  return out;
}

function ipv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

// ---------------------------------------------------------------------------------------------
// Machine info

export interface ScapMachineInfo {
  readonly numCpus: number;
  readonly memorySizeBytes: bigint;
  readonly maxPid: bigint;
  readonly hostname: string;
  /** Boot time (ns since the epoch) in newer captures; 0 or absent in older ones (a reserved field). */
  readonly bootTsEpoch?: bigint | undefined;
  readonly flags?: bigint | undefined;
}

export function readMachineInfo(c: Cursor): ScapMachineInfo {
  const numCpus = c.u32('num_cpus');
  const memorySizeBytes = c.u64('memory_size_bytes');
  const maxPid = c.u64('max_pid');
  const hostname = cString(c.bytes(128, 'hostname'));
  const bootTsEpoch = c.remaining >= 8 ? c.u64('boot_ts_epoch') : undefined;
  const flags = c.remaining >= 8 ? c.u64('flags') : undefined;
  return { numCpus, memorySizeBytes, maxPid, hostname, bootTsEpoch, flags };
}

// ---------------------------------------------------------------------------------------------
// Process list

/** One thread from a process list block; fields a block version lacks are undefined. */
export interface ScapProcess {
  /** Process list block version (1..9). */
  readonly version: number;
  readonly tid: number;
  readonly pid: number;
  readonly ptid: number;
  readonly sid?: number | undefined;
  readonly vpgid?: number | undefined;
  readonly pgid?: number | undefined;
  readonly comm: string;
  readonly exe: string;
  readonly exepath?: string | undefined;
  /** Arguments after argv[0]. */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly fdlimit: number;
  /** PPM_CL_* thread flags. */
  readonly flags: number;
  readonly uid: number;
  readonly gid: number;
  readonly vmsizeKb?: number | undefined;
  readonly vmrssKb?: number | undefined;
  readonly vmswapKb?: number | undefined;
  readonly pfMajor?: bigint | undefined;
  readonly pfMinor?: bigint | undefined;
  readonly env?: readonly string[] | undefined;
  readonly vtid?: number | undefined;
  readonly vpid?: number | undefined;
  /** `subsystem=path` entries. */
  readonly cgroups?: readonly string[] | undefined;
  readonly root?: string | undefined;
  /** Start time (ns since the epoch) of the pid namespace's init. */
  readonly pidnsInitStartTs?: bigint | undefined;
  /** Controlling terminal (device number), 0 for none. */
  readonly tty?: number | undefined;
  /** Audit login uid (-1 when unset). */
  readonly loginuid?: number | undefined;
  readonly exeWritable?: boolean | undefined;
  readonly capInheritable?: bigint | undefined;
  readonly capPermitted?: bigint | undefined;
  readonly capEffective?: bigint | undefined;
  readonly exeUpperLayer?: boolean | undefined;
  readonly exeLowerLayer?: boolean | undefined;
  readonly exeFromMemfd?: boolean | undefined;
  readonly exeIno?: bigint | undefined;
  /** ns since the epoch. */
  readonly exeInoCtime?: bigint | undefined;
  readonly exeInoMtime?: bigint | undefined;
}

/** Process list block types and their versions. */
export const PROCESS_LIST_VERSIONS: ReadonlyMap<number, number> = new Map([
  [0x202, 1], [0x8000abcd, 1],
  [0x207, 2], [0x8013abcd, 2],
  [0x209, 3], [0x8014abcd, 3],
  [0x210, 4], [0x211, 5], [0x212, 6], [0x213, 7], [0x214, 8], [0x215, 9],
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function readProcessList(c: Cursor, version: number, out: ScapProcess[]): void {
  // Entries follow each other up to the block's padding (fewer than 4 bytes), as libscap reads them.
  while (c.remaining >= 4) {
    const start = c.pos;
    const subLen = version >= 9 ? c.u32('entry length') : 0;
    if (version >= 9 && (subLen < 4 || subLen > c.end - start)) {
      c.fail(`process entry length ${subLen} does not fit the ${c.end - start} bytes left in the block`, 'CORRUPT', start);
    }
    const entryEnd = version >= 9 ? start + subLen : c.end;
    const blockEnd = c.end;
    c.end = entryEnd;
    const p: Mutable<ScapProcess> = {
      version,
      tid: c.i64n('tid'),
      pid: c.i64n('pid'),
      ptid: c.i64n('ptid'),
      comm: '',
      exe: '',
      args: [],
      cwd: '',
      fdlimit: 0,
      flags: 0,
      uid: 0,
      gid: 0,
    };
    if (version >= 6) p.sid = c.i64n('sid');
    if (version >= 8) p.vpgid = c.i64n('vpgid');
    p.comm = c.str16('comm');
    p.exe = c.str16('exe');
    if (version >= 7) p.exepath = c.str16('exepath');
    p.args = c.list16('args');
    p.cwd = c.str16('cwd');
    p.fdlimit = c.i64n('fdlimit');
    p.flags = c.u32('flags');
    p.uid = c.u32('uid');
    p.gid = c.u32('gid');
    if (version >= 2) {
      p.vmsizeKb = c.u32('vmsize_kb');
      p.vmrssKb = c.u32('vmrss_kb');
      p.vmswapKb = c.u32('vmswap_kb');
      p.pfMajor = c.u64('pfmajor');
      p.pfMinor = c.u64('pfminor');
      if (version >= 3) p.env = c.list16('env');
      if (version >= 4) {
        p.vtid = c.i64n('vtid');
        p.vpid = c.i64n('vpid');
        p.cgroups = c.list16('cgroups');
        if (version >= 5) p.root = c.str16('root');
      }
    }
    if (version >= 9) {
      // Fields appended over time: present when the entry is long enough for them.
      const has = (n: number) => c.remaining >= n;
      // libs 0.10 inserted pidns_init_start_ts and tty before the fields older writers already
      // appended (loginuid, exe_writable, 3 capability sets: 29 bytes); tell them apart by length.
      if (c.remaining > 29) {
        if (has(8)) p.pidnsInitStartTs = c.u64('pidns_init_start_ts');
        if (has(4)) p.tty = c.u32('tty');
      }
      if (has(4)) p.loginuid = c.i32('loginuid');
      if (has(1)) p.exeWritable = c.u8('exe_writable') !== 0;
      if (has(8)) p.capInheritable = c.u64('cap_inheritable');
      if (has(8)) p.capPermitted = c.u64('cap_permitted');
      if (has(8)) p.capEffective = c.u64('cap_effective');
      if (has(1)) p.exeUpperLayer = c.u8('exe_upper_layer') !== 0;
      if (has(8)) p.exeIno = c.u64('exe_ino');
      if (has(8)) p.exeInoCtime = c.u64('exe_ino_ctime');
      if (has(8)) p.exeInoMtime = c.u64('exe_ino_mtime');
      if (has(1)) p.exeFromMemfd = c.u8('exe_from_memfd') !== 0;
      if (has(1)) p.exeLowerLayer = c.u8('exe_lower_layer') !== 0;
      if (has(8)) p.pgid = c.i64n('pgid');
      c.pos = entryEnd;
    }
    c.end = blockEnd;
    out.push(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Fd list

/** scap_fd_type names, by number. */
export const SCAP_FD_KINDS = [
  'unknown', 'file', 'directory', 'ipv4', 'ipv6', 'ipv4_server', 'ipv6_server', 'fifo', 'unix', 'event',
  'unsupported', 'signalfd', 'eventpoll', 'inotify', 'timerfd', 'netlink', 'file_v2', 'bpf', 'userfaultfd',
  'io_uring', 'memfd', 'pidfd',
] as const;

export type ScapFdKind = (typeof SCAP_FD_KINDS)[number];

/** One fd of a process, from an fd list block. Which fields are set depends on `kind`. */
export interface ScapFd {
  readonly fd: number;
  readonly ino: bigint;
  /** scap_fd_type number. */
  readonly type: number;
  readonly kind: ScapFdKind;
  /** Path (files and most kinds), socket path (unix). */
  readonly name?: string | undefined;
  /** file_v2: PPM_O_* open flags. */
  readonly openFlags?: number | undefined;
  /** file_v2: device number, when the entry carries it. */
  readonly dev?: number | undefined;
  /** ipv4/ipv6 connected sockets. */
  readonly sip?: string | undefined;
  readonly dip?: string | undefined;
  readonly sport?: number | undefined;
  readonly dport?: number | undefined;
  /** ipv4_server/ipv6_server. */
  readonly ip?: string | undefined;
  readonly port?: number | undefined;
  /** scap_l4_proto: 0 unknown, 1 n/a, 2 tcp, 3 udp, 4 icmp, 5 raw. */
  readonly l4proto?: number | undefined;
  /** unix: kernel addresses of both ends. */
  readonly source?: bigint | undefined;
  readonly destination?: bigint | undefined;
}

export const FD_LIST_V2 = 0x218;

export function readFdList(c: Cursor, v2: boolean, out: Map<number, ScapFd[]>): void {
  const tid = c.i64n('tid');
  let list = out.get(tid);
  if (!list) {
    list = [];
    out.set(tid, list);
  }
  while (c.remaining >= 4) {
    const start = c.pos;
    const subLen = v2 ? c.u32('entry length') : 0;
    if (v2 && (subLen < 4 || subLen > c.end - start)) {
      c.fail(`fd entry length ${subLen} does not fit the ${c.end - start} bytes left in the block`, 'CORRUPT', start);
    }
    const blockEnd = c.end;
    if (v2) c.end = start + subLen;
    const fd = c.i64n('fd');
    const ino = c.u64('ino');
    const typeAt = c.pos;
    const type = c.u8('fd type');
    const kind = SCAP_FD_KINDS[type];
    if (kind === undefined) c.fail(`unknown fd type ${type}`, 'CORRUPT', typeAt);
    let e: ScapFd = { fd, ino, type, kind };
    switch (kind) {
      case 'ipv4':
        e = { ...e, sip: ipv4(c.bytes(4, 'sip')), dip: ipv4(c.bytes(4, 'dip')), sport: c.u16('sport'), dport: c.u16('dport'), l4proto: c.u8('l4proto') };
        break;
      case 'ipv4_server':
        e = { ...e, ip: ipv4(c.bytes(4, 'ip')), port: c.u16('port'), l4proto: c.u8('l4proto') };
        break;
      case 'ipv6':
        e = { ...e, sip: formatIpv6(c.bytes(16, 'sip')), dip: formatIpv6(c.bytes(16, 'dip')), sport: c.u16('sport'), dport: c.u16('dport'), l4proto: c.u8('l4proto') };
        break;
      case 'ipv6_server':
        e = { ...e, ip: formatIpv6(c.bytes(16, 'ip')), port: c.u16('port'), l4proto: c.u8('l4proto') };
        break;
      case 'unix':
        e = { ...e, source: c.u64('source'), destination: c.u64('destination'), name: c.str16('name') };
        break;
      case 'file_v2': {
        const openFlags = c.u32('open_flags');
        const name = c.str16('name');
        const dev = v2 && c.remaining >= 4 ? c.u32('dev') : undefined;
        e = { ...e, openFlags, name, dev };
        break;
      }
      case 'unknown':
        break;
      default:
        e = { ...e, name: c.str16('name') };
    }
    if (v2) {
      c.pos = start + subLen;
      c.end = blockEnd;
    }
    list.push(e);
  }
}

// ---------------------------------------------------------------------------------------------
// User list

export interface ScapUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly homedir: string;
  readonly shell: string;
}

export interface ScapGroup {
  readonly gid: number;
  readonly name: string;
}

export const USER_LIST_V2 = 0x220;

export function readUserList(c: Cursor, v2: boolean, users: ScapUser[], groups: ScapGroup[]): void {
  while (c.remaining >= 4) {
    const start = c.pos;
    const subLen = v2 ? c.u32('entry length') : 0;
    if (v2 && (subLen < 5 || subLen > c.end - start)) {
      c.fail(`user entry length ${subLen} does not fit the ${c.end - start} bytes left in the block`, 'CORRUPT', start);
    }
    const blockEnd = c.end;
    if (v2) c.end = start + subLen;
    const type = c.u8('entry type');
    if (type === 0) {
      users.push({ uid: c.u32('uid'), gid: c.u32('gid'), name: c.str16('name'), homedir: c.str16('homedir'), shell: c.str16('shell') });
    } else {
      // libscap reads every non-user entry as a group.
      groups.push({ gid: c.u32('gid'), name: c.str16('name') });
    }
    if (v2) {
      c.pos = start + subLen;
      c.end = blockEnd;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Interface list

export interface ScapIpv4Interface {
  readonly name: string;
  readonly addr: string;
  readonly netmask: string;
  readonly bcast: string;
  /** Absent in the older "no link speed" entries. */
  readonly linkspeed?: bigint | undefined;
}

export interface ScapIpv6Interface {
  readonly name: string;
  readonly addr: string;
  readonly netmask: string;
  readonly bcast: string;
  readonly linkspeed?: bigint | undefined;
}

export interface ScapInterfaces {
  readonly v4: ScapIpv4Interface[];
  readonly v6: ScapIpv6Interface[];
}

export const INTERFACE_LIST_V2 = 0x219;

export function readInterfaceList(c: Cursor, v2: boolean, out: ScapInterfaces): void {
  while (c.remaining >= 4) {
    const start = c.pos;
    let entryEnd = -1;
    const blockEnd = c.end;
    if (v2) {
      // The V2 entry length does not count its own 4 bytes.
      const len = c.u32('entry length');
      if (len > c.remaining) c.fail(`interface entry length ${len} does not fit the ${c.remaining} bytes left in the block`, 'CORRUPT', start);
      entryEnd = c.pos + len;
      c.end = entryEnd;
    }
    const typeAt = c.pos;
    const type = c.u16('interface type');
    const nameLen = c.u16('interface name length');
    if (type === 1 || type === 3) {
      const addr = ipv4(c.bytes(4, 'addr'));
      const netmask = ipv4(c.bytes(4, 'netmask'));
      const bcast = ipv4(c.bytes(4, 'bcast'));
      const linkspeed = type === 1 ? c.u64('linkspeed') : undefined;
      out.v4.push({ name: cString(c.bytes(nameLen, 'name')), addr, netmask, bcast, linkspeed });
    } else if (type === 2 || type === 4) {
      const addr = formatIpv6(c.bytes(16, 'addr'));
      const netmask = formatIpv6(c.bytes(16, 'netmask'));
      const bcast = formatIpv6(c.bytes(16, 'bcast'));
      const linkspeed = type === 2 ? c.u64('linkspeed') : undefined;
      out.v6.push({ name: cString(c.bytes(nameLen, 'name')), addr, netmask, bcast, linkspeed });
    } else {
      c.fail(`unknown interface type ${type}`, 'CORRUPT', typeAt);
    }
    if (v2) {
      c.pos = entryEnd;
      c.end = blockEnd;
    }
  }
}
