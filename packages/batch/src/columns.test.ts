// The batch's own column encoder: the bytes the generated encoder writes, values of every
// magnitude, errors that name the column, and a writer left clean after one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch, Events } from '@harrier/proto';
import { encodeEvents } from './columns.js';
import { BatchBuilder, type EnrichedEvent, type FdInfo } from './index.js';

const edges = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 35 + 12345, 2 ** 52, 2 ** 52 + 1, 2 ** 53 - 1];
let seed = 11;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const randoms = Array.from({ length: 500 }, () => Math.floor(rnd() * 2 ** Math.floor(rnd() * 53)));
const unsigned = [...edges, ...randoms];
const signed = [...unsigned, ...unsigned.filter((v) => v !== 0).map((v) => -v)];
const u32s = unsigned.filter((v) => v <= 0xffffffff);

function columns(n: number, pick: <T>(xs: readonly T[], i: number) => T): Events {
  const e = Events.decode(new Uint8Array());
  for (let i = 0; i < n; i++) {
    e.type.push(pick(u32s, i));
    e.enter.push(i % 3 === 0);
    e.ts.push(pick(signed, i + 1));
    e.num.push(pick(unsigned, i + 2));
    e.tid.push(pick(signed, i + 3));
    e.process.push(pick(u32s, i + 4));
    e.fd.push(pick(u32s, i + 5));
    e.res.push(pick(signed, i + 6));
    e.hasRes.push(i % 2 === 0);
    e.cpu.push(pick(u32s, i + 7));
    e.argsEnd.push(i);
    e.argName.push(pick(u32s, i + 8));
    e.argText.push(pick(u32s, i + 9));
    e.argRaw.push(pick(u32s, i + 10));
    e.argResolved.push(pick(u32s, i + 11));
    e.json.push(pick(u32s, i + 12));
    e.open.push(i & 15);
  }
  return e;
}

test('the columns encode to the bytes of the generated encoder, for values of every magnitude', () => {
  const all = columns(signed.length, (xs, i) => xs[i % xs.length]!);
  assert.deepEqual(encodeEvents(all), Events.encode(all).finish());
  const none = Events.decode(new Uint8Array());
  assert.deepEqual(encodeEvents(none), Events.encode(none).finish(), 'no events: no bytes');
  const some = Object.assign(Events.decode(new Uint8Array()), { type: [1, 2], ts: [-1, 1], json: [0, 9] });
  assert.deepEqual(encodeEvents(some), Events.encode(some).finish(), 'empty columns are left out');
  // A batch larger than the scratch buffers' first size (64 KiB) grows them.
  const big = columns(20_000, (xs, i) => xs[(i * 7) % xs.length]!);
  assert.deepEqual(encodeEvents(big), Events.encode(big).finish());
  assert.deepEqual(Events.decode(encodeEvents(big)), big);
});

test('a value that does not fit its column is refused, naming the column', () => {
  const bad = (col: keyof Events, v: number, want: RegExp): void => {
    const e = columns(3, (xs, i) => xs[i]!);
    (e[col] as number[])[1] = v;
    assert.throws(() => encodeEvents(e), (err: unknown) => err instanceof RangeError && want.test(err.message), `${col} = ${v}`);
  };
  bad('type', -1, /event column type: -1 is not a uint32/);
  bad('fd', 2 ** 32, /event column fd: 4294967296 is not a uint32/);
  bad('open', 1.5, /event column open: 1.5 is not a uint32/);
  bad('num', -3, /event column num: -3 is negative/);
  bad('ts', 0.5, /event column ts: 0.5 is not an integer/);
  bad('res', 2 ** 64, /event column res: .* does not fit 64 bits/);
  bad('tid', NaN, /event column tid: NaN is not an integer/);
  // Integers past 2^53 are written as the doubles they are.
  const e = Object.assign(Events.decode(new Uint8Array()), { ts: [2 ** 60, -(2 ** 60)], tid: [-(2 ** 62)], num: [2 ** 63] });
  assert.deepEqual(encodeEvents(e), Events.encode(Object.assign(Events.decode(new Uint8Array()), { ts: [2n ** 60n, -(2n ** 60n)], tid: [-(2n ** 62n)], num: [2n ** 63n] } as unknown as Events)).finish());
});

const T0 = 1_700_000_000_000_000_000n;
const proc = { pid: 40, tid: 40, ppid: 1, name: 'loop', exepath: '/usr/bin/loop', args: [] as string[] };
const file = (num: number, name: string, ino: number): FdInfo => ({ num, type: 'file', typechar: 'f', name, directory: name.slice(0, name.lastIndexOf('/')) || '/', filename: name.slice(name.lastIndexOf('/') + 1), ino, dev: 2049, openFlags: 0 });
const open = (num: number, fd: FdInfo): EnrichedEvent => ({ num, ts: T0 + BigInt(num), tid: 40, type: 'openat', enter: false, res: fd.num, process: proc, fd, args: [{ name: 'flags', text: '1', resolved: 'O_RDONLY' }] });

test('a batch that fails to encode leaves the next one whole', () => {
  const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  b.add({ ...open(1, file(3, '/a', 1)), cpu: -1 });
  assert.throws(() => b.finishEncoded(1), /event column cpu: -1 is not a uint32/);
  for (let i = 1; i <= 3; i++) b.add(open(i, file(3, `/f${i}`, i)));
  const bytes = b.finishEncoded(2);
  const again = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  for (let i = 1; i <= 3; i++) again.add(open(i, file(3, `/f${i}`, i)));
  assert.deepEqual(EventBatch.decode(bytes), again.finish(2));
});

test('finishEncoded gives the batch finish gives, batch after batch (the columns grow and start over)', () => {
  const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  const again = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  for (const [seq, count] of [[9, 2500], [10, 3], [11, 1500]] as const) {
    for (const x of [b, again]) for (let i = 1; i <= count; i++) x.add({ ...open(i, file(3 + (i % 5), `/d/${i % 7}`, i % 7)), ts: T0 - BigInt(i * 1000), res: i % 3 === 0 ? -2 : 3, enter: i % 4 === 0, cpu: i % 2 });
    const got = EventBatch.decode(b.finishEncoded(seq));
    assert.equal(got.events!.type.length, count);
    assert.deepEqual(got, again.finish(seq));
  }
});
