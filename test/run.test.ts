// End to end: `harrier run` as a user starts it, on the real kernel. It starts its private
// nats-server, the probe and collector, and one engine worker; the test's own processes (a `cat` of
// a marker file, a TCP connect to a listener it opens) must come back on stdout as alerts of a
// custom rules file whose fields are those processes' real pid, parent, command line, user, file and
// addresses. SIGTERM and -M stop everything with exit 0 and leave no nats-server or probe behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials } from '@grpc/grpc-js';
import { defaultProbeBinary } from '@harrier/collector';
import { falcoOutputs } from '@harrier/proto';
import { connect } from '@nats-io/transport-node';
import { clearRuleset, pushRuleset, readRuleset } from '@harrier/engine';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';

const execFileP = promisify(execFile);
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');
const skip = natsServerSkip || (process.getuid?.() !== 0 ? 'needs root' : !existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : false);

interface Fixture {
  readonly dir: string;
  readonly marker: string;
  readonly rules: string;
  /** Rewrites the rules file: both rules, or the marker rule only. */
  writeRules(withConnect: boolean): void;
  readonly listener: Server;
  readonly port: number;
  /** Client ports of the connections the listener accepted. */
  readonly clientPorts: number[];
}

async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-run-'));
  const marker = join(dir, `marker-${process.pid}.txt`);
  writeFileSync(marker, 'harrier run e2e\n');
  const clientPorts: number[] = [];
  const listener = createServer((s) => {
    clientPorts.push(s.remotePort!);
    s.end();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as AddressInfo).port;
  const rules = join(dir, 'rules.yaml');
  const marked = `
- rule: Run e2e marker read
  desc: the test's marker file opened for reading
  condition: evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.name = "${marker}"
  output: "marker read (pid=%proc.pid ppid=%proc.ppid pname=%proc.pname cmdline=%proc.cmdline user=%user.name uid=%user.uid file=%fd.name)"
  priority: WARNING
  tags: [e2e, filesystem]
`;
  const connect = `
- rule: Run e2e connect
  desc: a TCP connect to the test's listener
  condition: evt.type = connect and fd.sip = "127.0.0.1" and fd.sport = ${port}
  output: "connect (pid=%proc.pid ppid=%proc.ppid pname=%proc.pname cmdline=%proc.cmdline user=%user.name connection=%fd.name sip=%fd.sip sport=%fd.sport cip=%fd.cip cport=%fd.cport proto=%fd.l4proto)"
  priority: NOTICE
  tags: [e2e, network]
`;
  const writeRules = (withConnect: boolean): void => writeFileSync(rules, withConnect ? marked + connect : marked);
  writeRules(true);
  return { dir, marker, rules, writeRules, listener, port, clientPorts };
}

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly natsPid: number;
  readonly probePid: number;
  readonly exited: Promise<number | null>;
}

/** Starts `harrier ARGS` and waits for its startup line, which names the nats-server and probe pids. */
async function startHarrier(f: Fixture, args: string[], natsUrl?: string): Promise<Run> {
  if (natsUrl) args = [...args, '-o', `nats.url=${natsUrl}`];
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args, '-r', f.rules, '-o', `nats.embedded.state_dir=${join(f.dir, 'nats')}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let started: RegExpExecArray | null = null;
  for (let i = 0; i < 600 && !started && child.exitCode === null; i++) {
    await sleep(50);
    started = natsUrl ? /NATS at \S+, ()probe pid (\d+)/.exec(err) : /nats-server pid (\d+) .*probe pid (\d+)/.exec(err);
  }
  if (!started) {
    child.kill('SIGKILL');
    throw new Error(`harrier run did not start:\n${err}`);
  }
  return { child, stdout: () => out, stderr: () => err, natsPid: Number(started[1]), probePid: Number(started[2]), exited };
}

/** The test's processes: a shell whose children read the marker and connect; their pids come back in files. */
async function workload(f: Fixture): Promise<{ shell: number; cat: number; connector: number }> {
  const script = [
    `echo $$ > ${f.dir}/shell`,
    `cat ${f.marker} > /dev/null & echo $! > ${f.dir}/cat; wait`,
    `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${f.port}' & echo $! > ${f.dir}/connector; wait`,
  ].join('\n');
  await execFileP('bash', ['-c', script]);
  const pid = (name: string): number => Number(readFileSync(join(f.dir, name), 'utf8').trim());
  return { shell: pid('shell'), cat: pid('cat'), connector: pid('connector') };
}

