// The state engine over exit events only, as the modern probe sends them: every event is built
// from the event table's current exit version (its names, types and flags), so the enter params
// libs appends to exits are the only source of fds, uids and socket domains.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_FLAGS, eventCodes, eventInfo, type ParamInfo } from '@harrier/events';
import type { RawEvent } from './params.js';
import { StateEngine } from './engine.js';

type V = number | bigint | string | readonly string[] | Uint8Array;

const FIXED: Readonly<Record<string, number>> = {
  int8: 1, uint8: 1, flags8: 1, enumflags8: 1,
  int16: 2, uint16: 2, flags16: 2, enumflags16: 2,
  int32: 4, uint32: 4, flags32: 4, enumflags32: 4, uid: 4, gid: 4, mode: 4,
  int64: 8, uint64: 8, errno: 8, fd: 8, pid: 8, reltime: 8, abstime: 8,
};

/** One param's bytes as libscap lays them out; a missing value is zero or empty, as the probe fills it. */
function encode(p: ParamInfo, v: V | undefined): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const width = FIXED[p.type];
  if (width !== undefined) {
    const b = new Uint8Array(width);
    const d = new DataView(b.buffer);
    const n = BigInt(typeof v === 'string' || Array.isArray(v) ? 0 : ((v as number | bigint | undefined) ?? 0));
    if (width === 8) d.setBigUint64(0, BigInt.asUintN(64, n), true);
    else if (width === 4) d.setUint32(0, Number(BigInt.asUintN(32, n)), true);
    else if (width === 2) d.setUint16(0, Number(BigInt.asUintN(16, n)), true);
    else d.setUint8(0, Number(BigInt.asUintN(8, n)));
    return b;
  }
  if (v === undefined) return new Uint8Array(0);
  if (typeof v === 'string') return new TextEncoder().encode(`${v}\0`);
  if (Array.isArray(v)) return new TextEncoder().encode(v.map((s: string) => `${s}\0`).join(''));
  throw new Error(`test: no encoding of ${String(v)} as ${p.type}`);
}

let num = 0;
/** The current (not OLD_VERSION) exit event of a syscall, every table param present. */
function exit(type: string, tid: number, values: Readonly<Record<string, V>>): RawEvent {
  const code = eventCodes(type, '<').filter((c) => (eventInfo(c)!.flags & EVENT_FLAGS.OLD_VERSION) === 0).at(-1);
  assert.ok(code !== undefined, `no current ${type} exit event`);
  const info = eventInfo(code)!;
  for (const k of Object.keys(values)) assert.ok(info.params.some((p) => p.name === k), `${type} exit has no param ${k}`);
  return {
    num: ++num,
    ts: 1_700_000_000_000_000_000n + BigInt(num) * 1000n,
    tid,
    cpu: 0,
    type,
    enter: false,
    names: info.params.map((p) => p.name),
    descs: info.params,
    flags: info.flags,
    params: info.params.map((p) => encode(p, values[p.name])),
  };
}

function tuple4(sip: readonly number[], sport: number, dip: readonly number[], dport: number): Uint8Array {
  const b = new Uint8Array(13);
  const d = new DataView(b.buffer);
  b[0] = 2;
  b.set(sip, 1);
  d.setUint16(5, sport, true);
  b.set(dip, 7);
  d.setUint16(11, dport, true);
  return b;
}

const AT_FDCWD = -100;
const O_RDONLY = 1 << 0;
const O_DIRECTORY = 1 << 10;
const DOCKER_ID = 'c0ffee0123456789'.repeat(4);

/** A shell (tid 100) whose clone exit made child 200, which then ran `cat` through execve. */
function shellAndCat(): { s: StateEngine; cat: number } {
  const s = new StateEngine();
  s.seedThread({ tid: 100, pid: 100, ptid: 1, comm: 'bash', exe: '/bin/bash', exepath: '/usr/bin/bash', args: [], cwd: '/home/app', uid: 1000, gid: 1000 });
  s.seedFd(100, { num: 0, kind: 'file', name: '/dev/pts/0' });
  let r = s.process(exit('clone', 100, { res: 200, exe: '/bin/bash', tid: 100, pid: 100, ptid: 1, cwd: '/home/app', comm: 'bash', uid: 1000, gid: 1000 }));
  assert.equal(r.thread?.tid, 100, 'the parent side of clone concerns the parent');
  assert.equal(s.tables.threads.get(200)?.parent?.name, 'bash');
  r = s.process(exit('execve', 200, {
    res: 0, exe: 'cat', args: ['/etc/shadow'], tid: 200, pid: 200, ptid: 100, cwd: '/home/app', comm: 'cat',
    cgroups: [`cpuset=/docker/${DOCKER_ID}`], uid: 0, trusted_exepath: '/usr/bin/cat', loginuid: 1000,
  }));
  const t = r.thread!;
  assert.equal(t.tid, 200);
  assert.equal(t.name, 'cat');
  assert.deepEqual(t.args, ['/etc/shadow']);
  assert.equal(t.exepath, '/usr/bin/cat');
  assert.equal(t.cwd, '/home/app/');
  assert.equal(t.uid, 0);
  assert.equal(t.container?.id, DOCKER_ID.slice(0, 12));
  assert.equal(t.fdTable.fds.get(0)?.name, '/dev/pts/0', 'fork copied the fd table');
  return { s, cat: 200 };
}

