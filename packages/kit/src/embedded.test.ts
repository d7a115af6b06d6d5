// The embedded nats-server against the real binary: start, JetStream, loopback only, stop, the
// state-directory lock (live owner refused, a crashed run's server cleaned up), and the errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { EmbeddedNatsError, startEmbeddedNats } from './embedded.js';
import { createLogger } from './log.js';
import { freePort, natsServerSkip } from './testing/nats-server.js';

const skip = natsServerSkip;

function quietLog(): { log: ReturnType<typeof createLogger>; lines: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines: () => out };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startTime(pid: number): string | undefined {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function exitedPid(): Promise<number> {
  const c = spawn('true');
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

test('starts nats-server with JetStream on loopback, in the state directory, and stops it', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-embedded-'));
  const { log, lines } = quietLog();
  const s = await startEmbeddedNats({ stateDir: dir, port: 0, log });
  try {
    assert.match(s.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(alive(s.pid));
    const argv = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0');
    assert.deepEqual(argv.slice(1, 3), ['-a', '127.0.0.1'], 'loopback only');
    const lock = JSON.parse(readFileSync(join(dir, 'harrier.lock'), 'utf8')) as { pid: number; server: number };
    assert.deepEqual([lock.pid, lock.server], [process.pid, s.pid]);

    const nc = await connect({ servers: s.url });
    const info = JSON.parse(new TextDecoder().decode((await nc.request('$JS.API.INFO', undefined, { timeout: 2000 })).data)) as { type: string; config?: { store_dir: string } };
    assert.equal(info.type, 'io.nats.jetstream.api.v1.account_info_response', 'JetStream is enabled');
    await nc.close();
    assert.ok(existsSync(join(dir, 'jetstream')), 'the store is under the state directory');
    assert.match(lines(), /"server":"[^"]*Server is ready"/, 'server output logged at debug');
  } finally {
    await s.stop();
  }
  assert.ok(!alive(s.pid), 'the server process is gone');
  assert.ok(!existsSync(join(dir, 'harrier.lock')), 'the lock is released');
  // nats-server shuts down cleanly on SIGTERM and then exits 1; a null signal means no SIGKILL was needed.
  assert.deepEqual(await s.exited, { code: 1, signal: null });
  await s.stop(); // idempotent

  // The same state directory again, on a fixed port: JetStream data stays.
  const port = await freePort();
  const again = await startEmbeddedNats({ stateDir: dir, port, log });
  assert.equal(again.url, `nats://127.0.0.1:${port}`);
  await again.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a state directory in use by a live process is refused, naming it and the way out', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-embedded-'));
  const { log } = quietLog();
  const first = await startEmbeddedNats({ stateDir: dir, log });
  try {
    await assert.rejects(startEmbeddedNats({ stateDir: dir, log }), (e: Error) => e instanceof EmbeddedNatsError && /in use by this process already.*nats\.embedded\.state_dir/.test(e.message));
  } finally {
    await first.stop();
  }
  const other = spawn('sleep', ['30']);
  try {
    writeFileSync(join(dir, 'harrier.lock'), JSON.stringify({ pid: other.pid, start: startTime(other.pid!) }));
    await assert.rejects(startEmbeddedNats({ stateDir: dir, log }), new RegExp(`in use by another Harrier process \\(pid ${other.pid}\\)`));
  } finally {
    other.kill('SIGKILL');
  }
  // The same pid with another start time is a previous owner: the lock is taken over.
  writeFileSync(join(dir, 'harrier.lock'), JSON.stringify({ pid: process.pid, start: '1' }));
  const s = await startEmbeddedNats({ stateDir: dir, log });
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a crashed run: its leftover nats-server is stopped and the lock taken over', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-embedded-'));
  const { log, lines } = quietLog();
  const orphan = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', dir], { stdio: 'ignore', detached: true });
  const bystander = spawn('sleep', ['30']);
  try {
    await sleep(300);
    assert.ok(alive(orphan.pid!));
    writeFileSync(join(dir, 'harrier.lock'), JSON.stringify({ pid: await exitedPid(), server: orphan.pid }));
    const s = await startEmbeddedNats({ stateDir: dir, log });
    await s.stop();
    assert.ok(orphan.exitCode !== null || orphan.signalCode !== null, 'the leftover server is stopped');
    assert.match(lines(), /stopping the embedded NATS server a previous run left behind/);

    // A lock naming a process that is not this directory's nats-server: never killed.
    writeFileSync(join(dir, 'harrier.lock'), JSON.stringify({ pid: await exitedPid(), server: bystander.pid }));
    const t = await startEmbeddedNats({ stateDir: dir, log });
    await t.stop();
    assert.ok(alive(bystander.pid!), 'an unrelated process is left alone');
  } finally {
    orphan.kill('SIGKILL');
    bystander.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: a missing binary says how to install it; a failing server shows its output', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-embedded-'));
  const { log } = quietLog();
  await assert.rejects(startEmbeddedNats({ stateDir: dir, binary: 'harrier-no-such-nats-server', log }), /'harrier-no-such-nats-server' was not found; install nats-server \(apt-get install nats-server\) or set nats\.url/);
  assert.ok(!existsSync(join(dir, 'harrier.lock')), 'the lock is released after a failed start');

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  try {
    await assert.rejects(startEmbeddedNats({ stateDir: dir, port, log }), (e: Error) => /exited before it was ready/.test(e.message) && /address already in use/.test(e.message));
  } finally {
    busy.close();
  }
  assert.ok(!existsSync(join(dir, 'harrier.lock')));
  rmSync(dir, { recursive: true, force: true });
});