async function waitForLines(run: Run, pred: (line: string) => boolean, count: number, what: string): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const lines = run.stdout().split('\n').filter(pred);
    if (lines.length >= count) return lines;
    if (run.child.exitCode !== null) break;
    await sleep(50);
  }
  assert.fail(`no alert on stdout: ${what}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function cleanup(f: Fixture, run: Run | undefined): Promise<void> {
  f.listener.close();
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  for (const pid of [run?.natsPid, run?.probePid]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(f.dir, { recursive: true, force: true });
}

interface Alert {
  rule: string;
  priority: string;
  source: string;
  output?: string;
  tags?: string[];
  output_fields: Record<string, string | number | boolean | null>;
  uuid: string;
}

test('harrier run, JSON: alerts for a marker read and a TCP connect carry the real processes\' fields; SIGTERM stops everything', { skip, timeout: 120_000 }, async (t) => {
  const f = await fixture();
  let run: Run | undefined;
  try {
    // Falco's gRPC outputs service too, on a unix socket.
    const sock = join(f.dir, 'grpc', 'harrier.sock');
    run = await startHarrier(f, ['run', '-o', 'json_output=true', '-o', 'json_include_tags_property=false', '-o', 'grpc.enabled=true', '-o', 'grpc_output.enabled=true', '-o', `grpc.bind_address=unix://${sock}`]);
    const r = run;
    assert.ok(alive(r.natsPid) && alive(r.probePid), 'nats-server and probe run');
    assert.match(readFileSync(`/proc/${r.natsPid}/cmdline`, 'utf8').split('\0').join(' '), /-a 127\.0\.0\.1 /, 'the private server listens on loopback only');
    const w = await workload(f);

    const parse = (l: string): Alert => JSON.parse(l) as Alert;
    const [readLine] = await waitForLines(r, (l) => l.includes('"rule":"Run e2e marker read"'), 1, 'marker read');
    const read = parse(readLine!);
    assert.equal(read.priority, 'Warning');
    assert.equal(read.source, 'syscall');
    assert.equal(read.tags, undefined, 'json_include_tags_property=false applies');
    assert.match(read.output!, /^\S+: Warning marker read \(pid=/);
    const { 'evt.time': readTime, ...readFields } = read.output_fields;
    assert.ok(typeof readTime === 'number' && readTime > 1.7e18, `evt.time in nanoseconds: ${readTime}`);
    assert.deepEqual(readFields, {
      'proc.pid': w.cat,
      'proc.ppid': w.shell,
      'proc.pname': 'bash',
      'proc.cmdline': `cat ${f.marker}`,
      'user.name': 'root',
      'user.uid': 0,
      'fd.name': f.marker,
    });

    const [connLine] = await waitForLines(r, (l) => l.includes('"rule":"Run e2e connect"'), 1, 'TCP connect');
    const conn = parse(connLine!);
    assert.equal(conn.priority, 'Notice');
    assert.equal(f.clientPorts.length, 1, 'the listener saw one connection');
    const cport = f.clientPorts[0]!;
    const { 'evt.time': _connTime, ...connFields } = conn.output_fields;
    assert.deepEqual(connFields, {
      'proc.pid': w.connector,
      'proc.ppid': w.shell,
      'proc.pname': 'bash',
      'proc.cmdline': `bash -c exec 3<>/dev/tcp/127.0.0.1/${f.port}`,
      'user.name': 'root',
      'fd.name': `127.0.0.1:${cport}->127.0.0.1:${f.port}`,
      'fd.sip': '127.0.0.1',
      'fd.sport': f.port,
      'fd.cip': '127.0.0.1',
      'fd.cport': cport,
      'fd.l4proto': 'tcp',
    });
    // stdout carries alerts only: these two, and internal ones should the machine drop events meanwhile.
    const all = r.stdout().trim().split('\n').map(parse);
    assert.deepEqual(all.filter((a) => a.source !== 'internal').map((a) => a.rule), ['Run e2e marker read', 'Run e2e connect']);

    // The same alerts through gRPC get, with their fields as strings.
    const client = new falcoOutputs.serviceClient(`unix://${sock}`, credentials.createInsecure());
    const served = await new Promise<falcoOutputs.response[]>((resolve, reject) => {
      const got: falcoOutputs.response[] = [];
      const call = client.get({});
      call.on('data', (m: falcoOutputs.response) => got.push(m));
      call.on('end', () => resolve(got));
      call.on('error', reject);
    });
    client.close();
    assert.deepEqual(served.filter((a) => a.source !== 'internal').map((a) => a.rule), ['Run e2e marker read', 'Run e2e connect']);
    const marker = served.find((a) => a.rule === 'Run e2e marker read')!;
    assert.equal(marker.output, read.output);
    assert.equal(marker.outputFields['proc.cmdline'], `cat ${f.marker}`);
    assert.equal(marker.outputFields['proc.pid'], String(w.cat));
    assert.match(marker.outputFields['evt.time'] ?? '', /^\d\d:\d\d:\d\d\.\d{9}$/);
    assert.ok(marker.time && marker.time.seconds > 1.7e9, 'the event time');

    // What the benchmark will sum: this process, its nats-server and its probe.
    const rss = [r.child.pid!, r.natsPid, r.probePid].map(rssMb);
    t.diagnostic(`RSS MB: harrier ${rss[0]!.toFixed(0)}, nats-server ${rss[1]!.toFixed(0)}, probe ${rss[2]!.toFixed(0)}, total ${rss.reduce((a, b) => a + b, 0).toFixed(0)}`);

    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0, `exit 0 on SIGTERM\n${r.stderr()}`);
    assert.ok(!alive(r.natsPid), 'the private nats-server is gone');
    assert.ok(!alive(r.probePid), 'the probe is gone');
    assert.match(r.stderr(), new RegExp(`Events published: [1-9]\\d*, evaluated: [1-9]\\d*, alerts: ${all.length}, rules enabled: 2`));
    assert.ok(!existsSync(join(f.dir, 'nats', 'harrier.lock')), 'the state directory is released');
    assert.ok(!existsSync(sock), 'the gRPC socket is removed');
  } finally {
    await cleanup(f, run);
  }
});

