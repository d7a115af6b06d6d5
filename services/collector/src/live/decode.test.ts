// Frame splitting and decoding (probe/FORMAT.md) on hand-built frames, and the probe process's
// supervision on the real probe (killed under it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeParam } from '@harrier/events';
import { DecodeError, FrameDecoder, PROBE_SYSCALLS, joinComponents, scapSockaddr } from './decode.js';
import { FrameError, FrameReader, type Frame } from './frames.js';
import { ProbeProcess, defaultProbeBinary } from './probe.js';
import { exactUint, param } from '../state/params.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A syscall frame: header fields, args and items (tag, bytes). */
function frame(nr: number, ret: number, args: number[], items: [number, Uint8Array][], comm = 'cat'): Uint8Array {
  const len = 144 + items.reduce((n, [, b]) => n + 4 + b.length, 0);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, nr, true);
  v.setBigUint64(8, 5_000_000_000n, true);
  v.setUint32(16, 4242, true); // tid
  v.setUint32(20, 4242, true); // pid
  v.setUint32(24, 1, true); // ppid
  v.setBigInt64(72, BigInt(ret), true);
  args.forEach((a, i) => v.setBigInt64(80 + i * 8, BigInt(a), true));
  b.set(new TextEncoder().encode(comm), 128);
  let o = 144;
  for (const [tag, bytes] of items) {
    v.setUint16(o, tag, true);
    v.setUint16(o + 2, bytes.length, true);
    b.set(bytes, o + 4);
    o += 4 + bytes.length;
  }
  return b;
}

function hello(bootEpoch: bigint): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, 32, true);
  v.setUint16(4, 4, true);
  v.setUint16(6, 1, true);
  v.setBigUint64(16, bootEpoch, true);
  v.setUint32(24, 2, true);
  return b;
}

const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

function fileItem(ino: number | bigint, dev: number, fmode: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(ino), true);
  v.setUint32(8, dev, true);
  v.setUint32(24, fmode, true);
  return b;
}

function collect(reader: FrameReader, chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) reader.push(c, (f) => out.push({ ...f, bytes: f.bytes.slice(f.off, f.off + f.len), off: 0, view: new DataView(f.bytes.slice(f.off, f.off + f.len).buffer) }));
  return out;
}

test('frames split across chunks at every byte come out whole and identical', () => {
  const a = frame(257, 3, [-100, 0, 0o2000000, 0], [[2, cstr('/etc/shadow')]]);
  const b = frame(3, 0, [3], []);
  const all = new Uint8Array([...hello(1n), ...a, ...b]);
  const whole = collect(new FrameReader(), [all]);
  assert.equal(whole.length, 3);
  for (let cut = 1; cut < all.length; cut++) {
    const parts = collect(new FrameReader(), [all.subarray(0, cut), all.subarray(cut)]);
    assert.deepEqual(parts.map((f) => [...f.bytes]), whole.map((f) => [...f.bytes]), `cut at ${cut}`);
  }
});

test('an impossible frame length is a FrameError with its position; a cut frame is counted as left over', () => {
  const r = new FrameReader();
  const ok = frame(3, 0, [3], []);
  const bad = new Uint8Array(8);
  new DataView(bad.buffer).setUint32(0, 3, true);
  assert.throws(() => r.push(new Uint8Array([...ok, ...bad]), () => {}), (e: unknown) => e instanceof FrameError && e.offset === ok.length && /impossible length 3/.test(e.message));
  const r2 = new FrameReader();
  r2.push(ok.subarray(0, 100), () => assert.fail('no whole frame yet'));
  assert.equal(r2.leftover, 100);
});

test('a malformed event frame is a DecodeError naming what is wrong', () => {
  const d = new FrameDecoder();
  const f = frame(257, 3, [], [[2, cstr('/x')]]);
  new DataView(f.buffer).setUint16(146, 500, true); // item longer than the frame
  assert.throws(() => d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 }), (e: unknown) => e instanceof DecodeError && /overruns/.test(e.message));
  const short = new Uint8Array(64);
  new DataView(short.buffer).setUint32(0, 64, true);
  assert.throws(() => d.decode({ bytes: short, view: new DataView(short.buffer), off: 0, len: 64, kind: 1 }), /shorter than its 144-byte header/);
  assert.throws(() => d.decode({ bytes: short, view: new DataView(short.buffer), off: 0, len: 64, kind: 99 }), /unknown kind 99/);
});

