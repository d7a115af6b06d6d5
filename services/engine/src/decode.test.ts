// The decoder the engine reads EVENTS with (decodeEventBatch) against the generated one
// (EventBatch.decode) on the corpus captures' events as a collector batches them: the same
// messages, and the same outcome for truncations and corruptions of every batch. The captures are
// read with the collector's capture reader, state engine and enricher (every argument kept).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatchBuilder, decodeEventBatch, type EnrichedEvent } from '@harrier/batch';
import { EventBatch } from '@harrier/proto';
import { corpusPath, corpusSkip } from '../../../packages/rules/src/testing/corpus.js';

/** What the test uses of @harrier/collector (which depends on the engine's packages, not the other way). */
interface CaptureTools {
  readScap(input: Uint8Array): { readonly events: readonly unknown[] };
  stateFromCapture(cap: unknown): { readonly tables: unknown; process(raw: unknown): unknown };
  toRawEvent(e: unknown): unknown;
  Enricher: new (tables: unknown) => { enrich(raw: unknown, state: unknown): EnrichedEvent };
}

const COLLECTOR = '@harrier/collector';

function outcome(f: () => EventBatch): { ok: EventBatch } | { error: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

test('the corpus captures, batched as a collector does, decode the same with either decoder', { skip: corpusSkip }, async () => {
  const c = (await import(COLLECTOR)) as CaptureTools;
  const dir = corpusPath('scap/falco');
  let batches = 0;
  let events = 0;
  let seed = 1;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.scap')).sort()) {
    const cap = c.readScap(readFileSync(join(dir, f)));
    const state = c.stateFromCapture(cap);
    const enricher = new c.Enricher(state.tables);
    const builder = new BatchBuilder({ collectorId: `corpus-${f}`, node: 'corpus', source: 'syscall' });
    const check = (): void => {
      if (builder.size === 0) return;
      events += builder.size;
      const bytes = builder.finishEncoded(++batches);
      assert.deepStrictEqual(decodeEventBatch(bytes), EventBatch.decode(bytes), `${f}, batch ${batches}`);
      // Truncations and single-byte corruptions at seeded places.
      let s = seed++;
      const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
      for (let k = 0; k < 40; k++) {
        const v = k < 20 ? bytes.subarray(0, Math.floor(next() * bytes.length)) : Uint8Array.from(bytes);
        if (k >= 20) v[Math.floor(next() * v.length)] = Math.floor(next() * 256);
        assert.deepStrictEqual(outcome(() => decodeEventBatch(v)), outcome(() => EventBatch.decode(v)), `${f}, batch ${batches}, variant ${k}`);
      }
    };
    for (const se of cap.events) {
      const raw = c.toRawEvent(se);
      if (raw === undefined) continue;
      const e = enricher.enrich(raw, state.process(raw));
      if (!builder.fits(e) || builder.size === 512) check();
      builder.add(e);
    }
    check();
  }
  assert.ok(batches > 20 && events > 5000, `${batches} batches, ${events} events`);
});
