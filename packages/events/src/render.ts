// Decoding of event parameter values from their raw little-endian .scap bytes, and rendering of
// them as libsinsp prints them in `%evt.args` (`3(<f>/etc/passwd)`) and `%evt.arg.NAME`
// (`<f>/etc/passwd`). Only the context-free part is computed here; anything that needs process or
// fd state (fd names, comm of a pid, user names, cwd-relative paths) comes through RenderContext.
import { ERRNO_NAMES, FLAG_TABLES, L4_PROTO_NAMES, SIGNAL_NAMES, SOCKET_FAMILY_NAMES } from './flags.js';
import type { NameTable } from './flags.js';

/** libscap's ppm_param_type, lower case without the PT_ prefix. */
export type ParamType =
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'charbuf' | 'bytebuf' | 'errno' | 'sockaddr' | 'socktuple' | 'fd' | 'pid' | 'fdlist'
  | 'fspath' | 'syscallid' | 'sigtype' | 'reltime' | 'abstime' | 'port' | 'l4proto'
  | 'sockfamily' | 'bool' | 'ipv4addr' | 'dyn' | 'flags8' | 'flags16' | 'flags32' | 'uid'
  | 'gid' | 'double' | 'sigset' | 'charbufarray' | 'charbuf_pair_array' | 'ipv4net'
  | 'ipv6addr' | 'ipv6net' | 'ipaddr' | 'ipnet' | 'mode' | 'fsrelpath'
  | 'enumflags8' | 'enumflags16' | 'enumflags32';

/** libscap's ppm_print_format, lower case without the PF_ prefix. */
export type PrintFormat = 'na' | 'dec' | 'hex' | '10_padded_dec' | 'id' | 'dir' | 'oct';

/**
 * What rendering needs to know about a parameter. `info` is, for flag, enum and mode params, the
 * name of a libscap name table (a key of FLAG_TABLES); for `dyn` params, the name of a dynamic
 * parameter table (a key of DYN_PARAM_TABLES); for fsrelpath, the index of its dirfd param.
 */
export interface ParamDesc {
  readonly type: ParamType;
  readonly format: PrintFormat;
  readonly info?: string | number;
}

/** The alternatives of a `dyn` param, selected by the param's first byte. */
export type DynAlternatives = readonly ParamDesc[];

/** libscap's dynamic parameter tables (driver/dynamic_params_table.c), by C identifier. */
export const DYN_PARAM_TABLES: Readonly<Record<string, DynAlternatives>> = {
  sockopt_dynamic_param: [
    { type: 'bytebuf', format: 'na' },
    { type: 'errno', format: 'dec' },
    { type: 'uint32', format: 'dec' },
    { type: 'uint64', format: 'dec' },
    { type: 'reltime', format: 'dec' },
  ],
  ptrace_dynamic_param: [
    { type: 'uint64', format: 'hex' },
    { type: 'sigtype', format: 'dec' },
  ],
  bpf_dynamic_param: [
    { type: 'fd', format: 'dec' },
    { type: 'errno', format: 'dec' },
  ],
};

/** A 64-bit integer: a number when it is a safe integer, a bigint otherwise. */
export type Int64 = number | bigint;

export type SockAddr =
  | { readonly family: 'ipv4' | 'ipv6'; readonly addr: string; readonly port: number }
  | { readonly family: 'unix'; readonly path: string }
  /** A family libsinsp does not decode (`code` is the family byte). */
  | { readonly family: 'other'; readonly code: number }
  /** An AF_INET/AF_INET6 payload of the wrong length. */
  | { readonly family: 'invalid'; readonly code: number };

export type SockTuple =
  | {
      readonly family: 'ipv4' | 'ipv6';
      readonly src: string;
      readonly sport: number;
      readonly dst: string;
      readonly dport: number;
    }
  /** AF_UNIX: the kernel socket addresses of both ends and the path. */
  | { readonly family: 'unix'; readonly src: bigint; readonly dst: bigint; readonly path: string }
  | { readonly family: 'other'; readonly code: number }
  | { readonly family: 'invalid'; readonly code: number };

export interface FdListEntry {
  readonly fd: Int64;
  /** PPM poll flags, as the signed 16-bit value the driver stores. */
  readonly events: number;
}

export interface IpNet {
  readonly addr: string;
  readonly prefix: number;
}

