// Frame splitting and decoding (probe/FORMAT.md) on hand-built frames; the probe process's input
// handling with a fake probe writing such frames, and its supervision on the real probe (killed
// under it).

import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeParam } from '@harrier/events';
import { DecodeError, FIXED_ITEMS, FrameDecoder, PROBE_SYSCALLS, joinComponents, scapSockaddr } from './decode.js';
import { FrameError, FrameReader, type Frame } from './frames.js';
import { ProbeProcess, defaultProbeBinary } from './probe.js';
import { exactUint, param, type RawEvent } from '../state/params.js';
import { concat, cstr, fakeProbe, fileItem, frame, hello, statsFrame, until } from '../testing/probeframes.js';

const here = dirname(fileURLToPath(import.meta.url));

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

/** A frame as FrameReader hands it out: `len` bytes at `off` of a larger buffer. */
const at = (bytes: Uint8Array, off: number, len: number): Frame => ({ bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), off, len, kind: new DataView(bytes.buffer, bytes.byteOffset).getUint16(off + 4, true) });

/** The decoded value of an event's param. */
const arg = (e: RawEvent, name: string): unknown => decodeParam(e.descs![e.names.indexOf(name)]!, param(e, name)!);

const PIPE_FDS = new Uint8Array([3, 0, 0, 0, 4, 0, 0, 0]);

/** Per item type, a frame whose item of that type is `n` bytes long (last), and the length it needs. */
const SHORT_ITEM_CASES: { what: string; tag: number; need: number; lens: number[]; frame: (n: number) => Uint8Array }[] = [
  { what: 'openat: file (review: 0 bytes)', tag: 12, need: 32, lens: [0, 8, 20, 31], frame: (n) => frame(257, 3, [-100, 0, 0], [[2, cstr('/etc/hosts')], [12, new Uint8Array(n)]]) },
  { what: 'pipe: second file', tag: 27, need: 32, lens: [0, 31], frame: (n) => frame(22, 0, [0], [[13, PIPE_FDS], [12, fileItem(9, 0xc, 0)], [27, new Uint8Array(n)]]) },
  { what: 'connect: tuple', tag: 11, need: 168, lens: [0, 4, 40, 167], frame: (n) => frame(42, 0, [3, 0, 16], [[11, new Uint8Array(n).fill(2, 0, 1)]]) },
  { what: 'socketpair: tuple (sk at 40, peer at 48)', tag: 11, need: 168, lens: [44, 52], frame: (n) => frame(53, 0, [1, 1, 0], [[13, PIPE_FDS], [11, new Uint8Array(n).fill(1, 0, 1)]]) },
  { what: 'execve: exec', tag: 20, need: 112, lens: [0, 60, 111], frame: (n) => frame(59, 0, [0, 0, 0], [[21, cstr('/bin/true')], [20, new Uint8Array(n)]]) },
  { what: 'pipe: fds', tag: 13, need: 8, lens: [0, 4, 7], frame: (n) => frame(22, 0, [0], [[13, new Uint8Array(n)]]) },
  { what: 'openat2: struct open_how', tag: 13, need: 24, lens: [8, 16, 23], frame: (n) => frame(437, 3, [-100, 0, 0, 24], [[2, cstr('/etc/hosts')], [13, new Uint8Array(n)]]) },
  { what: 'clone3: clone_args.flags', tag: 13, need: 8, lens: [0, 4], frame: (n) => frame(435, 0, [0, 88], [[13, new Uint8Array(n)]]) },
  { what: 'accept4: listening queue', tag: 29, need: 8, lens: [0, 4, 7], frame: (n) => frame(288, 5, [3, 0, 0, 0], [[29, new Uint8Array(n)]]) },
];

