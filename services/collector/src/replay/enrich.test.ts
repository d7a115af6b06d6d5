// Rendered arguments: those of context-free types are kept per value and shared between events;
// they must read exactly as a fresh rendering does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderParamParts, type ParamDesc } from '@harrier/events';
import { StateEngine } from '../state/engine.js';
import type { RawEvent } from '../state/params.js';
import { Enricher } from './enrich.js';

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const i64 = (n: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
  return b;
};

test('arguments of context-free types render as a fresh rendering does, value after value', () => {
  const state = new StateEngine();
  state.seedThread({ tid: 10, pid: 10, ptid: 1, cwd: '/srv' });
  const en = new Enricher(state.tables, 'all');
  const flags: ParamDesc = { type: 'flags32', format: 'hex', info: 'file_flags' };
  const mode: ParamDesc = { type: 'uint32', format: 'oct' };
  const fd: ParamDesc = { type: 'fd', format: 'dec' };
  const descs = [fd, flags, mode];
  let num = 0;
  const ev = (f: number, m: number): RawEvent => ({ num: ++num, ts: BigInt(num), tid: 10, cpu: 0, type: 'openat', enter: false, names: ['fd', 'flags', 'mode'], descs, params: [i64(-2), u32(f), u32(m)] });
  for (const [f, m] of [[1, 0], [1, 0], [4097, 0o644], [1, 0], [0xffffffff, 0o7777], [4097, 0o644]] as const) {
    const e = ev(f, m);
    const args = en.enrich(e, state.process(e)).args!;
    assert.deepEqual(
      args.map((a) => [a.name, a.text, a.resolved, a.raw]),
      descs.map((d, i) => {
        const r = renderParamParts(d, e.params[i]!);
        return [e.names[i], r.text, r.resolved || undefined, i === 0 ? '-2' : String(i === 1 ? f : m)];
      }),
    );
  }
});
