// Typed handling of field values: which operators a type admits, how a literal from a condition is
// parsed for a type (once, at compile time), and how an event's value is coerced for comparison.

import type { FieldType } from '../fields/types.js';
import type { FieldScalar, FieldValue } from '../accessor.js';

export type ValueClass = 'num' | 'bool' | 'str' | 'bytes' | 'ip' | 'net' | 'dyn';

export function classOf(t: FieldType): ValueClass {
  switch (t) {
    case 'CHARBUF':
    case 'FSPATH':
    case 'FSRELPATH':
      return 'str';
    case 'BYTEBUF':
      return 'bytes';
    case 'BOOL':
      return 'bool';
    case 'IPADDR':
    case 'IPV4ADDR':
    case 'IPV6ADDR':
      return 'ip';
    case 'IPNET':
    case 'IPV4NET':
    case 'IPV6NET':
      return 'net';
    case 'DYNAMIC':
      return 'dyn';
    default:
      return 'num';
  }
}

const OPS_BY_CLASS: Record<ValueClass, ReadonlySet<string>> = {
  num: new Set(['exists', '=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects']),
  bool: new Set(['exists', '=', '==', '!=', 'in', 'intersects']),
  str: new Set(['exists', '=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'pmatch', 'in', 'intersects']),
  bytes: new Set(['exists', '=', '==', '!=', 'contains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'in', 'intersects']),
  ip: new Set(['exists', '=', '==', '!=', 'in', 'intersects']),
  net: new Set(['exists', '=', '==', '!=', 'in', 'intersects']),
  dyn: new Set(['exists', '=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'pmatch', 'in', 'intersects', 'bcontains', 'bstartswith']),
};

export function opAllowed(cls: ValueClass, op: string): boolean {
  return OPS_BY_CLASS[cls].has(op);
}

export function toNum(v: FieldScalar): number {
  switch (typeof v) {
    case 'number':
      return v;
    case 'bigint':
      return Number(v);
    case 'boolean':
      return v ? 1 : 0;
    case 'string':
      return v.trim() === '' ? NaN : Number(v);
    default:
      return NaN;
  }
}

export function toBool(v: FieldScalar): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  if (typeof v === 'string') return v === 'true' || v === '1';
  return v.length > 0;
}

const latin1 = new TextDecoder('latin1');

export function toStr(v: FieldScalar): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (Array.isArray(v)) return (v as FieldScalar[]).map(toStr).join(',');
      return latin1.decode(v);
  }
}

export function isList(v: FieldValue): v is readonly FieldScalar[] {
  return Array.isArray(v);
}

/** Parses an integer literal as libs does (decimal, signed, or 0x hex); floats for DOUBLE. */
export function parseNumber(text: string, type: FieldType): number | undefined {
  const t = text.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t, 16);
  if (type === 'DYNAMIC') {
    const n = Number(t);
    return t !== '' && Number.isFinite(n) ? n : undefined;
  }
  if (!/^[+-]?[0-9]+$/.test(t)) return undefined;
  return Number(t);
}

export function parseBool(text: string): boolean | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return undefined;
}

/** Hex text (`48545450`) to bytes, as bcontains/bstartswith take it. */
export function parseHexBytes(text: string): string | undefined {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return undefined;
  let out = '';
  for (let i = 0; i < text.length; i += 2) out += String.fromCharCode(parseInt(text.slice(i, i + 2), 16));
  return out;
}

// --- IP addresses and networks: compared as 16-byte arrays (IPv4 mapped into IPv6) ---

export function parseIp(text: string): Uint8Array | undefined {
  const t = text.trim();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
  if (v4) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    for (let i = 0; i < 4; i++) {
      const n = Number(v4[i + 1]);
      if (n > 255) return undefined;
      out[12 + i] = n;
    }
    return out;
  }
  if (!t.includes(':')) return undefined;
  let head = t;
  let tailV4: Uint8Array | undefined;
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIp(t.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = t.slice(0, lastColon + 1) + '0:0';
  }
  const parts = head.split('::');
  if (parts.length > 2) return undefined;
  const left = parts[0] ? parts[0].split(':') : [];
  const right = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  const groups = parts.length === 2 ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tailV4) out.set(tailV4.subarray(12), 12);
  return out;
}

export interface IpNet {
  readonly addr: Uint8Array;
  readonly bits: number;
}

export function parseNet(text: string): IpNet | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const isV4 = !text.includes(':');
  let bits = 128;
  if (slash >= 0) {
    const b = Number(text.slice(slash + 1));
    if (!Number.isInteger(b) || b < 0 || b > (isV4 ? 32 : 128)) return undefined;
    bits = isV4 ? b + 96 : b;
  }
  return { addr, bits };
}

export function inNet(ip: Uint8Array, net: IpNet): boolean {
  let bits = net.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (net.addr[i]! & mask)) return false;
  }
  return true;
}

export function ipKey(ip: Uint8Array): string {
  let s = '';
  for (const b of ip) s += String.fromCharCode(b);
  return s;
}

/** Glob (fnmatch without FNM_PATHNAME: `*` crosses `/`) to a RegExp. */
export function globToRegExp(glob: string, ignoreCase: boolean): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', ignoreCase ? 'i' : '');
}
