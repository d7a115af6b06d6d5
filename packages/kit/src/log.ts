// The pino root logger: JSON to stdout, secrets redacted, one child per component. Strings that
// come from events (attacker-controlled) go only under the `event` key, never into bindings.

import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
  /** Where to write; stdout by default. Tests pass a stream to read the lines back. */
  readonly destination?: NodeJS.WritableStream;
}

const REDACT = ['*.password', '*.token', '*.seed', '*.creds', 'password', 'token', 'nats.password', 'nats.token', 'config.nats.password', 'config.nats.token'];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = { level: opts.level ?? 'info', name: opts.name ?? 'harrier', redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A child logger for one component (`collector`, `engine.lease`, ...). */
export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}

/** Log fields for event-derived text: always nested under `event`, so it never poses as a log field. */
export function eventFields(values: Record<string, unknown>): { event: Record<string, unknown> } {
  return { event: values };
}
