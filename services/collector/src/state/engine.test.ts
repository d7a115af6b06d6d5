// Unit tests of the state engine's logic over hand-built raw events (parameter bytes laid out as
// libscap lays them out). Replaying real captures against sysdig is the end-to-end proof.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from './params.js';
import { StateEngine, resolvePath } from './engine.js';
import { containerIdFromCgroup } from './tables.js';

type P = number | bigint | string | string[] | Uint8Array | ['i64', number] | ['u32', number] | ['u16', number];

function enc(v: P): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(`${v}\0`);
  if (Array.isArray(v) && typeof v[0] === 'string' && (v[0] === 'i64' || v[0] === 'u32' || v[0] === 'u16')) {
    const [kind, n] = v as [string, number];
    const b = new Uint8Array(kind === 'i64' ? 8 : kind === 'u32' ? 4 : 2);
    const d = new DataView(b.buffer);
    if (kind === 'i64') d.setBigInt64(0, BigInt(n), true);
    else if (kind === 'u32') d.setUint32(0, n, true);
    else d.setUint16(0, n, true);
    return b;
  }
  if (Array.isArray(v)) return new TextEncoder().encode((v as string[]).map((s) => `${s}\0`).join(''));
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
  return b;
}

let num = 0;
function ev(type: string, tid: number, enter: boolean, params: Record<string, P>): RawEvent {
  return { num: ++num, ts: BigInt(num) * 1000n, tid, cpu: 0, type, enter, names: Object.keys(params), params: Object.values(params).map(enc) };
}

function tuple4(sip: number[], sport: number, dip: number[], dport: number): Uint8Array {
  const b = new Uint8Array(13);
  b[0] = 2;
  b.set(sip, 1);
  new DataView(b.buffer).setUint16(5, sport, true);
  b.set(dip, 7);
  new DataView(b.buffer).setUint16(11, dport, true);
  return b;
}

