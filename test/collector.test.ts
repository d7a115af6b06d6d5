// End to end: `harrier collector --source capture FILE` as a child process against a real
// nats-server publishes every event of the capture to the EVENTS stream, serves /healthz and
// /metrics, and exits 0 on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { DecodedBatch } from '@harrier/batch';
import { readScap, toRawEvent } from '@harrier/collector';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');
const corpus = process.env['HARRIER_CORPUS'] ?? resolve(root, '..', 'shared', 'corpus');
const capture = join(corpus, 'scap', 'falco', 'psp__run_as_user_0_container.scap');
let skip: string | false = natsServerSkip;
try {
  readFileSync(capture);
} catch {
  skip ||= `corpus capture not found at ${capture}`;
}

test('harrier collector --source capture publishes every event, serves /healthz and /metrics, exits 0 on SIGTERM', { skip }, async () => {
  const server = await startNatsServer();
  try {
    const cap = readScap(readFileSync(capture));
    let expected = 0;
    for (const e of cap.events) if (toRawEvent(e)) expected++;
    assert.ok(expected > 1000, `the capture has ${expected} events`);

    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', '--source', 'capture', capture, '-o', `nats.url=${server.url}`, '-o', 'webserver.listen_port=0', '-o', 'collector.id=e2e', '-o', 'collector.node=node-a', '-o', 'collector.stats_interval_ms=200'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));

    const nc = await connect({ servers: server.url });
    const statsSub = nc.subscribe('harrier.stats.collector.e2e', { max: 1 });
    const port = await (async () => {
      for (let i = 0; i < 300; i++) {
        const m = /"port":(\d+),"msg":"serving \/healthz/.exec(stdout);
        if (m) return Number(m[1]);
        await sleep(50);
      }
      throw new Error(`no http port in the collector's output:\n${stdout}\n${stderr}`);
    })();
    const jsm = await jetstreamManager(nc);
    let events = 0;
    for (let i = 0; i < 200 && events < expected; i++) {
      await sleep(50);
      events = 0;
      const info = await jsm.streams.info('EVENTS');
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('EVENTS', { seq });
        const b = DecodedBatch.decode(m!.data);
        assert.match(m!.subject, /^harrier\.events\.\d+\.syscall$/);
        assert.equal(m!.header?.get('Nats-Msg-Id'), `e2e-${b.msg.sequence}`);
        assert.equal(b.msg.node, 'node-a');
        events += b.rows;
      }
    }
    assert.equal(events, expected, 'every event of the capture is in the stream once');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; nats: string; source: { name: string; state: string }; counters: { eventsPublished: number } };
    assert.equal(h.status, 'ok');
    assert.equal(h.nats, 'connected');
    assert.deepEqual(h.source, { name: 'capture', state: 'finished' });
    assert.equal(h.counters.eventsPublished, expected);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, new RegExp(`^harrier_collector_events_published_total ${expected}$`, 'm'));
    assert.match(text, /^harrier_collector_nats_connected 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);

    for await (const m of statsSub) {
      const s = m.json<{ collector_id: string; node: string; events_in: number; source: { name: string } }>();
      assert.equal(s.collector_id, 'e2e');
      assert.equal(s.node, 'node-a');
      assert.equal(s.source.name, 'capture');
    }
    await nc.close();

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /"msg":"publisher closed"/);
  } finally {
    await server.dispose();
  }
});

test('harrier collector started before NATS waits for it (/healthz 503, nats: connecting), then publishes once it is up: no exit, no restart loop', { skip }, async () => {
  const server = await startNatsServer();
  await server.stop();
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', '-e', capture, '-o', `nats.url=${server.url}`, '-o', 'webserver.listen_port=0', '-o', 'collector.id=early'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
      for (const end = Date.now() + ms; !(await cond()); await sleep(50)) if (Date.now() > end || child.exitCode !== null) assert.fail(`${what}:\n${out}`);
    };
    await until('no waiting warning', () => out.includes(`cannot connect to NATS at ${server.url}: connection refused; check that the server runs and nats.url is right; waiting for it`));
    const port = Number(/"port":(\d+),"msg":"serving \/healthz/.exec(out)?.[1]);
    assert.ok(port > 0, `the health server is up while NATS is awaited:\n${out}`);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { nats: string }).nats, 'connecting');
    // Still waiting a few retries later, not gone.
    await sleep(2000);
    assert.equal(child.exitCode, null, out);
    await server.start();
    await until('no connection once NATS is up', () => out.includes('NATS is reachable now'));
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await until('nothing published', async () => (await jsm.streams.info('EVENTS').catch(() => undefined))?.state.messages !== undefined && (await jsm.streams.info('EVENTS')).state.messages > 0);
      await until('/healthz not 200', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200);
    } finally {
      await nc.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await server.dispose();
  }
});