export interface DynValue {
  /** The selector byte. */
  readonly index: number;
  /** The selected alternative, undefined when the index is out of range. */
  readonly desc: ParamDesc | undefined;
  readonly value: ParamValue;
}

/** A decoded parameter value. `null` is an empty (zero-length) parameter. */
export type ParamValue =
  | null
  | number
  | bigint
  | string
  | boolean
  | Uint8Array
  | SockAddr
  | SockTuple
  | IpNet
  | DynValue
  | readonly FdListEntry[]
  | readonly string[]
  | readonly (readonly [string, string])[];

/**
 * State the engine can supply to decorate a rendering. Every member is optional; without it the
 * context-free text is produced (for uid/gid that is libsinsp's `<NA>`).
 */
export interface RenderContext {
  /** `<typechar[l4]>name` for an open fd, e.g. `<f>/etc/passwd` or `<4t>127.0.0.1:1->10.0.0.1:80`. */
  fdName?(fd: Int64): string | undefined;
  /** The fd type character used in fdlists (`f`, `4`, `6`, `u`, `e`, ...); `?` when unknown. */
  fdTypeChar?(fd: Int64): string | undefined;
  /** The comm of a thread, for pid params. */
  comm?(tid: Int64): string | undefined;
  userName?(uid: number): string | undefined;
  groupName?(gid: number): string | undefined;
  syscallName?(id: number): string | undefined;
  /** The absolute form of a relative fspath/fsrelpath (the engine knows the cwd and dirfds). */
  resolvePath?(path: string, desc: ParamDesc): string | undefined;
  /** libsinsp's max event output length for byte buffers (0 or absent: no limit). */
  maxBufLen?: number;
  /** abstime params render in local time like libsinsp; `utc` makes output host-independent. */
  timeZone?: 'local' | 'utc';
}

/** The two strings libsinsp produces per param: the value and its resolved form (may be ''). */
export interface RenderedParam {
  readonly text: string;
  readonly resolved: string;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const textDecoder = new TextDecoder('utf-8', { fatal: false });

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function int64(v: bigint): Int64 {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function need(bytes: Uint8Array, n: number, type: ParamType): void {
  if (bytes.length < n) {
    throw new RangeError(`param of type ${type} needs ${n} bytes, got ${bytes.length}`);
  }
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return textDecoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Consecutive NUL-terminated strings (a trailing unterminated one counts too). */
function cStrings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0, start);
    if (end < 0) end = bytes.length;
    out.push(textDecoder.decode(bytes.subarray(start, end)));
    start = end + 1;
  }
  return out;
}

function ipv4String(b: Uint8Array, off: number): string {
  return `${b[off] ?? 0}.${b[off + 1] ?? 0}.${b[off + 2] ?? 0}.${b[off + 3] ?? 0}`;
}

/** IPv6 text exactly as glibc's inet_ntop writes it (RFC 5952 compression, embedded IPv4 forms). */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else {
      curBase = -1;
      curLen = 0;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += ipv4String(b, off + 12);
      break;
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

function prefixLength(mask: Uint8Array): number {
  let n = 0;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      if ((byte >> bit) & 1) n++;
      else return n;
    }
  }
  return n;
}

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

function decodeSockAddr(bytes: Uint8Array): SockAddr {
  const family = bytes[0] ?? 0;
  const dv = view(bytes);
  if (family === AF_UNIX) return { family: 'unix', path: cString(bytes.subarray(1)) };
  if (family === AF_INET) {
    if (bytes.length !== 7) return { family: 'invalid', code: family };
    return { family: 'ipv4', addr: ipv4String(bytes, 1), port: dv.getUint16(5, true) };
  }
  if (family === AF_INET6) {
    if (bytes.length !== 19) return { family: 'invalid', code: family };
    return { family: 'ipv6', addr: formatIpv6(bytes, 1), port: dv.getUint16(17, true) };
  }
  return { family: 'other', code: family };
}

