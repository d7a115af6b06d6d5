// Acceptance for engine workers as operators run them: `harrier engine` processes against real
// nats-server processes on loopback, under a steady, checkable event load (LoadGenerator). One
// server: start one worker, then three, SIGKILL one, add it back. Three clustered servers with R3
// streams: SIGKILL a server mid-run and restart it (the ALERTS leader, then the leases bucket's
// leader). Each time every event is evaluated, every expected alert is stored exactly once in
// ALERTS, each partition's events are evaluated in order, and partition ownership settles within
// 10 s of a change (measured at the default lease settings).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { ALERTS_STREAM, DEFAULT_LEASES_BUCKET, LOAD_RULES, LoadGenerator, consumerPrefix } from '@harrier/engine';
import { EVENTS_STREAM, ensureEventsStream } from '@harrier/kit';
import { natsServerSkip, startNatsCluster, startNatsServer } from '@harrier/kit/testing';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');
const skip = natsServerSkip;

const PARTITIONS = 16;
/** The claim under test, at the default lease settings (5 s expiry, renewed every second). */
const SETTLE_LIMIT_MS = 10_000;
/** Ownership counts as settled once it has not changed for this long. */
const STABLE_MS = 1500;
const LEASES = ['-o', 'engine.lease_ttl_ms=5000', '-o', 'engine.lease_renew_ms=1000'];

// ---------------------------------------------------------------------------------------------
// Engine worker processes

interface Worker {
  readonly child: ChildProcess;
  readonly spawnedAt: number;
  /** Set from the worker's "engine worker started" log line. */
  id: string;
  startedAt: number;
  readonly exited: Promise<void>;
  readonly logFile: string;
}

/** Spawns `harrier engine` and resolves once it logs that it started (its worker id). */
async function startWorker(dir: string, name: string, args: readonly string[]): Promise<Worker> {
  const logFile = join(dir, `${name}.log`);
  const log: WriteStream = createWriteStream(logFile);
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'engine', '-r', join(dir, 'rules.yaml'), '-o', `partitions=${PARTITIONS}`, '-o', 'webserver.enabled=false', ...LEASES, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': the worker's last log lines (its final counters) are read by then.
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  child.stderr.pipe(log, { end: false });
  let buf = '';
  const started = new Promise<{ id: string; at: number }>((done, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      log.write(d);
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('engine worker started')) continue;
        const id = (JSON.parse(line) as { workerId?: unknown }).workerId;
        if (typeof id === 'string') done({ id, at: Date.now() });
      }
    });
    void exited.then(() => fail(new Error(`worker ${name} exited (${child.exitCode ?? child.signalCode}) before it started; see ${logFile}`)));
    setTimeout(() => fail(new Error(`worker ${name} did not start within 30 s; see ${logFile}`)), 30_000).unref();
  });
  const w: Worker = { child, spawnedAt, id: '', startedAt: 0, exited, logFile };
  try {
    const s = await started;
    w.id = s.id;
    w.startedAt = s.at;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return w;
}

async function killWorker(w: Worker, signal: NodeJS.Signals): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
  await w.exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// The steady load: one batch at a time, each stored before the next (so per-container order in
// EVENTS is the generator's), a failed publish retried with the same Nats-Msg-Id (so a publish
// that did reach the stream before its reply was lost is not stored twice).

class SteadyLoad {
  /** evt.num of every expected alert, per container, in event order. */
  readonly expected = new Map<string, number[]>();
  /** The stream sequence of each partition's last batch. */
  readonly lastSeq = new Map<number, number>();
  /** The partition of each container's batches. */
  readonly partitionOf = new Map<string, number>();
  batches = 0;
  retries = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly gen: LoadGenerator;

  constructor(
    private readonly js: JetStreamClient,
    private readonly intervalMs: number,
  ) {
    // 20 events a batch, one in ten a hit: every batch yields two alerts, so a batch never
    // evaluated always shows as missing alerts.
    this.gen = new LoadGenerator({ collectorId: 'load', node: 'load-node', partitions: PARTITIONS, containers: 12, eventsPerBatch: 20, hitEvery: 10 });
  }

  get alerts(): number {
    return [...this.expected.values()].reduce((n, h) => n + h.length, 0);
  }

