// Runs the probe (probe/build/harrier-probe) as a child process and turns its output into RawEvents.
// A probe that dies or corrupts its stream is restarted with backoff; one that keeps failing is
// given up on (reported, never a crash loop). Reading pauses when the consumer asks, so a slow
// pipeline fills the pipe, then the probe's per-CPU kernel rings, whose drops the probe counts.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawEvent } from '../state/params.js';
import { DecodeError, FrameDecoder, PROBE_SYSCALLS, type ClosedFd, type ProbeStats } from './decode.js';
import { FRAME_PROCEXIT, FRAME_STATS, FRAME_SYSCALL, FrameError, FrameReader, type Frame } from './frames.js';

export interface ProbeOptions {
  /** Path of harrier-probe (default: the repository's probe/build/harrier-probe, or HARRIER_PROBE). */
  readonly binary?: string | undefined;
  /** Syscall names to trace. */
  readonly syscalls: readonly string[];
  /** Processes (and their children) never to watch, besides the collector itself. */
  readonly excludePids?: readonly number[];
  /** Leave the collector's own process tree out (default true; tests that watch their own children turn it off). */
  readonly excludeSelf?: boolean;
  readonly ringBufferMb?: number;
  /** MiB of frames the probe holds while the collector reads slowly (--buffer-mb; default 32). */
  readonly bufferMb?: number;
  readonly statsIntervalMs?: number;
  /** Restarts allowed within `restartWindowMs` before giving up (default 5 in 60 s). */
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
}

export interface ProbeCounters {
  starts: number;
  restarts: number;
  /** Corrupt streams (impossible frame lengths): each reported, the probe restarted. */
  corruptStreams: number;
  /**
   * Frames skipped, each lost alone: malformed ones (DecodeError), and any other error while
   * decoding or handing on one frame. Reported at a limited rate (REPORTS_PER_WINDOW).
   */
  malformedFrames: number;
  /** Bytes of a frame cut off when the probe exited. */
  truncatedBytes: number;
  pauses: number;
}

export interface ProbeEvents {
  /**
   * One event. It is reused for the next (FrameDecoderOptions.reuse): the event, its params and
   * their bytes hold until this call returns; copy whatever must outlive it.
   */
  event(e: RawEvent): void;
  /**
   * Close exits, as numbers in place of events (FrameDecoder.readClose), while `closeAsNumbers`
   * is on: the cheaper path for a consumer that only keeps state with them.
   */
  closed?(c: ClosedFd): void;
  /** The probe's own counters, on every stats frame. */
  stats?(s: ProbeStats): void;
  /** Something went wrong; `fatal` when the probe was given up on. */
  problem?(message: string, fatal: boolean): void;
  info?(message: string): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const EMPTY = new Uint8Array(0);

/** Skipped-frame reports per window; the rest are counted and summed up once the window ends. */
const REPORTS_PER_WINDOW = 10;
const REPORT_WINDOW_MS = 60_000;

/** Where the probe binary is when none is configured. */
export function defaultProbeBinary(): string {
  if (process.env['HARRIER_PROBE']) return process.env['HARRIER_PROBE'];
  return resolve(here, '../../../../probe/build/harrier-probe');
}

export class ProbeProcess {
  readonly decoder = new FrameDecoder({ reuse: true });
  readonly counters: ProbeCounters = { starts: 0, restarts: 0, corruptStreams: 0, malformedFrames: 0, truncatedBytes: 0, pauses: 0 };
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly reader = new FrameReader();
  private stopping = false;
  private paused = false;
  private recentStarts: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private syscalls: readonly string[];
  private exited: Promise<void> = Promise.resolve();
  private stderrTail: string[] = [];
  /** Bytes of this probe's stream before the frame being handled (for the reports' positions). */
  private streamPos = 0;
  private reportWindowStart = -Infinity;
  private reportsInWindow = 0;
  private reportsHeld = 0;
  /** True once the probe has been given up on. */
  failed = false;
  /** The current run has written its first frame. */
  private attached = false;
  /** Close exits go to `closed` as numbers rather than to `event` (needs `closed`). */
  closeAsNumbers = false;

