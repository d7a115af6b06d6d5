// Reads the parameters the state engine needs straight from an event's raw parameter bytes (the
// layout .scap files and the probe share: little-endian integers, NUL-terminated strings, socket
// tuples), by name through the event table's parameter list. Rendering for output is the event
// model's job; this is only what keeps the state right.

import { decodeParam, type ParamDesc, type SockAddr, type SockTuple } from '@harrier/events';

export type { SockAddr, SockTuple };

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
// The last names list looked up: an event's params are read one after another.
let lastNames: readonly string[] | undefined;
let lastIndex: Map<string, number> | undefined;

/** The raw bytes of a named parameter, or undefined when the event has none. */
export function param(e: RawEvent, name: string): Uint8Array | undefined {
  let idx: Map<string, number> | undefined;
  if (e.names === lastNames) idx = lastIndex!;
  else {
    idx = indexCache.get(e.names);
    if (!idx) {
      idx = new Map(e.names.map((n, i) => [n, i]));
      indexCache.set(e.names, idx);
    }
    lastNames = e.names;
    lastIndex = idx;
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

/** A bigint as a number while that is exact. */
export function exactNumber(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** An unsigned integer param exactly: a number while it fits 2^53, else a bigint (inode numbers). */
export function exactUint(b: Uint8Array | undefined): number | bigint | undefined {
  if (b?.length !== 8) return uint(b);
  const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  return hi <= 0x1fffff ? uint(b) : view(b).getBigUint64(0, true);
}

export function bigUint(b: Uint8Array | undefined): bigint | undefined {
  if (!b || b.length !== 8) return b ? BigInt(uint(b) ?? 0) : undefined;
  return view(b).getBigUint64(0, true);
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

// Strings decoded lately, by a hash of their bytes: paths and names come back again and again,
// and a lookup costs less than decoding (the same string object also hashes once in Maps).
const MEMO_SLOTS = 4096;
const MEMO_MAX = 256;
const memoBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MEMO_SLOTS).fill(undefined);
const memoText: string[] = new Array<string>(MEMO_SLOTS).fill('');

/** A string parameter: bytes up to the first NUL. */
export function str(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const n = b.length;
  let h = 0x811c9dc5;
  let end = 0;
  for (; end < n && end < MEMO_MAX; end++) {
    const c = b[end]!;
    if (c === 0) break;
    h = Math.imul(h ^ c, 0x01000193);
  }
  if (end === MEMO_MAX) {
    // Long: decoded every time.
    let z = b.indexOf(0, end);
    if (z < 0) z = n;
    return decode(b.subarray(0, z));
  }
  const slot = (h >>> 0) & (MEMO_SLOTS - 1);
  const known = memoBytes[slot];
  if (known !== undefined && known.length === end) {
    let i = 0;
    while (i < end && known[i] === b[i]) i++;
    if (i === end) return memoText[slot]!;
  }
  const text = decode(b.subarray(0, end));
  memoBytes[slot] = b.slice(0, end);
  memoText[slot] = text;
  return text;
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

const SOCKTUPLE: ParamDesc = { type: 'socktuple', format: 'na' };
const SOCKADDR: ParamDesc = { type: 'sockaddr', format: 'na' };

/** A socket tuple (connect, accept, sendto ... results); undefined when absent or malformed. */
export function sockTuple(b: Uint8Array | undefined): SockTuple | undefined {
  if (!b || b.length === 0) return undefined;
  try {
    const v = decodeParam(SOCKTUPLE, b) as SockTuple;
    return v.family === 'ipv4' || v.family === 'ipv6' || v.family === 'unix' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A socket address (bind, connect's enter); undefined when absent or malformed. */
export function sockAddr(b: Uint8Array | undefined): SockAddr | undefined {
  if (!b || b.length === 0) return undefined;
  try {
    const v = decodeParam(SOCKADDR, b) as SockAddr;
    return v.family === 'ipv4' || v.family === 'ipv6' || v.family === 'unix' ? v : undefined;
  } catch {
    return undefined;
  }
}
