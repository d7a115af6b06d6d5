// decodeEventBatch against the generated decoder (EventBatch.decode): on batches the builder
// makes, on random batches with values at every edge (negative and zigzag 64-bit values, values
// above 2^32, up to ±(2^53 - 1), non-ASCII text, empty fields), on hand-written wire input (unpacked
// columns, unknown fields of every wire type, groups, overlong varints, values past 2^53, bad
// tags) and on every truncation and thousands of random corruptions of them: both must yield
// the same message or fail with the same error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch, type Events, type FileDescriptor, type Process } from '@harrier/proto';
import { decodeEventBatch } from './decode.js';
import { BatchBuilder } from './builder.js';

type Outcome = { ok: EventBatch } | { error: string };

function outcome(f: () => EventBatch): Outcome {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: `${(err as Error).message}` };
  }
}

/** Both decoders on the same bytes: the same message, or the same error. */
export function assertSameDecoding(bytes: Uint8Array, what: string): void {
  const want = outcome(() => EventBatch.decode(bytes));
  const got = outcome(() => decodeEventBatch(bytes));
  assert.deepStrictEqual(got, want, what);
}

// --- a seeded random source ---------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE_INTS = [0, 1, -1, 127, 128, -128, 255, 16383, 16384, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, 2 ** 35 + 7, 2 ** 49 - 3, -(2 ** 49), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52, -(2 ** 52) - 1];
const TEXTS = ['', 'a', 'openat', '/etc/passwd', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(33), 'é', 'naïve café', '\uFEFFbom first', 'emoji 🐟 here', '日本語のパス/ファイル', 'tab\tand\nnewline', '\u0000nul', 'ascii then ü at the end of a long string to pass thirty-two bytes ü', '\uD800 lone surrogate'];

