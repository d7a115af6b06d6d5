// A partition consumer against a real nats-server: a batch whose alerts cannot be stored, while
// the batch before it is still being stored, leaves it and everything after it unacknowledged
// (its failure reaches the chain instead of ending the process as an unhandled rejection) and is
// handled again until done; a delivery lost on its way is never acknowledged unseen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { createLogger, ensureEventsStream, EVENTS_STREAM, type NatsConnection } from '@harrier/kit';
import type { Subscription, SubscriptionOptions } from '@nats-io/transport-node';
import { natsServerSkip as skip, startNatsServer } from '@harrier/kit/testing';
import { PartitionConsumer, consumerPrefix } from './consumer.js';

test('a batch failing while the one before it is still in flight: no unhandled rejection, nothing acknowledged past it, and it is handled again, in order, until done', { skip }, async () => {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm);
    const seqs: number[] = [];
    for (let i = 1; i <= 3; i++) seqs.push((await js.publish('harrier.events.0.syscall', new Uint8Array([i]), { msgID: `b${i}` })).seq);
    const [s1, s2, s3] = seqs as [number, number, number];
    const handled: number[] = [];
    let healed = false;
    const c = new PartitionConsumer(nc, js, jsm, { partition: 0, ackWaitMs: 30_000, maxPendingBatches: 8, prefetch: 8, log: createLogger({ level: 'silent' }) }, (_p, m) => {
      handled.push(m.seq);
      // The first batch's alerts take a while; the second's fail at once (a dead letter that could
      // not be stored, say), long before the chain gets to it, and go on failing until healed.
      return m.seq === s1 ? sleep(300) : m.seq === s2 && !healed ? Promise.reject(new Error('not stored')) : Promise.resolve();
    });
    await c.start();
    await sleep(1200);
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    assert.ok(c.progress.restarts >= 1, 'the consumer was made again after the failure');
    // Every pass after the first starts again at the failed batch: the one after it is never handled ahead of it.
    assert.deepEqual(handled.slice(0, 3), seqs);
    for (let i = 3; i < handled.length; i++) assert.equal(handled[i], (i - 3) % 2 === 0 ? s2 : s3, `handled in order: ${handled.join(' ')}`);
    assert.ok((await jsm.consumers.info(EVENTS_STREAM, c.name)).ack_floor.stream_seq < s2, 'nothing acknowledged past the failed batch');

    healed = true;
    const deadline = Date.now() + 10_000;
    let floor = 0;
    while (Date.now() < deadline && (floor = (await jsm.consumers.info(EVENTS_STREAM, c.name)).ack_floor.stream_seq) !== s3) await sleep(50);
    assert.equal(floor, s3, 'once the batch is done, everything is acknowledged');
    assert.deepEqual(handled.slice(-2), [s2, s3]);
    const mine: string[] = [];
    for await (const ci of jsm.consumers.list(EVENTS_STREAM)) if (ci.name.startsWith(consumerPrefix(0))) mine.push(ci.name);
    assert.deepEqual(mine, [c.name], 'one consumer for the partition');
    await c.stop(0);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await nc.close();
    await server.dispose();
  }
});

/**
 * The connection as the consumer sees it, except that the next delivery of stream sequence `lose()`
 * never arrives (once): as when the worker's server dies with it on its way, the server counts it
 * delivered and the client never sees it. Deliveries carry their sequences in the reply subject
 * ($JS.ACK.<stream>.<consumer>.<count>.<stream seq>.<delivery seq>.<time>.<pending>).
 */
function losing(nc: NatsConnection, lose: () => number): { nc: NatsConnection; lost: number[] } {
  const lost: number[] = [];
  const wrapped = new Proxy(nc, {
    get(target, key) {
      if (key === 'subscribe') {
        return (subject: string, opts?: SubscriptionOptions): Subscription => {
          const cb = opts?.callback;
          if (!cb) return target.subscribe(subject, opts);
          return target.subscribe(subject, {
            ...opts,
            callback: (err, msg) => {
              const seq = Number(msg?.reply?.split('.')[5]);
              if (!err && seq === lose() && !lost.includes(seq)) {
                lost.push(seq);
                return;
              }
              void cb(err, msg);
            },
          });
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { nc: wrapped, lost };
}

test('a delivery lost on its way (the delivery sequence skips one): nothing past it is acknowledged, the partition goes on from the lost batch, in order', { skip }, async () => {
  const server = await startNatsServer();
  const plain = await connect({ servers: server.url });
  let toLose = 0;
  const { nc, lost } = losing(plain, () => toLose);
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(plain);
    await ensureEventsStream(jsm);
    const handled: number[] = [];
    const c = new PartitionConsumer(nc, js, jsm, { partition: 0, ackWaitMs: 30_000, maxPendingBatches: 8, prefetch: 8, log: createLogger({ level: 'silent' }) }, (_p, m) => {
      handled.push(m.seq);
      return Promise.resolve();
    });
    await c.start();
    const pub = async (i: number): Promise<number> => (await jetstream(plain).publish('harrier.events.0.syscall', new Uint8Array([i]), { msgID: `b${i}` })).seq;
    const seqs = [await pub(1)];
    const deadline = Date.now() + 10_000;
    while (handled.length < 1 && Date.now() < deadline) await sleep(20);
    toLose = seqs[0]! + 1;
    seqs.push(await pub(2), await pub(3));
    while (handled.length < 3 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(lost, [seqs[1]], 'setup: the second batch\'s delivery was lost');
    assert.deepEqual(handled, seqs, 'every batch handled once, in order, the lost one included');
    const mine: ConsumerInfo[] = [];
    for await (const ci of jsm.consumers.list(EVENTS_STREAM)) if (ci.name.startsWith(consumerPrefix(0))) mine.push(ci);
    assert.deepEqual(
      mine.map((ci) => ci.name),
      [c.name],
      'the consumer that lost a delivery is replaced, not kept beside its successor',
    );
    let floor = 0;
    while (Date.now() < deadline && (floor = (await jsm.consumers.info(EVENTS_STREAM, c.name)).ack_floor.stream_seq) !== seqs[2]) await sleep(50);
    assert.equal(floor, seqs[2], 'acknowledged up to the last batch');
    await c.stop(0);
  } finally {
    await plain.close();
    await server.dispose();
  }
});
