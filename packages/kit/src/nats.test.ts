// NATS connections against real nats-server processes on loopback with random ports.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { connectNats, drainNats, NatsConnectError } from './nats.js';
import { createLogger } from './log.js';
import type { NatsConfig } from './config/types.js';

const haveServer = spawnSync('nats-server', ['--version']).status === 0;
const skip = haveServer ? false : 'nats-server is not installed (apt-get install nats-server)';
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });
}

async function startServer(args: string[]): Promise<string> {
  const port = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  await new Promise<void>((ready, fail) => {
    let buf = '';
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('Server is ready')) ready();
    });
    child.on('exit', (code) => fail(new Error(`nats-server exited ${code}: ${buf}`)));
  });
  return `nats://127.0.0.1:${port}`;
}

const base = (servers: string[], extra: Partial<NatsConfig> = {}): NatsConfig => ({
  servers,
  name: 'harrier-test',
  connectTimeoutMs: 2000,
  embedded: { enabled: false, stateDir: '', port: 0, binary: 'nats-server' },
  ...extra,
});

function capture(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

test('connects, publishes and drains on a plain server', { skip }, async () => {
  const url = await startServer([]);
  const { log, lines } = capture();
  const nc = await connectNats(base([url]), log);
  const sub = nc.subscribe('t.x', { max: 1 });
  nc.publish('t.x', 'hello');
  for await (const m of sub) assert.equal(m.string(), 'hello');
  await drainNats(nc, log);
  assert.ok(nc.isClosed());
  assert.ok(lines.some((l) => l.includes('connected to NATS')));
});

test('token and user/password credentials; wrong ones fail clearly without echoing secrets', { skip }, async () => {
  const tokenUrl = await startServer(['--auth', 's3cret-token']);
  const { log } = capture();
  const nc = await connectNats(base([tokenUrl], { token: 's3cret-token' }), log);
  await drainNats(nc, log);
  await assert.rejects(connectNats(base([tokenUrl], { token: 'wrong-token' }), log), (err: unknown) => {
    assert.ok(err instanceof NatsConnectError);
    assert.match(err.message, new RegExp(`cannot connect to NATS at ${tokenUrl}`));
    assert.ok(!err.message.includes('wrong-token'));
    return true;
  });
  const upUrl = await startServer(['--user', 'alice', '--pass', 'pw-123']);
  const nc2 = await connectNats(base([upUrl], { user: 'alice', password: 'pw-123' }), log);
  await drainNats(nc2, log);
  await assert.rejects(connectNats(base([upUrl], { user: 'alice', password: 'nope' }), log), NatsConnectError);
});

test('an unreachable server gives an error naming it', { skip }, async () => {
  const port = await freePort();
  const { log } = capture();
  await assert.rejects(connectNats(base([`nats://127.0.0.1:${port}`], { connectTimeoutMs: 500 }), log), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
  await assert.rejects(connectNats(base([]), log), /no NATS server configured/);
});