test('an item too short for its type is a DecodeError naming its tag, its length and the length it needs; the next frame decodes', () => {
  const next = frame(257, 7, [-100, 0, 0], [[2, cstr('/etc/passwd')], [12, fileItem(77, 1, 0)]], { tid: 99 });
  for (const reuse of [false, true]) {
    const d = new FrameDecoder({ reuse });
    for (const c of SHORT_ITEM_CASES) {
      // Whole, the frame decodes: what fails below is the item's length alone.
      const whole = c.frame(c.need);
      assert.ok(d.decode(at(whole, 0, whole.length)), `${c.what}: whole`);
      for (const n of c.lens) {
        const bad = c.frame(n);
        const events = d.stats.events;
        const want = new RegExp(`^item ${c.tag} \\(.+\\) of ${n} bytes is shorter than its ${c.need} bytes`);
        // Last in its chunk (a read past it was a RangeError), and followed by a frame (it read that).
        assert.throws(() => d.decode(at(bad, 0, bad.length)), (e: unknown) => e instanceof DecodeError && want.test(e.message), `${c.what}, ${n} bytes, alone`);
        const chunk = concat(bad, next);
        assert.throws(() => d.decode(at(chunk, 0, bad.length)), (e: unknown) => e instanceof DecodeError && want.test(e.message), `${c.what}, ${n} bytes, then a frame`);
        assert.equal(d.stats.events, events, 'a malformed frame is no event');
        const e = d.decode(at(chunk, bad.length, next.length))!;
        assert.equal(e.tid, 99);
        assert.equal(arg(e, 'name'), '/etc/passwd');
        assert.equal(arg(e, 'ino'), 77);
      }
    }
  }
});

