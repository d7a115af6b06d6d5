// Test helper: a real nats-server child process on a random loopback port, optionally with
// JetStream in its own temp store, that tests can stop and start again on the same port; and a
// cluster of them (JetStream clustered, so streams can have 3 replicas) whose servers tests can
// kill and restart.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
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
  /** A directory to append the server's log to (`<name>.log`), to read after a failure. */
  readonly logDir?: string;
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (removed by `dispose`). */
  readonly storeDir: string | undefined;
  /** Stops the process (SIGTERM, then SIGKILL); the store stays for `start`. */
  stop(): Promise<void>;
  /** Ends the process with SIGKILL (a crash: no lame-duck, no leadership hand-off); the store stays for `start`. */
  kill(): Promise<void>;
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
  const proc = serverProcess(['-a', '127.0.0.1', '-p', String(port), ...(storeDir ? ['-js', '-sd', storeDir] : []), ...(opts.args ?? [])], opts.logDir && join(opts.logDir, 'nats-server.log'));
  await proc.start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop: proc.stop,
    kill: proc.kill,
    start: proc.start,
    dispose: async () => {
      await proc.stop();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** One nats-server child with fixed arguments, started and stopped as often as a test wants. */
function serverProcess(args: readonly string[], logFile?: string): { start: () => Promise<void>; stop: () => Promise<void>; kill: () => Promise<void> } {
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    await new Promise<void>((ready, fail) => {
      let buf = '';
      c.stderr.on('data', (d: Buffer) => {
        if (logFile) {
          try {
            appendFileSync(logFile, d);
          } catch {
            // the directory went away with the test that wanted the log
          }
        }
        if (buf.length < 65_536) buf += d.toString();
        if (buf.includes('Server is ready')) ready();
      });
      c.on('exit', (code) => {
        if (child === c) child = undefined;
        fail(new Error(`nats-server exited ${code}: ${buf}`));
      });
    });
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((done) => c.once('exit', () => done()));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { start, stop: () => halt('SIGTERM'), kill: () => halt('SIGKILL') };
}

export interface TestNatsClusterServer extends TestNatsServer {
  /** The server_name, which JetStream clustering requires to be unique. */
  readonly name: string;
  readonly clusterPort: number;
}

export interface TestNatsCluster {
  readonly servers: readonly TestNatsClusterServer[];
  /** Every server's client URL, for a client that should fail over between them. */
  readonly urls: readonly string[];
  /** Stops every server and removes their stores. */
  dispose(): Promise<void>;
}

/**
 * `size` nats-server processes on loopback forming one JetStream cluster (each with its own name,
 * store, client and route port, routes to the others), so tests can create R3 streams and kill or
 * restart single servers on the same ports and stores. Resolves once every server accepts clients;
 * the JetStream meta leader may still be in election, so callers retry their first JetStream call.
 */
export async function startNatsCluster(size = 3, opts: { readonly logDir?: string } = {}): Promise<TestNatsCluster> {
  const ports = new Set<number>();
  while (ports.size < 2 * size) ports.add(await freePort());
  const [...free] = ports;
  const nodes = Array.from({ length: size }, (_, i) => ({ i, port: free[2 * i]!, clusterPort: free[2 * i + 1]!, storeDir: mkdtempSync(join(tmpdir(), `harrier-nats-c${i}-`)) }));
  const clusterName = `harrier-test-${process.pid}`;
  const servers = nodes.map((n): TestNatsClusterServer => {
    const name = `n${n.i}`;
    const routes = nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.clusterPort}`);
    const proc = serverProcess([
      '-a', '127.0.0.1', '-p', String(n.port), '-n', name, '-js', '-sd', n.storeDir,
      '--cluster', `nats://127.0.0.1:${n.clusterPort}`, '--cluster_name', clusterName, '--routes', routes.join(','),
    ], opts.logDir && join(opts.logDir, `nats-${name}.log`));
    return {
      name,
      url: `nats://127.0.0.1:${n.port}`,
      port: n.port,
      clusterPort: n.clusterPort,
      storeDir: n.storeDir,
      start: proc.start,
      stop: proc.stop,
      kill: proc.kill,
      dispose: async () => {
        await proc.stop();
        rmSync(n.storeDir, { recursive: true, force: true });
      },
    };
  });
  const dispose = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.dispose()));
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (err) {
    await dispose();
    throw err;
  }
  return { servers, urls: servers.map((s) => s.url), dispose };
}
