// stdout_output: one line per alert on standard output. When the reader of a pipe goes away
// (`harrier ... | head`), the lines after that are counted as not written and reported once,
// rather than the write error ending the process.

import type { LineSink, SinkReport } from '../sink.js';

export class StdoutSink implements LineSink {
  readonly name = 'stdout_output';
  written = 0;
  failed = 0;
  private closedBy: string | undefined;

  constructor(
    private readonly report: SinkReport = () => {},
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closedBy !== undefined) return;
      this.closedBy = err.code ?? err.message;
      this.report(this.name, err.code === 'EPIPE' ? 'standard output was closed by its reader (EPIPE); later alerts are not written to it' : `cannot write to standard output: ${err.message}`);
    });
  }

  write(line: string): void {
    if (this.closedBy !== undefined) {
      this.failed++;
      return;
    }
    this.out.write(line + '\n');
    this.written++;
  }

  async close(): Promise<void> {
    // Standard output is flushed by Node before the process exits.
  }
}