test('fork, exec, open, connect and exit build the process and fd state', () => {
  const s = new StateEngine();
  s.seedThread({ tid: 100, pid: 100, ptid: 1, comm: 'bash', exe: '/bin/bash', exepath: '/usr/bin/bash', args: [], cwd: '/home/app', uid: 1000, gid: 1000, tty: 34816 });
  s.seedFd(100, { num: 0, kind: 'file', name: '/dev/pts/0' });
  // The parent's clone exit (res = child tid) comes first here.
  let r = s.process(ev('clone', 100, false, { res: 200, exe: '/bin/bash', args: [], tid: 100, pid: 100, ptid: 1, cwd: '/home/app', flags: ['u32', 0], uid: ['u32', 1000], gid: ['u32', 1000] }));
  assert.equal(r.thread?.tid, 100);
  r = s.process(ev('clone', 200, false, { res: 0, exe: '/bin/bash', args: [], tid: 200, pid: 200, ptid: 100, flags: ['u32', 0] }));
  assert.equal(r.thread?.tid, 200);
  assert.equal(r.thread?.parent?.name, 'bash');
  assert.equal(r.thread?.fdTable.fds.get(0)?.name, '/dev/pts/0', 'fork copies the fd table');
  r = s.process(ev('execve', 200, false, { res: 0, exe: 'cat', args: ['/etc/shadow'], tid: 200, pid: 200, ptid: 100, cwd: '/home/app', comm: 'cat', env: ['HOME=/home/app'], tty: ['u32', 34816], loginuid: ['u32', 1000], flags: ['u32', 2], uid: ['u32', 0], trusted_exepath: '/usr/bin/cat' }));
  const cat = r.thread!;
  assert.equal(cat.name, 'cat');
  assert.equal(cat.exepath, '/usr/bin/cat');
  assert.deepEqual(cat.args, ['/etc/shadow']);
  assert.equal(cat.exeUpperLayer, true);
  assert.equal(cat.uid, 0);
  assert.ok(cat.version > 0);
  r = s.process(ev('openat', 200, false, { fd: 3, dirfd: -100, name: '../../etc/./shadow', flags: ['u32', 1 | (1 << 12)], mode: ['u32', 0] }));
  assert.equal(r.fd?.name, '/etc/shadow');
  assert.equal(r.fd?.nameRaw, '../../etc/./shadow');
  assert.equal(r.fd?.directory, '/etc');
  assert.equal(r.fd?.filename, 'shadow');
  assert.equal(r.fd?.typechar, 'f');
  assert.deepEqual(r.open, { read: true, write: false, create: false, exec: false });
  // dirfd-relative open
  s.process(ev('openat', 200, false, { fd: 4, dirfd: -100, name: '/var/log', flags: ['u32', 1 << 10], mode: ['u32', 0] }));
  r = s.process(ev('openat', 200, false, { fd: 5, dirfd: 4, name: 'syslog', flags: ['u32', 2 | 4], mode: ['u32', 0o755] }));
  assert.equal(r.fd?.name, '/var/log/syslog');
  assert.equal(r.open?.write, true);
  // A socket, then connect (enter carries the fd, exit the tuple).
  s.process(ev('socket', 200, false, { fd: 6, domain: ['u32', 2], type: ['u32', 1], proto: ['u32', 0] }));
  s.process(ev('connect', 200, true, { fd: 6, addr: new Uint8Array([2, 10, 0, 0, 9, 187, 1]) }));
  r = s.process(ev('connect', 200, false, { res: 0, tuple: tuple4([10, 0, 0, 5], 51234, [10, 0, 0, 9], 443) }));
  assert.equal(r.fd?.name, '10.0.0.5:51234->10.0.0.9:443');
  assert.equal(r.fd?.sip, '10.0.0.9');
  assert.equal(r.fd?.sport, 443);
  assert.equal(r.fd?.lport, 51234);
  assert.equal(r.fd?.rip, '10.0.0.9');
  assert.equal(r.fd?.typechar, '4');
  assert.equal(r.fd?.l4proto, 'tcp');
  // dup2 and close
  r = s.process(ev('dup2', 200, false, { res: 1, oldfd: 6, newfd: 1 }));
  assert.equal(cat.fdTable.fds.get(1)?.name, '10.0.0.5:51234->10.0.0.9:443');
  s.process(ev('close', 200, true, { fd: 6 }));
  s.process(ev('close', 200, false, { res: 0 }));
  assert.equal(cat.fdTable.fds.has(6), false);
  // chdir
  s.process(ev('chdir', 200, false, { res: 0, path: '/tmp/../srv' }));
  assert.equal(cat.cwd, '/srv/');
  // prctl(PR_SET_NAME) renames the thread
  const before = cat.version;
  s.process(ev('prctl', 200, false, { res: 0, option: ['u32', 15], arg2_str: 'kworker/0:1-evil', arg2_int: 0 }));
  assert.equal(cat.name, 'kworker/0:1-evi', 'comm is cut at 15 characters');
  assert.ok(cat.version > before);
  s.process(ev('prctl', 200, false, { res: 0, option: ['u32', 15], arg2_str: 'cat', arg2_int: 0 }));
  // exit: the thread stays for its procexit event, then goes
  r = s.process(ev('procexit', 200, true, { status: 0 }));
  assert.equal(r.thread?.name, 'cat');
  s.process(ev('getpid', 100, false, { res: 100 }));
  assert.equal(s.tables.threads.has(200), false);
});

test('threads share fds and cwd; an unknown thread still yields a state', () => {
  const s = new StateEngine();
  s.seedThread({ tid: 10, pid: 10, ptid: 1, comm: 'java', cwd: '/app' });
  s.process(ev('clone', 10, false, { res: 11, exe: 'java', args: [], tid: 10, pid: 10, ptid: 1, flags: ['u32', (1 << 13) | 1 | 2] }));
  const t11 = s.tables.threads.get(11)!;
  assert.equal(t11.pid, 10);
  s.process(ev('openat', 11, false, { fd: 7, dirfd: -100, name: 'x.log', flags: ['u32', 2], mode: ['u32', 0] }));
  assert.equal(s.tables.threads.get(10)!.fdTable.fds.get(7)?.name, '/app/x.log');
  const r = s.process(ev('openat', 999, false, { fd: 3, dirfd: -100, name: 'rel', flags: ['u32', 1], mode: ['u32', 0] }));
  assert.equal(r.thread?.name, undefined);
  assert.equal(r.fd?.name, 'rel', 'a relative path with no known cwd stays as given');
  assert.equal(s.stats.eventsWithoutThread, 1);
});

