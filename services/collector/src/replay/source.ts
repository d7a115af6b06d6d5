// The capture-replay source: a .scap file through the scap reader, the state engine and the
// enricher, every event out to the publisher (no rules here; the engine evaluates). With `loop`
// it replays the events again and again (load generation), with `rate` it paces them.

import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { hostPartitionKey } from '@harrier/batch';
import type { EventSource, SourceOutput } from '../source.js';
import { readScapFile, type ScapCapture } from '../scap/reader.js';
import { StateEngine } from '../state/engine.js';
import { Enricher } from './enrich.js';
import { stateFromCapture, toRawEvent } from './capture.js';

export interface CaptureSourceOptions {
  readonly file: string;
  /** Replay the events again when they run out: true for ever, a number for that many passes in all. */
  readonly loop?: boolean | number;
  /** Events per second, at most (0 or undefined: as fast as the publisher takes them). */
  readonly rate?: number;
}

export interface CaptureSourceCounters {
  events: number;
  passes: number;
  unknown: number;
}

/** Events between yields to the event loop, so linger timers and publish acks run. */
const SLICE = 2048;

export class CaptureSource implements EventSource {
  readonly name = 'capture';
  readonly counters: CaptureSourceCounters = { events: 0, passes: 0, unknown: 0 };
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: CaptureSourceOptions) {}

  async start(out: SourceOutput): Promise<void> {
    const cap = await readScapFile(this.opts.file);
    const state = stateFromCapture(cap);
    out.log.info({ file: this.opts.file, eventBlocks: cap.eventBlocks, processes: cap.processes.length }, 'replaying capture');
    this.running = this.run(cap, state, out).then(
      () => out.ended(),
      (err: unknown) => out.ended(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async run(cap: ScapCapture, state: StateEngine, out: SourceOutput): Promise<void> {
    const enricher = new Enricher(state.tables, 'all');
    const hostKey = hostPartitionKey(out.node);
    const passes = this.opts.loop === true ? Infinity : typeof this.opts.loop === 'number' ? Math.max(1, this.opts.loop) : 1;
    const rate = this.opts.rate ?? 0;
    const t0 = performance.now();
    let slice = 0;
    while (this.counters.passes < passes && !this.stopping) {
      for (const e of cap.events) {
        if (this.stopping) return;
        const raw = toRawEvent(e);
        if (!raw) {
          this.counters.unknown++;
          continue;
        }
        const st = state.process(raw);
        const enriched = enricher.enrich(raw, st);
        const c = st.thread?.container;
        this.counters.events++;
        const more = out.push(enriched, c ? c.id : hostKey);
        if (!more) await out.ready();
        if (++slice >= SLICE || rate > 0) {
          slice = 0;
          if (rate > 0) {
            const due = t0 + (this.counters.events / rate) * 1000;
            const wait = due - performance.now();
            if (wait > 1) await sleep(wait);
            else if (this.counters.events % SLICE === 0) await yieldToLoop();
          } else await yieldToLoop();
        }
      }
      this.counters.passes++;
    }
  }
}
