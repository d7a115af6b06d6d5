// Falco's gRPC outputs and version services on a real socket with a real @grpc/grpc-js client:
// get drains the queue and ends, sub answers each request, one queue shared by all clients, the
// queue cap, stale and live socket files, and mutual TLS on host:port with openssl-made certificates.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { falcoOutputs, falcoSchema, falcoVersion } from '@harrier/proto';
import { FalcoGrpcServer, toResponse, type FalcoAlert } from './falco.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-grpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const alert = (i: number, over: Partial<FalcoAlert> = {}): FalcoAlert => ({
  hostname: 'node-a',
  output: `2016-08-04T16:17:57.88178139${i}+0000: Warning An open was seen (command=cat /dev/null)`,
  output_fields: { 'proc.cmdline': 'cat /dev/null', 'fd.num': 3, 'user.name': null },
  priority: 'Warning',
  rule: 'open_from_cat',
  source: 'syscall',
  tags: ['filesystem', 'process'],
  time: `2016-08-04T16:17:57.88178139${i}Z`,
  ...over,
});

async function started(t: { after: (fn: () => Promise<void>) => void }, server: FalcoGrpcServer): Promise<string> {
  const addr = await server.start();
  t.after(() => server.stop(200));
  return addr;
}

function get(client: falcoOutputs.serviceClient): Promise<falcoOutputs.response[]> {
  return new Promise((resolve, reject) => {
    const got: falcoOutputs.response[] = [];
    const call = client.get({});
    call.on('data', (r: falcoOutputs.response) => got.push(r));
    call.on('end', () => resolve(got));
    call.on('error', reject);
  });
}

const options = (bindAddress: string, report: (s: string, m: string) => void = () => {}): ConstructorParameters<typeof FalcoGrpcServer>[0] => ({
  bindAddress,
  timeIso8601: true,
  version: { harrier: '1.2.3-rc.1+abc', engine: '0.63.0' },
  report,
});

test('an alert becomes Falco\'s outputs.response: time to the nanosecond, priority enum, fields as strings plus the event time', () => {
  const r = toResponse(alert(7), true);
  assert.deepEqual(r.time, { seconds: 1470327477, nanos: 881781397 });
  assert.equal(r.priority, falcoSchema.priority.WARNING);
  assert.equal(r.sourceDeprecated, falcoSchema.source.SYSCALL);
  assert.equal(r.source, 'syscall');
  assert.deepEqual(r.outputFields, { 'evt.time.iso8601': '2016-08-04T16:17:57.881781397+0000', 'proc.cmdline': 'cat /dev/null', 'fd.num': '3', 'user.name': '<NA>' });
  assert.deepEqual(toResponse(alert(7), false).outputFields['evt.time'], '16:17:57.881781397');
  // The time as the alert JSON carries it (a nanosecond number, rounded once parsed) gives way to the formatted one.
  const parsed = alert(7, { output_fields: { 'evt.time.iso8601': Number(1470327477881781397n), 'proc.cmdline': 'cat /dev/null' } });
  assert.deepEqual(toResponse(parsed, true).outputFields, { 'evt.time.iso8601': '2016-08-04T16:17:57.881781397+0000', 'proc.cmdline': 'cat /dev/null' });
  assert.equal(toResponse(alert(1, { priority: 'Critical', source: 'k8s_audit' }), true).priority, falcoSchema.priority.CRITICAL);
  assert.throws(() => toResponse(alert(1, { time: 'yesterday' }), true), /not ISO 8601/);
});

test('get streams what is queued, then ends; the queue is shared, so a second get has nothing; version answers', async (t) => {
  const dir = scratch(t);
  const server = new FalcoGrpcServer(options(`unix://${join(dir, 'sub', 'falco.sock')}`));
  const addr = await started(t, server);
  for (let i = 0; i < 5; i++) server.push(alert(i));
  assert.equal(server.pending, 5);
  const drained = server.drained();
  const client = new falcoOutputs.serviceClient(addr, credentials.createInsecure());
  t.after(() => client.close());
  const first = await get(client);
  assert.deepEqual(first.map((r) => r.time?.nanos), [881781390, 881781391, 881781392, 881781393, 881781394]);
  assert.equal(first[0]!.rule, 'open_from_cat');
  assert.deepEqual(first[0]!.tags, ['filesystem', 'process']);
  await drained;
  assert.equal(server.pending, 0);
  assert.equal(server.served, 5);
  assert.deepEqual(await get(client), []);
  const vc = new falcoVersion.serviceClient(addr, credentials.createInsecure());
  t.after(() => vc.close());
  const v = await new Promise<falcoVersion.response>((resolve, reject) => vc.version({}, (err, res) => (err ? reject(err) : resolve(res))));
  assert.deepEqual({ ...v }, { version: '1.2.3-rc.1+abc', major: 1, minor: 2, patch: 3, prerelease: 'rc.1', build: 'abc', engineMinor: 63, engineFieldsChecksum: '', engineMajor: 0, enginePatch: 0, engineVersion: '0.63.0' });
});