test('harrier -r RULES -M: Falco\'s text lines on stdout, SIGHUP reloads the rules, and a clean exit when the time is up', { skip, timeout: 120_000 }, async () => {
  const f = await fixture();
  f.writeRules(false);
  let run: Run | undefined;
  try {
    const started = Date.now();
    // Alerts also go to a file (Falco's file_output): the same lines as stdout.
    const alertsFile = join(f.dir, 'alerts.txt');
    run = await startHarrier(f, ['-M', '12', '-o', 'file_output.enabled=true', '-o', `file_output.filename=${alertsFile}`]);
    const r = run;
    const w = await workload(f);
    const [line] = await waitForLines(r, (l) => l.includes('marker read'), 1, 'marker read');
    assert.match(line!, new RegExp(`^\\d{2}:\\d{2}:\\d{2}\\.\\d{9}: Warning marker read \\(pid=${w.cat} ppid=${w.shell} pname=bash cmdline=cat ${f.marker} user=root uid=0 file=${f.marker}\\)$`));
    assert.ok(!r.stdout().includes(' connect ('), 'no connect rule yet');

    // The connect rule arrives with SIGHUP; connect until the reloaded rules see it.
    f.writeRules(true);
    r.child.kill('SIGHUP');
    let connected = false;
    for (let i = 0; i < 10 && !connected; i++) {
      await workload(f);
      await sleep(500);
      connected = / Notice connect \(pid=\d+ /.test(r.stdout());
    }
    assert.ok(connected, `the reloaded rules alert on a connect:\n${r.stdout()}\n${r.stderr()}`);
    assert.equal(await r.exited, 0, r.stderr());
    assert.ok(Date.now() - started >= 12_000, '-M 12 runs for 12 s');
    assert.ok(!alive(r.natsPid) && !alive(r.probePid), 'nothing left behind');
    assert.ok(r.stdout().trim().split('\n').every((l) => /^\d{2}:\d{2}:\d{2}\.\d{9}: [A-Z][a-z]+ /.test(l)), `only alert lines on stdout:\n${r.stdout()}`);
    assert.equal(readFileSync(alertsFile, 'utf8'), r.stdout());
  } finally {
    await cleanup(f, run);
  }
});

test('harrier run: when its private nats-server dies, the run ends within seconds with status 1 and stops the probe', { skip, timeout: 60_000 }, async () => {
  const f = await fixture();
  f.writeRules(false);
  let run: Run | undefined;
  try {
    run = await startHarrier(f, ['run']);
    const r = run;
    const killed = Date.now();
    process.kill(r.natsPid, 'SIGKILL');
    const code = await Promise.race([r.exited, sleep(10_000).then(() => 'still running')]);
    const tookMs = Date.now() - killed;
    assert.equal(code, 1, r.stderr());
    // Every part stops at once rather than waiting out its timeouts on a server that is gone.
    assert.ok(tookMs < 8000, `exited ${tookMs} ms after the kill`);
    assert.match(r.stderr(), /^harrier: the embedded NATS server exited \(SIGKILL\); stopping$/m);
    assert.match(r.stderr(), /Events published: \d+, evaluated: \d+, alerts: \d+, rules enabled: \d+/);
    for (let i = 0; i < 20 && alive(r.probePid); i++) await sleep(100);
    assert.ok(!alive(r.probePid), 'the probe is gone');
  } finally {
    await cleanup(f, run);
  }
});

test('harrier run on a shared NATS joins it without changing its rules: a pushed ruleset is in force, else the files, and the bucket is left as it was', { skip, timeout: 180_000 }, async () => {
  const f = await fixture();
  f.writeRules(false);
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  let run: Run | undefined;
  try {
    const pushed = readFileSync(f.rules, 'utf8').replace('rule: Run e2e marker read', 'rule: Pushed marker read').replace('output: "marker read', 'output: "pushed marker read');
    const p = await pushRuleset(nc, 'harrier-rules', [{ name: 'cluster.yaml', content: pushed }]);

    run = await startHarrier(f, ['-M', '8'], server.url);
    assert.match(run.stderr(), new RegExp(`holds a pushed ruleset \\(revision ${p.revision}\\): it is in force for this run too`));
    await workload(f);
    await waitForLines(run, (l) => l.includes('pushed marker read'), 1, 'the pushed rule');
    assert.equal(await run.exited, 0, run.stderr());
    assert.equal((await readRuleset(nc, 'harrier-rules'))?.revision, p.revision, 'the run pushed nothing');

    await clearRuleset(nc, 'harrier-rules');
    run = await startHarrier(f, ['-M', '8'], server.url);
    assert.doesNotMatch(run.stderr(), /holds a pushed ruleset/);
    await workload(f);
    const [line] = await waitForLines(run, (l) => / Warning marker read /.test(l), 1, 'the files\' rule');
    assert.ok(line);
    assert.equal(await run.exited, 0, run.stderr());
    assert.equal(await readRuleset(nc, 'harrier-rules'), undefined, 'still no pushed ruleset');
  } finally {
    await nc.close();
    await cleanup(f, run);
    await server.dispose();
  }
});