  constructor(
    private readonly opts: ProbeOptions,
    private readonly on: ProbeEvents,
  ) {
    this.syscalls = opts.syscalls;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** Running and attached: it has written its first frame and not exited since. */
  get live(): boolean {
    return this.running && this.attached;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the probe; resolves once it has written its first frame, rejects if it cannot start. */
  start(): Promise<void> {
    const binary = this.opts.binary ?? defaultProbeBinary();
    if (!existsSync(binary)) {
      return Promise.reject(new Error(`the probe binary ${binary} does not exist: build it with \`make -C probe\` (needs clang, libbpf-dev, bpftool), or set collector.probe.path`));
    }
    return this.spawn(binary);
  }

  private spawn(binary: string): Promise<void> {
    this.counters.starts++;
    this.recentStarts.push(Date.now());
    // The reader keeps whole frames of the last run that a pause held back (endOfStream at its exit).
    this.streamPos = 0;
    // An exit is reported with this run's last lines, never an earlier run's.
    this.stderrTail = [];
    this.attached = false;
    const args = ['--syscalls', this.syscalls.join(',') || 'close'];
    if (this.opts.excludeSelf !== false) args.push('--exclude-pid', String(process.pid));
    for (const p of this.opts.excludePids ?? []) if (p > 1) args.push('--exclude-pid', String(p));
    if (this.opts.ringBufferMb) args.push('--ringbuf-mb', String(this.opts.ringBufferMb));
    if (this.opts.bufferMb) args.push('--buffer-mb', String(this.opts.bufferMb));
    if (this.opts.statsIntervalMs) args.push('--stats-ms', String(this.opts.statsIntervalMs));
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let started = false;
    let resolveStart!: () => void;
    let rejectStart!: (e: Error) => void;
    const startP = new Promise<void>((res, rej) => {
      resolveStart = res;
      rejectStart = rej;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      for (const line of s.split('\n')) {
        if (!line) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
        this.on.info?.(line);
      }
    });
    child.stdin.on('error', () => {
      /* the probe exited; its exit is handled below */
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!started) {
        started = true;
        if (this.child === child) this.attached = true;
        resolveStart();
      }
      this.onChunk(chunk);
    });
    this.exited = new Promise<void>((res) => {
      child.on('exit', (code, signal) => {
        this.counters.truncatedBytes += this.reader.endOfStream();
        if (this.child === child) this.child = undefined;
        res();
        const why = `the probe exited (${signal ?? `code ${code}`})${this.stderrTail.length ? `: ${this.stderrTail.slice(-3).join(' | ')}` : ''}`;
        if (!started) {
          started = true;
          rejectStart(new Error(why));
          return;
        }
        if (!this.stopping) this.scheduleRestart(why);
      });
    });
    child.on('error', (err) => {
      if (!started) {
        started = true;
        rejectStart(new Error(`cannot run the probe ${binary}: ${err.message}`));
      }
    });
    if (this.paused) child.stdout.pause();
    return startP;
  }

  /** The stdout 'data' handler: never throws, whatever the bytes (an exception here ends the process). */
  private onChunk(chunk: Uint8Array): void {
    try {
      // A pause stops at the frame that asked for it: the rest of the chunk waits for resume().
      this.reader.push(chunk, this.onFrame, this.pausedNow);
    } catch (err) {
      // The stream lost its framing (or the reader failed): nothing after this point can be
      // trusted. Start over.
      this.counters.corruptStreams++;
      const what = err instanceof FrameError ? `probe output is corrupt (${err.message})` : `reading the probe's output failed (${describe(err)}; a collector bug)`;
      this.on.problem?.(`${what}; restarting the probe`, false);
      this.child?.kill('SIGTERM');
    }
  }

  /**
   * One frame, decoded and handed on. Any error is this frame's alone: it is counted, reported
   * and skipped, and the stream goes on with the next frame.
   */
  private readonly onFrame = (f: Frame): void => {
    const pos = this.streamPos;
    this.streamPos = pos + f.len;
    try {
      if (this.closeAsNumbers && this.on.closed && this.decoder.readClose(f)) {
        this.on.closed(this.decoder.closed);
        return;
      }
      const e = this.decoder.decode(f);
      if (e) this.on.event(e);
      else if (f.kind === FRAME_STATS) {
        if (this.reportsHeld > 0) this.endReportWindow(Date.now());
        if (this.decoder.probe) this.on.stats?.(this.decoder.probe);
      }
    } catch (err) {
      const where = frameWhere(f, pos);
      this.frameSkipped(
        err instanceof DecodeError
          ? `malformed probe frame skipped (${where}): ${err.message}. Its event is lost, the stream goes on; a probe of another version than this collector (rebuild it from this checkout: make -C probe), or a probe bug, writes such frames`
          : `probe frame skipped after an error (${where}): ${describe(err)}. Its event is lost, the stream goes on; this is a collector bug, please report it with this message`,
      );
    }
  };

  /**
   * Counts and reports a skipped frame, at most REPORTS_PER_WINDOW reports per REPORT_WINDOW_MS;
   * later ones are held back and summed up in one report when the window ends (at the next
   * skipped frame or stats frame).
   */
  private frameSkipped(message: string): void {
    const now = Date.now();
    this.endReportWindow(now);
    this.counters.malformedFrames++;
    if (this.reportsInWindow >= REPORTS_PER_WINDOW) {
      this.reportsHeld++;
      return;
    }
    this.reportsInWindow++;
    const left = Math.round((REPORT_WINDOW_MS - (now - this.reportWindowStart)) / 1000);
    this.on.problem?.(this.reportsInWindow === REPORTS_PER_WINDOW ? `${message} (further skipped frames in the next ${left} s are only counted, then summed up)` : message, false);
  }

  /** Starts a new report window once the current one is over, summing up the reports it held back. */
  private endReportWindow(now: number): void {
    if (now - this.reportWindowStart < REPORT_WINDOW_MS) return;
    if (this.reportsHeld > 0) {
      this.on.problem?.(`${this.reportsHeld} more probe frames were skipped in the last ${Math.round((now - this.reportWindowStart) / 1000)} s without a report of their own (${this.counters.malformedFrames} in all)`, false);
    }
    this.reportWindowStart = now;
    this.reportsInWindow = 0;
    this.reportsHeld = 0;
  }

  private scheduleRestart(why: string): void {
    const window = this.opts.restartWindowMs ?? 60_000;
    const max = this.opts.maxRestarts ?? 5;
    const now = Date.now();
    this.recentStarts = this.recentStarts.filter((t) => now - t < window);
    if (this.recentStarts.length > max) {
      this.failed = true;
      this.on.problem?.(`${why}; it failed ${this.recentStarts.length} times within ${window / 1000} s, giving up (check the log above, then restart the collector)`, true);
      return;
    }
    const delay = Math.min(30_000, 250 * 2 ** (this.recentStarts.length - 1));
    this.on.problem?.(`${why}; restarting in ${delay} ms`, false);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.counters.restarts++;
      this.spawn(this.opts.binary ?? defaultProbeBinary()).catch((err: Error) => this.scheduleRestart(err.message));
    }, delay);
  }

