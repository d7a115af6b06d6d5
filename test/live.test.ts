// End to end on the real kernel: `harrier collector` (eBPF source) as a child process with the real
// probe and a real nats-server; the acceptance commands on the host and in a podman container, and a
// pod run on a private containerd through the CRI. The events are
// read back from the EVENTS stream and their fields checked through the rules' accessor. Harrier's
// own processes (the collector, its probe) and the NATS server must produce no events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { DecodedBatch, batchAccessor } from '@harrier/batch';
import { compileOutput } from '@harrier/rules';
import { defaultProbeBinary } from '@harrier/collector';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';
import { acceptanceScript, buildMemfdExec, containerAcceptanceScript } from '../services/collector/src/testing/workload.js';
import { ensureTestImage, podmanUnavailable, removeContainer, runContainer } from '../services/collector/src/testing/podman.js';
import { containerdUnavailable, startContainerd } from '../services/collector/src/testing/containerd.js';
import { listenerPids } from '../services/collector/src/live/listeners.js';
import { startPodmanService } from '../services/collector/src/containers/podman-service.js';

const execFileP = promisify(execFile);
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');
const skip = natsServerSkip || (process.getuid?.() !== 0 ? 'needs root' : !existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : false);
const noPodman = skip || podmanUnavailable() || false;
const noContainerd = skip || containerdUnavailable() || false;

const FIELDS = [
  'evt.type', 'evt.dir', 'evt.args', 'evt.res', 'proc.pid', 'proc.ppid', 'proc.name', 'proc.pname', 'proc.cmdline', 'proc.exepath', 'proc.tty',
  'proc.is_exe_from_memfd', 'fd.name', 'fd.sip', 'fd.sport', 'fd.l4proto', 'user.name', 'container.id', 'container.name',
  'container.image.repository', 'container.type', 'container.privileged', 'k8s.pod.name', 'k8s.ns.name', 'evt.arg.target', 'evt.arg.linkpath', 'evt.arg.mode', 'evt.arg.filename',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;
const SEP = '\u0001';

const RULES = `
- rule: e2e watched syscalls
  desc: every event of the types the test checks
  condition: evt.type in (openat, execve, execveat, symlink, symlinkat, chmod, fchmodat, connect, unshare, memfd_create)
  output: "%evt.type by %proc.name (%evt.args)"
  priority: NOTICE
`;

interface Running {
  readonly rows: () => Row[];
  readonly collectorPid: number;
  readonly probePids: () => number[];
  stop(): Promise<number | null>;
}

/** Starts nats-server and `harrier collector`, and reads EVENTS into rows as batches arrive. */
async function startPipeline(dir: string, config?: string): Promise<Running & { natsPid: () => number[]; dispose: () => Promise<void> }> {
  const server = await startNatsServer();
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, RULES);
  const configArgs: string[] = [];
  if (config) {
    writeFileSync(join(dir, 'harrier.yaml'), config);
    configArgs.push('-c', join(dir, 'harrier.yaml'));
  }
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', ...configArgs, '-r', rulesFile, '-o', `nats.url=${server.url}`, '-o', 'webserver.listen_port=0', '-o', 'collector.id=live', '-o', 'collector.node=node-live'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 400 && !out.includes('live capture started'); i++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  if (!out.includes('live capture started')) throw new Error(`the collector did not start:\n${out}`);

  const acc = batchAccessor();
  const fmt = compileOutput(FIELDS.map((f) => `%${f}`).join(SEP), acc);
  if (!fmt.ok) throw new Error(fmt.message);
  const rows: Row[] = [];
  const nc = await connect({ servers: server.url });
  const js = jetstream(nc);
  const consumer = await js.consumers.get('EVENTS');
  const messages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      const b = DecodedBatch.decode(m.data);
      for (let r = 0; r < b.rows; r++) {
        const parts = fmt.output.render(acc.at(b, r)).text.split(SEP);
        rows.push(Object.fromEntries(FIELDS.map((f, i) => [f, parts[i] ?? ''])) as Row);
      }
    }
  })();
  const probePids = (): number[] => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return {
    rows: () => rows,
    collectorPid: child.pid!,
    probePids,
    natsPid: () => listenerPids(server.port),
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async dispose() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await messages.close().catch(() => {});
      await nc.close();
      await server.dispose();
    },
  };
}

