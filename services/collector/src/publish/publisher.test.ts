// The publisher against a real nats-server with JetStream (each test its own server, random
// loopback port, temp store): subjects, decoding, duplicates, linger, size limit, back-pressure
// through a server outage, statistics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { DecodedBatch, partitionOf, type EnrichedEvent, type ProcessInfo } from '@harrier/batch';
import { startNatsServer, natsServerSkip, type TestNatsServer } from '@harrier/kit/testing';
import { Registry } from 'prom-client';
import { EventPublisher, type EventPublisherOptions } from './publisher.js';
import { ensureEventsStream, EVENTS_STREAM } from './stream.js';
import { registerPublisherMetrics } from './metrics.js';
import { StatsReporter, statsMessage, statsSubject, type CollectorStatsMessage } from './stats.js';

const skip = natsServerSkip;

interface Env {
  server: TestNatsServer;
  nc: NatsConnection;
  jsm: JetStreamManager;
  done(): Promise<void>;
}

async function env(): Promise<Env> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const jsm = await jetstreamManager(nc);
  await ensureEventsStream(jsm);
  return {
    server,
    nc,
    jsm,
    done: async () => {
      await nc.close().catch(() => undefined);
      await server.dispose();
    },
  };
}

const shell: ProcessInfo = { pid: 100, tid: 100, ppid: 1, name: 'bash', exe: '/bin/bash', args: ['-c', 'cat /etc/shadow'], container: { id: 'c0ffee123456', name: 'web' } };
const host: ProcessInfo = { pid: 7, tid: 7, ppid: 1, name: 'sshd' };

function ev(i: number, process: ProcessInfo = shell): EnrichedEvent {
  return { num: i, ts: 1_700_000_000_000_000_000n + BigInt(i), tid: process.tid, type: i % 2 ? 'openat' : 'read', enter: false, res: i, process, args: [{ name: 'fd', text: String(i) }] };
}

function opts(extra: Partial<EventPublisherOptions> = {}): EventPublisherOptions {
  return { collectorId: 'c1', node: 'n1', partitions: 8, batchMaxEvents: 100, batchLingerMs: 5, bufferEvents: 10_000, publishTimeoutMs: 1000, retryMinMs: 20, retryMaxMs: 200, ...extra };
}

/** Every message of the EVENTS stream, in stream order. */
async function readAll(jsm: JetStreamManager): Promise<{ subject: string; msgId: string | undefined; batch: DecodedBatch }[]> {
  const info = await jsm.streams.info(EVENTS_STREAM);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (!m) continue;
    out.push({ subject: m.subject, msgId: m.header?.get('Nats-Msg-Id'), batch: DecodedBatch.decode(m.data) });
  }
  return out;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('batches land on harrier.events.<partition>.<source> and decode to the same events', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts({ firstSequence: 1 }));
    for (let i = 0; i < 250; i++) assert.ok(p.add(ev(i), 'c0ffee123456'));
    for (let i = 0; i < 3; i++) assert.ok(p.add(ev(1000 + i, host), 'host:n1'));
    assert.ok(p.add({ ...ev(2000, host), type: 'k8s', json: '{"kind":"Event"}' }, 'kube-system', 'k8s_audit'));
    await p.flush();
    const msgs = await readAll(e.jsm);
    const pc = partitionOf('c0ffee123456', 8);
    const ph = partitionOf('host:n1', 8);
    const pk = partitionOf('kube-system', 8);
    const container = msgs.filter((m) => m.subject === `harrier.events.${pc}.syscall`);
    assert.deepEqual(container.map((m) => m.batch.rows), [100, 100, 50], 'size limit closes batches at 100, linger the rest');
    const rows = container.flatMap((m) => Array.from({ length: m.batch.rows }, (_, r) => ({ m, r })));
    rows.forEach(({ m, r }, i) => {
      const b = m.batch;
      assert.equal(b.str(b.events.type[r]!), i % 2 ? 'openat' : 'read');
      assert.equal(b.events.num[r], i);
      assert.equal(b.events.res[r], i);
      assert.equal(b.msg.processes[b.events.process[r]! - 1]!.pid, 100);
      assert.equal(b.str(b.msg.containers[0]!.id), 'c0ffee123456');
      assert.equal(b.str(b.events.argText[r]!), String(i));
    });
    assert.equal(container[0]!.batch.msg.collectorId, 'c1');
    assert.equal(container[0]!.batch.msg.node, 'n1');
    const hostMsgs = msgs.filter((m) => m.subject === `harrier.events.${ph}.syscall`);
    assert.equal(hostMsgs.reduce((n, m) => n + m.batch.rows, 0), 3);
    const audit = msgs.filter((m) => m.subject === `harrier.events.${pk}.k8s_audit`);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.batch.msg.source, 'k8s_audit');
    // Nats-Msg-Id = <collector>-<sequence>; sequences are unique and increase.
    for (const m of msgs) assert.equal(m.msgId, `c1-${m.batch.msg.sequence}`);
    const seqs = msgs.map((m) => m.batch.msg.sequence).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: msgs.length }, (_, i) => i + 1));
    const s = p.stats();
    assert.equal(s.eventsIn, 254);
    assert.equal(s.eventsPublished, 254);
    assert.equal(s.batchesPublished, msgs.length);
    assert.equal(s.queueEvents, 0);
    assert.deepEqual(s.drops, {});
    await p.close();
  } finally {
    await e.done();
  }
});

