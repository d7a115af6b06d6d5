// Harrier's alert outputs. So far the ones a single process feeds directly (capture replay,
// `harrier run`): stdout_output, file_output and program_output, configured with Falco's keys,
// and Falco's gRPC outputs service.

import type { HarrierConfig } from '@harrier/kit';
import { onceEach, type LineSink, type SinkReport } from './sink.js';
import { FileSink } from './sinks/file.js';
import { ProgramSink } from './sinks/program.js';
import { StdoutSink } from './sinks/stdout.js';

export { onceEach, type LineSink, type SinkReport } from './sink.js';
export { FileSink, type FileSinkOptions } from './sinks/file.js';
export { ProgramSink, type ProgramSinkOptions } from './sinks/program.js';
export { StdoutSink } from './sinks/stdout.js';
export { FalcoGrpcServer, toResponse, type FalcoAlert, type FalcoGrpcOptions } from './grpc/falco.js';

/** Every alert line to every enabled output, in order. */
export class LocalOutputs {
  constructor(readonly sinks: readonly LineSink[]) {}

  write(line: string): void {
    for (const s of this.sinks) s.write(line);
  }

  /** Waits for every output to finish what it accepted. */
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  /** Lines some output could not write, by output. */
  failures(): { sink: string; failed: number }[] {
    return this.sinks.filter((s) => s.failed > 0).map((s) => ({ sink: s.name, failed: s.failed }));
  }
}

/** The outputs the configuration enables (stdout_output, file_output, program_output). */
export function localOutputs(output: HarrierConfig['output'], report: SinkReport): LocalOutputs {
  const once = onceEach(report);
  const sinks: LineSink[] = [];
  if (output.stdout) sinks.push(new StdoutSink(once));
  if (output.file.enabled) sinks.push(new FileSink({ filename: output.file.filename, keepAlive: output.file.keepAlive }, once));
  if (output.program.enabled) sinks.push(new ProgramSink({ program: output.program.program, keepAlive: output.program.keepAlive }, once));
  return new LocalOutputs(sinks);
}