test('exit-only clone, execve, openat and close keep the fd table', () => {
  const { s, cat } = shellAndCat();
  const fds = s.tables.threads.get(cat)!.fdTable.fds;
  let r = s.process(exit('openat', cat, { fd: 3, dirfd: AT_FDCWD, name: '/etc/shadow', flags: O_RDONLY }));
  assert.equal(r.fd?.num, 3);
  assert.equal(r.fd?.name, '/etc/shadow');
  assert.deepEqual(r.open, { read: true, write: false, create: false, exec: false });
  assert.equal(fds.get(3)?.name, '/etc/shadow');
  // The fd of close is only on its exit event.
  r = s.process(exit('close', cat, { res: 0, fd: 3 }));
  assert.equal(r.fd?.name, '/etc/shadow', 'the close event still shows the fd it closed');
  assert.equal(fds.has(3), false);
  // A failed close keeps the fd.
  s.process(exit('openat', cat, { fd: 5, dirfd: AT_FDCWD, name: 'notes.txt', flags: O_RDONLY }));
  s.process(exit('close', cat, { res: -9, fd: 5 }));
  assert.equal(fds.get(5)?.name, '/home/app/notes.txt');
});

test('closeExit (a close exit as numbers) leaves the state a close event leaves', () => {
  const state = (s: StateEngine): unknown => ({
    stats: { ...s.stats },
    // (lastSeen only where the closes set it: the two engines' earlier events differ in time.)
    threads: [...s.tables.threads.values()].map((t) => ({ tid: t.tid, lastSeen: t.tid === 200 || t.tid === 777 ? t.lastSeen : 0n, fds: [...t.fdTable.fds.keys()], lastClosed: t.fdTable.lastClosed?.num })),
  });
  const a = shellAndCat();
  const b = shellAndCat();
  for (const x of [a, b]) {
    x.s.process(exit('openat', x.cat, { fd: 3, dirfd: AT_FDCWD, name: '/etc/shadow', flags: O_RDONLY }));
    x.s.process(exit('openat', x.cat, { fd: 4, dirfd: AT_FDCWD, name: '/etc/hosts', flags: O_RDONLY }));
  }
  // A good close, a failed one, and one of a thread never seen (a placeholder keeps it).
  const closes: [number, number, number][] = [[a.cat, 3, 0], [a.cat, 4, -9], [777, 5, 0]];
  for (const [tid, fd, res] of closes) {
    const e = exit('close', tid, { res, fd });
    a.s.process(e);
    const t = b.s.closeExit(tid, e.ts, fd, res);
    assert.equal(t.tid, tid);
  }
  assert.deepEqual(state(b.s), state(a.s));
  assert.deepEqual([...b.s.tables.threads.get(b.cat)!.fdTable.fds.keys()].sort(), [0, 4]);
  assert.equal(b.s.stats.eventsWithoutThread, 1);
});