test('the thread table stays bounded under churn', () => {
  const s = new StateEngine({ maxThreads: 1000 });
  s.seedThread({ tid: 1, pid: 1, ptid: 0, comm: 'init' });
  for (let i = 0; i < 20000; i++) {
    const tid = 1000 + i;
    s.process(ev('clone', 1, false, { res: tid, exe: 'sh', args: [], tid: 1, pid: 1, ptid: 0, flags: ['u32', 0] }));
    if (i % 3 !== 0) {
      s.process(ev('procexit', tid, true, { status: 0 }));
    }
  }
  assert.ok(s.threadCount <= 1000, `${s.threadCount} threads kept`);
  assert.ok(s.stats.threadsPurged > 0);
});

test('paths and container ids', () => {
  assert.equal(resolvePath('/home/a/', '../b/./c'), '/home/b/c');
  assert.equal(resolvePath('/', '..'), '/');
  assert.equal(resolvePath(undefined, '/x//y/'), '/x/y');
  const id = 'a'.repeat(12) + 'b'.repeat(52);
  assert.deepEqual(containerIdFromCgroup(`0::/machine.slice/libpod-${id}.scope/container`), { id: 'aaaaaaaaaaaa', type: 'podman' });
  assert.deepEqual(containerIdFromCgroup(`cpuset=/docker/${id}`), { id: 'aaaaaaaaaaaa', type: 'docker' });
  assert.deepEqual(containerIdFromCgroup(`0::/system.slice/cri-containerd-${id}.scope`), { id: 'aaaaaaaaaaaa', type: 'containerd' });
  assert.equal(containerIdFromCgroup('0::/user.slice/user-1000.slice/session-3.scope'), undefined);
});

test('an open of the file just closed under the same fd reuses its entry; anything different makes a new one', () => {
  const s = new StateEngine();
  s.seedThread({ tid: 300, pid: 300, ptid: 1, comm: 'loop', cwd: '/tmp' });
  const open = (name: string, fd: number, flags = 1): ReturnType<StateEngine['process']> =>
    s.process(ev('openat', 300, false, { fd, dirfd: -100, name, flags: ['u32', flags], mode: ['u32', 0], dev: ['u32', 8], ino: 42 }));
  const close = (fd: number): void => void s.process(ev('close', 300, false, { res: 0, fd }));
  const first = open('/etc/hostname', 3).fd!;
  close(3);
  const again = open('/etc/hostname', 3);
  assert.equal(again.fd, first, 'same file, fd, flags, device and inode: the closed entry serves again');
  assert.equal(again.fd?.name, '/etc/hostname');
  close(3);
  const otherFlags = open('/etc/hostname', 3, 1 | 4096).fd!;
  assert.notEqual(otherFlags, first);
  assert.equal(otherFlags.openFlags, 1 | 4096);
  close(3);
  const otherName = open('hostname', 3).fd!;
  assert.notEqual(otherName, otherFlags);
  assert.equal(otherName.name, '/tmp/hostname');
  assert.equal(otherName.nameRaw, 'hostname');
  close(3);
  const otherFd = open('hostname', 4).fd!;
  assert.notEqual(otherFd, otherName);
  assert.equal(otherFd.num, 4);
  // A changed entry (touched) is never reused.
  close(4);
  otherFd.touch();
  assert.notEqual(open('hostname', 4).fd, otherFd);
});

