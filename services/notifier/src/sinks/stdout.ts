// stdout_output: one line per alert on standard output.

import type { LineSink } from '../sink.js';

export class StdoutSink implements LineSink {
  readonly name = 'stdout_output';
  written = 0;
  readonly failed = 0;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  write(line: string): void {
    this.out.write(line + '\n');
    this.written++;
  }

  async close(): Promise<void> {
    // Standard output is flushed by Node before the process exits.
  }
}
