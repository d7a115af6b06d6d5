// What feeds the collector: a source (live eBPF probe, capture replay, k8s audit webhook, ...)
// produces enriched events with their partition keys; the service owns publishing.

import type { EnrichedEvent } from '@harrier/batch';
import type { Logger } from '@harrier/kit';

/** What a source hands its events to. Build keys with `syscallPartitionKey`/`hostPartitionKey` from @harrier/batch. */
export interface SourceOutput {
  /** The node the collector runs on (for `host:<node>` partition keys). */
  readonly node: string;
  readonly log: Logger;
  /**
   * Hands on one event, with its partition key (container id, `host:<node>`, namespace, `cluster`)
   * and its source (default `syscall`). Returns false when the source should stop reading until
   * `ready()` resolves. The event itself was taken unless the queue was already full, in which
   * case it was dropped and counted (a source that pauses when told never gets there).
   */
  push(e: EnrichedEvent, partitionKey: string, source?: string): boolean;
  /** Resolves when there is room again (at once when there is). */
  ready(): Promise<void>;
  /** Cumulative drop counters of the source's own places (e.g. `ring_buffer`, `pipe`); reported in stats and metrics. */
  drops(place: string, total: number): void;
  /** The source ended by itself: `error` undefined for a normal end (a capture read through), else why it failed. */
  ended(error?: Error): void;
}

/** How a running source is doing, for /healthz and /metrics. */
export interface SourceStatus {
  /** False while the source cannot produce events (e.g. its probe exited and waits for a restart). */
  readonly ok: boolean;
  /** Why not ok, in a few words. */
  readonly detail?: string;
  /** Times the source restarted a part of itself after a failure (e.g. the probe). */
  readonly restarts: number;
}

export interface EventSource {
  /** For logs, /healthz and the stats message (`ebpf`, `capture`, ...). */
  readonly name: string;
  /** Its state now; a source without one is taken as ok while it runs. */
  status?(): SourceStatus;
  /**
   * Starts producing into `out`; resolves once running (a capture source keeps reading in the
   * background). Rejects when it cannot start, which stops the collector.
   */
  start(out: SourceOutput): Promise<void>;
  /** Stops producing; resolves when no more `push` calls will come. */
  stop(): Promise<void>;
}