test('an openat frame becomes the openat exit event with libscap values', () => {
  const d = new FrameDecoder();
  const h = hello(1_700_000_000_000_000_000n);
  d.decode({ bytes: h, view: new DataView(h.buffer), off: 0, len: 32, kind: 4 });
  // O_WRONLY|O_CREAT|O_CLOEXEC, mode 0640, created; /dev/vda1-like dev 254:1
  const f = frame(257, 5, [-100, 0, 0o2000101, 0o640], [[2, cstr('/tmp/new')], [12, fileItem(77, (254 << 20) | 1, 0x100000)]]);
  const e = d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 });
  assert.ok(e);
  assert.equal(e.type, 'openat');
  assert.equal(e.enter, false);
  assert.equal(e.tid, 4242);
  assert.equal(e.ts, 1_700_000_005_000_000_000n);
  const get = (n: string): unknown => {
    const i = e.names.indexOf(n);
    return decodeParam(e.descs![i]!, param(e, n)!);
  };
  assert.equal(get('fd'), 5);
  assert.equal(get('dirfd'), -100);
  assert.equal(get('name'), '/tmp/new');
  // PPM_O_WRONLY (2) | PPM_O_CREAT (4) | PPM_O_CLOEXEC (1<<12) | PPM_O_F_CREATED (1<<14)
  assert.equal(get('flags'), 2 | 4 | (1 << 12) | (1 << 14));
  assert.equal(get('mode'), 0o640);
  assert.equal(get('dev'), 0xfe01);
  assert.equal(get('ino'), 77);
});

test('inode numbers past 2^53 (overlayfs xino) stay exact from the frame to the state engine', () => {
  const d = new FrameDecoder();
  const h = hello(1_700_000_000_000_000_000n);
  d.decode({ bytes: h, view: new DataView(h.buffer), off: 0, len: 32, kind: 4 });
  const big = (1n << 62n) + 1_475_009n;
  const open = frame(257, 5, [-100, 0, 0, 0], [[2, cstr('/etc/passwd')], [12, fileItem(big, (254 << 20) | 1, 0x100000)]]);
  const e = d.decode({ bytes: open, view: new DataView(open.buffer), off: 0, len: open.length, kind: 1 })!;
  assert.equal(exactUint(param(e, 'ino')), big);
  const execItem = new Uint8Array(112);
  new DataView(execItem.buffer).setBigUint64(24, big + 1n, true); // exe_ino
  const exec = frame(59, 0, [0, 0, 0], [[20, execItem], [21, new Uint8Array([...cstr('/bin/sh')])], [24, cstr('tmp')], [26, cstr('user.slice')]]);
  const x = d.decode({ bytes: exec, view: new DataView(exec.buffer), off: 0, len: exec.length, kind: 1 })!;
  assert.equal(exactUint(param(x, 'exe_ino')), big + 1n);
  // Small values stay numbers.
  const small = frame(257, 6, [-100, 0, 0, 0], [[2, cstr('/etc/group')], [12, fileItem(77, 1, 0x100000)]]);
  assert.equal(exactUint(param(d.decode({ bytes: small, view: new DataView(small.buffer), off: 0, len: small.length, kind: 1 })!, 'ino')), 77);
});

