// The collector's eBPF source: live capture (probe + state engine) feeding the publisher, pausing
// the probe's pipe when the publisher is full, and reporting the probe's drops as statistics.

import { existsSync } from 'node:fs';
import type { EventSource, SourceOutput, SourceStatus } from '../source.js';
import { ContainerMetadataCache } from '../containers/cache.js';
import { CriClient } from '../containers/cri.js';
import { DockerEngineClient } from '../containers/docker.js';
import type { ContainerRuntime } from '../containers/runtime.js';
import type { ArgSelection } from '../replay/enrich.js';
import { LiveCapture } from './capture.js';
import { listenerPids, localPort } from './listeners.js';

export interface EbpfSourceOptions {
  /** Event types the loaded rules can match ('all': every one). */
  readonly types: ReadonlySet<string> | 'all';
  readonly args?: ArgSelection;
  readonly probePath?: string | undefined;
  readonly ringBufferMb?: number;
  /** The probe's output queue, MiB (--buffer-mb). */
  readonly bufferMb?: number;
  readonly statsIntervalMs?: number;
  readonly excludePids?: readonly number[];
  /** NATS servers in use: a local one is left out of the capture. */
  readonly natsServers?: readonly string[];
  /** Leave the collector's own process tree out (default true). */
  readonly excludeSelf?: boolean;
  /** Container runtimes to ask for metadata (default: the usual sockets that exist). */
  readonly containerRuntimes?: readonly { readonly kind: 'docker' | 'podman' | 'containerd' | 'cri-o'; readonly socket: string }[] | undefined;
}

/** Where runtimes listen by default; only existing sockets are used. */
export const DEFAULT_RUNTIME_SOCKETS: readonly { kind: 'docker' | 'podman' | 'containerd' | 'cri-o'; socket: string }[] = [
  { kind: 'podman', socket: '/run/podman/podman.sock' },
  { kind: 'docker', socket: '/var/run/docker.sock' },
  { kind: 'containerd', socket: '/run/containerd/containerd.sock' },
  { kind: 'cri-o', socket: '/var/run/crio/crio.sock' },
];

function runtimes(list: EbpfSourceOptions['containerRuntimes']): ContainerRuntime[] {
  const chosen = list ?? DEFAULT_RUNTIME_SOCKETS.filter((r) => existsSync(r.socket));
  return chosen.map((r) =>
    r.kind === 'docker' || r.kind === 'podman' ? new DockerEngineClient({ socketPath: r.socket, kind: r.kind }) : new CriClient({ socketPath: r.socket, kind: r.kind }),
  );
}

export class EbpfSource implements EventSource {
  readonly name = 'ebpf';
  capture: LiveCapture | undefined;
  containers: ContainerMetadataCache | undefined;

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
    const rts = runtimes(this.opts.containerRuntimes);
    const containers = rts.length > 0 ? new ContainerMetadataCache({ runtimes: rts, log, onUpdate: (info) => this.capture?.mergeContainer(info) }) : undefined;
    this.containers = containers;
    if (rts.length === 0) log.warn('no container runtime socket found: container.name and image fields stay empty (set collector.container_runtimes)');
    const lc: LiveCapture = new LiveCapture(
      {
        node: out.node,
        containers,
        types: this.opts.types,
        ...(this.opts.args ? { args: this.opts.args } : {}),
        probe: {
          binary: this.opts.probePath,
          excludePids: exclude,
          ...(this.opts.excludeSelf === false ? { excludeSelf: false } : {}),
          ...(this.opts.ringBufferMb ? { ringBufferMb: this.opts.ringBufferMb } : {}),
          ...(this.opts.bufferMb ? { bufferMb: this.opts.bufferMb } : {}),
          ...(this.opts.statsIntervalMs ? { statsIntervalMs: this.opts.statsIntervalMs } : {}),
        },
      },
      {
        event: (e, key) => {
          if (out.push(e, key)) return true;
          // Full: stop reading the probe until there is room; its pipe, then its kernel rings, fill.
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
    // Zero counts from the start, so the drop metrics exist before the first drop.
    out.drops('ring_buffer', 0);
    out.drops('malformed_frame', 0);
    log.info({ threads: lc.counters.seededThreads, excluded: exclude, runtimes: rts.map((r) => `${r.kind}:${r.endpoint}`) }, 'live capture started');
  }

  /** Not ok while the probe is down (between its exit and its restart, or given up on). */
  status(): SourceStatus {
    const probe = this.capture?.probe;
    if (!probe) return { ok: false, detail: 'the probe has not started', restarts: 0 };
    const restarts = probe.counters.restarts;
    if (probe.live) return { ok: true, restarts };
    return { ok: false, detail: probe.failed ? 'the probe was given up on after repeated exits' : 'the probe exited; probe restarting', restarts };
  }

  /** New rules: trace what they need from now on, without a restart. */
  setTypes(types: ReadonlySet<string> | 'all', args?: ArgSelection): void {
    this.capture?.setTypes(types, args);
  }

  async stop(): Promise<void> {
    await this.capture?.stop();
    this.containers?.close();
  }
}