test('the stream drops a second publish with the same Nats-Msg-Id', { skip }, async () => {
  const e = await env();
  try {
    // Two publishers with the same id and first sequence stand for a retry of a batch that landed.
    const a = new EventPublisher(e.nc, opts({ firstSequence: 42 }));
    const b = new EventPublisher(e.nc, opts({ firstSequence: 42 }));
    a.add(ev(1), 'k');
    await a.flush();
    b.add(ev(2), 'k');
    await b.flush();
    const info = await e.jsm.streams.info(EVENTS_STREAM);
    assert.equal(info.state.messages, 1);
    assert.equal(b.stats().duplicates, 1);
    assert.equal(b.stats().batchesPublished, 1, 'a duplicate ack still acknowledges the batch');
    const [m] = await readAll(e.jsm);
    assert.equal(m!.batch.events.num[0], 1, 'the first one stays');
    await a.close();
    await b.close();
  } finally {
    await e.done();
  }
});

/** An event whose argument carries `len` characters. */
function longEv(i: number, len: number): EnrichedEvent {
  return { ...ev(i), args: [{ name: 'name', text: `/tmp/${String(i).padStart(4, '0')}-${'x'.repeat(len)}` }] };
}

test('a batch closes at about batchMaxBytes (and at half the server\'s max_payload at most), so long command lines never make a message too big', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts({ batchMaxEvents: 1000, batchMaxBytes: 8192 }));
    for (let i = 0; i < 200; i++) p.add(longEv(i, 300), 'k');
    await p.flush();
    const msgs = await readAll(e.jsm);
    assert.ok(msgs.length >= 8, `${msgs.length} batches for about 64 KB of text`);
    assert.deepEqual(msgs.flatMap((m) => [...m.batch.events.num]), Array.from({ length: 200 }, (_, k) => k));
    const sizes = await rawSizes(e.jsm);
    assert.ok(sizes.every((n) => n <= 8192), `batch sizes ${sizes.join(', ')}`);
    // The server's limit caps any larger setting: 1 MiB max_payload, so batches of at most 512 KiB.
    const big = new EventPublisher(e.nc, opts({ batchMaxEvents: 100_000, batchMaxBytes: 64 * 1024 * 1024 }));
    for (let i = 0; i < 3000; i++) big.add(longEv(10_000 + i, 1000), 'k');
    await big.flush();
    const all = await rawSizes(e.jsm);
    assert.ok(all.every((n) => n <= 512 * 1024), `largest batch ${Math.max(...all)} bytes`);
    assert.equal(big.stats().eventsPublished, 3000);
    await p.close();
    await big.close();
  } finally {
    await e.done();
  }
});

/** The encoded size of every message in EVENTS. */
async function rawSizes(jsm: JetStreamManager): Promise<number[]> {
  const info = await jsm.streams.info(EVENTS_STREAM);
  const out: number[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (m) out.push(m.data.length);
  }
  return out;
}

test('linger closes a small batch without further events', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts({ batchMaxEvents: 1024, batchLingerMs: 20 }));
    p.add(ev(1), 'k');
    p.add(ev(2), 'k');
    // No flush: only the linger timer can close this batch.
    await until('the lingering batch', async () => (await e.jsm.streams.info(EVENTS_STREAM)).state.messages === 1, 5000);
    const [m] = await readAll(e.jsm);
    assert.equal(m!.batch.rows, 2);
    assert.equal(p.stats().queueEvents, 0);
    await p.close();
  } finally {
    await e.done();
  }
});

