// /proc scanning against real processes of this machine: a child with a known command line,
// working directory, environment and open file, and this process's own TCP sockets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { StateEngine } from '../state/engine.js';
import { readGroup, readPasswd, scanProc } from './procfs.js';

test('scanProc sees a real child process and this process\'s sockets', async () => {
  const child = spawn('sh', ['-c', 'exec 3</etc/hostname; cd /tmp && exec sleep 30'], { env: { ...process.env, HARRIER_PROBE_MARK: 'yes' }, stdio: 'ignore' });
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  try {
    // Wait for the exec to sleep.
    let scan = scanProc();
    for (let i = 0; i < 50 && !scan.threads.some((t) => t.pid === child.pid && t.comm === 'sleep'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      scan = scanProc();
    }
    const t = scan.threads.find((x) => x.pid === child.pid)!;
    assert.ok(t, 'the child is seen');
    assert.equal(t.comm, 'sleep');
    assert.deepEqual(t.args, ['30']);
    assert.equal(t.cwd, '/tmp');
    assert.equal(t.ptid, process.pid);
    assert.match(t.exepath ?? '', /\/sleep$/);
    assert.ok(t.env?.includes('HARRIER_PROBE_MARK=yes'));
    assert.equal(t.uid, process.getuid!());
    assert.ok(t.exeIno !== undefined && t.exeIno > 0);
    const childFds = scan.fds.get(child.pid!)!;
    assert.deepEqual(childFds.find((f) => f.num === 3), { num: 3, kind: 'file', name: '/etc/hostname' });
    const mine = scan.fds.get(process.pid)!;
    assert.ok(mine.some((f) => f.kind === 'ipv4' && f.isServer === true && f.sport === port && f.sip === '127.0.0.1'), 'the listening socket');
    assert.ok(mine.some((f) => f.kind === 'ipv4' && f.cip === '127.0.0.1' && f.sport === port && f.l4proto === 'tcp' && f.name === `127.0.0.1:${f.cport}->127.0.0.1:${port}`), 'the connected socket');
    // Seeding the state engine with the scan gives the child's parent and fds.
    const s = new StateEngine();
    for (const th of [...scan.threads].sort((a, b) => Number(b.tid === b.pid) - Number(a.tid === a.pid))) s.seedThread(th);
    for (const [tid, fds] of scan.fds) for (const f of fds) s.seedFd(tid, f);
    const ti = s.tables.threads.get(child.pid!)!;
    assert.equal(ti.parent?.pid, process.pid);
    assert.equal(ti.fdTable.fds.get(3)?.filename, 'hostname');
  } finally {
    child.kill();
    client.destroy();
    server.close();
  }
});

test('scanProc shares one command line, environment and cgroup list among processes started alike', async () => {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HARRIER_SHARED_MARK: 'twins' };
  const twins = [0, 1].map(() => spawn('sleep', ['31'], { env, stdio: 'ignore' }));
  const other = spawn('sleep', ['32'], { env: { ...env, HARRIER_SHARED_MARK: 'other' }, stdio: 'ignore' });
  try {
    const pids = [...twins, other].map((c) => c.pid!);
    let scan = scanProc();
    for (let i = 0; i < 50 && !pids.every((p) => scan.threads.some((t) => t.pid === p && t.comm === 'sleep')); i++) {
      await new Promise((r) => setTimeout(r, 20));
      scan = scanProc();
    }
    const [a, b, c] = pids.map((p) => scan.threads.find((t) => t.pid === p)!);
    assert.ok(a && b && c, 'the three children are seen');
    assert.deepEqual(a.env, ['PATH=' + env.PATH, 'HARRIER_SHARED_MARK=twins']);
    assert.equal(a.env, b.env, 'one environment array for both twins');
    assert.equal(a.args, b.args, 'one argument array');
    assert.equal(a.cgroups, b.cgroups, 'one cgroup list');
    assert.notEqual(a.env, c.env, 'a different environment is its own array');
    assert.notEqual(a.args, c.args);
    assert.deepEqual(c.env, ['PATH=' + env.PATH, 'HARRIER_SHARED_MARK=other']);
    assert.deepEqual(c.args, ['32']);
    // The state engine keeps the shared arrays (it replaces lists, never changes them in place).
    const s = new StateEngine();
    for (const t of [a, b, c]) s.seedThread(t);
    assert.equal(s.tables.threads.get(a.tid)!.env, s.tables.threads.get(b.tid)!.env);
  } finally {
    for (const ch of [...twins, other]) ch.kill();
  }
});

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;

test('scanProc names the sockets of a process in another network namespace from that namespace\'s own tables', { skip: canUnshare ? false : 'needs root and unshare --net' }, async () => {
  // A listener in a new network namespace: /proc/net (the collector's namespace) does not list it.
  const child = spawn('unshare', ['--net', 'python3', '-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",18181))\ns.listen()\nprint("up",flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await once(child.stdout, 'data');
    const fds = scanProc().fds.get(child.pid!) ?? [];
    const sock = fds.find((f) => f.num === 3);
    assert.deepEqual(sock, { num: 3, kind: 'ipv4', sip: '127.0.0.1', sport: 18181, l4proto: 'tcp', isServer: true, name: '127.0.0.1:18181' });
    // Its stdout is a unix socket the parent made in its own namespace: found there.
    assert.equal(fds.find((f) => f.num === 1)?.kind, 'unix');
  } finally {
    child.kill('SIGKILL');
  }
});

test('passwd and group files', () => {
  const users = readPasswd('/etc/passwd');
  assert.ok(users.some((u) => u.uid === 0 && u.name === 'root' && u.homedir === '/root'));
  assert.ok(readGroup('/etc/group').some((g) => g.gid === 0 && g.name === 'root'));
  assert.deepEqual(readPasswd('/nonexistent/passwd'), []);
});
