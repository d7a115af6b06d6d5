// Reads the parameters the state engine needs straight from an event's raw parameter bytes (the
// layout .scap files and the probe share: little-endian integers, NUL-terminated strings, socket
// tuples), by name through the event table's parameter list. Rendering for output is the event
// model's job; this is only what keeps the state right.

import { formatIpv6, type ParamDesc } from '@harrier/events';

/** One syscall event as the state engine sees it. */
export interface RawEvent {
  readonly num: number;
  /** ns since the epoch. */
  readonly ts: bigint;
  readonly tid: number;
  readonly cpu: number;
  /** evt.type as Falco names it. */
  readonly type: string;
  readonly enter: boolean;
  /** Parameter names of this event code, from the event table. */
  readonly names: readonly string[];
  /** Parameter types and formats of this event code, for rendering (same order as `names`). */
  readonly descs?: readonly ParamDesc[] | undefined;
  /** The event table's flags for this code (EVENT_FLAGS); undefined for hand-built events. */
  readonly flags?: number | undefined;
  /** Raw bytes of each parameter present (older captures may carry fewer than `names`). */
  readonly params: readonly Uint8Array[];
}

const indexCache = new WeakMap<readonly string[], Map<string, number>>();

/** The raw bytes of a named parameter, or undefined when the event has none. */
export function param(e: RawEvent, name: string): Uint8Array | undefined {
  let idx = indexCache.get(e.names);
  if (!idx) {
    idx = new Map(e.names.map((n, i) => [n, i]));
    indexCache.set(e.names, idx);
  }
  const i = idx.get(name);
  return i === undefined ? undefined : e.params[i];
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A signed integer parameter of any width (1, 2, 4 or 8 bytes), read without allocating. */
export function int(b: Uint8Array | undefined): number | undefined {
  if (!b) return undefined;
  switch (b.length) {
    case 1:
      return (b[0]! << 24) >> 24;
    case 2:
      return ((b[0]! | (b[1]! << 8)) << 16) >> 16;
    case 4:
      return b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
    case 8: {
      const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      const hi = b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24);
      // Exact within ±2^53, which covers every tid, fd and result.
      return hi * 4294967296 + lo;
    }
    default:
      return undefined;
  }
}

/** An unsigned integer parameter of any width. */
export function uint(b: Uint8Array | undefined): number | undefined {
  if (!b) return undefined;
  switch (b.length) {
    case 1:
      return b[0]!;
    case 2:
      return b[0]! | (b[1]! << 8);
    case 4:
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    case 8: {
      const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
      return hi * 4294967296 + lo;
    }
    default:
      return undefined;
  }
}

export function bigUint(b: Uint8Array | undefined): bigint | undefined {
  if (!b || b.length !== 8) return b ? BigInt(uint(b) ?? 0) : undefined;
  return view(b).getBigUint64(0, true);
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** A string parameter: bytes up to the first NUL. */
export function str(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return decode(b.subarray(0, end));
}

function decode(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return utf8.decode(b);
  return latin1.decode(b);
}

/** A list of NUL-separated strings (args, env, cgroups). */
export function strList(b: Uint8Array | undefined): string[] | undefined {
  if (!b) return undefined;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      out.push(decode(b.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < b.length) out.push(decode(b.subarray(start)));
  return out;
}

export interface InetTuple {
  readonly family: 'inet' | 'inet6';
  readonly sip: string;
  readonly sport: number;
  readonly dip: string;
  readonly dport: number;
}

export interface UnixTuple {
  readonly family: 'unix';
  readonly source: bigint;
  readonly dest: bigint;
  readonly path: string;
}

export type SockTuple = InetTuple | UnixTuple;

/** libscap's address families. */
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

export function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** IPv6 text as libsinsp prints it (inet_ntop's form). */
export function ipv6(b: Uint8Array, at: number): string {
  return formatIpv6(b, at);
}

/** A socket tuple (connect, accept, sendto ... results). */
export function sockTuple(b: Uint8Array | undefined): SockTuple | undefined {
  if (!b || b.length < 1) return undefined;
  const v = view(b);
  switch (b[0]) {
    case AF_INET:
      if (b.length < 13) return undefined;
      return { family: 'inet', sip: ipv4(b, 1), sport: v.getUint16(5, true), dip: ipv4(b, 7), dport: v.getUint16(11, true) };
    case AF_INET6:
      if (b.length < 37) return undefined;
      return { family: 'inet6', sip: ipv6(b, 1), sport: v.getUint16(17, true), dip: ipv6(b, 19), dport: v.getUint16(35, true) };
    case AF_UNIX:
      if (b.length < 17) return undefined;
      return { family: 'unix', source: v.getBigUint64(1, true), dest: v.getBigUint64(9, true), path: str(b.subarray(17)) ?? '' };
    default:
      return undefined;
  }
}

export interface SockAddr {
  readonly family: 'inet' | 'inet6' | 'unix';
  readonly ip?: string;
  readonly port?: number;
  readonly path?: string;
}

/** A socket address (bind, connect's enter). */
export function sockAddr(b: Uint8Array | undefined): SockAddr | undefined {
  if (!b || b.length < 1) return undefined;
  const v = view(b);
  switch (b[0]) {
    case AF_INET:
      return b.length < 7 ? undefined : { family: 'inet', ip: ipv4(b, 1), port: v.getUint16(5, true) };
    case AF_INET6:
      return b.length < 19 ? undefined : { family: 'inet6', ip: ipv6(b, 1), port: v.getUint16(17, true) };
    case AF_UNIX:
      return { family: 'unix', path: str(b.subarray(1)) ?? '' };
    default:
      return undefined;
  }
}