test('the fixed item sizes the decoder checks are those of probe/src/harrier.h', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-itemsizes-'));
  try {
    const src = join(dir, 'sizes.c');
    const structs = [...new Set(Object.values(FIXED_ITEMS).map((x) => x.type))];
    writeFileSync(src, `#include <stdio.h>\n#include <linux/types.h>\n#include "${resolve(here, '../../../../probe/src/harrier.h')}"\nint main(void) {\n${structs.map((s) => `  printf("${s} %zu\\n", sizeof(struct ${s}));`).join('\n')}\n  return 0;\n}\n`);
    try {
      execFileSync('cc', ['-o', join(dir, 'sizes'), src], { stdio: 'pipe' });
    } catch (err) {
      t.skip(`cannot compile against harrier.h: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const fromC = new Map(execFileSync(join(dir, 'sizes'), { encoding: 'utf8' }).trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
    for (const [tag, { type, size }] of Object.entries(FIXED_ITEMS)) assert.equal(size, fromC.get(type), `item ${tag}: struct ${type}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

/** A ProbeProcess on a fake probe writing `parts`, with what it hands on. */
function fakeProbeProcess(parts: Uint8Array[], event: (e: RawEvent) => void = () => {}): { p: ProbeProcess; problems: string[]; stats: () => number; dispose: () => Promise<void> } {
  const fake = fakeProbe(parts);
  const problems: string[] = [];
  let stats = 0;
  const p = new ProbeProcess({ binary: fake.binary, syscalls: ['openat'] }, { event, stats: () => stats++, problem: (m, fatal) => problems.push(`${fatal ? 'FATAL ' : ''}${m}`) });
  return {
    p,
    problems,
    stats: () => stats,
    dispose: async () => {
      await p.stop();
      fake.dispose();
    },
  };
}

const openat = (path: string, tid: number): Uint8Array => frame(257, 3, [-100, 0, 0], [[2, cstr(path)], [12, fileItem(77, 1, 0)]], { tid });
const shortFile = (tid: number): Uint8Array => frame(257, 3, [-100, 0, 0], [[2, cstr('/etc/hosts')], [12, new Uint8Array(0)]], { tid });

test('probe process: a frame with a short item is counted, reported and skipped; the stream goes on with the next frame', async () => {
  const seen: string[] = [];
  const h = hello(1_700_000_000_000_000_000n);
  const shortExec = frame(59, 0, [0, 0, 0], [[20, new Uint8Array(0)]], { tid: 101 });
  const f = fakeProbeProcess(
    [
      // One chunk: short items between and before good frames.
      concat(h, shortFile(100), openat('/etc/passwd', 200), shortExec, openat('/etc/group', 201), statsFrame(4)),
      // The review's case: the short item is the last byte of its chunk; a good frame follows in the next.
      shortFile(102),
      concat(openat('/etc/shadow', 202), statsFrame(5)),
    ],
    (e) => seen.push(`${e.tid} ${String(arg(e, 'name'))}`),
  );
  try {
    await f.p.start();
    await until(() => f.stats() === 1, 'the first stats frame');
    assert.deepEqual(seen, ['200 /etc/passwd', '201 /etc/group']);
    assert.equal(f.p.counters.malformedFrames, 2);
    assert.equal(f.problems.length, 2);
    const pos = h.length;
    assert.match(f.problems[0]!, new RegExp(`^malformed probe frame skipped \\(syscall openat frame of ${shortFile(100).length} bytes at byte ${pos} of the probe's output, tid 100\\): item 12 \\(struct hrr_file\\) of 0 bytes is shorter than its 32 bytes.*Its event is lost, the stream goes on`));
    assert.match(f.problems[1]!, /\(syscall execve frame .* tid 101\): item 20 \(struct hrr_exec\) of 0 bytes is shorter than its 112 bytes/);
    f.p.requestStats();
    await until(() => f.p.counters.malformedFrames === 3, 'the third malformed frame');
    f.p.requestStats();
    await until(() => f.stats() === 2, 'the second stats frame');
    assert.deepEqual(seen.slice(2), ['202 /etc/shadow']);
    assert.ok(f.p.running, 'the same probe still runs');
    assert.equal(f.p.counters.starts, 1);
    assert.equal(f.p.counters.corruptStreams, 0);
  } finally {
    await f.dispose();
  }
});

test('probe process: an error handing on one event skips that frame alone, reported as a collector bug', async () => {
  const seen: number[] = [];
  const f = fakeProbeProcess([concat(hello(1n), openat('/a', 1), openat('/b', 2), openat('/c', 3), statsFrame(3))], (e) => {
    if (e.tid === 2) throw new TypeError('cannot read properties of undefined');
    seen.push(e.tid);
  });
  try {
    await f.p.start();
    await until(() => f.stats() === 1, 'the stats frame');
    assert.deepEqual(seen, [1, 3]);
    assert.equal(f.p.counters.malformedFrames, 1);
    assert.equal(f.problems.length, 1);
    assert.match(f.problems[0]!, /^probe frame skipped after an error \(syscall openat frame .* tid 2\): TypeError: cannot read properties of undefined \(at .*decode\.test\.ts.*\)\. .*collector bug/);
  } finally {
    await f.dispose();
  }
});

test('probe process: skipped-frame reports are rate-limited, the rest counted and summed up when the window ends', async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const many = (n: number, tid0: number): Uint8Array => concat(...Array.from({ length: n }, (_, i) => shortFile(tid0 + i)));
  const f = fakeProbeProcess([concat(hello(1n), many(25, 1000), statsFrame(25)), statsFrame(25), concat(many(2, 2000), statsFrame(27))]);
  try {
    await f.p.start();
    await until(() => f.stats() === 1, 'the first stats frame');
    assert.equal(f.p.counters.malformedFrames, 25);
    assert.equal(f.problems.length, 10, 'ten reports in a window');
    assert.match(f.problems[9]!, /tid 1009\).*further skipped frames in the next 60 s are only counted, then summed up/);
    // Within the window, a stats frame sums nothing up yet.
    mock.timers.tick(30_000);
    f.p.requestStats();
    await until(() => f.stats() === 2, 'the second stats frame');
    assert.equal(f.problems.length, 10);
    // Once it ends, the next stats frame does; a new window reports again.
    mock.timers.tick(31_000);
    f.p.requestStats();
    await until(() => f.stats() === 3, 'the third stats frame');
    assert.equal(f.p.counters.malformedFrames, 27);
    assert.match(f.problems[10]!, /^15 more probe frames were skipped in the last 61 s without a report of their own \(25 in all\)$/);
    assert.equal(f.problems.length, 13);
    assert.match(f.problems[12]!, /tid 2001\)/);
  } finally {
    mock.timers.reset();
    await f.dispose();
  }
});

const probeMissing = !existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : process.getuid?.() !== 0 ? 'needs root' : undefined;

test('a probe killed under the collector is restarted, and one that keeps failing is given up on', { skip: probeMissing }, async () => {
  const problems: [string, boolean][] = [];
  let stats = 0;
  const p = new ProbeProcess({ syscalls: ['openat'], statsIntervalMs: 50, maxRestarts: 1, restartWindowMs: 60_000 }, { event: () => {}, stats: () => stats++, problem: (m, f) => problems.push([m, f]) });
  await p.start();
  try {
    const first = p.pid!;
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 100 && (p.pid === undefined || p.pid === first || !p.running); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(p.running && p.pid !== first, 'restarted');
    assert.equal(p.counters.restarts, 1);
    assert.match(problems[0]![0], /the probe exited \(SIGKILL\).*restarting in \d+ ms/);
    // Its stats frames come once it has loaded its program again, which on a busy machine takes a while.
    const before = stats;
    await until(() => stats > before, 'the restarted probe reports', 20_000);
    // A second death within the window exceeds maxRestarts: given up on, reported as fatal.
    process.kill(p.pid!, 'SIGKILL');
    for (let i = 0; i < 100 && !p.failed; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(p.failed);
    assert.equal(problems.at(-1)![1], true);
    assert.match(problems.at(-1)![0], /giving up/);
  } finally {
    // Also when an assertion failed: a probe left running would keep the test process alive.
    await p.stop();
  }
});

test('a missing probe binary is a clear error', async () => {
  const p = new ProbeProcess({ binary: '/nonexistent/harrier-probe', syscalls: ['openat'] }, { event: () => {} });
  await assert.rejects(p.start(), /does not exist: build it with `make -C probe`/);
});

test('send and receive frames carry their data (item 28) as the data parameter; without the item it is absent', () => {
  const d = new FrameDecoder();
  const h = hello(1_700_000_000_000_000_000n);
  d.decode({ bytes: h, view: new DataView(h.buffer), off: 0, len: 32, kind: 4 });
  const payload = new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34, 1, 2, 3]);
  for (const [nr, type] of [[44, 'sendto'], [45, 'recvfrom'], [46, 'sendmsg'], [47, 'recvmsg']] as const) {
    const f = frame(nr, payload.length, [3, 0, 4096, 0, 0, 0], [[28, payload]]);
    const e = d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 })!;
    assert.equal(e.type, type);
    assert.deepEqual([...(param(e, 'data') ?? [])], [...payload], `${type}: data`);
    const bare = frame(nr, -11, [3, 0, 4096, 0, 0, 0], []);
    const x = d.decode({ bytes: bare, view: new DataView(bare.buffer), off: 0, len: bare.length, kind: 1 })!;
    assert.equal(param(x, 'data')?.length ?? 0, 0, `${type}: no data item, no data`);
  }
});

