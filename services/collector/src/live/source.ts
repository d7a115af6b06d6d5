// The collector's eBPF source: live capture (probe + state engine) feeding the publisher, pausing
// the probe's pipe when the publisher is full, and reporting the probe's drops as statistics.

import type { EventSource, SourceOutput } from '../source.js';
import type { ArgSelection } from '../replay/enrich.js';
import { LiveCapture } from './capture.js';
import { listenerPids, localPort } from './listeners.js';

export interface EbpfSourceOptions {
  /** Event types the loaded rules can match ('all': every one). */
  readonly types: ReadonlySet<string> | 'all';
  readonly args?: ArgSelection;
  readonly probePath?: string | undefined;
  readonly ringBufferMb?: number;
  readonly statsIntervalMs?: number;
  readonly excludePids?: readonly number[];
  /** NATS servers in use: a local one is left out of the capture. */
  readonly natsServers?: readonly string[];
  /** Leave the collector's own process tree out (default true). */
  readonly excludeSelf?: boolean;
}

export class EbpfSource implements EventSource {
  readonly name = 'ebpf';
  capture: LiveCapture | undefined;

  constructor(private readonly opts: EbpfSourceOptions) {}

  async start(out: SourceOutput): Promise<void> {
    const log = out.log;
    const exclude = [...(this.opts.excludePids ?? [])];
    for (const url of this.opts.natsServers ?? []) {
      const port = localPort(url);
      if (port === undefined) continue;
      for (const pid of listenerPids(port)) if (pid !== process.pid) exclude.push(pid);
    }
    let waiting = false;
    const lc = new LiveCapture(
      {
        node: out.node,
        types: this.opts.types,
        ...(this.opts.args ? { args: this.opts.args } : {}),
        probe: {
          binary: this.opts.probePath,
          excludePids: exclude,
          ...(this.opts.excludeSelf === false ? { excludeSelf: false } : {}),
          ...(this.opts.ringBufferMb ? { ringBufferMb: this.opts.ringBufferMb } : {}),
          ...(this.opts.statsIntervalMs ? { statsIntervalMs: this.opts.statsIntervalMs } : {}),
        },
      },
      {
        event: (e, key) => {
          if (out.push(e, key)) return true;
          // Full: stop reading the probe until there is room; its pipe, then its ring buffer, fill.
          if (!waiting) {
            waiting = true;
            void out.ready().then(() => {
              waiting = false;
              lc.resume();
            });
          }
          return false;
        },
        stats: (s) => {
          out.drops('ring_buffer', s.dropped);
          out.drops('malformed_frame', lc.probe.counters.malformedFrames);
        },
        problem: (message, fatal) => {
          if (fatal) {
            log.error({ problem: message }, 'the eBPF source stopped');
            out.ended(new Error(message));
          } else log.warn({ problem: message }, 'eBPF source problem');
        },
        info: (message) => log.info({ probe: message }, 'probe'),
      },
    );
    this.capture = lc;
    await lc.start();
    log.info({ threads: lc.counters.seededThreads, excluded: exclude, syscalls: lc.probe.decoder.syscalls().length }, 'live capture started');
  }

  /** New rules: trace what they need from now on, without a restart. */
  setTypes(types: ReadonlySet<string> | 'all'): void {
    this.capture?.setTypes(types);
  }

  async stop(): Promise<void> {
    await this.capture?.stop();
  }
}
