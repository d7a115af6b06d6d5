// A partition consumer against a real nats-server: a batch whose alerts cannot be stored, while
// the batch before it is still being stored, leaves it and everything after it unacknowledged,
// and its failure reaches the chain instead of ending the process as an unhandled rejection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createLogger, ensureEventsStream, EVENTS_STREAM } from '@harrier/kit';
import { natsServerSkip as skip, startNatsServer } from '@harrier/kit/testing';
import { PartitionConsumer } from './consumer.js';

test('a batch failing while the one before it is still in flight: no unhandled rejection, nothing acknowledged past the failure', { skip }, async () => {
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
    const c = new PartitionConsumer(nc, js, jsm, { partition: 0, ackWaitMs: 30_000, maxPendingBatches: 8, prefetch: 8, log: createLogger({ level: 'silent' }) }, (_p, m) =>
      // The first batch's alerts take a while; the second's fail at once (given up, say, once the
      // partition is being stopped), long before the chain gets to it.
      m.seq === seqs[0] ? sleep(300) : m.seq === seqs[1] ? Promise.reject(new Error('alerts not stored')) : Promise.resolve(),
    );
    await c.start();
    await sleep(800);
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    assert.equal(c.failed, true, 'the consumer saw the failure');
    const info = await jsm.consumers.info(EVENTS_STREAM, c.name);
    assert.equal(info.ack_floor.stream_seq, seqs[0], 'the first batch is acknowledged, the failed one and the one after it are not');
    await c.stop(0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await nc.close();
    await server.dispose();
  }
});
