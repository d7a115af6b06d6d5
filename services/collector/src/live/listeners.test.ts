import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { listenerPids, localPort } from './listeners.js';

test('the process listening on a port is found through /proc', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.deepEqual(listenerPids(port), [process.pid]);
  } finally {
    server.close();
  }
  // A separate process: a shell-free python listener would do, but a second node is always here.
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const p = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
    assert.deepEqual(listenerPids(p), [child.pid]);
  } finally {
    child.kill();
  }
  assert.deepEqual(listenerPids(1), []);
});

test('only local NATS URLs give a port', () => {
  assert.equal(localPort('nats://127.0.0.1:4333'), 4333);
  assert.equal(localPort('nats://user:pw@localhost'), 4222);
  assert.equal(localPort('127.0.0.1:5000'), 5000);
  assert.equal(localPort('tls://[::1]:7000'), 7000);
  assert.equal(localPort('nats://nats.prod.svc:4222'), undefined);
});
