import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './log.js';

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

test('teardowns run in reverse order, once', async () => {
  const order: string[] = [];
  const lc = new Lifecycle({ log: quiet });
  await lc.step('a', () => () => void order.push('stop a'));
  await lc.step('b', () => undefined);
  await lc.step('c', () => Promise.resolve(() => Promise.resolve(void order.push('stop c'))));
  await Promise.all([lc.stop(), lc.stop()]);
  assert.deepEqual(order, ['stop c', 'stop a']);
});

test('a failing step tears down what started and rethrows; a hung teardown times out', async () => {
  const order: string[] = [];
  const lc = new Lifecycle({ log: quiet, teardownTimeoutMs: 100 });
  await lc.step('hangs', () => () => new Promise<void>(() => undefined));
  await lc.step('a', () => () => void order.push('stop a'));
  await assert.rejects(lc.step('b', () => Promise.reject(new Error('boom'))), /boom/);
  assert.deepEqual(order, ['stop a']);
});

test('SIGTERM stops the steps in a real child process and exits 0', async () => {
  const script = `
    import { Lifecycle } from ${JSON.stringify(fileURLToPath(new URL('./lifecycle.ts', import.meta.url)))};
    import { createLogger } from ${JSON.stringify(fileURLToPath(new URL('./log.ts', import.meta.url)))};
    const lc = new Lifecycle({ log: createLogger({ level: 'silent' }) });
    await lc.step('one', () => () => { process.stdout.write('stopped one\\n'); });
    await lc.step('two', () => () => { process.stdout.write('stopped two\\n'); });
    const keep = setInterval(() => {}, 1000);
    lc.handleSignals(() => { clearInterval(keep); process.exit(0); });
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((ready) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.includes('ready') && ready())));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  assert.equal(code, 0);
  assert.match(out, /ready\nstopped two\nstopped one\n/);
});
