// Engine workers against a real nats-server: every event evaluated, every expected alert stored
// once and in order per partition, across a restart; bad batches dead-lettered without blocking;
// pushed rules taking effect; collector drops turned into internal alerts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { createLogger, ensureEventsStream, loadConfig, type HarrierConfig } from '@harrier/kit';
import { natsServerSkip, startNatsServer, type TestNatsServer } from '@harrier/kit/testing';
import { ALERTS_STREAM, DEADLETTER_STREAM } from './alerts.js';
import { LOAD_RULES, LoadGenerator } from './testing/load.js';
import { pushRuleset } from './rulesstore.js';
import { startEngine, type EngineService } from './worker.js';

const skip = natsServerSkip;
const PARTITIONS = 8;

interface Env {
  server: TestNatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  dir: string;
  rulesFile: string;
  config: HarrierConfig;
  engines: EngineService[];
}

async function setup(): Promise<Env> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const js = jetstream(nc);
  await ensureEventsStream(await jetstreamManager(nc));
  const dir = mkdtempSync(join(tmpdir(), 'harrier-engine-'));
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, LOAD_RULES);
  const r = loadConfig({ files: [], env: {}, overrides: [`nats.url=${server.url}`, `partitions=${PARTITIONS}`, 'webserver.enabled=false', 'engine.lease_ttl_ms=2000', 'engine.lease_renew_ms=500', 'collector.node=test-node'] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { server, nc, js, dir, rulesFile, config: r.config, engines: [] };
}

async function teardown(e: Env): Promise<void> {
  for (const x of e.engines) await x.stop().catch(() => undefined);
  await e.nc.close();
  await e.server.dispose();
  rmSync(e.dir, { recursive: true, force: true });
}

const quiet = createLogger({ level: 'warn', name: 'engine-test' });

async function engine(e: Env, id: string, files = [e.rulesFile]): Promise<EngineService> {
  const s = await startEngine({ config: e.config, log: quiet, rules: { files, options: {} }, workerId: id, handleSignals: false, http: false });
  e.engines.push(s);
  return s;
}

interface StoredAlert {
  subject: string;
  msgId: string | undefined;
  json: { rule: string; priority: string; source: string; uuid: string; event_id: string; node: string; hostname: string; output: string; output_fields: Record<string, unknown>; time: string; engine_version: string; tags: string[] };
}

/** Every alert in ALERTS, in stream order. */
async function readAlerts(e: Env, subject = 'harrier.alerts.>'): Promise<StoredAlert[]> {
  const jsm = await jetstreamManager(e.nc);
  const info = await jsm.streams.info(ALERTS_STREAM).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const out: StoredAlert[] = [];
  const c = await e.js.consumers.get(ALERTS_STREAM, { filter_subjects: subject });
  const total = (await c.info()).num_pending;
  if (total === 0) return [];
  const it = await c.fetch({ max_messages: total, expires: 5000 });
  for await (const m of it) {
    out.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), json: m.json() });
    if (out.length === total) break;
  }
  return out;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function publish(e: Env, gen: LoadGenerator, n: number): Promise<Map<string, number[]>> {
  const hits = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const b = gen.next();
    await e.js.publish(b.subject, b.bytes, { msgID: b.msgId });
    const h = hits.get(b.container) ?? [];
    h.push(...b.hits);
    hits.set(b.container, h);
  }
  return hits;
}

function merge(a: Map<string, number[]>, b: Map<string, number[]>): Map<string, number[]> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, [...(out.get(k) ?? []), ...v]);
  return out;
}

/** Each expected alert once, and per container in evt.num order. */
function checkAlerts(alerts: StoredAlert[], expected: Map<string, number[]>): void {
  const total = [...expected.values()].reduce((n, h) => n + h.length, 0);
  assert.equal(alerts.length, total, `${total} alerts expected, ${alerts.length} stored`);
  assert.equal(new Set(alerts.map((a) => a.json.uuid)).size, alerts.length, 'alert ids are unique');
  const seen = new Map<string, number[]>();
  for (const a of alerts) {
    const c = String(a.json.output_fields['container.id']);
    const list = seen.get(c) ?? [];
    list.push(Number(a.json.output_fields['evt.num']));
    seen.set(c, list);
  }
  for (const [c, nums] of expected) assert.deepEqual(seen.get(c) ?? [], nums, `container ${c}: alerts in event order`);
}

