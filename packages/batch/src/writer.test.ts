// BatchWriter writes the same bytes as the stock protobuf writer for every 64-bit integer kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { EventBatch, Events } from '@harrier/proto';
import { BatchWriter } from './writer.js';

const edges = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 35 + 12345, 2 ** 52, 2 ** 53 - 1];
const values = [...edges, ...edges.map((v) => -v), -(2 ** 53 - 1)];
// And random ones across every magnitude.
let seed = 7;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let i = 0; i < 2000; i++) {
  const v = Math.floor(rnd() * 2 ** Math.floor(rnd() * 53));
  values.push(v, -v);
}

test('int64, sint64 and uint64 of safe integers: the same bytes as the stock writer', () => {
  // The wide values below take the fast path only where the library has its varint writer.
  assert.equal(typeof (BinaryWriter.prototype as unknown as { writeVarint64?: unknown }).writeVarint64, 'function');
  for (const kind of ['int64', 'sint64', 'uint64'] as const) {
    for (const v of values) {
      if (kind === 'uint64' && v < 0) continue;
      const want = new BinaryWriter()[kind](v).finish();
      const got = new BatchWriter()[kind](v).finish();
      assert.deepEqual(got, want, `${kind} ${v}`);
    }
  }
});

test('values that are not safe integers go the stock way (strings, bigints, errors alike)', () => {
  assert.deepEqual(new BatchWriter().uint64('18446744073709551615').finish(), new BinaryWriter().uint64('18446744073709551615').finish());
  assert.deepEqual(new BatchWriter().int64(-(2n ** 63n)).finish(), new BinaryWriter().int64(-(2n ** 63n)).finish());
  assert.throws(() => new BatchWriter().uint64(-1));
  assert.throws(() => new BatchWriter().int64(1.5));
});

test('a whole batch encodes to the same bytes', () => {
  const batch = EventBatch.decode(new Uint8Array());
  Object.assign(batch, { collectorId: 'c', sequence: 2 ** 40 + 3, baseSec: 1_700_000_000, baseNsec: 999_999_999 });
  batch.events = Object.assign(Events.decode(new Uint8Array()), { ts: [0, 5, -7, 2 ** 50], num: [1, 2 ** 33], tid: [-1, 12], res: [-2, 2 ** 47 + 5] });
  const withProc = EventBatch.decode(new Uint8Array([0x32, 0x00, 0x42, 0x00])); // one empty process and one empty fd
  batch.processes = withProc.processes.map((p) => ({ ...p, pid: 5, tid: 5, loginuid: -1, exeIno: '13835058055282163713', capEffective: 2 ** 41 - 1, startTs: '1700000000123456789' }));
  batch.fds = withProc.fds.map((f) => ({ ...f, num: -100, dev: 2 ** 36, inode: '9223372036854775809', openFlags: 0o2000000 }));
  assert.equal(batch.processes.length, 1);
  assert.equal(batch.fds.length, 1);
  assert.deepEqual(EventBatch.encode(batch, new BatchWriter()).finish(), EventBatch.encode(batch).finish());
});
