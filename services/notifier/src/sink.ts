// What every output of alert lines is: a line in (already formatted as text or JSON, without
// its newline), written in order, failures counted and reported rather than thrown, and a close
// that waits until everything accepted has been written.

export interface LineSink {
  /** The configuration key it comes from, e.g. file_output; errors and counters are named by it. */
  readonly name: string;
  /** Queues one alert line. Never throws: a failure is counted and reported through the sink's report. */
  write(line: string): void;
  /** Resolves once every queued line is written (or has failed), then releases files and processes. */
  close(): Promise<void>;
  /** Lines written. */
  readonly written: number;
  /** Lines that could not be written. */
  readonly failed: number;
}

/**
 * How a sink tells about a failure. A failure that repeats (a full disk, a program that keeps
 * failing) is reported the first time and then counted, so a flood of alerts does not become a
 * flood of log lines; the counts are in the sink's `failed`.
 */
export type SinkReport = (sink: string, message: string) => void;

/** Reports each distinct message once. */
export function onceEach(report: SinkReport): SinkReport {
  const seen = new Set<string>();
  return (sink, message) => {
    const key = `${sink}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    report(sink, message);
  };
}