test('back-pressure: with NATS down the queue fills, add refuses and counts; after restart every accepted event arrives', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts({ bufferEvents: 500, batchMaxEvents: 50, publishTimeoutMs: 300 }));
    for (let i = 0; i < 40; i++) p.add(ev(i), 'k');
    await p.flush();
    await e.server.stop();
    let accepted = 40;
    let paused = false;
    let i = 40;
    for (; i < 10_000; i++) {
      if (p.shouldPause) paused = true;
      if (!p.add(ev(i), 'k')) break;
      accepted++;
      // Let timers and the client notice the outage, as a real source yields between reads.
      if (i % 50 === 0) await sleep(1);
    }
    assert.ok(paused, 'shouldPause turned on before the queue was full');
    assert.equal(accepted, 540, 'the queue holds bufferEvents unacknowledged events');
    for (let k = 0; k < 9; k++) assert.equal(p.add(ev(i + 1 + k), 'k'), false);
    const down = p.stats();
    assert.equal(down.drops['publish_queue'], 10);
    assert.equal(down.queueEvents, 500);
    let ready = false;
    void p.ready().then(() => (ready = true));
    await sleep(700);
    assert.equal(ready, false, 'ready() waits while nothing can be sent');
    assert.ok(p.stats().publishErrors > 0 || !p.stats().natsConnected);
    await e.server.start();
    await until('the queued batches to be acknowledged', () => p.stats().queueEvents === 0, 15_000);
    assert.equal(ready, true);
    const msgs = await readAll(e.jsm);
    const nums = msgs.flatMap((m) => [...m.batch.events.num]).sort((a, b) => a - b);
    assert.equal(nums.length, 540, 'every accepted event is in the stream exactly once');
    assert.deepEqual(nums, Array.from({ length: 540 }, (_, k) => k));
    const s = p.stats();
    assert.equal(s.eventsPublished, 540);
    assert.equal(s.drops['publish_queue'], 10);
    await p.close();
  } finally {
    await e.done();
  }
});

test('a server crash under load: every partition\'s batches are stored in sequence order, every event once', { skip, timeout: 60_000 }, async () => {
  const e = await env();
  try {
    // Many batches in flight when the server dies: some are lost with the connection, later ones
    // wait in the queue. The lost ones must go out again before the queue does, or a partition's
    // batches are stored out of order (and evaluated out of order by the engine).
    const p = new EventPublisher(e.nc, opts({ batchMaxEvents: 20, maxInflight: 32, publishTimeoutMs: 2000, bufferEvents: 50_000 }));
    const keys = ['ka', 'kb', 'kc', 'kd'];
    let n = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        for (let k = 0; k < 40; k++) {
          const key = keys[n % keys.length]!;
          if (!p.add(ev(n), key)) throw new Error(`event ${n} refused`);
          n++;
        }
        await sleep(1);
      }
    })();
    await until('batches to flow', () => p.stats().batchesPublished > 50);
    await e.server.kill();
    await sleep(300);
    await e.server.start();
    await until('publishing to resume', () => p.stats().batchesPublished > 0 && p.stats().natsConnected, 15_000);
    const resumedAt = p.stats().batchesPublished;
    await until('more batches after the restart', () => p.stats().batchesPublished > resumedAt + 50, 15_000);
    feeding = false;
    await feed;
    await p.flush();
    const msgs = await readAll(e.jsm);
    const nums = msgs.flatMap((m) => [...m.batch.events.num]).sort((a, b) => a - b);
    assert.equal(nums.length, n, 'every accepted event is in the stream');
    assert.deepEqual(nums, Array.from({ length: n }, (_, k) => k), 'and only once');
    const lastSeq = new Map<string, number>();
    for (const m of msgs) {
      const seq = Number(m.msgId!.slice(m.msgId!.lastIndexOf('-') + 1));
      const prev = lastSeq.get(m.subject) ?? -1;
      assert.ok(seq > prev, `${m.subject}: batch ${seq} stored after batch ${prev}`);
      lastSeq.set(m.subject, seq);
    }
    assert.equal(lastSeq.size, new Set(keys.map((k) => partitionOf(k, 8))).size);
    await p.close();
  } finally {
    await e.done();
  }
});

test('a batch the stream refuses for good (over its max_msg_size) is dropped and counted at publish_rejected, not retried forever; the batches after it go on', { skip }, async () => {
  const e = await env();
  try {
    const info = await e.jsm.streams.info(EVENTS_STREAM);
    await e.jsm.streams.update(EVENTS_STREAM, { ...info.config, max_msg_size: 4096 });
    const p = new EventPublisher(e.nc, opts({ batchMaxEvents: 10, batchMaxBytes: 1_000_000 }));
    // One batch of 10 events with 1 KiB arguments each: over 4 KiB.
    for (let i = 0; i < 10; i++) p.add({ ...ev(i), args: [{ name: 'data', text: `${i}${'x'.repeat(1024)}` }] }, 'k');
    // Then small batches.
    for (let i = 10; i < 40; i++) p.add(ev(i), 'k');
    await until('every event acknowledged or dropped', () => p.stats().queueEvents === 0, 10_000);
    const s = p.stats();
    assert.equal(s.drops['publish_rejected'], 10);
    assert.equal(s.eventsPublished, 30);
    assert.equal(s.retries, 0, 'the refused batch was not sent again');
    assert.match(s.lastError ?? '', /maximum|size|exceed/i);
    const nums = (await readAll(e.jsm)).flatMap((m) => [...m.batch.events.num]).sort((a, b) => a - b);
    assert.deepEqual(nums, Array.from({ length: 30 }, (_, k) => k + 10));
    await p.close();
  } finally {
    await e.done();
  }
});