test('exit-only socket and connect make an IPv4 socket named after the tuple', () => {
  const { s, cat } = shellAndCat();
  let r = s.process(exit('socket', cat, { fd: 4, domain: 2, type: 1, proto: 0 }));
  assert.equal(r.fd?.num, 4);
  assert.equal(r.fd?.typechar, '4');
  r = s.process(exit('connect', cat, { res: 0, tuple: tuple4([10, 0, 0, 5], 51234, [10, 0, 0, 9], 443), fd: 4, addr: new Uint8Array([2, 10, 0, 0, 9, 187, 1]) }));
  const f = s.tables.threads.get(cat)!.fdTable.fds.get(4);
  assert.equal(r.fd, f);
  assert.equal(f?.typechar, '4');
  assert.equal(f?.name, '10.0.0.5:51234->10.0.0.9:443');
  assert.equal(f?.sip, '10.0.0.9');
  assert.equal(f?.sport, 443);
  assert.equal(f?.l4proto, 'tcp', 'the socket type from the socket exit');
  // listen and bind on the exit alone
  s.process(exit('socket', cat, { fd: 6, domain: 2, type: 1, proto: 0 }));
  s.process(exit('bind', cat, { res: 0, addr: new Uint8Array([2, 0, 0, 0, 0, 0x90, 0x1f]), fd: 6 }));
  s.process(exit('listen', cat, { res: 0, fd: 6, backlog: 128 }));
  const srv = s.tables.threads.get(cat)!.fdTable.fds.get(6);
  assert.equal(srv?.isServer, true);
  assert.equal(srv?.sport, 8080);
});

test('exit-only fchdir, setuid and dup2 read their params from the exit', () => {
  const { s, cat } = shellAndCat();
  const t = s.tables.threads.get(cat)!;
  s.process(exit('openat', cat, { fd: 7, dirfd: AT_FDCWD, name: '/var/log', flags: O_RDONLY | O_DIRECTORY }));
  s.process(exit('fchdir', cat, { res: 0, fd: 7 }));
  assert.equal(t.cwd, '/var/log/');
  s.process(exit('openat', cat, { fd: 8, dirfd: AT_FDCWD, name: 'syslog', flags: O_RDONLY }));
  assert.equal(t.fdTable.fds.get(8)?.name, '/var/log/syslog', 'relative opens follow the new cwd');
  // A failed fchdir changes nothing.
  s.process(exit('fchdir', cat, { res: -20, fd: 8 }));
  assert.equal(t.cwd, '/var/log/');

  const before = t.version;
  s.process(exit('setuid', cat, { res: 0, uid: 33 }));
  assert.equal(t.uid, 33);
  assert.ok(t.version > before);
  s.process(exit('setuid', cat, { res: -1, uid: 0 }));
  assert.equal(t.uid, 33, 'a failed setuid keeps the uid');
  s.process(exit('setgid', cat, { res: 0, gid: 33 }));
  assert.equal(t.gid, 33);
  s.process(exit('setresuid', cat, { res: 0, ruid: 44, euid: 44, suid: 44 }));
  assert.equal(t.uid, 44);

  const r = s.process(exit('dup2', cat, { res: 1, oldfd: 8, newfd: 1 }));
  assert.equal(t.fdTable.fds.get(1)?.name, '/var/log/syslog');
  assert.equal(t.fdTable.fds.get(1)?.num, 1);
  assert.equal(r.fd?.name, '/var/log/syslog');
  s.process(exit('dup', cat, { res: 9, oldfd: 8 }));
  assert.equal(t.fdTable.fds.get(9)?.name, '/var/log/syslog');
  s.process(exit('fcntl', cat, { res: 10, fd: 8, cmd: 1 }));
  assert.equal(t.fdTable.fds.get(10)?.name, '/var/log/syslog', 'fcntl(F_DUPFD) with its fd and cmd on the exit');
});

test('exit-only read and sendto show the fd their exit names, not a stale enter event', () => {
  const { s, cat } = shellAndCat();
  s.process(exit('openat', cat, { fd: 3, dirfd: AT_FDCWD, name: '/etc/hosts', flags: O_RDONLY }));
  let r = s.process(exit('read', cat, { res: 5, data: new Uint8Array([104, 105, 10, 0, 0]), fd: 3, size: 4096 }));
  assert.equal(r.fd?.name, '/etc/hosts');
  // A datagram socket takes the address of its first sendto from the exit's fd and tuple.
  s.process(exit('socket', cat, { fd: 11, domain: 2, type: 2, proto: 0 }));
  r = s.process(exit('sendto', cat, { res: 12, fd: 11, size: 12, tuple: tuple4([0, 0, 0, 0], 40000, [8, 8, 8, 8], 53) }));
  assert.equal(r.fd?.sip, '8.8.8.8');
  assert.equal(r.fd?.sport, 53);
  assert.equal(r.fd?.l4proto, 'udp');
});

const O_WRONLY = 1 << 1;
const O_CLOEXEC = 1 << 12;
const F_DUPFD = 1;
const F_DUPFD_CLOEXEC = 26;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** The fd numbers cat keeps across an execve. */
function afterExec(s: StateEngine, cat: number): number[] {
  s.process(exit('execve', cat, { res: 0, exe: '/usr/bin/app', args: [], tid: cat, pid: cat, ptid: 100, cwd: '/', comm: 'app' }));
  return [...s.tables.threads.get(cat)!.fdTable.fds.keys()].sort((a, b) => a - b);
}