test('one worker evaluates every event and stores each expected alert once, in order, in the contract shape', { skip }, async () => {
  const e = await setup();
  try {
    const w = await engine(e, 'w1');
    await until('all partitions owned', async () => (w.stats().owned.length === PARTITIONS ? true : undefined));
    const gen = new LoadGenerator({ collectorId: 'col-a', node: 'test-node', partitions: PARTITIONS, containers: 6, eventsPerBatch: 50 });
    const expected = await publish(e, gen, 60);
    const total = [...expected.values()].reduce((n, h) => n + h.length, 0);
    assert.equal(total, 300);
    const alerts = await until('all alerts', async () => {
      const a = await readAlerts(e);
      return a.length >= total ? a : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    checkAlerts(await readAlerts(e), expected);
    const a = alerts[0]!;
    assert.equal(a.subject, 'harrier.alerts.syscall.warning.marker-file-opened');
    assert.equal(a.json.rule, 'Marker file opened');
    assert.equal(a.json.priority, 'Warning');
    assert.equal(a.json.source, 'syscall');
    assert.deepEqual(a.json.tags, ['harrier_test']);
    assert.equal(a.json.node, 'test-node');
    assert.equal(a.json.hostname, 'test-node');
    assert.match(a.json.event_id, /^col-a-\d+-\d+$/);
    assert.equal(a.msgId, `${a.json.event_id}/Marker file opened`);
    assert.match(a.json.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(a.json.output, /^\d\d:\d\d:\d\d\.\d{9}: Warning marker opened \(file=\/tmp\/harrier-marker\/\S+-hit num=\d+ container=\w+ proc=loader pid=\d+\)$/);
    assert.match(a.json.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal(a.json.engine_version, '0.63.0');
    const s = w.stats();
    assert.equal(s.counters.events, 3000);
    assert.equal(s.counters.batches, 60);
    assert.equal(s.counters.alertsStored, 300);
  } finally {
    await teardown(e);
  }
});

test('a worker stopped mid-load and a new one: nothing lost, nothing stored twice, order kept', { skip }, async () => {
  const e = await setup();
  try {
    const gen = new LoadGenerator({ collectorId: 'col-b', node: 'test-node', partitions: PARTITIONS, containers: 5, eventsPerBatch: 40 });
    const w1 = await engine(e, 'w1');
    await until('partitions owned', async () => (w1.stats().owned.length === PARTITIONS ? true : undefined));
    let expected = await publish(e, gen, 40);
    await until('some evaluated', async () => (w1.stats().counters.batches >= 10 ? true : undefined));
    await w1.stop();
    expected = merge(expected, await publish(e, gen, 40));
    const w2 = await engine(e, 'w2');
    expected = merge(expected, await publish(e, gen, 20));
    const total = [...expected.values()].reduce((n, h) => n + h.length, 0);
    await until('all alerts', async () => ((await readAlerts(e)).length >= total ? true : undefined));
    await until('w2 done', async () => (w1.stats().counters.batches + w2.stats().counters.batches >= 100 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    checkAlerts(await readAlerts(e), expected);
    assert.equal(w1.stats().counters.batches + w2.stats().counters.batches, 100, 'each batch evaluated once: w1 acknowledged what it evaluated before stopping');
  } finally {
    await teardown(e);
  }
});

test('a malformed batch and events of an unknown type are dead-lettered; the partition keeps going', { skip }, async () => {
  const e = await setup();
  try {
    const w = await engine(e, 'w1');
    await until('partitions owned', async () => (w.stats().owned.length === PARTITIONS ? true : undefined));
    const gen = new LoadGenerator({ collectorId: 'col-c', node: 'test-node', partitions: PARTITIONS, containers: 1, eventsPerBatch: 20 });
    const p = gen.partitionOf(0);
    const first = await publish(e, gen, 2);
    await e.js.publish(`harrier.events.${p}.syscall`, new Uint8Array([0x0a, 0xff, 0xff, 0x01, 0x02]), { msgID: 'col-c-garbage' });
    // A well-formed batch whose event type the event table does not know.
    const { BatchBuilder } = await import('@harrier/batch');
    const b = new BatchBuilder({ collectorId: 'col-x', node: 'test-node', source: 'syscall' });
    b.add({ num: 1, ts: 1n, tid: 1, type: 'no_such_syscall', enter: false, res: 0, process: { pid: 1, tid: 1, ppid: 0, name: 'x' } });
    const h = headers();
    await e.js.publish(`harrier.events.${p}.syscall`, b.finishEncoded(1), { msgID: 'col-x-1', headers: h });
    const expected = merge(first, await publish(e, gen, 2));
    const total = [...expected.values()].reduce((n, x) => n + x.length, 0);
    await until('alerts after the bad batches', async () => ((await readAlerts(e)).length >= total ? true : undefined));
    checkAlerts(await readAlerts(e), expected);
    const jsm = await jetstreamManager(e.nc);
    const dl = await until('dead letters', async () => {
      const i = await jsm.streams.info(DEADLETTER_STREAM);
      return i.state.messages >= 2 ? i : undefined;
    });
    assert.equal(dl.state.messages, 2);
    const m1 = (await jsm.streams.getMessage(DEADLETTER_STREAM, { seq: 1 }))!;
    assert.equal(m1.subject, `harrier.deadletter.events.${p}`);
    assert.equal(m1.header.get('Harrier-Reason'), 'malformed_batch');
    assert.equal(m1.header.get('Harrier-Batch-Id'), 'col-c-garbage');
    assert.match(m1.header.get('Harrier-Detail'), /not a valid EventBatch/);
    assert.deepEqual([...m1.data], [0x0a, 0xff, 0xff, 0x01, 0x02], 'the bytes are kept as they came');
    const m2 = (await jsm.streams.getMessage(DEADLETTER_STREAM, { seq: 2 }))!;
    assert.equal(m2.header.get('Harrier-Reason'), 'unknown_event_type');
    assert.deepEqual(m2.json<{ rows: Record<string, number[]> }>().rows, { no_such_syscall: [0] });
    const s = w.stats();
    assert.equal(s.counters.deadLetters['malformed_batch'], 1);
    assert.equal(s.counters.deadLetters['unknown_event_type'], 1);
    assert.equal(s.counters.unknownTypeEvents, 1);
  } finally {
    await teardown(e);
  }
});

test('a pushed ruleset takes effect; a broken one is refused, the old one keeps working, an internal alert says why', { skip }, async () => {
  const e = await setup();
  try {
    const w = await engine(e, 'w1');
    await until('partitions owned', async () => (w.stats().owned.length === PARTITIONS ? true : undefined));
    const gen = new LoadGenerator({ collectorId: 'col-d', node: 'test-node', partitions: PARTITIONS, containers: 2, eventsPerBatch: 10 });
    await publish(e, gen, 2);
    await until('first alerts', async () => ((await readAlerts(e)).length >= 2 ? true : undefined));
    const renamed = LOAD_RULES.replace('rule: Marker file opened', 'rule: Marker file opened again');
    await pushRuleset(e.nc, e.config.engine.rulesBucket, [{ name: 'pushed.yaml', content: renamed }]);
    await until('pushed rules in force', async () => (w.rules().origin === 'push' ? true : undefined));
    await publish(e, gen, 2);
    await until('alerts of the pushed rule', async () => ((await readAlerts(e, 'harrier.alerts.syscall.warning.marker-file-opened-again')).length >= 2 ? true : undefined));
    const version = w.rules().version;
    await pushRuleset(e.nc, e.config.engine.rulesBucket, [{ name: 'broken.yaml', content: '- rule: Broken\n  desc: x\n  condition: evt.type = = openat\n  output: x\n  priority: INFO\n' }]);
    const internal = await until('internal alert', async () => {
      const a = await readAlerts(e, 'harrier.alerts.internal.>');
      return a.length > 0 ? a : undefined;
    });
    assert.equal(internal[0]!.json.source, 'internal');
    assert.match(JSON.stringify(internal[0]!.json.output_fields), /broken\.yaml/);
    assert.equal(w.rules().version, version, 'the rules in force did not change');
    await publish(e, gen, 2);
    await until('the old rules still alert', async () => ((await readAlerts(e, 'harrier.alerts.syscall.warning.marker-file-opened-again')).length >= 4 ? true : undefined));
  } finally {
    await teardown(e);
  }
});

test('two workers under a steady load: a push mid-flow switches both, a broken push is refused by both, every event alerts once under one ruleset', { skip }, async () => {
  const e = await setup();
  try {
    const w1 = await engine(e, 'w1');
    const w2 = await engine(e, 'w2');
    const workers = [w1, w2];
    await until('partitions shared by both', async () => {
      const [a, b] = workers.map((w) => w.stats().owned.length);
      return a! > 0 && b! > 0 && a! + b! === PARTITIONS ? true : undefined;
    });
    const gen = new LoadGenerator({ collectorId: 'col-f', node: 'test-node', partitions: PARTITIONS, containers: 8, eventsPerBatch: 10 });
    const partitionOf = new Map<string, number>();
    let expected = new Map<string, number[]>();
    let flowing = true;
    // A batch every 10 ms until told to stop, so every change below lands while events flow.
    const load = (async () => {
      while (flowing) {
        const b = gen.next();
        await e.js.publish(b.subject, b.bytes, { msgID: b.msgId });
        partitionOf.set(b.container, b.partition);
        expected = merge(expected, new Map([[b.container, [...b.hits]]]));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const OLD = 'harrier.alerts.syscall.warning.marker-file-opened';
    const NEW = 'harrier.alerts.syscall.warning.marker-file-opened-again';
    await until('alerts of the file rules', async () => ((await readAlerts(e, OLD)).length >= 20 ? true : undefined));

    await pushRuleset(e.nc, e.config.engine.rulesBucket, [{ name: 'pushed.yaml', content: LOAD_RULES.replace('rule: Marker file opened', 'rule: Marker file opened again') }]);
    await until('both workers on the pushed rules', async () => (workers.every((w) => w.rules().origin === 'push') ? true : undefined));
    // Each worker evaluates its own partitions with the pushed rules: alerts of the new rule come
    // from containers of partitions owned by each of them.
    const owner = (c: string): string => (w1.stats().owned.includes(partitionOf.get(c)!) ? 'w1' : 'w2');
    await until('pushed-rule alerts from both workers', async () => {
      const by = new Set((await readAlerts(e, NEW)).map((a) => owner(String(a.json.output_fields['container.id']))));
      return by.size === 2 ? true : undefined;
    });

    const versions = workers.map((w) => w.rules().version);
    await pushRuleset(e.nc, e.config.engine.rulesBucket, [{ name: 'broken.yaml', content: '- rule: Broken\n  desc: x\n  condition: evt.type = = openat\n  output: x\n  priority: INFO\n' }]);
    const internal = await until('the refusal reported', async () => {
      const a = await readAlerts(e, 'harrier.alerts.internal.>');
      return a.length > 0 ? a : undefined;
    });
    assert.equal(internal[0]!.json.rule, 'Rules reload failed');
    const before = (await readAlerts(e, NEW)).length;
    await until('the pushed rules still alert after the refusal', async () => ((await readAlerts(e, NEW)).length >= before + 20 ? true : undefined));
    assert.deepEqual(workers.map((w) => w.rules().version), versions, 'both workers kept the rules in force');

    flowing = false;
    await load;
    const total = [...expected.values()].reduce((n, h) => n + h.length, 0);
    await until('every alert stored', async () => ((await readAlerts(e, 'harrier.alerts.syscall.>')).length >= total ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const alerts = await readAlerts(e, 'harrier.alerts.syscall.>');
    checkAlerts(alerts, expected);
    // Per container the rule switches once, old to new, never back: one ruleset per event, in order.
    const names = new Map<string, string[]>();
    for (const a of alerts) {
      const c = String(a.json.output_fields['container.id']);
      const l = names.get(c) ?? [];
      if (l.at(-1) !== a.json.rule) l.push(a.json.rule);
      names.set(c, l);
    }
    for (const [c, l] of names) assert.deepEqual(l, ['Marker file opened', 'Marker file opened again'], `container ${c}: ${l.join(' -> ')}`);
  } finally {
    await teardown(e);
  }
});

test('collector drop statistics become a syscall event drop internal alert', { skip }, async () => {
  const e = await setup();
  try {
    await engine(e, 'w1');
    const stats = (events: number, ring: number, time: string): Uint8Array =>
      new TextEncoder().encode(JSON.stringify({ type: 'collector_stats', collector_id: 'col-e', node: 'node-e', time, events_in: events, drops: { publish_queue: 0 }, source_drops: { ring_buffer: ring } }));
    e.nc.publish('harrier.stats.collector.col-e', stats(1000, 0, '2026-11-23T10:00:00.000Z'));
    e.nc.publish('harrier.stats.collector.col-e', stats(1500, 400, '2026-11-23T10:00:05.000Z'));
    e.nc.publish('harrier.stats.collector.col-e', new TextEncoder().encode('{not json'));
    const a = await until('drop alert', async () => {
      const x = await readAlerts(e, 'harrier.alerts.internal.>');
      return x.length > 0 ? x : undefined;
    });
    assert.equal(a.length, 1);
    assert.equal(a[0]!.subject, 'harrier.alerts.internal.debug.falco-internal-syscall-event-drop');
    assert.equal(a[0]!.json.rule, 'Falco internal: syscall event drop');
    assert.equal(a[0]!.json.output_fields['n_drops'], 400);
    assert.equal(a[0]!.json.output_fields['n_evts'], 900);
    assert.equal(a[0]!.json.output_fields['n_drops_ring_buffer'], 400);
  } finally {
    await teardown(e);
  }
});
