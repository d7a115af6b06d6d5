// Replay throughput (issue: capture replay): events per second through the .scap reader, the state
// engine, enrichment, batches and the upstream stable + incubating + sandbox rules, on one core,
// replaying the corpus capture with the most events in a loop to at least 1,000,000 events.

import { readFileSync } from 'node:fs';
import type { LoadResult } from '@harrier/rules';
import { readScap, ReplayPipeline, seedFromCapture, toRawEvent } from '@harrier/collector';
import { corpusPath } from '../packages/rules/src/testing/corpus.js';

export interface ReplayBench {
  readonly capture: string;
  readonly events: number;
  readonly seconds: number;
  readonly rate: number;
  readonly alerts: number;
  readonly evaluated: number;
}

export function benchReplay(loaded: LoadResult, target = 1_000_000): ReplayBench {
  const capture = 'scap/falco/psp__run_as_user_0_container.scap';
  const bytes = readFileSync(corpusPath(capture));
  let alerts = 0;
  const run = (limit: number): { events: number; seconds: number; evaluated: number } => {
    const pipeline = new ReplayPipeline(loaded, () => alerts++, {});
    const t0 = performance.now();
    // The tables are read once, as in one long capture; each pass decodes the events again
    // (block walk, headers, parameter views) and feeds the same state engine.
    let events = 0;
    const cap = readScap(bytes);
    seedFromCapture(pipeline, cap);
    while (events < limit) {
      for (const e of cap.events) {
        const raw = toRawEvent(e);
        if (!raw) continue;
        pipeline.push(raw);
        events++;
      }
    }
    pipeline.flush();
    return { events, seconds: (performance.now() - t0) / 1000, evaluated: pipeline.counts.evaluated };
  };
  run(100_000); // warm-up (JIT)
  alerts = 0;
  const r = run(target);
  return { capture, events: r.events, seconds: r.seconds, rate: r.events / r.seconds, alerts, evaluated: r.evaluated };
}