test('dup2 and fcntl(F_DUPFD) make fds without close-on-exec: they survive execve, the O_CLOEXEC original does not', () => {
  // os/exec's pattern: the log file opened with O_CLOEXEC, dup2'd onto stdout and F_DUPFD'd to 5.
  const { s, cat } = shellAndCat();
  s.process(exit('openat', cat, { fd: 3, dirfd: AT_FDCWD, name: '/var/log/app.log', flags: O_WRONLY | O_CLOEXEC }));
  s.process(exit('dup2', cat, { res: 1, oldfd: 3, newfd: 1 }));
  s.process(exit('fcntl', cat, { res: 5, fd: 3, cmd: F_DUPFD }));
  s.process(exit('dup', cat, { res: 6, oldfd: 3 }));
  const fds = s.tables.threads.get(cat)!.fdTable.fds;
  assert.equal(fds.get(1)?.openFlags, O_WRONLY | O_CLOEXEC, 'the open flags stay those of the open file');
  assert.deepEqual(afterExec(s, cat), [0, 1, 5, 6]);
  assert.equal(fds.get(1)?.name, '/var/log/app.log');
  assert.equal(fds.get(5)?.name, '/var/log/app.log');
});

test('dup3(O_CLOEXEC), F_DUPFD_CLOEXEC, pipe2, socket, socketpair, accept4 and memfd_create with close-on-exec close at execve', () => {
  const { s, cat } = shellAndCat();
  s.process(exit('openat', cat, { fd: 3, dirfd: AT_FDCWD, name: '/etc/hosts', flags: O_RDONLY }));
  s.process(exit('dup3', cat, { res: 4, oldfd: 3, newfd: 4, flags: O_CLOEXEC }));
  s.process(exit('dup3', cat, { res: 5, oldfd: 3, newfd: 5, flags: 0 }));
  s.process(exit('fcntl', cat, { res: 6, fd: 3, cmd: F_DUPFD_CLOEXEC }));
  s.process(exit('pipe2', cat, { res: 0, fd1: 7, fd2: 8, ino: 99, flags: O_CLOEXEC }));
  s.process(exit('pipe2', cat, { res: 0, fd1: 9, fd2: 10, ino: 98, flags: 0 }));
  s.process(exit('socket', cat, { fd: 11, domain: 2, type: SOCK_STREAM | SOCK_CLOEXEC, proto: 0 }));
  s.process(exit('socket', cat, { fd: 12, domain: 2, type: SOCK_STREAM, proto: 0 }));
  s.process(exit('socketpair', cat, { res: 0, fd1: 13, fd2: 14, domain: 1, type: SOCK_STREAM | SOCK_CLOEXEC, proto: 0 }));
  s.process(exit('accept4', cat, { fd: 15, tuple: tuple4([10, 0, 0, 9], 40000, [10, 0, 0, 5], 80), flags: SOCK_CLOEXEC }));
  s.process(exit('accept4', cat, { fd: 16, tuple: tuple4([10, 0, 0, 9], 40001, [10, 0, 0, 5], 80), flags: 0 }));
  s.process(exit('memfd_create', cat, { fd: 17, name: 'x', flags: 1 }));
  assert.equal(s.tables.threads.get(cat)!.fdTable.fds.size, 16);
  assert.deepEqual(afterExec(s, cat), [0, 3, 5, 9, 10, 12, 16]);
});

test('a fork copies close-on-exec; the child closes those fds at its execve', () => {
  const { s, cat } = shellAndCat();
  s.process(exit('pipe2', cat, { res: 0, fd1: 3, fd2: 4, ino: 99, flags: O_CLOEXEC }));
  s.process(exit('clone', cat, { res: 300, exe: 'cat', tid: cat, pid: cat, ptid: 100, cwd: '/', comm: 'cat', flags: 0 }));
  s.process(exit('execve', 300, { res: 0, exe: '/bin/true', args: [], tid: 300, pid: 300, ptid: cat, cwd: '/', comm: 'true' }));
  assert.deepEqual([...s.tables.threads.get(300)!.fdTable.fds.keys()], [0]);
  assert.deepEqual([...s.tables.threads.get(cat)!.fdTable.fds.keys()], [0, 3, 4], "the parent's fds stay");
});
