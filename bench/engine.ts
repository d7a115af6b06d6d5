// The engine's numbers: (9) sustained events/s through EVENTS -> one `harrier engine` worker (its own
// process, the upstream stable + incubating rules) -> ALERTS, with every event evaluated and every
// match stored; the worker's CPU per event; (10) alert latency from event publish to the alert's
// arrival on its subject at 1,000 events/s. A real nats-server (JetStream, file store) is started here.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { BatchBuilder, batchMsgId, hostPartitionKey, partitionOf, type EnrichedEvent } from '@harrier/batch';
import { Enricher, argsNamedBy, readScap, stateFromCapture, toRawEvent } from '@harrier/collector';
import { ensureEventsStream } from '@harrier/kit';
import { freePort, startNatsServer } from '@harrier/kit/testing';
import { LOAD_RULES, LoadGenerator, ALERTS_STREAM } from '@harrier/engine';
import { Ruleset, fieldMapAccessor, loadRules } from '@harrier/rules';
import { corpusPath } from '../packages/rules/src/testing/corpus.js';

const ROOT = new URL('..', import.meta.url).pathname;
const RULES = ['falco_rules.yaml', 'falco-incubating_rules.yaml'].map((f) => corpusPath(`rules/falcosecurity-rules@main/${f}`));
const PARTITIONS = 32;
const BATCH = 512;

export interface Drain {
  readonly load: string;
  readonly events: number;
  readonly batches: number;
  readonly seconds: number;
  readonly rate: number;
  readonly cpuSeconds: number;
  readonly nsPerEvent: number;
  /** Of that, the time the worker spent decoding and evaluating (its evalNs counter), per event. */
  readonly evalNsPerEvent: number;
  /** Alerts the worker stored (duplicates left out), and the matches it counted. */
  readonly alerts: number;
  /** Alerts the load must give (the storm's hits), when known in advance. */
  readonly expectedAlerts: number | undefined;
  readonly deadLetters: number;
}

export interface EngineBench {
  readonly drains: readonly Drain[];
  readonly alertsInStream: number;
  /** What ALERTS must hold after the loads: every expected alert, each once. */
  readonly alertsExpected: number;
  readonly latency: { readonly count: number; readonly p50: number; readonly p99: number; readonly max: number; readonly expected: number };
  readonly workerRss: number;
}

interface Health {
  owned: number[];
  counters: { events: number; batches: number; alertsStored: number; alertDuplicates: number; evalNs: number; deadLetters: Record<string, number> };
}

/** Enriched events of every corpus capture, with the arguments the rules read, and their partition keys. */
function captureEvents(): { e: EnrichedEvent; key: string }[] {
  const loaded = loadRules(RULES.map((f) => ({ name: f, content: readFileSync(f, 'utf8') })));
  const args = argsNamedBy(new Ruleset(loaded, fieldMapAccessor, { source: 'syscall' }));
  const out: { e: EnrichedEvent; key: string }[] = [];
  const dir = corpusPath('scap/falco');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.scap')).sort()) {
    const cap = readScap(readFileSync(join(dir, f)));
    const state = stateFromCapture(cap);
    const enricher = new Enricher(state.tables, args);
    for (const se of cap.events) {
      const raw = toRawEvent(se);
      if (!raw) continue;
      const st = state.process(raw);
      out.push({ e: enricher.enrich(raw, st), key: st.thread?.container?.id ?? hostPartitionKey('bench') });
    }
  }
  return out;
}

function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function health(port: number): Promise<Health | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return (await r.json()) as Health;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Encoded {
  readonly load: string;
  readonly events: number;
  readonly batches: readonly { subject: string; id: string; bytes: Uint8Array }[];
  readonly expectedAlerts?: number;
}

