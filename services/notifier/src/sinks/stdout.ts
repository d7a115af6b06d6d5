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
      // Other write errors are the stream owner's to report (the CLI does, once); the lines lost
      // are counted here either way.
      if (err.code === 'EPIPE') this.report(this.name, 'standard output was closed by its reader (EPIPE); later alerts are not written to it');
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
