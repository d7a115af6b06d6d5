// A service starts in named steps; on SIGTERM/SIGINT, or when a step fails, the completed steps'
// teardowns run in reverse order, each bounded by a timeout, and errors are logged, not thrown.

import type { Logger } from './log.js';

export type Teardown = () => Promise<void> | void;

export interface LifecycleOptions {
  readonly log: Logger;
  readonly teardownTimeoutMs?: number;
}

export class Lifecycle {
  private readonly done: { name: string; teardown: Teardown | undefined }[] = [];
  private stopping: Promise<void> | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly opts: LifecycleOptions) {
    this.timeoutMs = opts.teardownTimeoutMs ?? 10_000;
  }

  /** Runs a start step; its returned teardown runs at shutdown. A failing step stops everything started. */
  async step(name: string, start: () => Promise<Teardown | void> | Teardown | void): Promise<void> {
    if (this.stopping) throw new Error(`cannot start '${name}': shutting down`);
    this.opts.log.debug({ step: name }, 'starting');
    try {
      const t = await start();
      this.done.push({ name, teardown: t ?? undefined });
    } catch (err) {
      this.opts.log.error({ step: name, err }, 'start step failed; stopping what was started');
      await this.stop();
      throw err;
    }
  }

  /**
   * Stops once, in reverse order; later calls wait for the same stop. `timeoutMs` bounds each
   * teardown instead of the configured time (when waiting is known to be useless, e.g. the server
   * a part talks to is gone).
   */
  stop(timeoutMs = this.timeoutMs): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of [...this.done].reverse()) {
        if (!s.teardown) continue;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve(s.teardown()),
            new Promise((_, rej) => {
              timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          this.opts.log.debug({ step: s.name }, 'stopped');
        } catch (err) {
          this.opts.log.error({ step: s.name, err }, 'teardown failed');
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.stopping;
  }

  /** Stops on SIGTERM and SIGINT, then calls onStopped (e.g. to exit 0). */
  handleSignals(onStopped: () => void): void {
    const handler = (sig: NodeJS.Signals): void => {
      this.opts.log.info({ signal: sig }, 'stopping');
      void this.stop().then(onStopped);
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }
}