/** The corpus captures' events again and again: many processes per batch (about 70 per 320 events). */
function captureLoad(target: number): Encoded {
  const byKey = new Map<string, EnrichedEvent[]>();
  for (const { e, key } of captureEvents()) (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(e);
  const builder = new BatchBuilder({ collectorId: 'bench-capture', node: 'bench', source: 'syscall' });
  const batches: { subject: string; id: string; bytes: Uint8Array }[] = [];
  let seq = 0;
  let events = 0;
  const close = (subject: string): void => {
    if (builder.size === 0) return;
    events += builder.size;
    seq++;
    batches.push({ subject, id: batchMsgId('bench-capture', seq), bytes: builder.finishEncoded(seq) });
  };
  while (events < target) {
    for (const [key, list] of byKey) {
      const subject = `harrier.events.${partitionOf(key, PARTITIONS)}.syscall`;
      for (let i = 0; i < list.length; i += BATCH) {
        for (const e of list.slice(i, i + BATCH)) {
          if (!builder.fits(e)) close(subject);
          builder.add(e);
        }
        close(subject);
      }
    }
  }
  return { load: 'corpus captures (many processes per batch)', events, batches };
}

/** A storm as the live collector publishes one: 64 containers, full batches of opens by one process each, 1% alerting. */
function stormLoad(target: number): Encoded {
  const gen = new LoadGenerator({ collectorId: 'bench-storm', node: 'bench', partitions: PARTITIONS, containers: 64, eventsPerBatch: BATCH, hitEvery: 100 });
  const batches: { subject: string; id: string; bytes: Uint8Array }[] = [];
  let events = 0;
  let hits = 0;
  while (events < target) {
    const b = gen.next();
    batches.push({ subject: b.subject, id: b.msgId, bytes: b.bytes });
    events += b.events;
    hits += b.hits.length;
  }
  return { load: 'open storm (one process per batch, 1% alerting)', events, batches, expectedAlerts: hits };
}

export async function benchEngine(target = 1_000_000): Promise<EngineBench> {
  // BENCH_LOADS=capture or =storm drains one load only.
  const only = process.env['BENCH_LOADS']?.split(',');
  const loads = [...(!only || only.includes('capture') ? [captureLoad(target)] : []), ...(!only || only.includes('storm') ? [stormLoad(target)] : [])];
  const progress = (m: string): void => void (process.env['BENCH_VERBOSE'] && process.stderr.write(`bench engine: ${m}\n`));
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), 'harrier-bench-engine-'));
  let worker: ChildProcess | undefined;
  try {
    const js = jetstream(nc);
    await ensureEventsStream(await jetstreamManager(nc), { maxBytes: 8 * 1024 ** 3 });
    const loadRulesFile = join(dir, 'load.yaml');
    writeFileSync(loadRulesFile, LOAD_RULES);
    const port = await freePort();
    worker = spawn(
      process.execPath,
      [...(process.env['BENCH_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROF']}`] : []), '--conditions=source', '--import', 'tsx', 'cli/src/main.ts', 'engine', ...RULES.flatMap((r) => ['-r', r]), '-r', loadRulesFile,
        '-o', `nats.url=${server.url}`, '-o', `partitions=${PARTITIONS}`, '-o', `webserver.listen_port=${port}`, '-o', `logging.level=${process.env['BENCH_ENGINE_LOG'] ?? 'error'}`],
      { cwd: ROOT, stdio: ['ignore', process.env['BENCH_VERBOSE'] ? 'inherit' : 'ignore', 'inherit'] },
    );
    const pid = worker.pid!;
    progress(`worker ${pid} started, health on port ${port}`);
    const drains: Drain[] = [];
    let before = 0;
    for (const load of loads) {
      // Loaded while the worker waits, then drained: the rate is the worker's, not the publisher's.
      const window: Promise<unknown>[] = [];
      for (const b of load.batches) {
        window.push(js.publish(b.subject, b.bytes, { msgID: b.id }));
        if (window.length >= 256) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
      progress(`${load.events} events of ${load.load} in EVENTS`);
      drains.push(await drain(port, pid, before, load, progress));
      before += load.events;
    }
    // The latency run starts on an idle worker: every earlier alert stored (alerts are stored
    // after their batch is evaluated, so some are still on their way when a drain ends).
    const alertsExpected = drains.reduce((n, d) => n + (d.expectedAlerts ?? d.alerts), 0);
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 300; i++) {
      if ((await jsm.streams.info(ALERTS_STREAM)).state.messages >= alertsExpected) break;
      await sleep(100);
    }

    // (10) latency at 1,000 events/s: 50 batches/s of 20 events, one matching the marker rule.
    const gen = new LoadGenerator({ collectorId: 'latency', node: 'bench', partitions: PARTITIONS, containers: 8, eventsPerBatch: 20, hitEvery: 20 });
    const sentAt = new Map<number, number>();
    const lat: number[] = [];
    const sub = nc.subscribe('harrier.alerts.syscall.warning.marker-file-opened', {
      callback: (_err, m) => {
        const got = performance.now();
        const id = (m.json() as { event_id: string }).event_id;
        const s = sentAt.get(Number(id.split('-')[1]));
        if (s !== undefined) lat.push(got - s);
      },
    });
    const seconds = 10;
    const t0 = performance.now();
    for (let i = 0; i < seconds * 50; i++) {
      const due = t0 + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const b = gen.next();
      sentAt.set(b.sequence, performance.now());
      void js.publish(b.subject, b.bytes, { msgID: b.msgId });
    }
    await sleep(2000);
    sub.unsubscribe();
    lat.sort((a, b) => a - b);
    const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    const workerRss = rssOf(pid);
    // After the latency run too, as the report line says.
    const info = await jsm.streams.info(ALERTS_STREAM);
    return {
      drains,
      alertsInStream: info.state.messages,
      alertsExpected,
      latency: { count: lat.length, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN, expected: seconds * 50 },
      workerRss,
    };
  } finally {
    worker?.kill('SIGTERM');
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the worker has evaluated `before + load.events` events; the rate runs from its first to its last. */
async function drain(port: number, pid: number, before: number, load: Encoded, progress: (m: string) => void): Promise<Drain> {
  const total = before + load.events;
  const start: Health = (await health(port)) ?? { owned: [], counters: { events: 0, batches: 0, alertsStored: 0, alertDuplicates: 0, evalNs: 0, deadLetters: {} } };
  let first: { t: number; events: number; cpu: number } | undefined;
  let last: Health | undefined;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const h = await health(port);
    const t = performance.now();
    if (h && h.counters.events > before && !first) first = { t, events: h.counters.events, cpu: cpuOf(pid) };
    if (h && h.counters.events >= total) {
      last = h;
      break;
    }
    if (Date.now() > deadline) throw new Error(`the engine did not evaluate the load (${h?.counters.events ?? 0} of ${total} events)`);
    await sleep(50);
  }
  const t1 = performance.now();
  const cpu = cpuOf(pid) - first!.cpu;
  const measured = last.counters.events - first!.events;
  await sleep(1000); // the last alerts land
  const end = (await health(port))!;
  const dl = (h: Health): number => Object.values(h.counters.deadLetters).reduce((a, b) => a + b, 0);
  progress(`dead letters by reason: ${JSON.stringify(end.counters.deadLetters)}`);
  progress(`drained ${load.load}: ${measured} events in ${((t1 - first!.t) / 1000).toFixed(2)} s`);
  return {
    load: load.load,
    events: load.events,
    batches: load.batches.length,
    seconds: (t1 - first!.t) / 1000,
    rate: measured / ((t1 - first!.t) / 1000),
    cpuSeconds: cpu,
    nsPerEvent: (cpu * 1e9) / measured,
    evalNsPerEvent: (end.counters.evalNs - start.counters.evalNs) / load.events,
    alerts: end.counters.alertsStored - end.counters.alertDuplicates - (start.counters.alertsStored - start.counters.alertDuplicates),
    expectedAlerts: load.expectedAlerts,
    deadLetters: dl(end) - dl(start),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchEngine(Number(process.argv[2] ?? 2_000_000));
  console.log(JSON.stringify(r, null, 2));
}
