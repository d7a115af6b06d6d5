// Live capture against the real kernel: the probe, the state engine seeded from /proc, real
// commands on the host and in a podman container. Fields are read back from the batches the
// collector publishes, through the rules' accessor. Needs root and `make -C probe`. First, bad
// input from a fake probe (no kernel needed): skipped frame by frame, the capture going on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchBuilder, DecodedBatch, batchAccessor } from '@harrier/batch';
import { compileOutput } from '@harrier/rules';
import { LiveCapture } from './capture.js';
import { defaultProbeBinary } from './probe.js';
import { acceptanceScript } from '../testing/workload.js';
import { concat, cstr, fakeProbe, fileItem, frame, hello, statsFrame, until } from '../testing/probeframes.js';
import { ensureTestImage, podmanUnavailable, removeContainer, runContainer } from '../testing/podman.js';

const execFileP = promisify(execFile);

test('fake probe: frames with short items, and an event the sink fails on, are skipped alone; the capture goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-live-bad-'));
  mkdirSync(join(dir, 'proc'));
  const open = (path: string, tid: number, file = fileItem(77, 1, 0)): Uint8Array => frame(257, 3, [-100, 0, 0], [[2, cstr(path)], [12, file]], { tid });
  const exec = (tid: number, item: Uint8Array): Uint8Array => frame(59, 0, [0, 0, 0], [[20, item], [21, cstr('/bin/true')]], { tid, comm: 'true' });
  const fake = fakeProbe([
    // The review's frame: an openat whose file item is 0 bytes, the last bytes of its chunk.
    concat(hello(1_700_000_000_000_000_000n), open('/etc/hosts', 100, new Uint8Array(0))),
    concat(open('/etc/passwd', 100), exec(101, new Uint8Array(60)), exec(101, new Uint8Array(112)), open('/fail-in-sink', 102), open('/etc/group', 103), statsFrame(6)),
  ]);
  const seen: string[] = [];
  const problems: string[] = [];
  let stats = 0;
  const lc = new LiveCapture(
    { node: 'test-node', probe: { binary: fake.binary, excludeSelf: false }, types: 'all', procRoot: join(dir, 'proc') },
    {
      event: (e) => {
        if (e.fd?.name === '/fail-in-sink') throw new Error('sink failed');
        seen.push(`${e.type} ${e.tid} ${e.fd?.name ?? e.process?.exe ?? ''}`);
        return true;
      },
      stats: () => stats++,
      problem: (m) => problems.push(m),
    },
  );
  try {
    await lc.start();
    await until(() => lc.probe.counters.malformedFrames === 1, 'the first malformed frame');
    lc.probe.requestStats();
    await until(() => stats === 1, 'the stats frame');
    assert.deepEqual(seen, ['openat 100 /etc/passwd', 'execve 101 /bin/true', 'openat 103 /etc/group']);
    assert.equal(lc.probe.counters.malformedFrames, 3);
    assert.equal(lc.counters.events, 4, 'the state engine saw every frame that decoded');
    assert.match(problems[0]!, /^malformed probe frame skipped \(syscall openat .* tid 100\): item 12 \(struct hrr_file\) of 0 bytes is shorter than its 32 bytes/);
    assert.match(problems[1]!, /^malformed probe frame skipped \(syscall execve .* tid 101\): item 20 \(struct hrr_exec\) of 60 bytes is shorter than its 112 bytes/);
    assert.match(problems[2]!, /^probe frame skipped after an error \(syscall openat .* tid 102\): Error: sink failed .*collector bug/);
    assert.equal(problems.length, 3);
    assert.ok(lc.probe.running);
    assert.equal(lc.probe.counters.starts, 1);
  } finally {
    await lc.stop();
    fake.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

const probeMissing = !existsSync(defaultProbeBinary()) ? `the probe is not built (make -C probe)` : process.getuid?.() !== 0 ? 'needs root' : undefined;

const FIELDS = [
  'evt.type', 'evt.dir', 'evt.args', 'proc.pid', 'proc.ppid', 'proc.name', 'proc.pname', 'proc.cmdline', 'proc.exepath',
  'proc.tty', 'proc.is_exe_from_memfd', 'fd.name', 'fd.sip', 'fd.sport', 'fd.l4proto', 'fd.typechar', 'user.name', 'user.uid',
  'container.id', 'evt.arg.name', 'evt.arg.target', 'evt.arg.linkpath', 'evt.arg.mode', 'evt.arg.flags', 'evt.res',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;
const SEP = '\u0001';

/** Captures while `work` runs; returns every event as field strings read from built batches. */
async function capture(work: () => Promise<void> | void): Promise<{ rows: Row[]; lc: LiveCapture }> {
  const acc = batchAccessor();
  const fmt = compileOutput(FIELDS.map((f) => `%${f}`).join(SEP), acc);
  if (!fmt.ok) throw new Error(fmt.message);
  const rows: Row[] = [];
  const builder = new BatchBuilder({ collectorId: 'live-test', node: 'test-node', source: 'syscall' });
  const flush = (): void => {
    if (builder.size === 0) return;
    const b = new DecodedBatch(builder.finish(1));
    for (let r = 0; r < b.rows; r++) {
      const parts = fmt.output.render(acc.at(b, r)).text.split(SEP);
      rows.push(Object.fromEntries(FIELDS.map((f, i) => [f, parts[i] ?? ''])) as Row);
    }
  };
  const problems: string[] = [];
  const lc = new LiveCapture(
    { node: 'test-node', probe: { excludeSelf: false, statsIntervalMs: 200 }, types: 'all' },
    {
      event: (e) => {
        builder.add(e);
        if (builder.size >= 1024) flush();
        return true;
      },
      problem: (m) => problems.push(m),
    },
  );
  await lc.start();
  try {
    await work();
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    await lc.stop();
  }
  flush();
  assert.deepEqual(problems, [], 'no problems reported');
  return { rows, lc };
}

const find = (rows: Row[], pred: (r: Row) => boolean, what: string): Row => {
  const r = rows.find(pred);
  assert.ok(r, `no event: ${what}`);
  return r;
};

test('host: the acceptance commands arrive with their arguments, process, fd and user fields', { skip: probeMissing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-live-'));
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const shm = `/dev/shm/harrier-live-${process.pid}`;
  let shellPid = 0;
  const script = acceptanceScript(dir, port, shm);
  const { rows, lc } = await capture(async () => {
    await execFileP('bash', ['-c', script]);
    shellPid = Number(readFileSync(`${dir}/pid`, 'utf8').trim());
  });
  server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(shm, { force: true });

  const shadow = find(rows, (r) => r['evt.type'] === 'openat' && r['proc.name'] === 'cat' && r['fd.name'] === '/etc/shadow', 'cat opening /etc/shadow');
  assert.equal(shadow['evt.dir'], '<');
  assert.equal(shadow['evt.arg.name'], '/etc/shadow');
  assert.match(shadow['evt.args'], /^fd=3\(<f>\/etc\/shadow\) dirfd=-100\(AT_FDCWD\) name=\/etc\/shadow flags=1\(O_RDONLY\)/);
  assert.equal(shadow['proc.cmdline'], 'cat /etc/shadow');
  assert.equal(shadow['proc.exepath'], '/usr/bin/cat');
  assert.equal(shadow['proc.pname'], 'bash');
  assert.equal(shadow['proc.ppid'], String(shellPid));
  assert.notEqual(shadow['proc.pid'], String(shellPid));
  assert.equal(shadow['proc.tty'], '0');
  assert.equal(shadow['fd.typechar'], 'f');
  assert.equal(shadow['user.name'], 'root');
  assert.equal(shadow['container.id'], 'host');

  const sh = find(rows, (r) => r['evt.type'] === 'execve' && r['proc.name'] === 'sh' && r['proc.ppid'] === String(shellPid), 'sh -c');
  assert.equal(sh['proc.cmdline'], 'sh -c echo hi > /dev/null');
  assert.equal(sh['evt.res'], 'SUCCESS');

  const link = find(rows, (r) => r['evt.type'] === 'symlinkat' && r['proc.name'] === 'ln' && r['proc.ppid'] === String(shellPid), 'ln -s');
  assert.equal(link['evt.arg.target'], '/etc/shadow');
  assert.match(link['evt.arg.linkpath'], /shadow-link$/);

  const chmod = find(rows, (r) => r['evt.type'] === 'fchmodat' && r['proc.name'] === 'chmod' && r['proc.ppid'] === String(shellPid), 'chmod 4755');
  assert.match(chmod['evt.arg.mode'], /S_ISUID/);

  const conn = find(rows, (r) => r['evt.type'] === 'connect' && r['proc.pid'] === String(shellPid) && r['fd.sport'] === String(port), 'TCP connect');
  assert.equal(conn['fd.sip'], '127.0.0.1');
  assert.equal(conn['fd.l4proto'], 'tcp');
  assert.match(conn['fd.name'], new RegExp(`^127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}$`));
  assert.equal(conn['evt.res'], 'SUCCESS');

  const un = find(rows, (r) => r['evt.type'] === 'unshare' && r['proc.name'] === 'unshare', 'unshare');
  assert.match(un['evt.args'], /CLONE_NEWNET/);

  const shmExec = find(rows, (r) => r['evt.type'] === 'execve' && r['proc.exepath'] === shm, 'exec from /dev/shm');
  assert.equal(shmExec['evt.res'], 'SUCCESS');

  const memfd = find(rows, (r) => r['evt.type'] === 'execve' && r['proc.is_exe_from_memfd'] === 'true', 'exec from a memfd');
  // The kernel names the process after the path it ran (/proc/self/fd/3), and proc.cmdline starts with that name.
  assert.equal(memfd['proc.cmdline'], '3');
  // Its executable has no path: libscap gives the memfd's own name, which rules match on.
  assert.equal(memfd['proc.exepath'], 'memfd:harrier');
  find(rows, (r) => r['evt.type'] === 'memfd_create' && r['evt.arg.name'] === 'harrier', 'memfd_create');

  assert.ok(lc.counters.seededThreads > 10, 'the state was seeded from /proc');
  assert.equal(lc.probe.decoder.probe?.dropped, 0, 'no ring-buffer drops');
  assert.equal(lc.probe.counters.malformedFrames, 0);
});

const noPodman = probeMissing ?? podmanUnavailable();

test('container: events of a podman container carry its id and its own users', { skip: noPodman }, async () => {
  ensureTestImage();
  const name = `harrier-live-${process.pid}`;
  removeContainer(name);
  let id = '';
  let userId = '';
  try {
    const { rows, lc: lc2 } = await capture(async () => {
      id = await runContainer(name, 'cat /etc/shadow > /dev/null; ln -s /etc/shadow /tmp/l');
      removeContainer(`${name}-u`);
      // Lives a moment so its /etc/passwd can be read through /proc/<pid>/root.
      userId = await runContainer(`${name}-u`, 'cat /etc/group > /dev/null; sleep 1', ['--user', '4242']);
    });
    const short = id.slice(0, 12);
    const shadow = find(rows, (r) => r['evt.type'] === 'openat' && r['fd.name'] === '/etc/shadow' && r['container.id'] === short, 'cat /etc/shadow in the container');
    assert.equal(shadow['proc.name'], 'cat');
    assert.equal(shadow['proc.exepath'], '/bin/busybox');
    assert.equal(shadow['proc.cmdline'], 'cat /etc/shadow');
    assert.equal(shadow['user.name'], 'root');
    find(rows, (r) => r['evt.type'] === 'symlinkat' && r['container.id'] === short, 'ln -s in the container');
    // uid 4242 exists only in the container's /etc/passwd.
    const mine = find(rows, (r) => r['evt.type'] === 'openat' && r['proc.name'] === 'cat' && r['fd.name'] === '/etc/group' && r['container.id'] === userId.slice(0, 12), 'cat as uid 4242');
    assert.ok(lc2.counters.containersUsersRead >= 1);
    assert.equal(mine['user.uid'], '4242');
    assert.equal(mine['user.name'], 'harrier');
  } finally {
    removeContainer(name);
    removeContainer(`${name}-u`);
  }
});
