// The event columns of a batch (the Events message) encoded in one pass over plain arrays, into
// a byte buffer kept between batches. The generated encoder calls a writer method per value, each
// checking its argument and the buffer's room: for a batch of 512 events (17 values each) that
// was most of the time spent encoding it. For safe integers the bytes are the generated encoder's
// (a test compares them).

import type { Events } from '@harrier/proto';

/** The Events message's columns as any indexable lists: arrays, or typed arrays (booleans as 0/1). */
export type EventColumnsLike = { readonly [K in keyof Events]: ArrayLike<Events[K][number] | number> };

const TWO_32 = 4294967296;
/** Zig-zag doubles a magnitude: up to here the doubled value is still an exact double. */
const ZIGZAG_EXACT = 2 ** 52;

class Packer {
  buf = new Uint8Array(64 * 1024);
  pos = 0;

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.pos + n) len *= 2;
    const next = new Uint8Array(len);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** A varint of 0 <= v < 2^32; the caller made room (5 bytes). */
  u32(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A 64-bit varint from its two 32-bit words; the caller made room (10 bytes). */
  u64(lo: number, hi: number): void {
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** A non-negative safe integer. */
  uint(v: number): void {
    if (v <= 0xffffffff) this.u32(v);
    else this.u64(v >>> 0, Math.floor(v / TWO_32) >>> 0);
  }
}

const U64_MASK = (1n << 64n) - 1n;

/**
 * Writes an integer beyond the safe range, exactly as the double it is (a batch should not have
 * one: BatchBuilder.fits keeps time deltas safe; a decoder refuses what comes out of range).
 */
function wide(v: number, what: string, unsigned: boolean): bigint {
  if (!Number.isInteger(v)) throw new RangeError(`event column ${what}: ${v} is not an integer`);
  const x = BigInt(v);
  if (unsigned ? x >= 1n << 64n : x >= 1n << 63n || x < -(1n << 63n)) throw new RangeError(`event column ${what}: ${v} does not fit 64 bits`);
  return x;
}

function writeBig(p: Packer, x: bigint): void {
  const u = x & U64_MASK;
  p.u64(Number(u & 0xffffffffn), Number(u >> 32n));
}

/** Scratch buffers, kept between batches (encoding is synchronous). */
const out = new Packer();
const col = new Packer();

/** Appends the column written into `col` as field `field`, packed. */
function flush(field: number): void {
  out.room(10 + col.pos);
  out.u32((field << 3) | 2);
  out.u32(col.pos);
  out.buf.set(col.buf.subarray(0, col.pos), out.pos);
  out.pos += col.pos;
  col.pos = 0;
}

function isU32(v: number): boolean {
  return v >= 0 && v <= 0xffffffff && v >>> 0 === v;
}

function u32Column(vs: ArrayLike<number>, field: number, what: string): void {
  if (vs.length === 0) return;
  col.room(5 * vs.length);
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    if (!isU32(v)) throw new RangeError(`event column ${what}: ${v} is not a uint32`);
    col.u32(v);
  }
  flush(field);
}

function boolColumn(vs: ArrayLike<boolean | number>, field: number): void {
  if (vs.length === 0) return;
  col.room(vs.length);
  const b = col.buf;
  for (let i = 0; i < vs.length; i++) b[col.pos++] = vs[i] ? 1 : 0;
  flush(field);
}

function int64Column(vs: ArrayLike<number>, field: number, what: string): void {
  if (vs.length === 0) return;
  col.room(10 * vs.length);
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    if (isU32(v)) {
      col.u32(v);
      continue;
    }
    if (Number.isSafeInteger(v)) {
      // Two's complement words: the low word modulo 2^32, the high one the floor.
      col.u64(v >>> 0, Math.floor(v / TWO_32) >>> 0);
    } else {
      writeBig(col, wide(v, what, false));
    }
  }
  flush(field);
}

function uint64Column(vs: ArrayLike<number>, field: number, what: string): void {
  if (vs.length === 0) return;
  col.room(10 * vs.length);
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    if (isU32(v)) {
      col.u32(v);
      continue;
    }
    if (v < 0) throw new RangeError(`event column ${what}: ${v} is negative`);
    if (Number.isSafeInteger(v)) col.uint(v);
    else writeBig(col, wide(v, what, true));
  }
  flush(field);
}

function sint64Column(vs: ArrayLike<number>, field: number, what: string): void {
  if (vs.length === 0) return;
  col.room(10 * vs.length);
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    // 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      col.u32(v * 2);
      continue;
    }
    if (Number.isInteger(v) && v <= ZIGZAG_EXACT && v >= -ZIGZAG_EXACT) {
      col.uint(v >= 0 ? v * 2 : -v * 2 - 1);
      continue;
    }
    const x = wide(v, what, false);
    writeBig(col, x >= 0n ? x * 2n : -x * 2n - 1n);
  }
  flush(field);
}

/**
 * The Events message as `Events.encode(events).finish()` writes it: every non-empty column packed,
 * in declaration order. 64-bit columns take integers (a batch's are safe ones); a value that is
 * no integer, or does not fit its column, throws a RangeError naming the column. The
 * bytes are a view of a buffer the next call overwrites: copy them (a writer's `bytes` does).
 */