  start(): void {
    this.running = true;
    this.loop = this.run().catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Stops publishing; throws what stopped the load early, if anything did. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.failure !== undefined) throw this.failure;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const b = this.gen.next();
      assert.equal(b.hits.length, 2);
      for (let attempt = 1; ; attempt++) {
        try {
          const ack = await this.js.publish(b.subject, b.bytes, { msgID: b.msgId, timeout: 2000 });
          this.lastSeq.set(b.partition, Math.max(ack.seq, this.lastSeq.get(b.partition) ?? 0));
          break;
        } catch (err) {
          // Only a server outage excuses a failure; a minute of them is a broken test setup.
          if (attempt > 120) throw err;
          this.retries++;
          await sleep(250);
        }
      }
      this.batches++;
      this.partitionOf.set(b.container, b.partition);
      const h = this.expected.get(b.container) ?? [];
      h.push(...b.hits);
      this.expected.set(b.container, h);
      await sleep(this.intervalMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ownership, as the leases bucket shows it

/** Per partition, the owner of its unexpired lease, if any. */
type Owners = (string | undefined)[];

interface Leases {
  readonly owners: Owners;
  /** Owner and epoch of every lease: a lease given up and taken again changes it, even by the same worker. */
  readonly fingerprint: string;
}

const LEASES_STREAM = `KV_${DEFAULT_LEASES_BUCKET}`;

/**
 * The leases as the bucket's stream leader has them: not KV gets, which any replica answers (one
 * catching up after a restart with old values).
 */
async function readLeases(jsm: JetStreamManager): Promise<Leases> {
  const now = Date.now();
  const leases = await Promise.all(
    Array.from({ length: PARTITIONS }, async (_, p) => {
      const m = await jsm.streams.getMessage(LEASES_STREAM, { last_by_subj: `$KV.${DEFAULT_LEASES_BUCKET}.p.${p}` });
      if (!m || (m.header?.get('KV-Operation') || 'PUT') !== 'PUT') return undefined;
      const v = m.json<{ owner?: unknown; expires?: unknown; epoch?: unknown }>();
      return typeof v.owner === 'string' && typeof v.expires === 'number' && v.expires > now ? { owner: v.owner, epoch: v.epoch } : undefined;
    }),
  );
  return { owners: leases.map((l) => l?.owner), fingerprint: leases.map((l) => (l ? `${l.owner}#${String(l.epoch)}` : '-')).join(' ') };
}

async function readOwners(jsm: JetStreamManager): Promise<Owners> {
  return (await readLeases(jsm)).owners;
}

function describeOwners(owners: Owners, workers: readonly Worker[]): string {
  const name = (id: string | undefined): string => {
    const i = workers.findIndex((w) => w.id === id);
    return i >= 0 ? `w${i}` : (id ?? '-');
  };
  return owners.map((o, p) => `${p}:${name(o)}`).join(' ');
}

/** Every partition leased to a live worker, and every live worker holding some. */
function complete(owners: Owners, live: ReadonlySet<string>): boolean {
  return owners.every((o) => o !== undefined && live.has(o)) && [...live].every((id) => owners.includes(id));
}

/**
 * Samples ownership every 100 ms and keeps the times it was incomplete or had just changed, so a
 * disturbance anywhere in a stretch (not only at its start) is seen and timed.
 */
class OwnershipWatch {
  readonly unsettled: number[] = [];
  /** Reads that failed (the test's own connection moving to another server): they tell nothing. */
  failedReads = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(jsm: JetStreamManager, live: readonly Worker[]) {
    const ids = new Set(live.map((w) => w.id));
    this.loop = (async () => {
      let previous: string | undefined;
      while (this.running) {
        const at = Date.now();
        const leases = await readLeases(jsm).catch(() => undefined);
        if (leases === undefined) this.failedReads++;
        else {
          if (!complete(leases.owners, ids) || (previous !== undefined && leases.fingerprint !== previous)) this.unsettled.push(at);
          previous = leases.fingerprint;
        }
        await sleep(100);
      }
    })();
  }

  /**
   * For each change (a time), how long ownership took to settle after it: unsettled samples less
   * than STABLE_MS apart form one disturbance, blamed on the last change before it began.
   */
  settleTimes(changes: readonly number[]): number[] {
    const took = changes.map(() => 0);
    const episodes: { start: number; end: number }[] = [];
    for (const at of this.unsettled) {
      const last = episodes[episodes.length - 1];
      if (last && at - last.end < STABLE_MS) last.end = at;
      else episodes.push({ start: at, end: at });
    }
    for (const ep of episodes) {
      const i = changes.reduce((best, c, k) => (c <= ep.start ? k : best), 0);
      took[i] = Math.max(took[i]!, ep.end + 100 - changes[i]!);
    }
    return took;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/**
 * Waits until every partition is leased to a live worker and every live worker holds some, with
 * no lease changing hands or taken again for STABLE_MS (a rebalance moves leases every renewal
 * period, so a quiet stretch that long means it is done); returns the ms from `since` to the start
 * of that stretch.
 */
async function settle(jsm: JetStreamManager, live: readonly Worker[], since: number): Promise<number> {
  const ids = new Set(live.map((w) => w.id));
  let last = 'never read';
  let stable: { fingerprint: string; since: number } | undefined;
  const deadline = since + SETTLE_LIMIT_MS + STABLE_MS + 10_000;
  while (Date.now() < deadline) {
    const at = Date.now();
    let leases: Leases | undefined;
    try {
      leases = await readLeases(jsm);
    } catch {
      leases = undefined; // a server in the middle of a restart: not settled, read again
    }
    if (leases) last = describeOwners(leases.owners, live);
    if (leases === undefined || !complete(leases.owners, ids)) stable = undefined;
    else if (stable?.fingerprint !== leases.fingerprint) stable = { fingerprint: leases.fingerprint, since: at };
    else if (Date.now() - stable.since >= STABLE_MS) return stable.since - since;
    await sleep(100);
  }
  throw new Error(`ownership did not settle on ${ids.size} workers within ${Date.now() - since} ms; last seen ${last}`);
}

// ---------------------------------------------------------------------------------------------
// The end state: every alert once and in order, every partition consumed to its last batch

interface StoredAlert {
  readonly msgId: string | undefined;
  readonly uuid: string;
  readonly container: string;
  readonly num: number;
}

async function syscallAlertCount(jsm: JetStreamManager): Promise<number> {
  const info = await jsm.streams.info(ALERTS_STREAM, { subjects_filter: 'harrier.alerts.syscall.>' });
  return Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
}

/** Every syscall alert in ALERTS, in stream order. */
async function readAlerts(js: JetStreamClient, total: number): Promise<StoredAlert[]> {
  const out: StoredAlert[] = [];
  if (total === 0) return out;
  const c = await js.consumers.get(ALERTS_STREAM, { filter_subjects: 'harrier.alerts.syscall.>' });
  const it = await c.consume({ max_messages: 1000 });
  const timer = setTimeout(() => it.stop(), 30_000);
  for await (const m of it) {
    const j = m.json<{ uuid: string; output_fields: Record<string, unknown> }>();
    out.push({ msgId: m.headers?.get('Nats-Msg-Id'), uuid: j.uuid, container: String(j.output_fields['container.id']), num: Number(j.output_fields['evt.num']) });
    if (out.length === total) break;
  }
  clearTimeout(timer);
  return out;
}

/** Waits for the expected number of alerts (and a little longer, so a late duplicate would show). */
async function waitForAlerts(jsm: JetStreamManager, expected: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    n = await syscallAlertCount(jsm).catch(() => n);
    if (n >= expected) break;
    await sleep(250);
  }
  await sleep(1000);
  return syscallAlertCount(jsm);
}

/**
 * When ALERTS holds fewer alerts than expected: which are missing (container, partition, evt.num),
 * whether EVENTS still holds every batch, and where each affected partition's consumer stands. A
 * shortfall is then traceable to the stream or to the workers.
 */
async function shortfall(js: JetStreamClient, jsm: JetStreamManager, load: SteadyLoad, stored: number): Promise<string> {
  const lines = [`${load.alerts} alerts expected in ALERTS, ${stored} stored`];
  try {
    const events = (await jsm.streams.info(EVENTS_STREAM)).state.messages;
    lines.push(`EVENTS holds ${events} of the ${load.batches} batches published (acknowledged)`);
    const seen = new Map<string, Set<number>>();
    for (const a of await readAlerts(js, stored)) seen.set(a.container, (seen.get(a.container) ?? new Set()).add(a.num));
    const partitions = new Set<number>();
    for (const [c, nums] of load.expected) {
      const missing = nums.filter((n) => !seen.get(c)?.has(n));
      if (missing.length === 0) continue;
      const p = load.partitionOf.get(c)!;
      partitions.add(p);
      lines.push(`container ${c} (partition ${p}): ${missing.length} missing, evt.num ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
    }
    for await (const ci of jsm.consumers.list(EVENTS_STREAM)) {
      const p = [...partitions].find((x) => ci.name.startsWith(consumerPrefix(x)));
      if (p === undefined) continue;
      lines.push(`partition ${p} consumer ${ci.name}: pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, redelivered ${ci.num_redelivered}, ack floor ${ci.ack_floor.stream_seq}, start ${ci.config.opt_start_seq ?? 1}, last batch ${load.lastSeq.get(p) ?? 0}`);
    }
  } catch (err) {
    lines.push(`(diagnosis failed: ${String(err)})`);
  }
  lines.push("each worker's totals (alerts stored, duplicates, retries) are its log's last line, msg 'stopped'");
  return lines.join('\n');
}

function checkAlerts(alerts: readonly StoredAlert[], load: SteadyLoad): void {
  assert.equal(alerts.length, load.alerts, `${load.alerts} alerts expected, ${alerts.length} stored`);
  assert.equal(new Set(alerts.map((a) => a.uuid)).size, alerts.length, 'every alert id once');
  assert.equal(new Set(alerts.map((a) => a.msgId)).size, alerts.length, 'every Nats-Msg-Id once');
  const seen = new Map<string, number[]>();
  for (const a of alerts) seen.set(a.container, [...(seen.get(a.container) ?? []), a.num]);
  assert.equal(seen.size, load.expected.size, 'alerts of every container');
  for (const [c, nums] of load.expected) assert.deepEqual(seen.get(c), nums, `container ${c}: every alert once, in event order`);
}

/** Each partition's current consumer has delivered and acknowledged everything up to its last batch. */
async function checkConsumers(jsm: JetStreamManager, load: SteadyLoad): Promise<void> {
  const all: ConsumerInfo[] = [];
  for await (const ci of jsm.consumers.list(EVENTS_STREAM)) all.push(ci);
  for (let p = 0; p < PARTITIONS; p++) {
    const mine = all.filter((c) => c.name.startsWith(consumerPrefix(p)));
    // A takeover removes the previous owners' consumers, so one is left, the current owner's.
    assert.equal(mine.length, 1, `partition ${p}: one consumer, found ${mine.map((c) => c.name).join(', ') || 'none'}`);
    const c = mine[0]!;
    assert.equal(c.num_pending, 0, `partition ${p}: nothing left to deliver`);
    assert.equal(c.num_ack_pending, 0, `partition ${p}: nothing unacknowledged`);
    // A consumer that has acknowledged nothing yet reports ack floor 0 (clustered ones do), and
    // stands right before its start sequence, as the engine reads it when it takes a partition over.
    const floor = c.ack_floor.stream_seq > 0 ? c.ack_floor.stream_seq : (c.config.opt_start_seq ?? 1) - 1;
    assert.equal(floor, load.lastSeq.get(p) ?? 0, `partition ${p}: acknowledged up to its last batch`);
  }
}

async function waitCaughtUp(jsm: JetStreamManager, load: SteadyLoad, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await checkConsumers(jsm, load);
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
    }
  }
}

// ---------------------------------------------------------------------------------------------

interface Env {
  readonly dir: string;
  readonly workers: Worker[];
  nc?: NatsConnection;
  load?: SteadyLoad;
}

function env(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-engine-e2e-'));
  writeFileSync(join(dir, 'rules.yaml'), LOAD_RULES);
  return { dir, workers: [] };
}

async function cleanup(t: TestContext, e: Env, passed: boolean): Promise<void> {
  await e.load?.stop().catch(() => undefined);
  await Promise.all(e.workers.map((w) => killWorker(w, 'SIGTERM')));
  await e.nc?.close().catch(() => undefined);
  // The workers' and servers' logs explain a failure; keep them then (or always, with KEEP_ENGINE_TEST_LOGS=1).
  if (passed && !process.env['KEEP_ENGINE_TEST_LOGS']) rmSync(e.dir, { recursive: true, force: true });
  else t.diagnostic(`worker and server logs kept in ${e.dir}`);
}

function report(t: TestContext, text: string): void {
  t.diagnostic(text);
}

test('engine workers on one nats-server: 1 then 3 workers, one SIGKILLed and added back; every alert once, in order; ownership settles within 10 s', { skip, timeout: 150_000 }, async (t) => {
  const e = env();
  const server = await startNatsServer({ logDir: e.dir });
  let passed = false;
  try {
    const url = ['-o', `nats.url=${server.url}`];
    e.nc = await connect({ servers: server.url });
    const js = jetstream(e.nc);
    const jsm = await jetstreamManager(e.nc);
    await ensureEventsStream(jsm);
    const load = (e.load = new SteadyLoad(js, 15));
    load.start();

    const a = await startWorker(e.dir, 'a', url);
    e.workers.push(a);
    const first = await settle(jsm, [a], a.startedAt);
    report(t, `1 worker: settled ${first} ms after it started (${a.startedAt - a.spawnedAt} ms process start)`);
    assert.ok(first <= SETTLE_LIMIT_MS, `one worker took ${first} ms to own every partition`);
    await sleep(2000);

    const [b, c] = await Promise.all([startWorker(e.dir, 'b', url), startWorker(e.dir, 'c', url)]);
    e.workers.push(b, c);
    const joined = await settle(jsm, [a, b, c], Math.max(b.startedAt, c.startedAt));
    report(t, `2 workers joined: settled ${joined} ms after the later one started`);
    assert.ok(joined <= SETTLE_LIMIT_MS, `ownership took ${joined} ms to settle after two workers joined`);
    await sleep(2000);

    // SIGKILL the worker holding the most partitions: no lease is released, they must expire.
    const owners = await readOwners(jsm);
    const victim = [a, b, c].reduce((x, y) => (owners.filter((o) => o === y.id).length > owners.filter((o) => o === x.id).length ? y : x));
    const held = owners.filter((o) => o === victim.id).length;
    const killedAt = Date.now();
    await killWorker(victim, 'SIGKILL');
    const survivors = [a, b, c].filter((w) => w !== victim);
    const afterKill = await settle(jsm, survivors, killedAt);
    report(t, `SIGKILL of a worker holding ${held} partitions: settled on the 2 survivors ${afterKill} ms after the kill`);
    assert.ok(afterKill <= SETTLE_LIMIT_MS, `ownership took ${afterKill} ms to settle after a SIGKILL`);
    await sleep(2000);

    const back = await startWorker(e.dir, 'back', url);
    e.workers.push(back);
    const rejoined = await settle(jsm, [...survivors, back], back.startedAt);
    report(t, `the killed worker added back: settled ${rejoined} ms after it started (${back.startedAt - back.spawnedAt} ms process start)`);
    assert.ok(rejoined <= SETTLE_LIMIT_MS, `ownership took ${rejoined} ms to settle after a worker came back`);
    await sleep(2000);

    await load.stop();
    report(t, `load: ${load.batches} batches, ${load.batches * 20} events, ${load.alerts} expected alerts, ${load.retries} publish retries`);
    assert.ok(load.batches >= 500, `a steady load ran throughout (${load.batches} batches)`);
    const stored = await waitForAlerts(jsm, load.alerts, 30_000);
    if (stored !== load.alerts) assert.fail(await shortfall(js, jsm, load, stored));
    checkAlerts(await readAlerts(js, stored), load);
    await waitCaughtUp(jsm, load, 10_000);
    passed = true;
  } finally {
    await cleanup(t, e, passed);
    await server.dispose();
  }
});

test('engine workers on a 3-server cluster with R3 streams: servers SIGKILLed mid-run and restarted; every alert once, in order; ownership settles within 10 s', { skip, timeout: 150_000 }, async (t) => {
  const e = env();
  const cluster = await startNatsCluster(3, { logDir: e.dir });
  let passed = false;
  try {
    const servers = ['-o', `nats.servers=${JSON.stringify(cluster.urls)}`, '-o', 'collector.events_stream.replicas=3'];
    e.nc = await connect({ servers: [...cluster.urls] });
    const js = jetstream(e.nc);
    // The JetStream meta leader is elected after the servers are up: retry until it answers.
    let jsm: JetStreamManager | undefined;
    for (let tries = 0; !jsm; tries++) {
      try {
        const m = await jetstreamManager(e.nc, { timeout: 2000 });
        await ensureEventsStream(m, { replicas: 3 });
        jsm = m;
      } catch (err) {
        if (tries >= 20) throw err;
        await sleep(500);
      }
    }
    const load = (e.load = new SteadyLoad(js, 15));
    load.start();

    const workers = await Promise.all(['a', 'b', 'c'].map((n) => startWorker(e.dir, n, servers)));
    e.workers.push(...workers);
    const first = await settle(jsm, workers, Math.max(...workers.map((w) => w.startedAt)));
    report(t, `3 workers: settled ${first} ms after the last started`);
    assert.ok(first <= SETTLE_LIMIT_MS, `ownership took ${first} ms to settle`);
    const replicas = (await jsm.streams.info(ALERTS_STREAM)).config.num_replicas;
    assert.equal(replicas, 3, 'the workers created ALERTS with 3 replicas');
    assert.equal((await jsm.streams.info(EVENTS_STREAM)).config.num_replicas, 3);
    await sleep(3000);

    // Two outages: the server leading ALERTS, where every worker stores its alerts (stores fail
    // and are retried through a leader election), then the one leading the leases bucket (no lease
    // can be renewed until its election ends). SIGKILL: no lame-duck mode, no leadership hand-off.
    for (const [what, stream] of [['ALERTS', ALERTS_STREAM], ['the leases bucket', LEASES_STREAM]] as const) {
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      const victim = cluster.servers.find((s) => s.name === leader) ?? cluster.servers[0]!;
      const before = { batches: load.batches, retries: load.retries };
      // Ownership is watched from the kill on (the leases bucket keeps a quorum without the server).
      const watch = new OwnershipWatch(jsm, workers);
      await victim.kill();
      const killedAt = Date.now();
      await sleep(5000);
      await victim.start();
      const restartedAt = Date.now();
      await settle(jsm, workers, restartedAt);
      await sleep(3000);
      await watch.stop();
      const [killSettle, restartSettle] = watch.settleTimes([killedAt, restartedAt]) as [number, number];
      report(t, `SIGKILL of ${victim.name} (leading ${what}), restarted ${restartedAt - killedAt} ms later: ${load.batches - before.batches} batches published meanwhile (${load.retries - before.retries} publish retries); ownership settled ${killSettle} ms after the kill, ${restartSettle} ms after the restart (0: unchanged; ${watch.failedReads} lease reads failed)`);
      assert.ok(killSettle <= SETTLE_LIMIT_MS, `ownership took ${killSettle} ms to settle after ${victim.name} was killed`);
      assert.ok(restartSettle <= SETTLE_LIMIT_MS, `ownership took ${restartSettle} ms to settle after ${victim.name} restarted`);
    }

    await load.stop();
    report(t, `load: ${load.batches} batches, ${load.batches * 20} events, ${load.alerts} expected alerts, ${load.retries} publish retries`);
    assert.ok(load.batches >= 300, `a steady load ran throughout (${load.batches} batches)`);
    const stored = await waitForAlerts(jsm, load.alerts, 45_000);
    if (stored !== load.alerts) assert.fail(await shortfall(js, jsm, load, stored));
    checkAlerts(await readAlerts(js, stored), load);
    await waitCaughtUp(jsm, load, 15_000);
    passed = true;
  } finally {
    await cleanup(t, e, passed);
    await cluster.dispose();
  }
});

test('harrier engine started before NATS waits for it, then serves health on Falco\'s k8s_healthz_endpoint too, and exits 0 on SIGTERM', { skip, timeout: 90_000 }, async () => {
  const server = await startNatsServer();
  await server.stop();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-engine-wait-'));
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, LOAD_RULES);
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'engine', '-r', rules, '-o', `nats.url=${server.url}`, '-o', 'webserver.listen_port=0', '-o', 'webserver.k8s_healthz_endpoint=/ready'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const until = async (what: string, cond: () => boolean, ms = 30_000): Promise<void> => {
    for (const end = Date.now() + ms; !cond(); await sleep(50)) if (Date.now() > end || child.exitCode !== null) assert.fail(`${what}:\n${out}`);
  };
  try {
    await until('no waiting warning', () => out.includes(`cannot connect to NATS at ${server.url}`) && out.includes('waiting for it'));
    await sleep(1500);
    assert.equal(child.exitCode, null, out);
    await server.start();
    await until('no connection once NATS is up', () => out.includes('NATS is reachable now'));
    await until('no health server', () => /"port":(\d+),"msg":"serving \/healthz/.test(out));
    const port = Number(/"port":(\d+),"msg":"serving \/healthz/.exec(out)![1]);
    assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