test('harrier collector with bad NATS credentials exits 1 at once: waiting would not fix them', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer({ args: ['--auth', 's3cret'] });
  try {
    const r = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', '-o', `nats.url=${server.url}`, '-o', 'nats.token=wrong', '-o', 'webserver.listen_port=0'], { cwd: root, timeout: 30_000 }, (err, _out, stderr) => {
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
      });
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the collector cannot start: cannot connect to NATS at .*: .*[Aa]uthorization.*; check nats\.token, nats\.user\/password or the creds file/);
  } finally {
    await server.dispose();
  }
});

test('harrier collector: bad configuration and usage errors name what is wrong', async () => {
  const run = (args: string[]): Promise<{ code: number; stderr: string }> =>
    new Promise((done) => {
      execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', ...args], { cwd: root }, (err, _out, stderr) => {
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
      });
    });
  const bad = await run(['--source', 'capture', 'x.scap', '-o', 'collector.batch_linger_ms=50']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /-o collector\.batch_linger_ms=50: 'collector\.batch_linger_ms' must be <= 20/);
  const noFile = await run(['--source', 'capture']);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /the capture source needs a file/);
  const port = await run(['--source', 'capture', 'x.scap', '-o', 'webserver.listen_port=99999']);
  assert.equal(port.code, 1);
  assert.match(port.stderr, /^harrier: invalid configuration:\n {2}-o webserver\.listen_port=99999: 'webserver\.listen_port' must be <= 65535\n$/);
  const unknown = await run(['--source', 'kmod']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown source 'kmod'/);
});

/** Runs `harrier collector ARGS` to its end (killed after `timeoutMs`: code null). */
function collectorRun(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

test('harrier collector: --loop or --rate without the capture source is a usage error that exits at once, even with NATS reachable', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    for (const flag of [['--loop'], ['--rate', '100']]) {
      const r = await collectorRun([...flag, '-o', `nats.url=${server.url}`, '-o', 'webserver.enabled=false'], 30_000);
      assert.equal(r.code, 2, `exit status of ${flag.join(' ')} (null: still running after 30 s)\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`harrier: ${flag[0]} goes with --source capture`));
    }
  } finally {
    await server.dispose();
  }
});

test('harrier collector: -M SECONDS stops it after that long (exit 0), and -e FILE replays a capture as in Falco', { skip }, async () => {
  const server = await startNatsServer();
  try {
    const common = ['-o', `nats.url=${server.url}`, '-o', 'webserver.enabled=false'];
    const m = await collectorRun(['--source', 'capture', capture, '-M', '2', ...common], 40_000);
    assert.equal(m.code, 0, `exit status (null: still running after 40 s)\n${m.stderr}`);
    assert.match(m.stdout, /"msg":"publisher closed"/);
    const e = await collectorRun(['-e', capture, '-M', '2', ...common], 40_000);
    assert.equal(e.code, 0, `exit status (null: still running after 40 s)\n${e.stderr}`);
    assert.match(e.stdout, /"source":"capture"/, 'the capture source ran');
    assert.doesNotMatch(e.stdout, /harrier-probe/, 'no live capture');
    const both = await collectorRun(['--source', 'ebpf', '-e', capture, ...common], 30_000);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /-e FILE replays a capture: it goes with --source capture, not --source ebpf/);
  } finally {
    await server.dispose();
  }
});

test('harrier collector: start-up errors about files name the configuration key to fix', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    const common = ['-o', `nats.url=${server.url}`, '-o', 'webserver.enabled=false'];
    const probe = await collectorRun([...common, '-o', 'collector.probe.path=/nonexistent/harrier-probe'], 30_000);
    assert.equal(probe.code, 1, probe.stderr);
    assert.match(probe.stderr, /the probe binary \/nonexistent\/harrier-probe does not exist: build it with `make -C probe` .*or set collector\.probe\.path\n/);
    const creds = await collectorRun([...common, '-o', 'nats.creds_file=/nonexistent/user.creds'], 30_000);
    assert.equal(creds.code, 1, creds.stderr);
    assert.match(creds.stderr, /the collector cannot start: cannot read nats\.creds_file \/nonexistent\/user\.creds: ENOENT/);
    assert.doesNotMatch(creds.stderr, /check that the server runs/);
  } finally {
    await server.dispose();
  }
});

test('harrier collector without a NATS server configured says to set nats.url, not to enable nats.embedded (which only harrier run starts)', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HARRIER_')));
  const r = await new Promise<{ code: number; stderr: string }>((done) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', '-o', 'nats.embedded.enabled=true'], { cwd: root, env }, (err, _out, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the collector cannot start: no NATS server configured: set nats\.url \(or HARRIER_NATS_URL, or nats\.servers\); only harrier run starts a private nats-server \(nats\.embedded\)\n/);
});