test('capture-style fcntl (fd and cmd on the enter event) and F_SETFD with its argument set and clear close-on-exec', () => {
  const s = new StateEngine();
  s.seedThread({ tid: 50, pid: 50, ptid: 1, comm: 'sh', cwd: '/' });
  s.seedFd(50, { num: 3, kind: 'file', name: '/etc/passwd', openFlags: 1 | (1 << 12) });
  s.seedFd(50, { num: 4, kind: 'file', name: '/etc/group', openFlags: 1 });
  s.seedFd(50, { num: 9, kind: 'file', name: '/etc/hosts', openFlags: 1, cloexec: true });
  s.process(ev('fcntl', 50, true, { fd: 3, cmd: ['u32', 1] }));
  s.process(ev('fcntl', 50, false, { res: 5 }));
  s.process(ev('fcntl', 50, true, { fd: 4, cmd: ['u32', 26] }));
  s.process(ev('fcntl', 50, false, { res: 6 }));
  // F_SETFD: FD_CLOEXEC on 4, off on 3.
  s.process(ev('fcntl', 50, false, { res: 0, fd: 4, cmd: ['u32', 3], arg: 1 }));
  s.process(ev('fcntl', 50, false, { res: 0, fd: 3, cmd: ['u32', 3], arg: 0 }));
  // Without its argument F_SETFD changes nothing.
  s.process(ev('fcntl', 50, false, { res: 0, fd: 5, cmd: ['u32', 3] }));
  s.process(ev('execve', 50, false, { res: 0, exe: 'x', args: [], tid: 50, pid: 50, ptid: 1, cwd: '/', comm: 'x' }));
  assert.deepEqual([...s.tables.threads.get(50)!.fdTable.fds.keys()].sort(), [3, 5]);
});

test('an exec from a thread that is not the leader keeps the process: fds (but close-on-exec ones), parent, start time', () => {
  for (const style of ['exit-only', 'capture'] as const) {
    const s = new StateEngine();
    s.seedThread({ tid: 1, pid: 1, ptid: 0, comm: 'init' });
    s.seedThread({ tid: 400, pid: 400, ptid: 1, comm: 'app', exe: 'app', cwd: '/srv', uid: 0, startTs: 123n });
    s.seedThread({ tid: 401, pid: 400, ptid: 1, comm: 'app', exe: 'app', cwd: '/srv', uid: 0 });
    s.seedThread({ tid: 402, pid: 400, ptid: 1, comm: 'app', exe: 'app', cwd: '/srv', uid: 0 });
    s.seedFd(400, { num: 1, kind: 'file', name: '/var/log/app.out', openFlags: 2 });
    s.seedFd(400, { num: 3, kind: 'ipv4', name: '10.0.0.1:5000->10.0.0.2:443', l4proto: 'tcp' });
    s.seedFd(400, { num: 4, kind: 'file', name: '/etc/app.conf', openFlags: 1 | (1 << 12) });
    s.seedThread({ tid: 600, pid: 600, ptid: 401, comm: 'child' });
    // 401 calls execve; the kernel kills 402 and the leader, then 401 takes tid 400.
    if (style === 'capture') s.process(ev('execve', 401, true, { filename: '/usr/bin/newprog' }));
    s.process(ev('procexit', 402, true, { status: 9 }));
    s.process(ev('procexit', 400, true, { status: 9 }));
    const r = s.process(ev('execve', 400, false, { res: 0, exe: '/usr/bin/newprog', args: [], tid: 400, pid: 400, ptid: 1, cwd: '/srv', comm: 'newprog' }));
    const p = r.thread!;
    assert.equal(s.tables.threads.get(400), p, style);
    assert.equal(p.name, 'newprog');
    assert.equal(p.exited, false);
    assert.equal(p.parent?.name, 'init');
    assert.equal(p.startTs, 123n);
    assert.deepEqual([...p.fdTable.fds.keys()].sort(), [1, 3]);
    assert.equal(s.tables.threads.has(401), false, 'the exec caller took over tid 400');
    assert.equal(s.tables.threads.has(402), false);
    assert.equal(s.tables.threads.get(600)?.parent, p, "the exec caller's children pass to the leader");
    assert.equal(s.stats.eventsWithoutThread, 0);
    // The process lives on: later events and exits behave as for any process.
    s.process(ev('openat', 400, false, { fd: 5, dirfd: -100, name: 'x', flags: ['u32', 1], mode: ['u32', 0] }));
    assert.equal(p.fdTable.fds.get(5)?.name, '/srv/x');
    s.process(ev('procexit', 400, true, { status: 0 }));
    s.process(ev('getpid', 1, false, { res: 1 }));
    assert.equal(s.tables.threads.has(400), false);
  }
});

