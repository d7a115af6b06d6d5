// Publisher throughput: enriched events/s through EventPublisher (batches of 1024, protobuf,
// pipelined JetStream publishes with Nats-Msg-Id) to a real nats-server with a file-backed
// EVENTS stream, started here. Events are a corpus capture's, enriched once beforehand, so the
// number is the publishing half only (no reader, no state engine).

import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { hostPartitionKey, type EnrichedEvent } from '@harrier/batch';
import { EventPublisher, ensureEventsStream, readScap, stateFromCapture, toRawEvent } from '@harrier/collector';
import { startNatsServer } from '@harrier/kit/testing';
import { Enricher } from '../services/collector/src/replay/enrich.js';
import { corpusPath } from '../packages/rules/src/testing/corpus.js';

export interface PublishBench {
  readonly capture: string;
  readonly events: number;
  readonly seconds: number;
  readonly rate: number;
  readonly batches: number;
  readonly bytesPerEvent: number;
  readonly partitions: number;
}

export async function benchPublish(target = 2_000_000, maxSeconds = 10): Promise<PublishBench> {
  const capture = 'scap/falco/psp__run_as_user_0_container.scap';
  const cap = readScap(readFileSync(corpusPath(capture)));
  const state = stateFromCapture(cap);
  const enricher = new Enricher(state.tables, 'all');
  const events: { e: EnrichedEvent; key: string }[] = [];
  for (const se of cap.events) {
    const raw = toRawEvent(se);
    if (!raw) continue;
    const st = state.process(raw);
    events.push({ e: enricher.enrich(raw, st), key: st.thread?.container?.id ?? hostPartitionKey('bench') });
  }
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    await ensureEventsStream(await jetstreamManager(nc), { maxBytes: 4 * 1024 ** 3 });
    const run = async (limit: number, seconds: number): Promise<{ n: number; secs: number; p: EventPublisher }> => {
      const p = new EventPublisher(nc, { collectorId: 'bench', node: 'bench', partitions: 32, batchMaxEvents: 1024, batchLingerMs: 20, bufferEvents: 262_144, maxInflight: 64 });
      const t0 = performance.now();
      const deadline = t0 + seconds * 1000;
      let n = 0;
      outer: while (n < limit) {
        for (const { e, key } of events) {
          p.add(e, key);
          n++;
          if (p.shouldPause) {
            await p.ready();
            if (performance.now() > deadline) break outer;
          }
        }
      }
      await p.flush();
      const secs = (performance.now() - t0) / 1000;
      await p.close();
      return { n, secs, p };
    };
    await run(200_000, 3); // warm-up (JIT, stream files)
    const r = await run(target, maxSeconds);
    const s = r.p.stats();
    if (s.eventsPublished !== r.n) throw new Error(`published ${s.eventsPublished} of ${r.n} events`);
    return { capture, events: r.n, seconds: r.secs, rate: r.n / r.secs, batches: s.batchesPublished, bytesPerEvent: s.bytesPublished / r.n, partitions: new Set(events.map((x) => x.key)).size };
  } finally {
    await nc.close();
    await server.dispose();
  }
}