async function waitFor(rows: () => Row[], pred: (r: Row) => boolean, what: string): Promise<Row> {
  for (let i = 0; i < 200; i++) {
    const r = rows().find(pred);
    if (r) return r;
    await sleep(50);
  }
  assert.fail(`no published event: ${what}`);
}

test('live pipeline on the host: the acceptance commands are published with their fields, and Harrier is never watched', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-e2e-'));
  const p = await startPipeline(dir);
  const listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as AddressInfo).port;
  const shm = `/dev/shm/harrier-e2e-${process.pid}`;
  try {
    const script = acceptanceScript(dir, port, shm);
    await execFileP('bash', ['-c', script]);
    const shell = readFileSync(`${dir}/pid`, 'utf8').trim();
    const rows = p.rows;

    const shadow = await waitFor(rows, (r) => r['evt.type'] === 'openat' && r['proc.name'] === 'cat' && r['fd.name'] === '/etc/shadow', 'cat /etc/shadow');
    assert.equal(shadow['evt.dir'], '<');
    assert.match(shadow['evt.args'], /name=\/etc\/shadow flags=1\(O_RDONLY\)/);
    assert.equal(shadow['proc.ppid'], shell);
    assert.equal(shadow['proc.pname'], 'bash');
    assert.equal(shadow['proc.cmdline'], 'cat /etc/shadow');
    assert.equal(shadow['proc.exepath'], '/usr/bin/cat');
    assert.equal(shadow['proc.tty'], '0');
    assert.equal(shadow['user.name'], 'root');
    assert.equal(shadow['container.id'], 'host');

    const sh = await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['proc.name'] === 'sh' && r['proc.ppid'] === shell, 'sh -c');
    assert.equal(sh['proc.cmdline'], 'sh -c echo hi > /dev/null');
    const link = await waitFor(rows, (r) => r['evt.type'] === 'symlinkat' && r['proc.name'] === 'ln' && r['proc.ppid'] === shell, 'ln -s');
    assert.equal(link['evt.arg.target'], '/etc/shadow');
    const chmod = await waitFor(rows, (r) => r['evt.type'] === 'fchmodat' && r['proc.name'] === 'chmod' && r['proc.ppid'] === shell, 'chmod 4755');
    assert.match(chmod['evt.arg.mode'], /S_ISUID/);
    const conn = await waitFor(rows, (r) => r['evt.type'] === 'connect' && r['proc.pid'] === shell && r['fd.sport'] === String(port), 'TCP connect');
    assert.equal(conn['fd.sip'], '127.0.0.1');
    assert.equal(conn['fd.l4proto'], 'tcp');
    assert.equal(conn['evt.res'], 'SUCCESS');
    const un = await waitFor(rows, (r) => r['evt.type'] === 'unshare' && r['proc.name'] === 'unshare', 'unshare');
    assert.match(un['evt.args'], /CLONE_NEWNET/);
    await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['proc.exepath'] === shm && r['evt.res'] === 'SUCCESS', 'exec from /dev/shm');
    await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['proc.is_exe_from_memfd'] === 'true', 'exec from a memfd');
    await waitFor(rows, (r) => r['evt.type'] === 'memfd_create', 'memfd_create');
    // An orphan: its parent exits first, and the kernel hands it to the child subreaper above (a
    // bash that python made one, PR_SET_CHILD_SUBREAPER = 36). Its events name that reaper as
    // its parent, as Falco's do, not the parent that is gone.
    const marker = join(dir, 'orphan-marker');
    writeFileSync(marker, '');
    const reap = `echo $$ > ${dir}/reaper; bash -c '(sleep 0.5; : < ${marker}) & echo $$ > ${dir}/gone'; sleep 1.5; :`;
    await execFileP('python3', ['-c', 'import ctypes, os, sys; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0); os.execvp("bash", ["bash", "-c", sys.argv[1]])', reap]);
    const orphan = await waitFor(rows, (r) => r['evt.type'] === 'openat' && r['fd.name'] === marker && r['proc.name'] === 'bash', 'the orphan opening its marker');
    const gone = readFileSync(`${dir}/gone`, 'utf8').trim();
    assert.notEqual(orphan['proc.ppid'], gone, 'not the parent that exited');
    assert.equal(orphan['proc.ppid'], readFileSync(`${dir}/reaper`, 'utf8').trim());
    assert.equal(orphan['proc.pname'], 'bash');

    // Only the rules' event types are published (close is traced for state, never sent).
    assert.ok(!rows().some((r) => !['openat', 'execve', 'execveat', 'symlink', 'symlinkat', 'chmod', 'fchmodat', 'connect', 'unshare', 'memfd_create'].includes(r['evt.type'])), 'only the types the rules need');
    // Harrier never watches itself, nor the NATS server it talks to.
    const own = new Set([String(p.collectorPid), ...p.probePids().map(String), ...p.natsPid().map(String)]);
    assert.ok(own.size >= 3, `collector, probe and nats-server pids known: ${[...own]}`);
    const mine = rows().filter((r) => own.has(r['proc.pid']));
    assert.deepEqual(mine.map((r) => `${r['proc.name']} ${r['evt.type']}`), [], 'no events of Harrier or NATS');
  } finally {
    listener.close();
    rmSync(shm, { force: true });
    const code = await p.stop();
    await p.dispose();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, 'the collector exits 0 on SIGTERM');
  }
});

