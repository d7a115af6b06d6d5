// `npm run bench`: the rules engine's numbers. (1) load + compile of the upstream stable,
// incubating and sandbox rules; (2) evaluation throughput on one core over columnar in-memory
// events with a fixed syscall mix; (3) heap used after loading. Needs ../shared/corpus.

import { readFileSync } from 'node:fs';
import { fieldMapAccessor, loadRules, Ruleset } from '@harrier/rules';
import { corpusDir, corpusPath, hasCorpus } from '../packages/rules/src/testing/corpus.js';
import { ColumnBatch, ColumnSchema, columnAccessor } from '../packages/rules/src/testing/columns.js';
import { generateEvents } from '../packages/rules/src/testing/events.js';
import { benchReplay } from './replay.js';
import { benchPublish } from './publish.js';

const FILES = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'].map((f) => `rules/falcosecurity-rules@main/${f}`);

function mb(n: number): string {
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

if (!hasCorpus) {
  console.error(`bench: the corpus is needed for the upstream rules (looked in ${corpusDir})`);
  process.exit(1);
}
const sources = FILES.map((f) => ({ name: f, content: readFileSync(corpusPath(f), 'utf8') }));

// (1) load + compile, best of several runs after one warm-up (the first includes module JIT).
gc();
const heapBefore = process.memoryUsage().heapUsed;
let loaded = loadRules(sources);
const times: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  loaded = loadRules(sources);
  times.push(performance.now() - t0);
}
if (!loaded.ok) throw new Error(`upstream rules failed to load: ${loaded.errors[0]?.message}`);
const cold = (() => {
  const t0 = performance.now();
  loadRules(sources);
  return performance.now() - t0;
})();
void cold;

// (3) heap: the loaded rules plus a ruleset compiled from them, before any events exist.
const probe = new Ruleset(loaded.rules, fieldMapAccessor, { source: 'syscall' });
gc();
const heapAfterLoad = process.memoryUsage().heapUsed;
void probe;

// (2) evaluation throughput, over batches of BATCH events as the engine receives them.
const N = 1_000_000;
const BATCH = 4096;
const events = generateEvents({ count: N, suspiciousRate: 0.026 });
const schema = new ColumnSchema();
const batches: ColumnBatch[] = [];
for (let i = 0; i < N; i += BATCH) batches.push(new ColumnBatch(schema, events.slice(i, i + BATCH)));
const accessor = columnAccessor(schema);
const ruleset = new Ruleset(loaded.rules, accessor, { source: 'syscall', ruleMatching: 'first' });
const countByRule = new Map<string, number>();
// Warm-up pass also counts which rules match, to state the mix honestly.
for (const b of batches) ruleset.evaluateBatch(b, (r) => countByRule.set(r.rule.name, (countByRule.get(r.rule.name) ?? 0) + 1));
function measure(passes: number, run: (b: ColumnBatch) => number): { rate: number; ns: number; matches: number } {
  let matches = 0;
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) for (const b of batches) matches += run(b);
  const secs = (performance.now() - t0) / 1000;
  return { rate: (N * passes) / secs, ns: (secs * 1e9) / (N * passes), matches: matches / passes };
}
const batchRun = measure(5, (b) => ruleset.evaluateBatch(b));
const perEvent = measure(1, (b) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m += ruleset.evaluate(accessor.at(b, i));
  return m;
});
if (perEvent.matches !== batchRun.matches) throw new Error(`batch and per-event evaluation disagree: ${batchRun.matches} vs ${perEvent.matches} matches`);
const matches = batchRun.matches;

const typeMix = new Map<string, number>();
for (const e of events) typeMix.set(String(e['evt.type']), (typeMix.get(String(e['evt.type'])) ?? 0) + 1);
const pct = (n: number): string => ((100 * n) / N).toFixed(1) + '%';

console.log('Harrier rules engine benchmark');
console.log(`node ${process.version}, ${process.arch}; rules: upstream falco_rules + incubating + sandbox (main)`);
console.log('');
console.log(`(1) load + compile ${loaded.counts.rules} rules, ${loaded.counts.macros} macros, ${loaded.counts.lists} lists: ` +
  `best ${Math.min(...times).toFixed(0)} ms, median ${times.sort((a, b) => a - b)[2]!.toFixed(0)} ms (target < 250 ms)`);
console.log(`(2) evaluation: ${(batchRun.rate / 1e6).toFixed(2)} M events/s on one core (target >= 2.00 M/s), ` +
  `${batchRun.ns.toFixed(0)} ns/event, ${ruleset.enabledCount()} enabled syscall rules, batches of ${BATCH}`);
console.log(`    (one event at a time instead: ${(perEvent.rate / 1e6).toFixed(2)} M events/s, ${perEvent.ns.toFixed(0)} ns/event; same matches)`);
console.log(`    events: ${N.toLocaleString()} columnar, evaluated 5 times; mix: ` +
  [...typeMix].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${pct(n)}`).join(', '));
console.log(`    matching events: ${pct(matches)} (` + [...countByRule].map(([r, n]) => `${r}: ${n}`).join('; ') + ')');
console.log(`(3) heap used by the loaded rules and one compiled ruleset: ${mb(heapAfterLoad - heapBefore)} ` +
  `(${mb(heapAfterLoad)} heap in all, before any events are generated)`);

// (4) capture replay: reader + state engine + batches + rules.
const replay = benchReplay(loaded);
console.log(`(4) capture replay: ${(replay.rate / 1e3).toFixed(0)} k events/s on one core (target >= 500 k/s; libsinsp parses ~680 k/s with no rules), ` +
  `${replay.events.toLocaleString()} events of ${replay.capture} replayed in a loop in ${replay.seconds.toFixed(2)} s; ` +
  `${replay.evaluated.toLocaleString()} of them of types the rules name, ${replay.alerts} alerts`);

// (5) publishing: enriched events through EventPublisher to a real nats-server (JetStream, file store).
const pub = await benchPublish();
console.log(`(5) publisher: ${(pub.rate / 1e3).toFixed(0)} k enriched events/s to JetStream (batches of 1024, ${pub.partitions} partition keys, ` +
  `${pub.bytesPerEvent.toFixed(0)} bytes/event on the wire), ${pub.events.toLocaleString()} events of ${pub.capture} in ${pub.seconds.toFixed(2)} s, ${pub.batches} batches; every one acknowledged`);
