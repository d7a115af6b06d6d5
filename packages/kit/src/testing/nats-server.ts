// Test helper: a real nats-server child process on a random loopback port, optionally with
// JetStream in its own temp store, that tests can stop and start again on the same port.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The reason to pass as `test(..., { skip })` when nats-server is missing, or false. */
export const natsServerSkip: string | false = spawnSync('nats-server', ['--version']).status === 0 ? false : 'nats-server is not installed (apt-get install nats-server)';

export interface NatsServerOptions {
  /** Enable JetStream with a fresh store directory (default true). */
  readonly jetstream?: boolean;
  /** Extra nats-server arguments. */
  readonly args?: readonly string[];
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (removed by `dispose`). */
  readonly storeDir: string | undefined;
  /** Stops the process (SIGTERM, then SIGKILL); the store stays for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (free when asked; tests start their server right away). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
    s.on('error', fail);
  });
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<TestNatsServer> {
  const port = await freePort();
  const storeDir = opts.jetstream === false ? undefined : mkdtempSync(join(tmpdir(), 'harrier-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), ...(storeDir ? ['-js', '-sd', storeDir] : []), ...(opts.args ?? [])];
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    await new Promise<void>((ready, fail) => {
      let buf = '';
      c.stderr.on('data', (d: Buffer) => {
        if (buf.length < 65_536) buf += d.toString();
        if (buf.includes('Server is ready')) ready();
      });
      c.on('exit', (code) => {
        if (child === c) child = undefined;
        fail(new Error(`nats-server exited ${code}: ${buf}`));
      });
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((done) => c.once('exit', () => done()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    dispose: async () => {
      await stop();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