function gen(seed: number): EventBatch {
  const r = rng(seed);
  const int = (max: number): number => Math.floor(r() * max);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const i64 = (): number => (r() < 0.5 ? pick(EDGE_INTS) : (r() < 0.5 ? -1 : 1) * int(2 ** (1 + int(52))));
  const u64 = (): number => Math.abs(i64());
  const u32 = (): number => (r() < 0.3 ? pick([0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1]) : int(2 ** (1 + int(31))));
  const ref = (n: number): number => (n === 0 || r() < 0.2 ? 0 : 1 + int(n));
  const list = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
  const strings = list(int(40), () => (r() < 0.5 ? pick(TEXTS) : String.fromCharCode(...list(int(80), () => (r() < 0.9 ? 32 + int(95) : int(0x3000))))));
  const ns = strings.length;
  const users = list(int(4), () => ({ uid: u32(), name: ref(ns), homedir: ref(ns), shell: ref(ns) }));
  const groups = list(int(4), () => ({ gid: u32(), name: ref(ns) }));
  const containers = list(int(3), () => ({
    id: ref(ns),
    name: ref(ns),
    type: ref(ns),
    image: ref(ns),
    imageRepository: ref(ns),
    imageTag: ref(ns),
    imageDigest: ref(ns),
    imageId: ref(ns),
    privileged: r() < 0.5,
    labels: list(int(3), () => ({ key: ref(ns), value: ref(ns) })),
    podName: ref(ns),
    podNamespace: ref(ns),
    podUid: ref(ns),
    podLabels: list(int(3), () => ({ key: ref(ns), value: ref(ns) })),
    ip: ref(ns),
  }));
  const nProcs = int(8);
  // Also any uint64 carried as text (inode numbers).
  const startTs = (): string => pick(['0', '1', '9007199254740991', '9007199254740992', '18446744073709551615', '1562711472093267123', String(BigInt(int(2 ** 32)) * 4294967296n + BigInt(int(2 ** 32)))]);
  const processes: Process[] = list(nProcs, () => ({
    pid: i64(),
    tid: i64(),
    ppid: i64(),
    vpid: i64(),
    vtid: i64(),
    sid: i64(),
    vpgid: i64(),
    name: ref(ns),
    exe: ref(ns),
    exepath: ref(ns),
    args: list(int(6), () => ref(ns)),
    cwd: ref(ns),
    env: list(int(4), () => ref(ns)),
    tty: u32(),
    loginuid: i64(),
    user: ref(users.length),
    loginuser: ref(users.length),
    group: ref(groups.length),
    container: ref(containers.length),
    ancestors: list(int(5), () => ref(nProcs)),
    exeUpperLayer: r() < 0.5,
    exeFromMemfd: r() < 0.5,
    exeWritable: r() < 0.5,
    exeIno: startTs(),
    capPermitted: u64(),
    capEffective: u64(),
    capInheritable: u64(),
    startTs: startTs(),
    pidnsInitStartTs: startTs(),
    isThreadLeader: r() < 0.5,
    comm: ref(ns),
    fdlimit: i64(),
    parent: ref(nProcs),
  }));
  const fds: FileDescriptor[] = list(int(10), () => ({
    num: i64(),
    type: ref(ns),
    typechar: ref(ns),
    name: ref(ns),
    nameRaw: ref(ns),
    directory: ref(ns),
    filename: ref(ns),
    cip: ref(ns),
    sip: ref(ns),
    lip: ref(ns),
    rip: ref(ns),
    cport: u32(),
    sport: u32(),
    lport: u32(),
    rport: u32(),
    hasPorts: r() < 0.5,
    l4proto: ref(ns),
    sockfamily: ref(ns),
    connected: r() < 0.5,
    dev: u64(),
    inode: startTs(),
    openFlags: i64(),
    isServer: r() < 0.5,
  }));
  const n = int(30);
  const nArgs = int(60);
  // Columns of any length: the decoder does not check them against each other (DecodedBatch does).
  const events: Events | undefined =
    r() < 0.1
      ? undefined
      : {
          type: list(n, () => ref(ns)),
          enter: list(n, () => r() < 0.5),
          ts: list(n, i64),
          num: list(n, u64),
          tid: list(n, i64),
          process: list(n, () => ref(nProcs)),
          fd: list(int(n + 1), () => ref(fds.length)),
          res: list(n, i64),
          hasRes: list(n, () => r() < 0.5),
          cpu: list(n, u32),
          argsEnd: list(n, () => int(nArgs + 1)),
          argName: list(nArgs, () => ref(ns)),
          argText: list(nArgs, () => ref(ns)),
          argRaw: list(nArgs, () => ref(ns)),
          argResolved: list(nArgs, () => ref(ns)),
          json: list(n, () => ref(ns)),
          open: list(n, () => int(16)),
        };
  return {
    collectorId: pick(TEXTS),
    sequence: u64(),
    node: pick(TEXTS),
    source: pick(['', 'syscall', 'k8s_audit']),
    strings,
    processes,
    containers,
    fds,
    users,
    events,
    baseSec: u64(),
    baseNsec: u32(),
    groups,
  };
}

// --- hand-written wire input --------------------------------------------------------------------

function varint(v: bigint | number, minBytes = 1): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(b);
  } while (x > 0n);
  while (out.length < minBytes) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i]! |= 0x80;
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const ld = (field: number, body: number[]): number[] => [...key(field, 2), ...varint(body.length), ...body];
const zigzag = (v: bigint): bigint => (v << 1n) ^ (v >> 63n);
const bytesOf = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

