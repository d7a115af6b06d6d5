// program_output: alert lines piped to a program's standard input, the program run by /bin/sh -c.
// As in Falco, the program is started for each alert (one line on its input, then end of input)
// unless keep_alive is set, when one program reads every alert and is started again if it exits.
// Alert text only ever travels through the pipe, never through the command line. The program's own
// output goes to Harrier's standard error, so that standard output carries alerts only.

import { spawn, type ChildProcess } from 'node:child_process';
import type { LineSink, SinkReport } from '../sink.js';

export interface ProgramSinkOptions {
  readonly program: string;
  readonly keepAlive: boolean;
  /**
   * Alerts waiting, beyond which new ones are dropped and counted: for a program run (keep_alive
   * off), or to be read by the kept-alive program (one that stops reading would otherwise hold
   * every later alert in memory).
   */
  readonly maxQueued?: number;
}

export class ProgramSink implements LineSink {
  readonly name = 'program_output';
  written = 0;
  failed = 0;
  #queued = 0;
  /** Lines handed to the kept-alive program's input and not yet taken by its pipe. */
  #unread = 0;
  #queue: Promise<void> = Promise.resolve();
  #child: { proc: ChildProcess; exited: Promise<void> } | undefined;
  readonly #maxQueued: number;

  constructor(
    private readonly opts: ProgramSinkOptions,
    private readonly report: SinkReport,
  ) {
    this.#maxQueued = opts.maxQueued ?? 100_000;
  }

  write(line: string): void {
    if (this.opts.keepAlive) return this.#writeToKept(line);
    if (this.#queued >= this.#maxQueued) {
      this.failed++;
      this.report(this.name, `more than ${this.#maxQueued} alerts wait for '${this.opts.program}' to run; alerts are dropped until it catches up (set program_output.keep_alive: true to run it once for all alerts)`);
      return;
    }
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      const problem = await this.#runOnce(line);
      this.#queued--;
      if (problem === undefined) this.written++;
      else {
        this.failed++;
        this.report(this.name, problem);
      }
    });
  }

  async close(): Promise<void> {
    await this.#queue;
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.proc.stdin?.end();
    await child.exited;
  }

  #spawn(): ChildProcess {
    return spawn('/bin/sh', ['-c', this.opts.program], { stdio: ['pipe', 2, 2] });
  }

  /** One run for one alert: resolves with what went wrong, or undefined. */
  #runOnce(line: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const proc = this.#spawn();
      let problem: string | undefined;
      proc.on('error', (err) => (problem ??= `cannot start '${this.opts.program}': ${err.message}`));
      // A program that exits without reading its input is reported by its exit status.
      proc.stdin?.on('error', () => undefined);
      proc.on('close', (code, signal) => {
        if (problem === undefined && code !== 0) problem = `'${this.opts.program}' ${signal ? `was killed by ${signal}` : `exited with status ${code}`}; check program_output.program`;
        resolve(problem);
      });
      proc.stdin?.end(line + '\n');
    });
  }

  #writeToKept(line: string): void {
    const child = (this.#child ??= this.#startKept());
    const stdin = child.proc.stdin;
    if (!stdin || stdin.destroyed) {
      this.failed++;
      return;
    }
    if (this.#unread >= this.#maxQueued) {
      this.failed++;
      this.report(this.name, `more than ${this.#maxQueued} alerts wait for '${this.opts.program}' to read its input; alerts are dropped until it reads again`);
      return;
    }
    this.#unread++;
    stdin.write(line + '\n', (err) => {
      this.#unread--;
      if (err) this.failed++;
      else this.written++;
    });
  }

  #startKept(): { proc: ChildProcess; exited: Promise<void> } {
    const proc = this.#spawn();
    proc.stdin?.on('error', () => undefined);
    const entry = {
      proc,
      exited: new Promise<void>((resolve) => {
        proc.on('error', (err) => {
          this.report(this.name, `cannot start '${this.opts.program}': ${err.message}`);
          resolve();
        });
        proc.on('close', (code, signal) => {
          if (this.#child === entry) {
            // Exited while alerts may still come: the next alert starts it again.
            this.#child = undefined;
            this.report(this.name, `'${this.opts.program}' ${signal ? `was killed by ${signal}` : `exited with status ${code}`} while kept alive; it is started again at the next alert`);
          }
          resolve();
        });
      }),
    };
    return entry;
  }
}
