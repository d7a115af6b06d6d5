// A synthetic, checkable event load for engine tests and benchmarks: containers each open marker
// files in a numbered order, batched per partition as a collector would publish them, with a rule
// that matches a known share of them. Every expected alert and its order are known in advance.

import { BatchBuilder, batchMsgId, partitionOf, syscallPartitionKey, type ContainerInfo, type EnrichedEvent, type ProcessInfo } from '@harrier/batch';

export const MARKER_DIR = '/tmp/harrier-marker';

/** Rules for the load: an open of a marker file whose name ends in `-hit` alerts. */
export const LOAD_RULES = `
- rule: Marker file opened
  desc: an open of a marker file the load generator names as a hit
  condition: evt.type in (open, openat) and fd.name startswith ${MARKER_DIR}/ and fd.name endswith -hit
  output: marker opened (file=%fd.name num=%evt.num container=%container.id proc=%proc.name pid=%proc.pid)
  priority: WARNING
  tags: [harrier_test]
`;

export interface LoadOptions {
  readonly collectorId: string;
  readonly node?: string;
  readonly partitions: number;
  readonly containers: number;
  readonly eventsPerBatch: number;
  /** One in this many events alerts (default 10). */
  readonly hitEvery?: number;
}

export interface LoadBatch {
  readonly subject: string;
  readonly msgId: string;
  readonly partition: number;
  readonly container: string;
  readonly sequence: number;
  readonly bytes: Uint8Array;
  readonly events: number;
  /** evt.num of the events that alert, in order. */
  readonly hits: readonly number[];
}

/** Generates batches round-robin over the containers; evt.num grows per container. */
export class LoadGenerator {
  private readonly builder: BatchBuilder;
  private readonly procs: ProcessInfo[];
  private readonly nums: number[];
  private seq = 0;
  private turn = 0;
  private readonly node: string;
  readonly hitEvery: number;

  constructor(private readonly opts: LoadOptions) {
    this.node = opts.node ?? 'load-node';
    this.hitEvery = opts.hitEvery ?? 10;
    this.builder = new BatchBuilder({ collectorId: opts.collectorId, node: this.node, source: 'syscall' });
    const root = { uid: 0, name: 'root', homedir: '/root', shell: '/bin/sh' };
    this.procs = Array.from({ length: opts.containers }, (_, i) => {
      const id = (i.toString(16).padStart(4, '0') + 'c0ffee').repeat(6).slice(0, 64);
      const container: ContainerInfo = { id: id.slice(0, 12), name: `load-${i}`, type: 'podman', image: 'localhost/load:1', imageRepository: 'localhost/load', imageTag: '1' };
      return { pid: 1000 + i, tid: 1000 + i, ppid: 1, name: 'loader', exepath: '/usr/bin/loader', args: ['--worker', String(i)], user: root, container };
    });
    this.nums = this.procs.map(() => 0);
  }

  partitionOf(containerIndex: number): number {
    return partitionOf(syscallPartitionKey({ process: this.procs[containerIndex]! }, this.node), this.opts.partitions);
  }

  /** The next batch: all its events from one container (one partition), as the collector batches. */
  next(): LoadBatch {
    const ci = this.turn++ % this.procs.length;
    const proc = this.procs[ci]!;
    const hits: number[] = [];
    for (let i = 0; i < this.opts.eventsPerBatch; i++) {
      const num = ++this.nums[ci]!;
      const hit = num % this.hitEvery === 0;
      if (hit) hits.push(num);
      const name = `${MARKER_DIR}/${proc.container!.id}/${num}${hit ? '-hit' : ''}`;
      const e: EnrichedEvent = {
        num,
        ts: 1_700_000_000_000_000_000n + BigInt(num) * 1000n,
        tid: proc.tid,
        cpu: 0,
        type: 'openat',
        enter: false,
        res: 3,
        process: proc,
        fd: { num: 3, type: 'file', typechar: 'f', name, directory: `${MARKER_DIR}/${proc.container!.id}`, filename: name.slice(name.lastIndexOf('/') + 1) },
        open: { read: true, write: false, exec: false, create: false },
        args: [{ name: 'fd', text: '3' }, { name: 'name', text: name }, { name: 'flags', text: '1', resolved: 'O_RDONLY' }],
      };
      this.builder.add(e);
    }
    const sequence = ++this.seq;
    const partition = this.partitionOf(ci);
    return {
      subject: `harrier.events.${partition}.syscall`,
      msgId: batchMsgId(this.opts.collectorId, sequence),
      partition,
      container: proc.container!.id,
      sequence,
      bytes: this.builder.finishEncoded(sequence),
      events: this.opts.eventsPerBatch,
      hits,
    };
  }
}