test('a leader that exits before its threads stays (dead) until the last of them goes', () => {
  const s = new StateEngine();
  s.seedThread({ tid: 1, pid: 1, ptid: 0, comm: 'init' });
  s.seedThread({ tid: 500, pid: 500, ptid: 1, comm: 'srv' });
  s.seedThread({ tid: 501, pid: 500, ptid: 1, comm: 'srv' });
  s.seedThread({ tid: 502, pid: 500, ptid: 1, comm: 'srv' });
  s.process(ev('procexit', 500, true, { status: 0 }));
  s.process(ev('getpid', 1, false, { res: 1 }));
  assert.equal(s.tables.threads.get(500)?.exited, true, 'kept, marked dead');
  assert.equal(s.tables.threads.get(501)?.main?.name, 'srv');
  s.process(ev('procexit', 501, true, { status: 0 }));
  s.process(ev('getpid', 1, false, { res: 1 }));
  assert.equal(s.tables.threads.has(500), true);
  s.process(ev('procexit', 502, true, { status: 0 }));
  s.process(ev('getpid', 1, false, { res: 1 }));
  assert.equal(s.tables.threads.has(500), false, 'the last thread takes the dead leader along');
  assert.equal(s.tables.threads.has(502), false);
  // A new process under the old pid is a new entry.
  s.process(ev('clone', 1, false, { res: 500, exe: 'sh', args: [], tid: 1, pid: 1, ptid: 0, flags: ['u32', 0] }));
  assert.equal(s.tables.threads.get(500)?.exited, false);
});

const MIN = 60_000_000_000n;

/** An engine with sshd (300) idle and a busy process (999); `alive` answers the purge's liveness question. */
function idleSshd(alive?: (pid: number, tid: number) => boolean): { s: StateEngine; at: (min: bigint, tid: number) => void; asked: number[] } {
  const asked: number[] = [];
  const s = new StateEngine({
    threadAlive:
      alive &&
      ((pid, tid) => {
        asked.push(tid);
        return alive(pid, tid);
      }),
  });
  s.seedThread({ tid: 300, pid: 300, ptid: 1, comm: 'sshd', exe: '/usr/sbin/sshd' });
  s.seedThread({ tid: 301, pid: 300, ptid: 1, comm: 'sshd' });
  s.seedThread({ tid: 999, pid: 999, ptid: 1, comm: 'busy' });
  const at = (min: bigint, tid: number): void => {
    const e = ev('getpid', tid, false, { res: tid });
    s.process({ ...e, ts: 5_000_000_000n + min * MIN });
  };
  return { s, at, asked };
}

test('live capture: an idle thread that still runs is kept; an idle one that is gone is purged', () => {
  const { s, at, asked } = idleSshd((_pid, tid) => tid !== 301);
  at(0n, 999);
  at(31n, 999);
  assert.equal(s.tables.threads.get(300)?.name, 'sshd', 'alive: kept though idle for 31 minutes');
  assert.equal(s.tables.threads.has(301), false, 'gone: purged');
  assert.deepEqual(asked.sort(), [300, 301], 'only idle threads are asked about, never the busy one');
  at(32n, 300);
  assert.equal(s.stats.eventsWithoutThread, 0);
});

test('capture replay (no liveness check) purges idle threads as before', () => {
  const { s, at } = idleSshd();
  at(0n, 999);
  at(31n, 999);
  assert.equal(s.tables.threads.has(300), false);
  assert.equal(s.tables.threads.has(301), false);
  assert.equal(s.stats.threadsPurged, 2);
});

test("the purge never removes the thread of the event it runs before", () => {
  const { s, at } = idleSshd();
  at(0n, 999);
  const sshd = s.tables.threads.get(300)!;
  at(31n, 300);
  assert.equal(s.tables.threads.get(300), sshd, "sshd's own event keeps its entry");
  assert.equal(s.stats.eventsWithoutThread, 0);
  assert.equal(s.tables.threads.has(999), false, 'other idle threads go');
});

