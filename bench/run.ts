// `npm run bench`: the rules engine's numbers. (1) load + compile of the upstream stable,
// incubating and sandbox rules; (2) evaluation throughput on one core over columnar in-memory
// events with a fixed syscall mix; (3) heap used after loading. Needs ../shared/corpus.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fieldMapAccessor, loadRules, Ruleset } from '@harrier/rules';
import { corpusDir, corpusPath, hasCorpus } from '../packages/rules/src/testing/corpus.js';
import { ColumnBatch, ColumnSchema, columnAccessor } from '../packages/rules/src/testing/columns.js';
import { generateEvents } from '../packages/rules/src/testing/events.js';
import { benchReplay } from './replay.js';
import { probeBenchSkip, benchProbeOverhead } from './probe.js';
import { benchCollector } from './collector.js';
import { benchCollectorCpu, recordStorm } from './collectorcpu.js';
import { benchLiveMemoryIsolated } from './livemem.js';
import { syscallSet } from '../services/collector/src/live/capture.js';
import { benchPublish } from './publish.js';
import { benchEngine } from './engine.js';
import { benchRunMemory } from './runmem.js';

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

// (6)-(8) the live path: need root, the built probe and a C compiler.
const liveSkip = probeBenchSkip();
if (liveSkip) {
  console.log(`(6)-(8) live capture: skipped (${liveSkip})`);
} else {
  const upstreamTypes = probe.eventTypes();
  const traced = syscallSet(upstreamTypes);
  const o = await benchProbeOverhead(traced, 3);
  const pctOf = (a: number, b: number): string => `${((a / b - 1) * 100).toFixed(1)}%`;
  console.log(`(6) probe overhead (${o.syscalls} syscalls traced, the set the upstream rules need; frames to /dev/null; median of 3, alternating):`);
  console.log(`    dd if=/dev/zero of=/dev/null bs=1 count=5M (read/write, not traced): ${o.ddBase.toFixed(2)} s -> ${o.ddProbe.toFixed(2)} s, +${pctOf(o.ddProbe, o.ddBase)} (target < 5%)`);
  console.log(`    open/close loop x${o.loopIterations.toLocaleString()} (traced): ${o.loopBase.toFixed(2)} s -> ${o.loopProbe.toFixed(2)} s, +${pctOf(o.loopProbe, o.loopBase)} (target < 30%)`);
  console.log(`    the probe tracing execve alone (no events from either program: the cost of the kernel's syscall-exit hook on every syscall): dd +${pctOf(o.ddHookOnly, o.ddBase)}, open/close +${pctOf(o.loopHookOnly, o.loopBase)}`);

  const c = await benchCollector();
  console.log(`(7) live collector (harrier collector process: probe, decode, state, enrich, batches, JetStream) under a paced open/close + exec storm, upstream stable rules:`);
  for (const s of c.steps) {
    console.log(`    target ${(s.target / 1e3).toFixed(0)}k/s: storm reached ${(s.achieved / 1e3).toFixed(0)}k events/s for ${s.seconds.toFixed(1)} s, ` +
      `${s.collected.toLocaleString()} published (rule types; close is traced for state only), dropped ${s.dropped}; ` +
      `collector CPU ${s.collectorCpu.toFixed(1)} s (${((s.collectorCpu / s.seconds) * 100).toFixed(0)}% of a core), probe loader ${s.probeCpu.toFixed(1)} s`);
  }
  for (const s of c.holds) {
    console.log(`    held ${s.seconds.toFixed(0)} s at ${(s.target / 1e3).toFixed(0)}k/s${s.dropped > 0 ? ' (dropped)' : ''}: storm reached ${(s.achieved / 1e3).toFixed(0)}k events/s, dropped ${s.dropped} ` +
      `(target >= 300k/s with zero drops); collector CPU ${((s.collectorCpu / s.seconds) * 100).toFixed(0)}% of a core, ` +
      `${((s.collectorCpu * 1e6) / Math.max(1, s.achieved * s.seconds)).toFixed(2)} us of collector CPU per storm event`);
  }
  if (c.sustained) console.log(`    => highest rate held 30 s with zero drops: ${(c.sustained.achieved / 1e3).toFixed(0)}k events/s`);
  else console.log('    no hold ran without drops');
  console.log(`    JetStream storage: ${(c.bytesPerMillion / 1e6).toFixed(1)} MB per million published events (${c.storedEvents.toLocaleString()} stored)`);
  {
    // The same path offline: a recorded storm fed again and again (bench/collectorcpu.ts), steadier than the live rate.
    const dir = mkdtempSync(join(tmpdir(), 'harrier-stormrec-'));
    try {
      const file = join(dir, 'storm.bin');
      await recordStorm(file, 150_000, 2);
      const cpu = await benchCollectorCpu(file, 6, 'publish');
      console.log(`    offline, the storm's probe frames recorded and fed through decode, state, enrichment, batches and the publisher (${cpu.events.toLocaleString()} events, ${cpu.rounds.length} rounds): ` +
        `${cpu.median.toFixed(2)} us of CPU per event (median; least ${cpu.min.toFixed(2)})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const m = await benchLiveMemoryIsolated(upstreamTypes === 'all' ? new Set(traced) : upstreamTypes);
  console.log(`(8) collector memory with ${m.processes.toLocaleString()} live processes (${m.threadsSeeded.toLocaleString()} threads seeded from /proc): RSS ${mb(m.rss)} ` +
    `(target < 200 MB; ${mb(m.rssBefore)} before the capture started), heap ${mb(m.heap)}`);
}

// (9)-(10) the engine: EVENTS -> one `harrier engine` worker process -> ALERTS on a real nats-server.
const eng = await benchEngine();
console.log(`(9) engine worker (its own process, upstream stable + incubating rules, ${eng.drains.length} loads drained from EVENTS; target >= 400 k events/s):`);
for (const d of eng.drains) {
  console.log(`    ${d.load}: ${(d.rate / 1e3).toFixed(0)} k events/s, ${d.events.toLocaleString()} events in ${d.batches} batches, ` +
    `worker CPU ${(d.nsPerEvent / 1000).toFixed(2)} us/event; ${d.alerts.toLocaleString()} alerts stored, ${d.deadLetters} batches dead-lettered`);
}
console.log(`    ALERTS holds ${eng.alertsInStream.toLocaleString()} alerts (both loads and the latency run); worker RSS ${mb(eng.workerRss)}`);
console.log(`(10) alert latency at 1,000 events/s (batches of 20 every 20 ms, one alert each), publish to arrival on the alert subject: ` +
  `p50 ${eng.latency.p50.toFixed(1)} ms, p99 ${eng.latency.p99.toFixed(1)} ms, max ${eng.latency.max.toFixed(1)} ms over ${eng.latency.count} of ${eng.latency.expected} alerts (target p99 < 100 ms)`);

// (11) everything `harrier run` starts (needs the live path).
if (liveSkip) console.log(`(11) harrier run memory: skipped (${liveSkip})`);
else {
  const r = await benchRunMemory();
  console.log(`(11) harrier run, resident memory of all it starts: ${mb(r.total)} (target < 500 MB): ` + r.parts.map((p) => `${p.name} ${mb(p.rss)}`).join(', '));
}