test('a reusing decoder gives every event the params a fresh decoder gives; readClose reads what a close event shows', () => {
  const h = hello(1_700_000_000_000_000_000n);
  const execItem = new Uint8Array(112);
  new DataView(execItem.buffer).setBigUint64(0, 0x1ffn, true); // cap_inheritable
  new DataView(execItem.buffer).setUint32(104, 1000, true); // euid
  const sin = new Uint8Array([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const frames = [
    frame(257, 5, [-100, 0, 0o2000101, 0o640], [[2, cstr('/tmp/a-rather-long-name')], [12, fileItem(77, (254 << 20) | 1, 0x100000)]]),
    // The same syscall again, shorter string and other numbers: nothing of the first may show.
    frame(257, -2, [7, 0, 0, 0], [[2, cstr('b')]]),
    frame(3, 0, [5], []),
    frame(42, -111, [4, 0, 16], [[10, sin]]),
    frame(59, 0, [0, 0, 0], [[20, execItem], [21, new Uint8Array([...cstr('/bin/cat'), ...cstr('x')])], [24, new Uint8Array([...cstr('tmp')])], [26, new Uint8Array([...cstr('user.slice')])]]),
    frame(22, 0, [0], [[13, new Uint8Array([3, 0, 0, 0, 4, 0, 0, 0])]]),
    frame(257, 6, [-100, 0, 0, 0], [[2, cstr('/etc/passwd')]]),
  ];
  const fresh = new FrameDecoder();
  const reusing = new FrameDecoder({ reuse: true });
  for (const d of [fresh, reusing]) d.decode({ bytes: h, view: new DataView(h.buffer), off: 0, len: 32, kind: 4 });
  const snapshot = (e: ReturnType<FrameDecoder['decode']>): unknown => e && { num: e.num, ts: e.ts, tid: e.tid, type: e.type, enter: e.enter, names: [...e.names], params: e.params.map((p) => [...p]) };
  const reused = new Set<unknown>();
  for (const f of frames) {
    const fr = { bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 };
    const want = snapshot(fresh.decode(fr));
    const e = reusing.decode(fr);
    assert.deepEqual(snapshot(e), want, `syscall ${new DataView(f.buffer).getUint16(6, true)}`);
    reused.add(e);
  }
  assert.equal(reused.size, 5, 'one event object per syscall');
  // readClose: the numbers the close event carries, without one.
  const c = frame(3, -9, [77], []);
  const fc = { bytes: c, view: new DataView(c.buffer), off: 0, len: c.length, kind: 1 };
  const ev = fresh.decode(fc)!;
  assert.equal(reusing.readClose(fc), true);
  assert.deepEqual({ ...reusing.closed }, { tid: ev.tid, ts: ev.ts, fd: 77, res: -9 });
  assert.equal(reusing.readClose({ bytes: frames[0]!, view: new DataView(frames[0]!.buffer), off: 0, len: frames[0]!.length, kind: 1 }), false);
  assert.throws(() => reusing.readClose({ bytes: c, view: new DataView(c.buffer), off: 0, len: 100, kind: 1 }), /shorter than its 144-byte header/);
});

test('sockaddrs convert to the libscap layout (port little-endian, abstract unix paths with @)', () => {
  const in4 = new Uint8Array([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...scapSockaddr(in4)!], [2, 127, 0, 0, 1, 0x90, 0x1f]);
  const un = new Uint8Array([1, 0, 0, ...new TextEncoder().encode('sock'), 0]);
  assert.equal(new TextDecoder().decode(scapSockaddr(un)!.subarray(1)), '@sock\0');
  assert.equal(joinComponents(new Uint8Array([...cstr('cat'), ...cstr('bin'), ...cstr('usr')])), '/usr/bin/cat');
  assert.equal(joinComponents(new Uint8Array(0)), '/');
});

test('the decoder knows every syscall of probe/src/syscalls.h, with the same numbers', () => {
  const h = readFileSync(resolve(here, '../../../../probe/src/syscalls.h'), 'utf8');
  const fromC = new Map([...h.matchAll(/X\((\w+),\s*(\w+),\s*(\d+)\)/g)].map((m) => [Number(m[3]), m[2]!]));
  assert.ok(fromC.size >= 60);
  assert.deepEqual(new Map(Object.entries(PROBE_SYSCALLS).map(([k, v]) => [Number(k), v])), fromC);
  assert.deepEqual(new FrameDecoder().syscalls().sort(), [...fromC.values()].sort());
});

const probeMissing = !existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : process.getuid?.() !== 0 ? 'needs root' : undefined;

test('a probe killed under the collector is restarted, and one that keeps failing is given up on', { skip: probeMissing }, async () => {
  const problems: [string, boolean][] = [];
  let stats = 0;
  const p = new ProbeProcess({ syscalls: ['openat'], statsIntervalMs: 50, maxRestarts: 1, restartWindowMs: 60_000 }, { event: () => {}, stats: () => stats++, problem: (m, f) => problems.push([m, f]) });
  await p.start();
  const first = p.pid!;
  process.kill(first, 'SIGKILL');
  for (let i = 0; i < 100 && (p.pid === undefined || p.pid === first || !p.running); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(p.running && p.pid !== first, 'restarted');
  assert.equal(p.counters.restarts, 1);
  assert.match(problems[0]![0], /the probe exited \(SIGKILL\).*restarting in \d+ ms/);
  const before = stats;
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(stats > before, 'the restarted probe reports');
  // A second death within the window exceeds maxRestarts: given up on, reported as fatal.
  process.kill(p.pid!, 'SIGKILL');
  for (let i = 0; i < 100 && !p.failed; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(p.failed);
  assert.equal(problems.at(-1)![1], true);
  assert.match(problems.at(-1)![0], /giving up/);
  await p.stop();
});

test('a missing probe binary is a clear error', async () => {
  const p = new ProbeProcess({ binary: '/nonexistent/harrier-probe', syscalls: ['openat'] }, { event: () => {} });
  await assert.rejects(p.start(), /does not exist: build it with `make -C probe`/);
});