test("a clone's pidns_init_start_ts (ns since boot) plus the boot time is the child's proc.pidns_init_start_ts; without one the parent's is kept", () => {
  const s = new StateEngine();
  s.bootEpoch = 1_700_000_000_000_000_000n;
  s.process(ev('clone', 100, false, { res: 200, exe: '/bin/sh', args: [], tid: 100, pid: 100, ptid: 1, flags: ['u32', 0], pidns_init_start_ts: 5_000_000n }));
  assert.equal(s.tables.threads.get(200)?.pidnsInitStartTs, 1_700_000_000_005_000_000n);
  s.process(ev('clone', 200, false, { res: 300, exe: '/bin/sh', args: [], tid: 200, pid: 200, ptid: 100, flags: ['u32', 0] }));
  assert.equal(s.tables.threads.get(300)?.pidnsInitStartTs, 1_700_000_000_005_000_000n);
  // A live source's boot time arrives with the probe's header, after the engine was made.
  s.bootEpochOf = () => 1_800_000_000_000_000_000n;
  s.process(ev('clone', 300, false, { res: 400, exe: '/bin/sh', args: [], tid: 300, pid: 300, ptid: 200, flags: ['u32', 0], pidns_init_start_ts: 7n }));
  assert.equal(s.tables.threads.get(400)?.pidnsInitStartTs, 1_800_000_000_000_000_007n);
});

test("an exiting process's children pass to the reaper its procexit names, else to a live thread of it, else to none", () => {
  const s = new StateEngine();
  s.seedThread({ tid: 1, pid: 1, ptid: 0, comm: 'init' });
  s.seedThread({ tid: 50, pid: 50, ptid: 1, comm: 'supervisor' });
  s.seedThread({ tid: 100, pid: 100, ptid: 50, comm: 'sh' });
  s.seedThread({ tid: 200, pid: 200, ptid: 100, comm: 'daemon' });
  s.seedThread({ tid: 201, pid: 201, ptid: 100, comm: 'worker' });
  // sh exits; the kernel hands its children to the subreaper 50.
  s.process(ev('procexit', 100, true, { status: 0, ret: 0, sig: 0, core: 0, reaper_tid: 50 }));
  let r = s.process(ev('getpid', 200, false, { res: 200 }));
  assert.equal(s.tables.threads.has(100), false);
  assert.equal(r.thread?.ppid, 50);
  assert.equal(r.thread?.parent?.name, 'supervisor');
  assert.equal(s.tables.threads.get(201)?.parent?.name, 'supervisor');

  // A reaper the state does not have: another live thread of the process takes them, as the kernel would.
  s.seedThread({ tid: 300, pid: 300, ptid: 1, comm: 'java' });
  s.process(ev('clone', 300, false, { res: 301, exe: 'java', args: [], tid: 300, pid: 300, ptid: 1, flags: ['u32', (1 << 13) | 1 | 2] }));
  s.seedThread({ tid: 400, pid: 400, ptid: 300, comm: 'child' });
  const version = s.tables.threads.get(400)!.version;
  s.process(ev('procexit', 300, true, { status: 0, ret: 0, sig: 0, core: 0, reaper_tid: 9999 }));
  r = s.process(ev('getpid', 400, false, { res: 400 }));
  assert.equal(r.thread?.ppid, 301);
  assert.ok((r.thread?.version ?? 0) > version, 'the child changed: batches give it a new row');
  // Threads of the exiting process keep theirs.
  assert.equal(s.tables.threads.get(301)?.ppid, 300);

  // reaper_tid 0: the kernel saw no children, nothing moves; -1 with no other thread: no parent (libsinsp's 0).
  s.seedThread({ tid: 500, pid: 500, ptid: 1, comm: 'a' });
  s.seedThread({ tid: 501, pid: 501, ptid: 500, comm: 'b' });
  s.process(ev('procexit', 500, true, { status: 0, ret: 0, sig: 0, core: 0, reaper_tid: 0 }));
  s.process(ev('getpid', 1, false, { res: 1 }));
  assert.equal(s.tables.threads.get(501)?.ppid, 500, 'nothing moves when the kernel saw no children');
  s.seedThread({ tid: 600, pid: 600, ptid: 1, comm: 'c' });
  s.seedThread({ tid: 601, pid: 601, ptid: 600, comm: 'd' });
  s.process(ev('procexit', 600, true, { status: 0, ret: 0, sig: 0, core: 0, reaper_tid: -1 }));
  s.process(ev('getpid', 1, false, { res: 1 }));
  assert.equal(s.tables.threads.get(601)?.ppid, 0);
  assert.equal(s.tables.threads.get(601)?.parent, undefined);
});
