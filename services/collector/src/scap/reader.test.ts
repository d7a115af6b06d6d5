// The reader against captures built here byte by byte (every block kind and version the corpus
// lacks), and against bad input: truncation at every byte, corrupt lengths, wrong magic and
// version, short gzip, and random corruption, all of which must end in a ScapError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScapError } from './errors.js';
import { readScap, type ScapCapture, type ScapReadOptions } from './reader.js';

// ---- a small capture writer -----------------------------------------------------------------

class Bytes {
  private readonly parts: Buffer[] = [];
  u8(v: number): this {
    return this.push(Buffer.from([v]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.push(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.push(b);
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.push(b);
  }
  u64(v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    return this.push(b);
  }
  raw(b: Uint8Array | string | readonly number[]): this {
    return this.push(typeof b === 'string' ? Buffer.from(b) : Buffer.from(b as Uint8Array));
  }
  /** 16-bit length-prefixed bytes. */
  s16(s: string): this {
    const b = Buffer.from(s);
    return this.u16(b.length).raw(b);
  }
  push(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function block(type: number, body: Buffer): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 8 + body.length + pad + 4;
  return new Bytes().u32(type).u32(total).raw(body).raw(Buffer.alloc(pad)).u32(total).done();
}

/** A V9 process entry (with its own length prefix). */
function procV9(tid: number, comm: string): Buffer {
  const b = new Bytes()
    .u64(tid).u64(tid).u64(1).u64(tid).u64(tid)
    .s16(comm).s16(`/usr/bin/${comm}`).s16(`/usr/bin/${comm}`)
    .s16('-c\0echo hi\0').s16('/root').u64(1024).u32(0).u32(1000).u32(1000)
    .u32(100).u32(50).u32(0).u64(3).u64(400)
    .s16('HOME=/root\0TERM=xterm\0').u64(tid).u64(tid).s16('cpu=/user.slice\0memory=/user.slice\0').s16('/')
    .u64(1_690_000_000_000_000_000n).u32(34816) // pidns_init_start_ts, tty
    .i32(-1).u8(1).u64(0).u64(0x1ffffffffffn).u64(0x1ffffffffffn) // loginuid, exe_writable, caps
    .u8(0).u64(1455899).u64(1_690_297_602_155_289_143n).u64(1_666_982_621_000_000_000n).u8(0).u8(0).u64(tid)
    .raw(Buffer.from([0xee, 0xee])); // fields from a newer writer: skipped by length
  const body = b.done();
  return new Bytes().u32(body.length + 4).raw(body).done();
}

function fdV2(entry: Buffer): Buffer {
  return new Bytes().u32(entry.length + 4).raw(entry).done();
}

interface EventSpec {
  readonly type: number;
  readonly tid: number;
  readonly ts: bigint;
  readonly params: readonly Buffer[];
  readonly block?: number;
  readonly flags?: number;
  readonly large?: boolean;
}

function event(e: EventSpec): Buffer {
  const blockType = e.block ?? 0x216;
  const v2 = blockType !== 0x204 && blockType !== 0x208;
  const lenSize = e.large ? 4 : 2;
  const hdr = v2 ? 26 : 22;
  const dataLen = e.params.reduce((n, p) => n + p.length, 0);
  const len = hdr + lenSize * e.params.length + dataLen;
  const b = new Bytes().u16(1);
  if (blockType === 0x208 || blockType === 0x217 || blockType === 0x222) b.u32(e.flags ?? 0);
  b.u64(e.ts).u64(e.tid).u32(len).u16(e.type);
  if (v2) b.u32(e.params.length);
  for (const p of e.params) {
    if (lenSize === 4) b.u32(p.length);
    else b.u16(p.length);
  }
  for (const p of e.params) b.raw(p);
  return block(blockType, b.done());
}

const le64 = (v: bigint | number) => new Bytes().u64(v).done();
const le32 = (v: number) => new Bytes().u32(v).done();
const cstr = (s: string) => Buffer.from(`${s}\0`);

function sampleCapture(): Buffer {
  const shb = block(
    0x0a0d0d0a,
    new Bytes().u32(0x1a2b3c4d).u16(1).u16(2).u64(-1n)
      .u16(1).u16(7).raw('comment\0').u16(4).u16(4).raw('test').u16(0).u16(0).done(),
  );
  const mi = block(0x201, new Bytes().u32(4).u64(8n << 30n).u64(4194304).raw(Buffer.alloc(128, 0).fill('host1', 0, 5)).u64(123n).u64(0).u64(0).u64(0).done());
  const pl = block(0x215, Buffer.concat([procV9(100, 'bash'), procV9(101, 'cat')]));
  const fdl = block(0x218, Buffer.concat([
    le64(100),
    fdV2(new Bytes().u64(0).u64(5).u8(16).u32(3).s16('/dev/pts/0').u32(34816).done()),
    fdV2(new Bytes().u64(3).u64(77).u8(3).raw([10, 0, 0, 1]).raw([10, 0, 0, 2]).u16(40000).u16(443).u8(2).done()),
    fdV2(new Bytes().u64(4).u64(78).u8(6).raw(Buffer.alloc(16)).u16(8080).u8(2).done()),
    fdV2(new Bytes().u64(5).u64(79).u8(8).u64(0xffff1n).u64(0xffff2n).s16('/run/x.sock').done()),
    fdV2(new Bytes().u64(6).u64(80).u8(12).s16('').done()),
  ]));
  const fdlOld = block(0x203, Buffer.concat([
    le64(101),
    new Bytes().u64(0).u64(5).u8(1).s16('/dev/null').done(),
    new Bytes().u64(1).u64(6).u8(5).raw([0, 0, 0, 0]).u16(22).u8(2).done(),
  ]));
  const ul = block(0x220, Buffer.concat([
    (() => { const e = new Bytes().u8(0).u32(0).u32(0).s16('root').s16('/root').s16('/bin/bash').done(); return new Bytes().u32(e.length + 4).raw(e).done(); })(),
    (() => { const e = new Bytes().u8(1).u32(27).s16('sudo').done(); return new Bytes().u32(e.length + 4).raw(e).done(); })(),
  ]));
  const il = block(0x219, Buffer.concat([
    (() => { const e = new Bytes().u16(1).u16(2).raw([127, 0, 0, 1]).raw([255, 0, 0, 0]).raw([127, 0, 0, 1]).u64(0).raw('lo').done(); return new Bytes().u32(e.length).raw(e).done(); })(),
    (() => { const a = Buffer.alloc(16); a[15] = 1; const e = new Bytes().u16(2).u16(2).raw(a).raw(Buffer.alloc(16, 0xff)).raw(Buffer.alloc(16)).u64(1000).raw('lo').done(); return new Bytes().u32(e.length).raw(e).done(); })(),
  ]));
  const unknown = block(0x7777, Buffer.from('skip me'));
  const events = [
    // openat exit (307): fd, dirfd, name, flags, mode, dev, ino
    event({ type: 307, tid: 100, ts: 1000n, params: [le64(3), le64(-100n), cstr('/etc/passwd'), le32(4097), le32(0), le32(0x803), le64(42)] }),
    // V1 block: open exit (3) written with 5 params (before ino was added): the count is inferred
    event({ type: 3, tid: 100, ts: 1001n, block: 0x204, params: [le64(4), cstr('/tmp/x'), le32(1), le32(0), le32(0)] }),
    // event with flags V2
    event({ type: 6, tid: 101, ts: 1002n, block: 0x217, flags: 0x5, params: [le64(0), le32(10)] }),
    // a code beyond the table (a newer driver's event)
    event({ type: 600, tid: 101, ts: 1003n, params: [le32(1)] }),
    // large payload: container JSON (324) with 32-bit param lengths, in a V2 large block
    event({ type: 324, tid: -1, ts: 1004n, block: 0x221, large: true, params: [cstr('{"container":{}}')] }),
  ];
  return Buffer.concat([shb, mi, pl, fdl, fdlOld, ul, il, unknown, ...events]);
}

const SAMPLE = sampleCapture();

function expectScapError(fn: () => unknown, check: Partial<Pick<ScapError, 'code' | 'block'>> & { message?: RegExp }, label = ''): ScapError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ScapError, `${label}: expected a ScapError, got ${String(err)}`);
    if (check.code) assert.equal(err.code, check.code, `${label}: ${err.message}`);
    if (check.block) assert.equal(err.block, check.block, `${label}: ${err.message}`);
    if (check.message) assert.match(err.message, check.message, label);
    assert.ok(err.block.length > 0);
    assert.ok(Number.isInteger(err.offset) && err.offset >= 0);
    assert.ok(err.message.includes(`offset ${err.blockOffset}`));
    return err;
  }
  assert.fail(`${label}: expected a ScapError`);
}

/** Reads everything, events included. */
function readAll(buf: Uint8Array, opts?: ScapReadOptions): ScapCapture {
  const cap = readScap(buf, opts);
  for (const e of cap.events) void e;
  return cap;
}

// ---- decoding ---------------------------------------------------------------------------------

test('header, machine, processes, fds, users, groups, interfaces', () => {
  const cap = readScap(SAMPLE);
  assert.equal(cap.header.majorVersion, 1);
  assert.equal(cap.header.minorVersion, 2);
  assert.equal(cap.header.sectionLength, -1n);
  assert.deepEqual(cap.header.options.map((o) => [o.code, o.text]), [[1, 'comment'], [4, 'test']]);
  assert.deepEqual(cap.machine, { numCpus: 4, memorySizeBytes: 8n << 30n, maxPid: 4194304n, hostname: 'host1', bootTsEpoch: 123n, flags: 0n });
  assert.equal(cap.processes.length, 2);
  const p = cap.processes[0]!;
  assert.deepEqual(
    [p.version, p.tid, p.pid, p.ptid, p.sid, p.vpgid, p.comm, p.exe, p.exepath, p.args, p.cwd, p.fdlimit, p.uid, p.gid],
    [9, 100, 100, 1, 100, 100, 'bash', '/usr/bin/bash', '/usr/bin/bash', ['-c', 'echo hi'], '/root', 1024, 1000, 1000],
  );
  assert.deepEqual([p.vmsizeKb, p.vmrssKb, p.vmswapKb, p.pfMajor, p.pfMinor], [100, 50, 0, 3n, 400n]);
  assert.deepEqual(p.env, ['HOME=/root', 'TERM=xterm']);
  assert.deepEqual(p.cgroups, ['cpu=/user.slice', 'memory=/user.slice']);
  assert.deepEqual([p.vtid, p.vpid, p.root, p.pidnsInitStartTs, p.tty, p.loginuid], [100, 100, '/', 1_690_000_000_000_000_000n, 34816, -1]);
  assert.deepEqual([p.exeWritable, p.capPermitted, p.exeUpperLayer, p.exeIno, p.exeFromMemfd, p.exeLowerLayer, p.pgid], [true, 0x1ffffffffffn, false, 1455899n, false, false, 100]);
  assert.equal(cap.processes[1]!.comm, 'cat');

  const fds = cap.fds.get(100)!;
  assert.deepEqual(fds[0], { fd: 0, ino: 5n, type: 16, kind: 'file_v2', openFlags: 3, name: '/dev/pts/0', dev: 34816 });
  assert.deepEqual(fds[1], { fd: 3, ino: 77n, type: 3, kind: 'ipv4', sip: '10.0.0.1', dip: '10.0.0.2', sport: 40000, dport: 443, l4proto: 2 });
  assert.deepEqual(fds[2], { fd: 4, ino: 78n, type: 6, kind: 'ipv6_server', ip: '::', port: 8080, l4proto: 2 });
  assert.deepEqual(fds[3], { fd: 5, ino: 79n, type: 8, kind: 'unix', source: 0xffff1n, destination: 0xffff2n, name: '/run/x.sock' });
  assert.deepEqual(fds[4], { fd: 6, ino: 80n, type: 12, kind: 'eventpoll', name: '' });
  assert.deepEqual(cap.fds.get(101), [
    { fd: 0, ino: 5n, type: 1, kind: 'file', name: '/dev/null' },
    { fd: 1, ino: 6n, type: 5, kind: 'ipv4_server', ip: '0.0.0.0', port: 22, l4proto: 2 },
  ]);
  assert.deepEqual(cap.users, [{ uid: 0, gid: 0, name: 'root', homedir: '/root', shell: '/bin/bash' }]);
  assert.deepEqual(cap.groups, [{ gid: 27, name: 'sudo' }]);
  assert.deepEqual(cap.interfaces.v4, [{ name: 'lo', addr: '127.0.0.1', netmask: '255.0.0.0', bcast: '127.0.0.1', linkspeed: 0n }]);
  assert.deepEqual(cap.interfaces.v6, [{ name: 'lo', addr: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', bcast: '::', linkspeed: 1000n }]);
  assert.equal(cap.stats.unknownBlocks, 1);
});

test('events: V2, V1 with inferred param count, flags, large payload; unknown codes skipped', () => {
  const cap = readScap(SAMPLE);
  assert.equal(cap.eventBlocks, 5);
  const ev = [...cap.events];
  assert.deepEqual(ev.map((e) => [e.num, e.type, e.info?.name, e.info?.dir, e.tid, e.ts, e.cpu, e.flags]), [
    [1, 307, 'openat', '<', 100, 1000n, 1, undefined],
    [2, 3, 'open', '<', 100, 1001n, 1, undefined],
    [3, 6, 'read', '>', 101, 1002n, 1, 5],
    [4, 324, 'container', '>', -1, 1004n, 1, undefined],
  ]);
  assert.equal(cap.stats.unknownEvents, 1);
  const [openat, open, , container] = ev;
  assert.equal(openat!.params.length, 7);
  assert.equal(Buffer.from(openat!.params[2]!).toString(), '/etc/passwd\0');
  assert.equal(Buffer.from(openat!.params[6]!).readBigUInt64LE(), 42n);
  assert.equal(open!.params.length, 5, 'old-format open exit: 5 of the 6 params the table lists');
  assert.equal(Buffer.from(container!.params[0]!).toString(), '{"container":{}}\0');
  // params are views into the capture, not copies
  assert.equal(openat!.params[2]!.buffer, SAMPLE.buffer);
  // iterable again, with the same numbering
  assert.deepEqual([...cap.events].map((e) => e.num), [1, 2, 3, 4]);
  const all = [...readScap(SAMPLE, { unknownEvents: 'yield' }).events];
  assert.deepEqual(all.map((e) => [e.num, e.type, e.info?.name]), [[1, 307, 'openat'], [2, 3, 'open'], [3, 6, 'read'], [4, 600, undefined], [5, 324, 'container']]);
});

test('gzip captures read the same as plain ones', () => {
  const plain = readScap(SAMPLE);
  const gz = readScap(gzipSync(SAMPLE));
  assert.deepEqual(gz.processes, plain.processes);
  assert.deepEqual(gz.fds, plain.fds);
  assert.deepEqual([...gz.events].map((e) => [e.num, e.type, e.ts, e.params]), [...plain.events].map((e) => [e.num, e.type, e.ts, e.params]));
});

// ---- bad input --------------------------------------------------------------------------------

function blockStarts(buf: Buffer): Set<number> {
  const starts = new Set<number>();
  for (let off = 0; off < buf.length; off += buf.readUInt32LE(off + 4)) starts.add(off);
  starts.add(buf.length);
  return starts;
}

test('a capture cut at any byte: a ScapError naming the block, or a shorter valid capture at block boundaries', () => {
  const starts = blockStarts(SAMPLE);
  for (let cut = 0; cut < SAMPLE.length; cut++) {
    const part = SAMPLE.subarray(0, cut);
    if (cut > 0 && starts.has(cut)) {
      readAll(part);
      continue;
    }
    const err = expectScapError(() => readAll(part), { code: 'TRUNCATED' }, `cut at ${cut}`);
    assert.ok(err.offset <= cut, `cut at ${cut}: offset ${err.offset}`);
  }
  // With truncated: 'stop', the complete blocks before the cut are kept.
  const cut = SAMPLE.length - 10;
  const cap = readAll(SAMPLE.subarray(0, cut), { truncated: 'stop' });
  assert.equal(cap.truncated?.code, 'TRUNCATED');
  assert.equal(cap.truncated?.block, 'event V2 large');
  assert.equal(cap.processes.length, 2);
  assert.equal([...cap.events].length, 3);
});

test('a corrupt block length: past the end, too short, or disagreeing with the trailer', () => {
  const plOff = [...blockStarts(SAMPLE)].find((o) => o < SAMPLE.length && SAMPLE.readUInt32LE(o) === 0x215)!;
  const huge = Buffer.from(SAMPLE);
  huge.writeUInt32LE(0x7ffffff0, plOff + 4);
  const e1 = expectScapError(() => readScap(huge), { code: 'TRUNCATED', block: 'process list V9', message: /runs past the end/ });
  assert.equal(e1.blockOffset, plOff);
  assert.equal(e1.offset, plOff + 4);
  const short = Buffer.from(SAMPLE);
  short.writeUInt32LE(8, plOff + 4);
  expectScapError(() => readScap(short), { code: 'CORRUPT', block: 'process list V9', message: /less than a block header/ });
  const other = Buffer.from(SAMPLE);
  other.writeUInt32LE(SAMPLE.readUInt32LE(plOff + 4) - 4, plOff + 4);
  expectScapError(() => readScap(other), { code: 'CORRUPT', block: 'process list V9', message: /trailer length/ });
  // A length inside an entry (comm) larger than the entry.
  const inner = Buffer.from(SAMPLE);
  inner.writeUInt16LE(0xffff, plOff + 8 + 4 + 40);
  expectScapError(() => readScap(inner), { code: 'CORRUPT', block: 'process list V9', message: /comm needs 65535 bytes/ });
});

test('corrupt event headers and param lengths fail while iterating, naming the event block', () => {
  const evOff = [...blockStarts(SAMPLE)].find((o) => o < SAMPLE.length && SAMPLE.readUInt32LE(o) === 0x216)!;
  const badLen = Buffer.from(SAMPLE);
  badLen.writeUInt16LE(0xffff, evOff + 8 + 2 + 26); // first param length
  const cap = readScap(badLen);
  expectScapError(() => [...cap.events], { code: 'CORRUPT', block: 'event V2', message: /param 1 of 7 has length 65535/ });
  const badCount = Buffer.from(SAMPLE);
  badCount.writeUInt32LE(1000, evOff + 8 + 2 + 22); // nparams
  expectScapError(() => [...readScap(badCount).events], { code: 'CORRUPT', block: 'event V2', message: /1000 params/ });
  const badEvtLen = Buffer.from(SAMPLE);
  badEvtLen.writeUInt32LE(5, evOff + 8 + 2 + 16);
  expectScapError(() => [...readScap(badEvtLen).events], { code: 'CORRUPT', block: 'event V2', message: /event length 5/ });
});

test('wrong magic, byte order and major version', () => {
  const notScap = Buffer.from(SAMPLE);
  notScap.write('PK\x03\x04', 0, 'latin1');
  expectScapError(() => readScap(notScap), { code: 'BAD_MAGIC', message: /not a scap capture/ });
  const magic = Buffer.from(SAMPLE);
  magic.writeUInt32LE(0xdeadbeef, 8);
  expectScapError(() => readScap(magic), { code: 'BAD_MAGIC', block: 'section header', message: /byte-order magic 0xdeadbeef/ });
  const swapped = Buffer.from(SAMPLE);
  swapped.writeUInt32BE(0x1a2b3c4d, 8);
  expectScapError(() => readScap(swapped), { code: 'BAD_MAGIC', block: 'section header', message: /big-endian/ });
  const major = Buffer.from(SAMPLE);
  major.writeUInt16LE(2, 12);
  const err = expectScapError(() => readScap(major), { code: 'UNSUPPORTED_VERSION', block: 'section header', message: /version 2\.2 is not supported/ });
  assert.equal(err.offset, 12);
  expectScapError(() => readScap(new Uint8Array(0)), { code: 'TRUNCATED' });
});

test('a gzip stream that ends early, or is corrupt', () => {
  const gz = gzipSync(SAMPLE);
  for (const cut of [10, 30, Math.floor(gz.length / 2), gz.length - 9, gz.length - 1]) {
    expectScapError(() => readScap(gz.subarray(0, cut)), { code: 'TRUNCATED', block: 'gzip', message: /ends early/ }, `gzip cut at ${cut}`);
  }
  // 'stop' keeps what decompresses up to the last complete block.
  const cap = readAll(gz.subarray(0, gz.length - 9), { truncated: 'stop' });
  assert.equal(cap.truncated?.block, 'gzip');
  assert.ok(cap.processes.length === 2);
  for (const cut of [3, 10]) {
    expectScapError(() => readScap(gz.subarray(0, cut), { truncated: 'stop' }), { block: 'gzip' }, `gzip cut at ${cut}, stop`);
  }
  const bad = Buffer.from(gz);
  bad.fill(0xff, 10, 40);
  expectScapError(() => readScap(bad), { code: 'GZIP', block: 'gzip' });
});

test('random corruption never escapes as anything but a ScapError', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(SAMPLE);
    for (let k = 1 + rnd(4); k > 0; k--) b[rnd(b.length)] = rnd(256);
    try {
      readAll(b, { unknownEvents: 'yield' });
    } catch (err) {
      assert.ok(err instanceof ScapError, `iteration ${i}: ${String(err)}`);
    }
  }
});

// ---- a corpus capture, when the corpus is present --------------------------------------------

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const corpusDir = process.env['HARRIER_CORPUS'] ?? resolve(repoRoot, '..', 'shared', 'corpus');
const catWrite = join(corpusDir, 'scap', 'falco', 'cat_write.scap');

test('a real capture cut at several points', { skip: existsSync(catWrite) ? false : `corpus capture not found at ${catWrite}` }, () => {
  const raw = gunzipSync(readFileSync(catWrite));
  const starts = blockStarts(raw);
  for (const cut of [5, 20, 29, 100, 1000, 20000, Math.floor(raw.length / 2), raw.length - 3]) {
    if (starts.has(cut)) continue;
    expectScapError(() => readAll(raw.subarray(0, cut)), { code: 'TRUNCATED' }, `cut at ${cut}`);
  }
});