test('live pipeline in a podman container: the acceptance commands, with the container\'s id, name, image and own users', { skip: noPodman }, async () => {
  ensureTestImage();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-e2e-'));
  buildMemfdExec(dir);
  chmodSync(dir, 0o755); // mounted at /harrier for uid 4242
  const name = `harrier-e2e-${process.pid}`;
  removeContainer(name);
  const listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as AddressInfo).port;
  const api = await startPodmanService();
  const p = await startPipeline(dir, `collector:\n  container_runtimes:\n    - kind: podman\n      socket: ${api.socketPath}\n`);
  try {
    // uid 4242 is in the image's /etc/passwd only; the host's listener is reached over the host network.
    const extra = ['--network', 'host', '--tmpfs', '/dev/shm:rw,exec', '--user', '4242', '-v', `${dir}:/harrier:ro`];
    const id = await runContainer(name, containerAcceptanceScript(port), extra);
    const short = id.slice(0, 12);
    const rows = (): Row[] => p.rows().filter((r) => r['container.id'] === short);

    const shadow = await waitFor(rows, (r) => r['evt.type'] === 'openat' && r['proc.name'] === 'cat' && r['fd.name'] === '/etc/shadow', 'cat /etc/shadow in the container');
    assert.match(shadow['evt.args'], /name=\/etc\/shadow flags=\d+\(O_RDONLY/);
    assert.equal(shadow['proc.pname'], 'sh');
    assert.equal(shadow['proc.cmdline'], 'cat /etc/shadow');
    assert.equal(shadow['proc.exepath'], '/bin/busybox');
    assert.equal(shadow['proc.tty'], '0');
    assert.equal(shadow['user.name'], 'harrier', 'uid 4242 is named by the container\'s /etc/passwd');
    // Every command runs in the container's shell or a child of it. busybox sh runs some applets in
    // its own process (ln, touch, chmod, cp) and starts the others by executing /proc/self/exe, so
    // the kernel names them "exe" until they rename themselves (prctl PR_SET_NAME): Falco shows the same.
    const shell = shadow['proc.ppid'];
    const fromShell = (r: Row): boolean => r['proc.pid'] === shell || r['proc.ppid'] === shell;
    assert.ok(rows().some((r) => r['proc.pid'] === shell), 'the shell\'s own events are the container\'s too');

    const sh = await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['evt.res'] === 'SUCCESS' && r['proc.ppid'] === shell && r['proc.cmdline'].endsWith(' -c echo hi > /dev/null'), 'sh -c in the container');
    assert.equal(sh['proc.exepath'], '/bin/busybox');
    // (The container's first process, before it became the shell, linked /dev/ptmx for runc.)
    const link = await waitFor(rows, (r) => (r['evt.type'] === 'symlinkat' || r['evt.type'] === 'symlink') && r['evt.arg.target'] === '/etc/shadow' && fromShell(r), 'ln -s in the container');
    assert.equal(link['evt.arg.linkpath'], '/dev/shm/shadow-link');
    assert.equal(link['evt.res'], 'SUCCESS');
    const chmod = await waitFor(rows, (r) => (r['evt.type'] === 'fchmodat' || r['evt.type'] === 'chmod') && /S_ISUID/.test(r['evt.arg.mode']) && fromShell(r), 'chmod 4755 in the container');
    assert.equal(chmod['evt.arg.filename'], '/dev/shm/suid');
    assert.equal(chmod['evt.res'], 'SUCCESS');
    const conn = await waitFor(rows, (r) => r['evt.type'] === 'connect' && r['fd.sport'] === String(port) && fromShell(r), 'TCP connect from the container');
    assert.equal(conn['fd.sip'], '127.0.0.1');
    assert.equal(conn['fd.l4proto'], 'tcp');
    assert.equal(conn['evt.res'], 'SUCCESS');
    assert.equal(conn['proc.name'], 'nc');
    // No CAP_SYS_ADMIN in the container: the attempt fails, and is still an event.
    const un = await waitFor(rows, (r) => r['evt.type'] === 'unshare' && fromShell(r), 'unshare in the container');
    assert.match(un['evt.args'], /CLONE_NEWNET/);
    assert.equal(un['evt.res'], 'EPERM');
    const shm = await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['proc.exepath'] === '/dev/shm/true' && r['evt.res'] === 'SUCCESS', 'exec from /dev/shm in the container');
    assert.equal(shm['proc.ppid'], shell);
    await waitFor(rows, (r) => r['evt.type'] === 'memfd_create' && r['proc.name'] === 'memfd-exec' && r['proc.ppid'] === shell, 'memfd_create in the container');
    const memfd = await waitFor(rows, (r) => r['evt.type'] === 'execve' && r['proc.is_exe_from_memfd'] === 'true', 'exec from a memfd in the container');
    assert.equal(memfd['proc.ppid'], shell);

    const named = await waitFor(rows, (r) => r['container.name'] === name, 'container.name filled in');
    assert.equal(named['container.image.repository'], 'localhost/harrier-busybox');
    assert.equal(named['container.type'], 'podman');
  } finally {
    listener.close();
    await p.stop();
    await p.dispose();
    await api.stop();
    removeContainer(name);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live pipeline in a Kubernetes-style pod on containerd (CRI): container id, name, image, pod name and namespace (and the probe settings from the config)', { skip: noContainerd }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-e2e-'));
  const ctd = await startContainerd();
  const p = await startPipeline(dir, `collector:\n  container_runtimes:\n    - kind: containerd\n      socket: ${ctd.socketPath}\n  probe:\n    buffer_mb: 8\n`);
  try {
    const pod = await ctd.runPod({
      name: 'web-0', namespace: 'shop', uid: randomUUID(), labels: { app: 'web' }, container: 'server', user: 4242,
      command: ['/bin/sh', '-c', 'cat /etc/shadow > /dev/null; ln -s /etc/shadow /tmp/l; sleep 2; cat /etc/hostname > /dev/null; sleep 60'],
    });
    const short = pod.containerId.slice(0, 12);
    // The configured output queue reaches the probe.
    const probeArgs = p.probePids().map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    assert.ok(probeArgs.some((a) => a.includes('--buffer-mb') && a[a.indexOf('--buffer-mb') + 1] === '8'), JSON.stringify(probeArgs));
    const shadow = await waitFor(p.rows, (r) => r['evt.type'] === 'openat' && r['proc.name'] === 'cat' && r['container.id'] === short, 'cat in the pod');
    assert.equal(shadow['proc.exepath'], '/bin/busybox');
    assert.equal(shadow['container.type'], 'containerd');
    assert.equal(shadow['user.name'], 'harrier', 'uid 4242 is named by the container\'s /etc/passwd');
    await waitFor(p.rows, (r) => r['evt.type'] === 'symlinkat' && r['container.id'] === short, 'ln -s in the pod');
    // The runtime answers asynchronously: events after the pause carry the metadata.
    const named = await waitFor(p.rows, (r) => r['container.id'] === short && r['container.name'] === 'server', 'container.name filled in');
    assert.equal(named['container.image.repository'], 'localhost/harrier-busybox');
    assert.equal(named['container.privileged'], 'false');
    assert.equal(named['k8s.pod.name'], 'web-0');
    assert.equal(named['k8s.ns.name'], 'shop');
  } finally {
    await p.stop();
    await p.dispose();
    await ctd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