  /** Stops reading (back-pressure); the probe blocks once the pipe is full. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.counters.pauses++;
    this.child?.stdout.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Frames held back at the pause first; they may pause reading again.
    this.onChunk(EMPTY);
    if (!this.paused) this.child?.stdout.resume();
  }

  private readonly pausedNow = (): boolean => this.paused;

  get isPaused(): boolean {
    return this.paused;
  }

  /** Changes the traced syscalls without restarting. */
  setSyscalls(names: readonly string[]): void {
    this.syscalls = names;
    this.command(`syscalls ${names.join(',') || 'close'}`);
  }

  /** Excludes a process (a sink program, a server) and its children from now on. */
  exclude(pid: number): void {
    if (pid > 1) this.command(`exclude ${pid}`);
  }

  requestStats(): void {
    this.command('stats');
  }

  private command(line: string): void {
    const c = this.child;
    if (c && c.exitCode === null && c.stdin.writable) c.stdin.write(`${line}\n`);
  }

  /** Stops the probe (SIGTERM: it detaches and writes its last stats). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const c = this.child;
    if (!c) return;
    this.resume();
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Where a frame is, for a report: its kind, syscall and thread, and its place in the stream. */
function frameWhere(f: Frame, pos: number): string {
  const v = f.view;
  const o = f.off;
  const kind = f.kind === FRAME_SYSCALL ? 'syscall' : f.kind === FRAME_PROCEXIT ? 'process exit' : `kind ${f.kind}`;
  const nr = v.getUint16(o + 6, true);
  const sys = f.kind === FRAME_SYSCALL ? ` ${PROBE_SYSCALLS[nr] ?? `#${nr}`}` : '';
  const tid = (f.kind === FRAME_SYSCALL || f.kind === FRAME_PROCEXIT) && f.len >= 20 ? `, tid ${v.getUint32(o + 16, true)}` : '';
  return `${kind}${sys} frame of ${f.len} bytes at byte ${pos} of the probe's output${tid}`;
}

/** An unexpected error in one line, with where it was thrown. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const at = err.stack?.split('\n').find((l) => l.trimStart().startsWith('at '))?.trim();
  return `${err.name}: ${err.message}${at ? ` (${at})` : ''}`;
}