function decodeSockTuple(bytes: Uint8Array): SockTuple {
  const family = bytes[0] ?? 0;
  const dv = view(bytes);
  if (family === AF_INET) {
    if (bytes.length !== 13) return { family: 'invalid', code: family };
    return {
      family: 'ipv4',
      src: ipv4String(bytes, 1),
      sport: dv.getUint16(5, true),
      dst: ipv4String(bytes, 7),
      dport: dv.getUint16(11, true),
    };
  }
  if (family === AF_INET6) {
    if (bytes.length !== 37) return { family: 'invalid', code: family };
    return {
      family: 'ipv6',
      src: formatIpv6(bytes, 1),
      sport: dv.getUint16(17, true),
      dst: formatIpv6(bytes, 19),
      dport: dv.getUint16(35, true),
    };
  }
  if (family === AF_UNIX) {
    if (bytes.length < 17) return { family: 'invalid', code: family };
    return {
      family: 'unix',
      src: dv.getBigUint64(1, true),
      dst: dv.getBigUint64(9, true),
      path: cString(bytes.subarray(17)),
    };
  }
  return { family: 'other', code: family };
}

function decodeFdList(bytes: Uint8Array): FdListEntry[] {
  need(bytes, 2, 'fdlist');
  const dv = view(bytes);
  const n = dv.getUint16(0, true);
  need(bytes, 2 + n * 10, 'fdlist');
  const out: FdListEntry[] = [];
  for (let i = 0, pos = 2; i < n; i++, pos += 10) {
    out.push({ fd: int64(dv.getBigInt64(pos, true)), events: dv.getInt16(pos + 8, true) });
  }
  return out;
}

function decodeIp(bytes: Uint8Array, type: ParamType): string {
  if (bytes.length === 4) return ipv4String(bytes, 0);
  if (bytes.length === 16) return formatIpv6(bytes, 0);
  throw new RangeError(`param of type ${type} needs 4 or 16 bytes, got ${bytes.length}`);
}

function decodeIpNet(bytes: Uint8Array, type: ParamType): IpNet {
  const half = bytes.length / 2;
  if (half !== 4 && half !== 16) {
    throw new RangeError(`param of type ${type} needs 8 or 32 bytes, got ${bytes.length}`);
  }
  return { addr: decodeIp(bytes.subarray(0, half), type), prefix: prefixLength(bytes.subarray(half)) };
}

function dynAlternatives(desc: ParamDesc, alternatives?: DynAlternatives): DynAlternatives | undefined {
  if (alternatives) return alternatives;
  return typeof desc.info === 'string' ? DYN_PARAM_TABLES[desc.info] : undefined;
}

/**
 * Decodes one parameter's raw bytes (little-endian, as a .scap event block stores them). For `dyn`
 * params the alternatives come from `alternatives`, else from DYN_PARAM_TABLES[desc.info].
 * Throws RangeError when a fixed-size payload is too short.
 */