test('sub answers each request with the alerts queued since the previous one', async (t) => {
  const dir = scratch(t);
  const server = new FalcoGrpcServer(options(`unix://${join(dir, 'falco.sock')}`));
  const addr = await started(t, server);
  const client = new falcoOutputs.serviceClient(addr, credentials.createInsecure());
  t.after(() => client.close());
  const call = client.sub();
  const got: string[] = [];
  call.on('data', (r: falcoOutputs.response) => got.push(r.output));
  const until = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  server.push(alert(1));
  server.push(alert(2));
  call.write({});
  await until(2);
  assert.equal(got.length, 2);
  server.push(alert(3));
  call.write({});
  await until(3);
  assert.deepEqual(got.map((o) => o.slice(0, 34)), [1, 2, 3].map((i) => `2016-08-04T16:17:57.88178139${i}+0000`));
  const ended = new Promise<void>((resolve) => call.on('end', resolve));
  call.end();
  await ended;
});

test('a full queue drops its oldest alerts, counts and reports them once', async (t) => {
  const dir = scratch(t);
  const reports: string[] = [];
  const server = new FalcoGrpcServer({ ...options(`unix://${join(dir, 'falco.sock')}`, (s, m) => reports.push(`${s}: ${m}`)), queueLimit: 3 });
  const addr = await started(t, server);
  for (let i = 0; i < 5; i++) server.push(alert(i));
  assert.equal(server.dropped, 2);
  assert.equal(server.pending, 3);
  assert.equal(reports.length, 2); // the caller's report dedupes; the server says it per drop
  assert.match(reports[0]!, /^grpc_output: 3 alerts wait for a gRPC client; the oldest are dropped$/);
  const client = new falcoOutputs.serviceClient(addr, credentials.createInsecure());
  t.after(() => client.close());
  assert.deepEqual((await get(client)).map((r) => r.time?.nanos), [881781392, 881781393, 881781394]);
  // With no client at all, memory stays bounded: the array never holds much more than the limit.
  let most = 0;
  for (let i = 0; i < 50; i++) {
    server.push(alert(i % 10));
    most = Math.max(most, server.retained);
  }
  assert.equal(server.pending, 3);
  assert.ok(most <= 6, `the queue's array held ${most} entries for a limit of 3`);
  assert.equal(server.dropped, 2 + 47);
});

test('a stale socket file is replaced; a live one, or a path that is not a socket, is refused', async (t) => {
  const dir = scratch(t);
  const stale = join(dir, 'stale.sock');
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(stale, r));
  // A socket file whose listener is gone (closed without unlinking, as after a crash).
  execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(dir, 'dead.sock'))}, () => process.exit(0))`]);
  assert.ok(existsSync(join(dir, 'dead.sock')));
  const s1 = new FalcoGrpcServer(options(`unix://${join(dir, 'dead.sock')}`));
  await started(t, s1);
  const s2 = new FalcoGrpcServer(options(`unix://${stale}`));
  await assert.rejects(s2.start(), /another process is listening there/);
  holder.close();
  writeFileSync(join(dir, 'plain'), 'x');
  await assert.rejects(new FalcoGrpcServer(options(`unix://${join(dir, 'plain')}`)).start(), /exists and is not a socket/);
  await assert.rejects(new FalcoGrpcServer(options('127.0.0.1:0')).start(), /network address: it needs mutual TLS/);
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('host:port requires mutual TLS: a client with a certificate from the CA is served, one without is refused', { skip: hasOpenssl ? false : 'openssl not installed' }, async (t) => {
  const dir = scratch(t);
  const ssl = (...a: string[]): void => void execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'client'}`);
    writeFileSync(join(dir, `${who}.ext`), who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', '-extfile', `${who}.ext`);
  }
  const f = (n: string): string => join(dir, n);
  const server = new FalcoGrpcServer({ ...options('127.0.0.1:0'), tls: { privateKey: f('server.key'), certChain: f('server.crt'), rootCerts: f('ca.crt') } });
  const addr = await started(t, server);
  assert.match(addr, /^127\.0\.0\.1:[1-9]\d*$/);
  server.push(alert(1));
  const call = async (creds: ChannelCredentials): Promise<falcoOutputs.response[]> => {
    const c = new falcoOutputs.serviceClient(addr, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    try {
      return await get(c);
    } finally {
      c.close();
    }
  };
  await assert.rejects(call(credentials.createSsl(readFileSync(f('ca.crt')))));
  await assert.rejects(call(credentials.createInsecure()));
  assert.equal(server.pending, 1);
  const got = await call(credentials.createSsl(readFileSync(f('ca.crt')), readFileSync(f('client.key')), readFileSync(f('client.crt'))));
  assert.equal(got.length, 1);
  await assert.rejects(new FalcoGrpcServer({ ...options('127.0.0.1:0'), tls: { privateKey: f('nope.key'), certChain: f('server.crt'), rootCerts: f('ca.crt') } }).start(), /cannot read grpc\.private_key .*nope\.key: ENOENT/);
});