test('a path the probe could not walk whole (its item ends in an empty component) becomes /PATH_TOO_LONG, never its leaf-side part', () => {
  const parts = (...xs: string[]): Uint8Array => concat(...xs.map(cstr));
  assert.equal(joinComponents(parts('cat', 'bin', 'usr')), '/usr/bin/cat');
  assert.equal(joinComponents(parts('cat', 'bin', 'usr', '')), '/PATH_TOO_LONG');
  assert.equal(joinComponents(parts('')), '/PATH_TOO_LONG');
  // A pseudo file (a memfd) is its own name, as libscap gives it, slashes and all.
  assert.equal(joinComponents(parts('', 'memfd:runc_cloned:/proc/self/exe')), 'memfd:runc_cloned:/proc/self/exe');
  assert.equal(joinComponents(parts('', 'x', '')), '/PATH_TOO_LONG');
  const d = new FrameDecoder();
  const h = hello(1_700_000_000_000_000_000n);
  d.decode({ bytes: h, view: new DataView(h.buffer), off: 0, len: 32, kind: 4 });
  const deep = Array.from({ length: 47 }, () => 'd');
  const exec = frame(59, 0, [0, 0, 0], [
    [20, new Uint8Array(112)],
    [21, parts('./true')],
    [23, parts('true', ...deep, '')],
    [24, parts(...deep, '')],
    [25, parts('')],
    [26, parts('c', 'c', '')],
  ]);
  const e = d.decode({ bytes: exec, view: new DataView(exec.buffer), off: 0, len: exec.length, kind: 1 })!;
  assert.equal(arg(e, 'trusted_exepath'), '/PATH_TOO_LONG');
  assert.equal(arg(e, 'cwd'), '/PATH_TOO_LONG');
  assert.equal(new TextDecoder().decode(param(e, 'cgroups')), 'cpuset=/PATH_TOO_LONG\0');
  const whole = frame(59, 0, [0, 0, 0], [[20, new Uint8Array(112)], [21, parts('./true')], [23, parts('true', 'd', 'tmp')], [24, parts('d', 'tmp')], [26, parts('user.slice')]]);
  const w = d.decode({ bytes: whole, view: new DataView(whole.buffer), off: 0, len: whole.length, kind: 1 })!;
  assert.equal(arg(w, 'trusted_exepath'), '/tmp/d/true');
  assert.equal(arg(w, 'cwd'), '/tmp/d');
  assert.equal(new TextDecoder().decode(param(w, 'cgroups')), 'cpuset=/user.slice\0');
});