/** Unknown fields of every wire type, a nested group among them. */
const UNKNOWN = [...key(99, 0), ...varint(123456789012n), ...key(98, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...ld(97, [1, 2, 3]), ...key(96, 5), 9, 9, 9, 9, ...key(95, 3), ...key(1, 0), 5, ...key(2, 3), ...key(3, 2), 0, ...key(2, 4), ...key(95, 4)];

const HAND: [string, Uint8Array][] = [
  ['empty', bytesOf()],
  ['unpacked columns, one value per field', bytesOf(ld(10, [...key(1, 0), 5, ...key(1, 0), 6, ...key(2, 0), 1, ...key(2, 0), 0, ...key(3, 0), ...varint(zigzag(-5n)), ...key(4, 0), ...varint(2n ** 40n), ...key(5, 0), ...varint(-1), ...key(8, 0), ...varint(-2), ...key(9, 0), 1, ...key(17, 0), 3]))],
  ['packed and unpacked mixed in one column', bytesOf(ld(10, [...ld(1, [1, 2, 3]), ...key(1, 0), 4, ...ld(1, [...varint(300), ...varint(2 ** 32 - 1)])]))],
  ['unknown fields everywhere', bytesOf(UNKNOWN, ld(6, [...UNKNOWN, ...key(1, 0), 7, ...UNKNOWN]), ld(8, [...key(1, 0), 3, ...UNKNOWN]), ld(7, [...ld(10, [...UNKNOWN, ...key(1, 0), 1]), ...UNKNOWN]), ld(10, [...UNKNOWN, ...ld(1, [1])]), ld(9, UNKNOWN), ld(13, UNKNOWN), [...key(2, 0), 9])],
  ['a known field with the wrong wire type is skipped', bytesOf(key(2, 5), [1, 0, 0, 0], key(1, 0), [7], ld(2, [1, 2]), key(12, 1), [1, 2, 3, 4, 5, 6, 7, 8])],
  ['overlong varints', bytesOf(key(2, 0), varint(5, 10), key(12, 0), varint(7, 10), ld(10, [...key(6, 0), ...varint(1, 6), ...ld(2, varint(0, 10)), ...ld(2, varint(2n ** 40n, 10))]))],
  ['uint32 fields keep the low 32 bits of a 64-bit varint', bytesOf(key(12, 0), varint(2n ** 40n + 5n), ld(9, [...key(1, 0), ...varint(-1)]))],
  ['bools from multi-byte varints', bytesOf(ld(10, [...ld(2, [...varint(2n ** 35n), ...varint(2n ** 63n), ...varint(0, 3), ...varint(1n << 64n)]), ...key(9, 0), ...varint(256)]))],
  ['the largest safe values', bytesOf(key(2, 0), varint(2n ** 53n - 1n), ld(10, [...key(3, 0), ...varint(zigzag(-(2n ** 53n) + 1n)), ...key(3, 0), ...varint(zigzag(2n ** 53n - 1n)), ...key(5, 0), ...varint(-(2n ** 53n) + 1n)]))],
  ['uint64 past 2^53', bytesOf(key(2, 0), varint(2n ** 53n))],
  ['int64 below -(2^53 - 1)', bytesOf(ld(10, [...key(5, 0), ...varint(-(2n ** 53n))]))],
  ['int64 far below', bytesOf(ld(6, [...key(1, 0), ...varint(-(2n ** 60n))]))],
  ['int64 past 2^53', bytesOf(ld(8, [...key(23, 0), ...varint(2n ** 53n)]))],
  ['sint64 past 2^53', bytesOf(ld(10, [...ld(3, varint(zigzag(2n ** 53n)))]))],
  ['sint64 at -2^53', bytesOf(ld(10, [...ld(3, varint(zigzag(-(2n ** 53n))))]))],
  ['start times of every size', bytesOf(...[0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 999999999n, 1000000000n, 2n ** 64n - 1n, 1562711472093267123n, 10n ** 19n].map((v) => ld(6, [...key(28, 0), ...varint(v), ...key(29, 0), ...varint(v)])))],
  ['a varint of 11 bytes', bytesOf(key(2, 0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ['a uint32 varint of 11 bytes', bytesOf(key(12, 0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ['an unknown varint of 12 bytes', bytesOf(key(50, 0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], key(1, 2), [1, 65])],
  ['an end-group tag ends the message', bytesOf(key(1, 2), [1, 65], key(7, 4), key(3, 2), [1, 66])],
  ['a zero tag ends the message', bytesOf(key(3, 2), [1, 66], [0], key(1, 2), [1, 65])],
  ['an end-group tag ends a nested message early', bytesOf(ld(10, [...ld(1, [1, 2]), ...key(3, 4), ...ld(1, [3])]))],
  ['wire types 6 and 7', bytesOf(key(40, 6), [1])],
  ['wire type 7 nested', bytesOf(ld(6, [...key(40, 7), 1]))],
  ['a group with a mismatched end', bytesOf(key(40, 3), key(41, 3), key(42, 4), key(40, 4))],
  ['a group holding an illegal tag', bytesOf(key(40, 3), key(0, 0), key(40, 4))],
  ['a group holding wire type 6', bytesOf(key(40, 3), key(3, 6), key(40, 4))],
  ['a group holding an overlong tag', bytesOf(key(40, 3), [0x88, 0x80, 0x80, 0x80, 0x10], key(40, 4))],
  ['groups nested past the limit', bytesOf(...Array.from({ length: 101 }, () => key(40, 3)), ...Array.from({ length: 101 }, () => key(40, 4)))],
  ['groups nested to the limit', bytesOf(...Array.from({ length: 100 }, () => key(40, 3)), ...Array.from({ length: 100 }, () => key(40, 4)))],
  ['an unterminated group', bytesOf(key(40, 3), key(1, 0), [1])],
  ['a string past the end', bytesOf(key(1, 2), [10, 65, 66])],
  ['a string length beyond 2^32 (its low 32 bits count)', bytesOf(key(1, 2), varint(2n ** 32n + 1n), [65])],
  ['a nested message past the end', bytesOf(ld(6, [...key(1, 0), 5]).slice(0, 3))],
  ['a nested length longer than its content', bytesOf([...key(6, 2), 50, ...key(1, 0), 5])],
  ['a packed run overshooting its length', bytesOf(ld(10, [...key(1, 2), 1, 0x80, 0x01, ...key(6, 2), 1, 5]))],
  ['a nested message whose last field overruns it', bytesOf([...key(8, 2), 2, ...key(1, 0), 0x80, 0x01], key(1, 2), [1, 65])],
  ['invalid UTF-8', bytesOf(key(5, 2), [3, 0xff, 0x41, 0xc3], key(5, 2), [2, 0xc3, 0xa9], key(5, 2), [4, 0xed, 0xa0, 0x80, 0x41], key(5, 2), [3, 0xef, 0xbb, 0xbf])],
  ['a BOM and then ASCII', bytesOf(key(3, 2), [4, 0xef, 0xbb, 0xbf, 0x41])],
  ['repeated events: the last one wins', bytesOf(ld(10, ld(1, [1])), ld(10, ld(2, [1])))],
  ['labels', bytesOf(ld(7, [...ld(10, [...key(1, 0), 1, ...key(2, 0), 2]), ...ld(14, [...key(2, 0), 3]), ...ld(10, [])]))],
  ['utf8 texts', bytesOf(...TEXTS.map((t) => ld(5, utf8(t))))],
];

// --- the comparisons ----------------------------------------------------------------------------

/** Every truncation, and corruptions (bytes changed, dropped, inserted) by a seeded source. */
function variants(bytes: Uint8Array, seed: number, corruptions: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const step = Math.max(1, Math.floor(bytes.length / 200));
  for (let cut = 0; cut < bytes.length; cut += step) out.push(bytes.subarray(0, cut));
  const r = rng(seed);
  for (let k = 0; k < corruptions && bytes.length > 0; k++) {
    const b = Uint8Array.from(bytes);
    const at = Math.floor(r() * b.length);
    const kind = r();
    if (kind < 0.5) {
      b[at] = Math.floor(r() * 256);
      out.push(b);
    } else if (kind < 0.7) {
      b[at] = b[at]! ^ 0x80;
      out.push(b);
    } else if (kind < 0.85) out.push(Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]));
    else out.push(Uint8Array.from([...b.subarray(0, at), Math.floor(r() * 256), ...b.subarray(at)]));
  }
  return out;
}

test('builder batches decode the same, and so do their truncations and corruptions', () => {
  const b = new BatchBuilder({ collectorId: 'c1', node: 'node-ü', source: 'syscall' });
  const proc = { pid: 4242, tid: 4243, ppid: -1, name: 'curl', exepath: '/usr/bin/curl', args: ['-s', 'https://example.com/ü'], loginuid: -1, startTs: 1_700_000_000_123_456_789n, capPermitted: 0x1ffffffffffn, user: { uid: 0, name: 'root' }, container: { id: 'abc', labels: new Map([['k', 'v']]) } };
  for (let i = 0; i < 150; i++) {
    b.add({
      num: 2 ** 40 + i,
      ts: 1_700_000_000_000_000_000n + BigInt(i) * 997n,
      tid: 4243,
      cpu: i % 4,
      type: i % 3 ? 'openat' : 'connect',
      enter: i % 2 === 0,
      res: i % 5 ? -2 : 3,
      process: proc,
      fd: { num: i, type: 'file', typechar: 'f', name: `/tmp/f${i}`, dev: 2 ** 33, ino: 2 ** 45 + i, openFlags: -(2 ** 31) },
      args: [{ name: 'fd', text: String(i) }, { name: 'flags', text: '4097', resolved: 'O_WRONLY|O_CREAT', raw: '4097' }],
      open: { read: true, write: i % 2 === 0, exec: false, create: i % 7 === 0 },
    });
  }
  const bytes = b.finishEncoded(2 ** 33);
  assertSameDecoding(bytes, 'the batch');
  for (const [i, v] of variants(bytes, 7, 2000).entries()) assertSameDecoding(v, `variant ${i}`);
});

test('random batches with values at every edge decode the same', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const bytes = EventBatch.encode(gen(seed)).finish();
    assertSameDecoding(bytes, `seed ${seed}`);
    if (seed <= 40) for (const [i, v] of variants(bytes, seed, 100).entries()) assertSameDecoding(v, `seed ${seed} variant ${i}`);
  }
});

test('hand-written wire input decodes the same, errors included', () => {
  for (const [what, bytes] of HAND) {
    assertSameDecoding(bytes, what);
    for (const [i, v] of variants(bytes, bytes.length, 200).entries()) assertSameDecoding(v, `${what}, variant ${i}`);
  }
  // The cases meant to fail do fail (and the others do not), so the comparisons above compare errors.
  const fails = HAND.filter(([, b]) => 'error' in outcome(() => decodeEventBatch(b))).map(([w]) => w);
  assert.deepEqual(fails, [
    'uint64 past 2^53',
    'int64 below -(2^53 - 1)',
    'int64 far below',
    'int64 past 2^53',
    'sint64 past 2^53',
    'sint64 at -2^53',
    'a varint of 11 bytes',
    'a uint32 varint of 11 bytes',
    'wire types 6 and 7',
    'wire type 7 nested',
    'a group with a mismatched end',
    'a group holding an illegal tag',
    'a group holding wire type 6',
    'a group holding an overlong tag',
    'groups nested past the limit',
    'an unterminated group',
    'a string past the end',
    'a nested message past the end',
    'a nested length longer than its content',
  ]);
});

test('a batch in a larger buffer (as a NATS message is) decodes from its own bytes only', () => {
  const bytes = EventBatch.encode(gen(3)).finish();
  const big = new Uint8Array(bytes.length + 20).fill(0x41);
  big.set(bytes, 10);
  const view = big.subarray(10, 10 + bytes.length);
  assert.deepStrictEqual(decodeEventBatch(view), EventBatch.decode(bytes));
});