export function decodeParam(desc: ParamDesc, bytes: Uint8Array, alternatives?: DynAlternatives): ParamValue {
  if (bytes.length === 0) return null;
  const { type } = desc;
  const dv = view(bytes);
  switch (type) {
    case 'int8':
      return dv.getInt8(0);
    case 'int16':
      need(bytes, 2, type);
      return dv.getInt16(0, true);
    case 'int32':
      need(bytes, 4, type);
      return dv.getInt32(0, true);
    case 'int64':
    case 'errno':
    case 'fd':
    case 'pid':
      need(bytes, 8, type);
      return int64(dv.getBigInt64(0, true));
    case 'uint8':
    case 'sigtype':
    case 'l4proto':
    case 'sockfamily':
    case 'flags8':
    case 'enumflags8':
      return dv.getUint8(0);
    case 'uint16':
    case 'syscallid':
    case 'port':
    case 'flags16':
    case 'enumflags16':
      need(bytes, 2, type);
      return dv.getUint16(0, true);
    case 'uint32':
    case 'uid':
    case 'gid':
    case 'mode':
    case 'sigset':
    case 'flags32':
    case 'enumflags32':
      need(bytes, 4, type);
      return dv.getUint32(0, true);
    case 'uint64':
    case 'reltime':
    case 'abstime':
      need(bytes, 8, type);
      return int64(dv.getBigUint64(0, true));
    case 'bool':
      return bytes.some((x) => x !== 0);
    case 'double':
      need(bytes, 8, type);
      return dv.getFloat64(0, true);
    case 'charbuf':
    case 'fspath':
    case 'fsrelpath':
      return cString(bytes);
    case 'bytebuf':
      return bytes;
    case 'sockaddr':
      return decodeSockAddr(bytes);
    case 'socktuple':
      return decodeSockTuple(bytes);
    case 'fdlist':
      return decodeFdList(bytes);
    case 'charbufarray':
      return cStrings(bytes);
    case 'charbuf_pair_array': {
      const parts = cStrings(bytes);
      const pairs: (readonly [string, string])[] = [];
      for (let i = 0; i < parts.length; i += 2) pairs.push([parts[i] ?? '', parts[i + 1] ?? '']);
      return pairs;
    }
    case 'ipv4addr':
      need(bytes, 4, type);
      return ipv4String(bytes, 0);
    case 'ipv6addr':
      need(bytes, 16, type);
      return formatIpv6(bytes, 0);
    case 'ipaddr':
      return decodeIp(bytes, type);
    case 'ipv4net':
      need(bytes, 8, type);
      return decodeIpNet(bytes.subarray(0, 8), type);
    case 'ipv6net':
      need(bytes, 32, type);
      return decodeIpNet(bytes.subarray(0, 32), type);
    case 'ipnet':
      return decodeIpNet(bytes, type);
    case 'dyn': {
      const index = bytes[0] ?? 0;
      const alt = dynAlternatives(desc, alternatives)?.[index];
      if (!alt) return { index, desc: undefined, value: bytes.subarray(1) };
      return { index, desc: alt, value: decodeParam(alt, bytes.subarray(1)) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

const TYPE_BITS: Partial<Record<ParamType, number>> = {
  int8: 8, int16: 16, int32: 32, int64: 64,
  uint8: 8, uint16: 16, uint32: 32, uint64: 64,
  errno: 64, mode: 32,
};

/**
 * libsinsp prints integers through printf with the param's format: `%#o` for oct, `%X` for hex,
 * `%09d` for 10_padded_dec, `%d` otherwise. Its choice of conversions has visible quirks that are
 * kept: uint32 and uint64 print as signed in decimal (PRId32/PRId64), and hex/octal of a negative
 * 8/16/32-bit value shows the 32-bit two's complement (C promotes to int).
 */
function formatInteger(value: bigint, type: ParamType, format: PrintFormat): string {
  const bits = TYPE_BITS[type] ?? 64;
  if (format === 'hex' || format === 'oct') {
    const u = BigInt.asUintN(Math.max(bits, 32), value);
    if (format === 'hex') return u.toString(16).toUpperCase();
    return u === 0n ? '0' : `0${u.toString(8)}`;
  }
  // uint8/uint16 are promoted to int unchanged; every other width prints signed.
  const dec = bits < 32 ? value : BigInt.asIntN(bits, value);
  if (format === '10_padded_dec') {
    const digits = (dec < 0n ? -dec : dec).toString().padStart(dec < 0n ? 8 : 9, '0');
    return dec < 0n ? `-${digits}` : digits;
  }
  return dec.toString();
}

/** C's `%g` (6 significant digits, shortest of fixed/exponent, trailing zeros removed). */
export function formatG(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const exp = Number(x.toExponential(5).split('e')[1]);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= 6) {
    const [mant = '0', e = '0'] = x.toExponential(5).split('e');
    const en = Number(e);
    return `${strip(mant)}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(5 - exp));
}

function isPrint(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/** Byte buffers: printable ASCII kept, everything else a dot (libsinsp's default buffer format). */
export function bytesToDots(bytes: Uint8Array): string {
  let s = '';
  for (const c of bytes) s += isPrint(c) ? String.fromCharCode(c) : '.';
  return s;
}

/** Drops control characters from paths, as libsinsp's sanitizer does. */
function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, '');
}

function toBig(v: ParamValue, type: ParamType): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw new TypeError(`a ${type} param needs an integer value`);
}

function flagTable(desc: ParamDesc): NameTable | undefined {
  return typeof desc.info === 'string' ? FLAG_TABLES[desc.info] : undefined;
}

/**
 * Flag names the way libsinsp's walk of the table produces them: in table order, each entry whose
 * bits are all still set is taken and its bits cleared (so O_RDWR wins over O_RDONLY|O_WRONLY); a
 * zero entry only matches a zero value; an entry equal to the whole value ends the walk and is
 * taken. Enum params (enumflags*) take the first entry equal to the value: libs added those types
 * for exact matching (sysdig 0.29.3 still declared them as flags; the walk gives the same names).
 */
export function flagNames(table: NameTable, value: number, exact: boolean): string[] {
  if (exact) {
    const hit = table.find(([, v]) => v === value);
    return hit ? [hit[0]] : [];
  }
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, v] of table) {
    if (v === value) {
      names.push(name);
      break;
    }
    const bits = v >>> 0;
    if ((bits === 0 && value === 0) || (bits !== 0 && rest !== 0 && (rest & bits) >>> 0 === bits)) {
      names.push(name);
      rest = (rest & ~bits) >>> 0;
    }
  }
  return names;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * abstime: libsinsp formats `%Y-%m-%d %H:%M:%S.` in local time and then writes the nanoseconds
 * with a 9-byte snprintf at offset 20, which keeps 8 of the 9 digits and cuts off the ` %z` that
 * strftime had put after them. The output reproduces that.
 */
function formatAbsTime(ns: bigint, timeZone: 'local' | 'utc'): string {
  const sec = ns / 1_000_000_000n;
  const nsec = ns % 1_000_000_000n;
  const d = new Date(Number(sec) * 1000);
  const utc = timeZone === 'utc';
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const mo = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const da = utc ? d.getUTCDate() : d.getDate();
  const h = utc ? d.getUTCHours() : d.getHours();
  const mi = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const frac = nsec.toString().padStart(9, '0').slice(0, 8);
  return `${y}-${pad2(mo)}-${pad2(da)} ${pad2(h)}:${pad2(mi)}:${pad2(s)}.${frac}`;
}

function endpoint(addr: string, port: number): string {
  return `${addr}:${port}`;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/;

function renderSockTuple(t: SockTuple): string {
  switch (t.family) {
    case 'ipv4':
      return `${endpoint(t.src, t.sport)}->${endpoint(t.dst, t.dport)}`;
    case 'ipv6': {
      // A tuple whose two ends are both IPv4-mapped prints as an IPv4 tuple.
      const s4 = MAPPED_V4.exec(t.src)?.[1];
      const d4 = MAPPED_V4.exec(t.dst)?.[1];
      if (s4 !== undefined && d4 !== undefined) return `${endpoint(s4, t.sport)}->${endpoint(d4, t.dport)}`;
      return `${endpoint(t.src, t.sport)}->${endpoint(t.dst, t.dport)}`;
    }
    case 'unix':
      return `${t.src.toString(16)}->${t.dst.toString(16)} ${sanitize(t.path)}`;
    case 'invalid':
      return t.code === AF_INET ? 'INVALID IPv4' : 'INVALID IPv6';
    case 'other':
      return `family ${t.code}`;
  }
}

function renderSockAddr(a: SockAddr): string {
  switch (a.family) {
    case 'ipv4':
    case 'ipv6':
      return endpoint(a.addr, a.port);
    case 'unix':
      return sanitize(a.path);
    case 'invalid':
      return a.code === AF_INET ? 'INVALID IPv4' : 'INVALID IPv6';
    case 'other':
      return `family ${a.code}`;
  }
}

function asString(v: ParamValue, type: ParamType): string {
  if (typeof v !== 'string') throw new TypeError(`a ${type} param needs a string value`);
  return v;
}

function isObject(v: ParamValue): v is Exclude<ParamValue, null | number | bigint | string | boolean> {
  return typeof v === 'object' && v !== null;
}

function asValue(desc: ParamDesc, input: Uint8Array | ParamValue, alternatives?: DynAlternatives): ParamValue {
  if (input instanceof Uint8Array && desc.type !== 'bytebuf') return decodeParam(desc, input, alternatives);
  if (input instanceof Uint8Array && input.length === 0) return null;
  return input;
}

const EMPTY_AS_BLANK: ReadonlySet<ParamType> = new Set(['bytebuf', 'charbuf', 'charbufarray', 'charbuf_pair_array', 'fspath', 'fsrelpath']);

function parts(text: string, resolved = ''): RenderedParam {
  return { text, resolved };
}

/**
 * Renders a parameter (raw bytes or a decoded value) into libsinsp's value text and resolved
 * text. `%evt.args` shows `text(resolved)` (or `text` when resolved is empty); `%evt.arg.NAME`
 * shows `resolved` when non-empty, else `text`.
 */
export function renderParamParts(
  desc: ParamDesc,
  input: Uint8Array | ParamValue,
  ctx: RenderContext = {},
  alternatives?: DynAlternatives,
): RenderedParam {
  const v = asValue(desc, input, alternatives);
  // An empty buffer or string shows as nothing (sysdig: `data= `, `cwd= `); other empty params as NULL.
  if (v === null) return parts(EMPTY_AS_BLANK.has(desc.type) ? '' : 'NULL');
  return renderValue(desc, desc.format, v, ctx);
}

function renderValue(desc: ParamDesc, format: PrintFormat, v: ParamValue, ctx: RenderContext): RenderedParam {
  const { type } = desc;
  switch (type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return parts(formatInteger(toBig(v, type), type, format));
    case 'errno': {
      // sysdig prints errno params in their declared format (mmap's res is hex), so do we.
      const n = BigInt.asIntN(64, toBig(v, type));
      const name = n < 0n ? ERRNO_NAMES[-Number(BigInt.asIntN(32, n))] : undefined;
      return parts(formatInteger(n, type, format), name ?? '');
    }
    case 'fd': {
      const n = BigInt.asIntN(64, toBig(v, type));
      let resolved: string | undefined;
      if (n >= 0n) resolved = ctx.fdName?.(int64(n));
      else if (n === -100n) resolved = 'AT_FDCWD';
      else resolved = ERRNO_NAMES[-Number(BigInt.asIntN(32, n))];
      return parts(n.toString(), resolved ?? '');
    }
    case 'pid': {
      const n = BigInt.asIntN(64, toBig(v, type));
      return parts(n.toString(), ctx.comm?.(int64(n)) ?? '');
    }
    case 'uid':
    case 'gid': {
      const n = Number(BigInt.asUintN(32, toBig(v, type)));
      if (n === 0xffffffff) return parts('-1', '<NONE>');
      const name = type === 'uid' ? ctx.userName?.(n) : ctx.groupName?.(n);
      return parts(String(n | 0), name ?? '<NA>');
    }
    case 'flags8':
    case 'flags16':
    case 'flags32':
    case 'enumflags8':
    case 'enumflags16':
    case 'enumflags32': {
      const width = type.endsWith('8') ? 8 : type.endsWith('16') ? 16 : 32;
      const n = Number(BigInt.asUintN(width, toBig(v, type)));
      const table = flagTable(desc);
      const names = table ? flagNames(table, n, type.startsWith('enum')) : [];
      return parts(String(n), names.join('|'));
    }
    case 'mode': {
      const n = Number(BigInt.asUintN(32, toBig(v, type)));
      const table = flagTable(desc);
      const names = table ? flagNames(table, n, false) : [];
      return parts(formatInteger(BigInt(n), type, format), names.join('|'));
    }
    case 'sigtype': {
      const n = Number(BigInt.asUintN(8, toBig(v, type)));
      return parts(String(n), SIGNAL_NAMES[n] ?? '');
    }
    case 'syscallid': {
      const n = Number(BigInt.asUintN(16, toBig(v, type)));
      return parts(String(n), ctx.syscallName?.(n) ?? '');
    }
    case 'reltime': {
      const n = BigInt.asUintN(64, toBig(v, type));
      if (n === 0xffffffffffffffffn) return parts('none');
      return parts(n.toString(), `${formatG(Number(n) / 1e9)}s`);
    }
    case 'abstime':
      return parts(formatAbsTime(BigInt.asUintN(64, toBig(v, type)), ctx.timeZone ?? 'local'));
    case 'sigset': {
      const n = Number(BigInt.asUintN(32, toBig(v, type)));
      const names: string[] = [];
      for (let sig = 0; sig < 32; sig++) {
        const name = (n >>> sig) & 1 ? SIGNAL_NAMES[sig + 1] : undefined;
        if (name) names.push(name);
      }
      return parts(names.join(' '));
    }
    case 'charbuf':
      return parts(asString(v, type));
    case 'fspath':
    case 'fsrelpath': {
      const path = sanitize(asString(v, type));
      // libsinsp resolves only relative paths (against the cwd or the dirfd's path).
      const resolved = path !== '<NA>' && !path.startsWith('/') ? ctx.resolvePath?.(path, desc) : undefined;
      return parts(path, resolved ?? '');
    }
    case 'bytebuf': {
      if (!(v instanceof Uint8Array)) throw new TypeError('a bytebuf param needs a Uint8Array value');
      let s = bytesToDots(v);
      const max = ctx.maxBufLen ?? 0;
      if (max !== 0 && s.length > max) s = max > 3 ? `${s.slice(0, max - 3)}...` : s.slice(0, max);
      return parts(s);
    }
    case 'sockaddr':
      if (!isObject(v) || !('family' in v)) throw new TypeError('a sockaddr param needs a SockAddr value');
      return parts(renderSockAddr(v as SockAddr));
    case 'socktuple':
      if (!isObject(v) || !('family' in v)) throw new TypeError('a socktuple param needs a SockTuple value');
      return parts(renderSockTuple(v as SockTuple));
    case 'fdlist': {
      if (!Array.isArray(v)) throw new TypeError('an fdlist param needs an FdListEntry[] value');
      const text = (v as readonly FdListEntry[])
        .map((e) => {
          const fd = BigInt.asUintN(64, BigInt(e.fd)).toString();
          const tch = ctx.fdTypeChar?.(e.fd) ?? '?';
          return `${fd}:${tch}${(e.events >>> 0).toString(16)}`;
        })
        .join(' ');
      return parts(text);
    }
    case 'charbufarray':
      if (!Array.isArray(v)) throw new TypeError('a charbufarray param needs a string[] value');
      return parts((v as readonly string[]).join('.'));
    case 'charbuf_pair_array':
      if (!Array.isArray(v)) throw new TypeError('a charbuf_pair_array param needs [string, string][]');
      return parts((v as readonly (readonly [string, string])[]).map(([k, val]) => `${k}:${val}`).join(','));
    // libsinsp's get_param_as_str has no case for the types below (no syscall event carries them:
    // they are filter-field types); they render here as the corresponding fields print.
    case 'port':
      return parts(String(Number(BigInt.asUintN(16, toBig(v, type)))));
    case 'l4proto': {
      const n = Number(BigInt.asUintN(8, toBig(v, type)));
      return parts(L4_PROTO_NAMES[n] ?? String(n));
    }
    case 'sockfamily': {
      const n = Number(BigInt.asUintN(8, toBig(v, type)));
      return parts(SOCKET_FAMILY_NAMES[n] ?? String(n));
    }
    case 'bool':
      return parts(v === true || (typeof v !== 'boolean' && toBig(v, type) !== 0n) ? 'true' : 'false');
    case 'double':
      return parts(typeof v === 'number' ? String(v) : String(Number(toBig(v, type))));
    case 'ipv4addr':
    case 'ipv6addr':
    case 'ipaddr':
      return parts(asString(v, type));
    case 'ipv4net':
    case 'ipv6net':
    case 'ipnet': {
      const net = v as IpNet;
      return parts(`${net.addr}/${net.prefix}`);
    }
    case 'dyn': {
      const d = v as DynValue;
      if (!d.desc) return parts('INVALID DYNAMIC PARAMETER');
      // The selected alternative renders with the outer param's print format.
      if (d.value === null) return parts('NULL');
      return renderValue({ type: d.desc.type, format }, format, d.value, ctx);
    }
  }
}

/** The text of one param inside `%evt.args`: `4097(O_RDONLY|O_CLOEXEC)`, `-2(ENOENT)`, `0`. */
export function renderParam(
  desc: ParamDesc,
  input: Uint8Array | ParamValue,
  ctx?: RenderContext,
  alternatives?: DynAlternatives,
): string {
  const r = renderParamParts(desc, input, ctx, alternatives);
  return r.resolved === '' ? r.text : `${r.text}(${r.resolved})`;
}

/** The text of `%evt.arg.NAME`: the resolved form when there is one (`O_RDONLY|O_CLOEXEC`). */
export function renderParamResolved(
  desc: ParamDesc,
  input: Uint8Array | ParamValue,
  ctx?: RenderContext,
  alternatives?: DynAlternatives,
): string {
  const r = renderParamParts(desc, input, ctx, alternatives);
  return r.resolved === '' ? r.text : r.resolved;
}

/**
 * `%evt.args` for a whole event: `name=text ` per param (libsinsp leaves the trailing space).
 * Generic (PPME_GENERIC_*) events print no args; that is the caller's to decide.
 */
export function renderArgs(
  params: readonly { readonly name: string; readonly desc: ParamDesc; readonly bytes: Uint8Array }[],
  ctx?: RenderContext,
): string {
  let s = '';
  for (const p of params) s += `${p.name}=${renderParam(p.desc, p.bytes, ctx)} `;
  return s;
}