export function encodeEvents(events: EventColumnsLike): Uint8Array {
  out.pos = 0;
  col.pos = 0;
  u32Column(events.type, 1, 'type');
  boolColumn(events.enter, 2);
  sint64Column(events.ts, 3, 'ts');
  uint64Column(events.num, 4, 'num');
  int64Column(events.tid, 5, 'tid');
  u32Column(events.process, 6, 'process');
  u32Column(events.fd, 7, 'fd');
  int64Column(events.res, 8, 'res');
  boolColumn(events.hasRes, 9);
  u32Column(events.cpu, 10, 'cpu');
  u32Column(events.argsEnd, 11, 'argsEnd');
  u32Column(events.argName, 12, 'argName');
  u32Column(events.argText, 13, 'argText');
  u32Column(events.argRaw, 14, 'argRaw');
  u32Column(events.argResolved, 17, 'argResolved');
  u32Column(events.json, 15, 'json');
  u32Column(events.open, 16, 'open');
  return out.buf.subarray(0, out.pos);
}

/*
 * Column stores for the batch builder: typed arrays kept from batch to batch, grown by doubling.
 * One class per element type, so each push site sees one kind of array. They start small: a
 * collector keeps a builder per partition, most of them quiet.
 */

const INITIAL = 64;

/** Values the builder makes itself (string, row and argument refs, open bits): 0 <= v < 2^32. */
export class U32Column {
  a = new Uint32Array(INITIAL);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Uint32Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
  }
  view(): Uint32Array {
    return this.a.subarray(0, this.n);
  }
}

/** Values from the event (time deltas, numbers, results): any number, checked when encoded. */
export class F64Column {
  a = new Float64Array(INITIAL);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Float64Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
  }
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
}

export class BoolColumn {
  a = new Uint8Array(INITIAL);
  n = 0;
  push(v: boolean): void {
    if (this.n === this.a.length) {
      const next = new Uint8Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v ? 1 : 0;
  }
  view(): Uint8Array {
    return this.a.subarray(0, this.n);
  }
}

/** A batch's event columns while it is built. */
export class ColumnStore {
  readonly type = new U32Column();
  readonly enter = new BoolColumn();
  readonly ts = new F64Column();
  readonly num = new F64Column();
  readonly tid = new F64Column();
  readonly process = new U32Column();
  readonly fd = new U32Column();
  readonly res = new F64Column();
  readonly hasRes = new BoolColumn();
  readonly cpu = new F64Column();
  readonly argsEnd = new U32Column();
  readonly argName = new U32Column();
  readonly argText = new U32Column();
  readonly argResolved = new U32Column();
  readonly argRaw = new U32Column();
  readonly json = new U32Column();
  readonly open = new U32Column();

  private all(): (U32Column | F64Column | BoolColumn)[] {
    return [this.type, this.enter, this.ts, this.num, this.tid, this.process, this.fd, this.res, this.hasRes, this.cpu, this.argsEnd, this.argName, this.argText, this.argResolved, this.argRaw, this.json, this.open];
  }

  /** Views of the columns as they are now (valid until the next push or clear). */
  views(): EventColumnsLike {
    return {
      type: this.type.view(),
      enter: this.enter.view(),
      ts: this.ts.view(),
      num: this.num.view(),
      tid: this.tid.view(),
      process: this.process.view(),
      fd: this.fd.view(),
      res: this.res.view(),
      hasRes: this.hasRes.view(),
      cpu: this.cpu.view(),
      argsEnd: this.argsEnd.view(),
      argName: this.argName.view(),
      argText: this.argText.view(),
      argResolved: this.argResolved.view(),
      argRaw: this.argRaw.view(),
      json: this.json.view(),
      open: this.open.view(),
    };
  }

  /** The columns as the generated message type has them: plain arrays, copies. */
  toEvents(): Events {
    // Plain loops: Array.from over a typed array goes through its iterator, many times slower.
    const nums = (c: U32Column | F64Column): number[] => {
      const out: number[] = new Array<number>(c.n);
      for (let i = 0; i < c.n; i++) out[i] = c.a[i]!;
      return out;
    };
    const bools = (c: BoolColumn): boolean[] => {
      const out: boolean[] = new Array<boolean>(c.n);
      for (let i = 0; i < c.n; i++) out[i] = c.a[i] === 1;
      return out;
    };
    return {
      type: nums(this.type),
      enter: bools(this.enter),
      ts: nums(this.ts),
      num: nums(this.num),
      tid: nums(this.tid),
      process: nums(this.process),
      fd: nums(this.fd),
      res: nums(this.res),
      hasRes: bools(this.hasRes),
      cpu: nums(this.cpu),
      argsEnd: nums(this.argsEnd),
      argName: nums(this.argName),
      argText: nums(this.argText),
      argResolved: nums(this.argResolved),
      argRaw: nums(this.argRaw),
      json: nums(this.json),
      open: nums(this.open),
    };
  }

  clear(): void {
    for (const c of this.all()) c.n = 0;
  }
}