test('a batch of text decoded from invalid UTF-8 (U+FFFD, 3 bytes each) closes by its encoded size and fits in max_payload', { skip }, async () => {
  const e = await env();
  try {
    const maxPayload = e.nc.info!.max_payload;
    const p = new EventPublisher(e.nc, opts({ batchMaxEvents: 10_000, batchMaxBytes: maxPayload }));
    // What execve with argv and environment of 0xff bytes gives: every byte a replacement character.
    for (let i = 0; i < 60; i++) p.add({ ...ev(i), args: [{ name: 'args', text: `${i}${'\uFFFD'.repeat(16_000)}` }] }, 'k');
    await until('every event acknowledged', () => p.stats().queueEvents === 0, 10_000);
    const s = p.stats();
    assert.deepEqual(s.drops, {});
    assert.equal(s.eventsPublished, 60);
    assert.ok(s.batchesPublished >= 4, `closed by encoded size: ${s.batchesPublished} batches`);
    await p.close();
  } finally {
    await e.done();
  }
});

test('close counts what cannot be delivered as dropped at publish_shutdown', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts({ publishTimeoutMs: 200 }));
    await e.server.stop();
    for (let i = 0; i < 30; i++) p.add(ev(i), 'k');
    await p.close(500);
    const s = p.stats();
    assert.equal(s.drops['publish_shutdown'], 30);
    assert.equal(s.queueEvents, 0);
    assert.equal(p.add(ev(99), 'k'), false);
    assert.equal(p.stats().drops['publish_closed'], 1);
  } finally {
    await e.done();
  }
});

test('statistics: plain object, JSON message on harrier.stats.collector.<id>, prom-client metrics', { skip }, async () => {
  const e = await env();
  try {
    const p = new EventPublisher(e.nc, opts());
    const sub = e.nc.subscribe(statsSubject('c1'), { max: 1 });
    const reporter = new StatsReporter(e.nc, 'c1', 100, () => statsMessage(p.stats(), { collectorId: 'c1', node: 'n1', startedAt: Date.now() - 5, source: { name: 'test', state: 'running' } }));
    for (let i = 0; i < 10; i++) p.add(ev(i), 'k');
    p.recordSourceDrops('ring_buffer', 7);
    p.recordSourceDrops('ring_buffer', 12);
    p.recordSourceDrops('ring_buffer', 3); // the probe restarted: its counter starts over
    await p.flush();
    reporter.start();
    let msg: CollectorStatsMessage | undefined;
    for await (const m of sub) msg = m.json<CollectorStatsMessage>();
    reporter.stop();
    assert.ok(msg);
    assert.equal(msg.type, 'collector_stats');
    assert.equal(msg.collector_id, 'c1');
    assert.equal(msg.events_in, 10);
    assert.equal(msg.events_published, 10);
    assert.deepEqual(msg.source_drops, { ring_buffer: 15 });
    assert.deepEqual(msg.drops, {});
    assert.equal(msg.nats_connected, true);
    const registry = new Registry();
    registerPublisherMetrics(registry, p);
    const text = await registry.metrics();
    assert.match(text, /^harrier_collector_events_in_total 10$/m);
    assert.match(text, /^harrier_collector_batches_published_total 1$/m);
    assert.match(text, /^harrier_collector_source_dropped_events_total\{place="ring_buffer"\} 15$/m);
    assert.match(text, /^harrier_collector_nats_connected 1$/m);
    await p.close();
  } finally {
    await e.done();
  }
});

test('ensureEventsStream is idempotent and updates an existing stream', { skip }, async () => {
  const e = await env();
  try {
    const again = await ensureEventsStream(e.jsm);
    assert.equal(again.config.duplicate_window, 120_000_000_000);
    assert.deepEqual(again.config.subjects, ['harrier.events.>']);
    const updated = await ensureEventsStream(e.jsm, { duplicateWindowMs: 300_000, maxBytes: 64 * 1024 * 1024 });
    assert.equal(updated.config.duplicate_window, 300_000_000_000);
    assert.equal(updated.config.max_bytes, 64 * 1024 * 1024);
    assert.equal(updated.config.storage, 'file');
  } finally {
    await e.done();
  }
});