test('accept and accept4 carry the listening queue (item 29) as queuelen, queuemax and queuepct; without it all are 0', () => {
  const d = new FrameDecoder();
  const backlog = (len: number, max: number): Uint8Array => new Uint8Array(new Uint32Array([len, max]).buffer);
  for (const [nr, type] of [[43, 'accept'], [288, 'accept4']] as const) {
    const f = frame(nr, 5, [3, 0, 0, 0x800], [[29, backlog(2, 5)]]);
    const e = d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 })!;
    assert.equal(e.type, type);
    assert.deepEqual([arg(e, 'queuelen'), arg(e, 'queuemax'), arg(e, 'queuepct')], [2, 5, 40], type);
    // The queue may hold one more than its limit (the kernel's full test is >): 150%, as libscap computes it.
    const over = frame(nr, 5, [3, 0, 0, 0], [[29, backlog(3, 2)]]);
    const o = d.decode({ bytes: over, view: new DataView(over.buffer), off: 0, len: over.length, kind: 1 })!;
    assert.deepEqual([arg(o, 'queuelen'), arg(o, 'queuemax'), arg(o, 'queuepct')], [3, 2, 150], `${type}: over the limit`);
    const failed = frame(nr, -11, [3, 0, 0, 0], []);
    const x = d.decode({ bytes: failed, view: new DataView(failed.buffer), off: 0, len: failed.length, kind: 1 })!;
    assert.deepEqual([arg(x, 'queuelen'), arg(x, 'queuemax'), arg(x, 'queuepct')], [0, 0, 0], `${type}: failed`);
  }
});

test('prctl: arg2_str and arg2_int as libscap fills them, by option', () => {
  const d = new FrameDecoder();
  const ptr = 0x7ffd_1234_5678;
  const prctl = (option: number, arg2: number | bigint, items: [number, Uint8Array][]): RawEvent => {
    const f = frame(157, 0, [option, 0], items);
    new DataView(f.buffer).setBigUint64(88, BigInt.asUintN(64, BigInt(arg2)), true);
    return d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 1 })!;
  };
  const both = (e: RawEvent): unknown[] => [arg(e, 'option'), arg(e, 'arg2_str'), arg(e, 'arg2_int')];
  // PR_SET_NAME and PR_GET_NAME: the name (the one set, the one got), arg2_int 0.
  assert.deepEqual(both(prctl(15, ptr, [[2, cstr('worker')]])), [15, 'worker', 0]);
  assert.deepEqual(both(prctl(16, ptr, [[2, cstr('worker')]])), [16, 'worker', 0]);
  // PR_GET_CHILD_SUBREAPER: the int it wrote at arg2, not the pointer; 0 when unreadable.
  assert.deepEqual(both(prctl(37, ptr, [[13, new Uint8Array(new Int32Array([1]).buffer)]])), [37, null, 1]);
  assert.deepEqual(both(prctl(37, ptr, [])), [37, null, 0]);
  // The rest (PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, ...): arg2 itself, all 64 bits.
  assert.deepEqual(both(prctl(36, 1, [])), [36, null, 1]);
  assert.deepEqual(both(prctl(4, -1, [])), [4, null, -1]);
  assert.deepEqual(both(prctl(35, 2n ** 62n + 3n, [])), [35, null, 2n ** 62n + 3n]);
});

test('a process exit frame gives its reaper (args[0]) as reaper_tid: a tid, 0 without children, -1 unknown', () => {
  const d = new FrameDecoder();
  for (const reaper of [7219, 0, -1]) {
    const f = frame(0, 0x100, [reaper], [], { kind: 2 });
    const e = d.decode({ bytes: f, view: new DataView(f.buffer), off: 0, len: f.length, kind: 2 })!;
    assert.equal(e.type, 'procexit');
    assert.equal(arg(e, 'reaper_tid'), reaper);
    assert.deepEqual([arg(e, 'ret'), arg(e, 'sig')], [1, 0]);
  }
});
