// The private nats-server `harrier run` starts when no NATS URL is configured: a child process
// with JetStream, listening on loopback only, its store in a state directory that one run owns
// at a time (a lock file names the owner and its server, so a crashed run's server is found).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';

export interface EmbeddedNatsOptions {
  /** JetStream data goes to `<stateDir>/jetstream`; the lock file is `<stateDir>/harrier.lock`. */
  readonly stateDir: string;
  /** Client port on 127.0.0.1; 0 lets the server pick a free one. */
  readonly port?: number;
  /** The nats-server executable (a path, or a name looked up in PATH). */
  readonly binary?: string;
  readonly log: Logger;
  /** How long to wait for "Server is ready" (default 10 s). */
  readonly readyTimeoutMs?: number;
  /** How long SIGTERM gets before SIGKILL (default 5 s). */
  readonly stopTimeoutMs?: number;
}

export interface EmbeddedNats {
  readonly url: string;
  readonly port: number;
  /** The nats-server process id (benchmarks add its memory to Harrier's). */
  readonly pid: number;
  readonly stateDir: string;
  /** Resolves when the server exits, whether stopped or not. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, SIGKILL after the timeout; then releases the state directory. Idempotent. */
  stop(): Promise<void>;
}

export class EmbeddedNatsError extends Error {
  override readonly name = 'EmbeddedNatsError';
  constructor(
    message: string,
    readonly stateDir: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface LockContent {
  /** The process that owns the state directory, and its start time (so a reused pid is not mistaken for it). */
  readonly pid: number;
  readonly start?: string | undefined;
  /** Its nats-server, once started. */
  readonly server?: number | undefined;
}

const STDERR_TAIL = 4096;

export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const stateDir = resolve(opts.stateDir);
  const binary = opts.binary ?? 'nats-server';
  const log = opts.log;
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (err) {
    throw new EmbeddedNatsError(`cannot create the embedded NATS state directory ${stateDir}: ${(err as Error).message}; set nats.embedded.state_dir to a writable directory`, stateDir, { cause: err });
  }
  const lockPath = join(stateDir, 'harrier.lock');
  await acquireLock(lockPath, stateDir, binary, log);

  // Port -1 lets nats-server choose, and it prints the port it took: no race with another process.
  const args = ['-a', '127.0.0.1', '-p', String(opts.port && opts.port > 0 ? opts.port : -1), '-js', '-sd', stateDir];
  // Its own process group: a Ctrl-C at the terminal must not stop the server before Harrier has
  // drained its connections; Harrier stops it last.
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  } catch (err) {
    releaseLock(lockPath);
    throw new EmbeddedNatsError(`cannot start ${binary}: ${(err as Error).message}`, stateDir, { cause: err });
  }
  let tail = '';
  let partial = '';
  let port: number | undefined;
  let ready = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const started = new Promise<void>((ok, fail) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'ENOENT'
          ? new EmbeddedNatsError(`cannot start the embedded NATS server: '${binary}' was not found; install nats-server (apt-get install nats-server) or set nats.url to a running server`, stateDir, { cause: err })
          : new EmbeddedNatsError(`cannot start the embedded NATS server '${binary}': ${err.message}`, stateDir, { cause: err }),
      );
    });
    child.stderr!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail = (tail + line + '\n').slice(-STDERR_TAIL);
        if (/\[(ERR|FTL|WRN)\]/.test(line)) log.warn({ server: line }, 'nats-server');
        else log.debug({ server: line }, 'nats-server');
        const m = /Listening for client connections on [^\s]*:(\d+)/.exec(line);
        if (m) port = Number(m[1]);
        if (line.includes('Server is ready')) {
          ready = true;
          ok();
        }
      }
    });
    void exited.then(({ code, signal }) => {
      if (!ready) fail(new EmbeddedNatsError(`the embedded NATS server exited before it was ready (${signal ?? `code ${code}`}); its last output:\n${(tail + partial).trimEnd()}`, stateDir));
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  try {
    await Promise.race([
      started,
      new Promise<never>((_, fail) => {
        timer = setTimeout(
          () => fail(new EmbeddedNatsError(`the embedded NATS server was not ready after ${timeoutMs} ms; its last output:\n${(tail + partial).trimEnd() || '(nothing)'}`, stateDir)),
          timeoutMs,
        );
      }),
    ]);
    if (port === undefined) throw new EmbeddedNatsError(`the embedded NATS server is ready but did not say which port it listens on; its output:\n${tail.trimEnd()}`, stateDir);
  } catch (err) {
    clearTimeout(timer);
    await terminate(child, exited, opts.stopTimeoutMs ?? 5000);
    releaseLock(lockPath);
    throw err;
  }
  clearTimeout(timer);
  const pid = child.pid!;
  writeLock(lockPath, { ...self(), server: pid });
  log.info({ pid, port, stateDir }, 'embedded NATS server started');
  let stopping: Promise<void> | undefined;
  void exited.then(({ code, signal }) => {
    if (!stopping) log.error({ pid, code, signal, output: tail.trimEnd() }, 'the embedded NATS server exited unexpectedly');
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid,
    stateDir,
    exited,
    stop() {
      stopping ??= (async () => {
        await terminate(child, exited, opts.stopTimeoutMs ?? 5000);
        releaseLock(lockPath);
        log.info({ pid }, 'embedded NATS server stopped');
      })();
      return stopping;
    },
  };
}

async function terminate(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** This process as a lock owner. */
function self(): LockContent {
  return { pid: process.pid, start: startTime(process.pid) };
}

/** The process's start time in clock ticks (/proc/PID/stat field 22), or undefined without /proc. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeLock(path: string, content: LockContent, exclusive = false): void {
  writeFileSync(path, JSON.stringify(content) + '\n', exclusive ? { flag: 'wx' } : {});
}

function releaseLock(path: string): void {
  try {
    const held = JSON.parse(readFileSync(path, 'utf8')) as LockContent;
    if (held.pid === process.pid) unlinkSync(path);
  } catch {
    // Already gone, or not ours: nothing to release.
  }
}

/**
 * Takes the state directory. A live owner (another run) is refused; a dead owner's lock is taken
 * over, after stopping the nats-server it left behind (identified by its command line naming this
 * state directory, so an unrelated process that reused the pid is never touched).
 */
async function acquireLock(path: string, stateDir: string, binary: string, log: Logger): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeLock(path, self(), true);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EmbeddedNatsError(`cannot write the lock file ${path}: ${(err as Error).message}; set nats.embedded.state_dir to a writable directory`, stateDir, { cause: err });
      }
    }
    let held: LockContent | undefined;
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as LockContent;
    } catch {
      held = undefined; // unreadable or half-written: treat as stale
    }
    // The same pid with another start time is a previous process that had this pid (a restarted container's pid 1).
    if (held && alive(held.pid) && (held.start === undefined || startTime(held.pid) === held.start)) {
      throw new EmbeddedNatsError(
        `the embedded NATS state directory ${stateDir} is in use by ${held.pid === process.pid ? 'this process already' : `another Harrier process (pid ${held.pid})`}; stop it, or give this run its own directory: -o nats.embedded.state_dir=DIR`,
        stateDir,
      );
    }
    if (held?.server !== undefined && alive(held.server) && serverUses(held.server, binary, stateDir)) {
      log.warn({ pid: held.server, stateDir }, 'stopping the embedded NATS server a previous run left behind');
      await killOrphan(held.server);
    }
    try {
      unlinkSync(path);
    } catch {
      // Another starter removed it first; the next attempt decides.
    }
  }
  throw new EmbeddedNatsError(`cannot take the lock file ${path}: another process keeps creating it; stop other Harrier runs using ${stateDir}`, stateDir);
}

function serverUses(pid: number, binary: string, stateDir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return basename(argv[0] ?? '') === basename(binary) && argv.includes(stateDir);
  } catch {
    return false;
  }
}

async function killOrphan(pid: number): Promise<void> {
  const kill = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already.
    }
  };
  kill('SIGTERM');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  if (alive(pid)) kill('SIGKILL');
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
}
