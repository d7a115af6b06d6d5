// FrameReader's pause support: a push stopped after a frame holds the rest for the next push, and
// the end of a stream keeps whole held frames and drops only a frame cut off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader } from './frames.js';
import { concat } from '../testing/probeframes.js';

/** A frame of `len` bytes (>= 8): length, kind 1, then `tag` in every other byte. */
function frame(len: number, tag: number): Uint8Array {
  const b = new Uint8Array(len).fill(tag);
  new DataView(b.buffer).setUint32(0, len, true);
  new DataView(b.buffer).setUint16(4, 1, true);
  return b;
}
const cat = concat;

test('a stopped push holds the rest of the chunk; an empty push hands it out, in order', () => {
  const r = new FrameReader();
  const seen: number[] = [];
  const on = (f: { bytes: Uint8Array; off: number }): void => void seen.push(f.bytes[f.off + 8]!);
  r.push(cat(frame(16, 1), frame(16, 2), frame(16, 3), frame(16, 4).subarray(0, 10)), on, () => seen.length === 1);
  assert.deepEqual(seen, [1]);
  r.push(new Uint8Array(0), on, () => seen.length === 2);
  assert.deepEqual(seen, [1, 2]);
  r.push(frame(16, 4).subarray(10), on);
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(r.leftover, 0);
});

test('end of stream: whole held frames stay for the next stream, a cut-off frame is dropped and counted', () => {
  const r = new FrameReader();
  const seen: number[] = [];
  const on = (f: { bytes: Uint8Array; off: number }): void => void seen.push(f.bytes[f.off + 8]!);
  r.push(cat(frame(16, 1), frame(16, 2), frame(20, 3), frame(24, 4).subarray(0, 12)), on, () => true);
  assert.deepEqual(seen, [1]);
  assert.equal(r.endOfStream(), 12, 'the cut-off frame');
  r.push(frame(16, 5), on);
  assert.deepEqual(seen, [1, 2, 3, 5], 'held frames first, then the new stream, framing intact');
  assert.equal(r.endOfStream(), 0);
});
