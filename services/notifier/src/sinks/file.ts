// file_output: alert lines appended to a file. As Falco does, the file is opened for each alert
// unless keep_alive is set (then it is opened once, at the first alert, and kept open), so a
// file moved away by log rotation is recreated at the next alert.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { LineSink, SinkReport } from '../sink.js';

export interface FileSinkOptions {
  readonly filename: string;
  readonly keepAlive: boolean;
}

export class FileSink implements LineSink {
  readonly name = 'file_output';
  written = 0;
  failed = 0;
  #fd: number | undefined;

  constructor(
    private readonly opts: FileSinkOptions,
    private readonly report: SinkReport,
  ) {}

  write(line: string): void {
    const data = line + '\n';
    try {
      if (this.opts.keepAlive) {
        this.#fd ??= openSync(this.opts.filename, 'a');
        writeSync(this.#fd, data);
      } else {
        const fd = openSync(this.opts.filename, 'a');
        try {
          writeSync(fd, data);
        } finally {
          closeSync(fd);
        }
      }
      this.written++;
    } catch (err) {
      this.failed++;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.report(this.name, `cannot write to ${this.opts.filename}: ${code}; check file_output.filename (its folder must exist and be writable)`);
    }
  }

  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Nothing is buffered in the process: every write went straight to the file.
    }
  }
}
