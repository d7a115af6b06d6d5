// The collector service in-process against a real nats-server: /healthz follows NATS and the
// source (503 while NATS is down), back-pressure reaches the source, teardown flushes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { createLogger, loadConfig } from '@harrier/kit';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';
import type { EnrichedEvent } from '@harrier/batch';
import type { EventSource, SourceOutput } from './source.js';
import { startCollector } from './service.js';

/** Pushes `count` events as fast as allowed, pausing when told to. */
class CountingSource implements EventSource {
  readonly name = 'counting';
  pauses = 0;
  private stopping = false;
  private run: Promise<void> | undefined;
  constructor(private readonly count: number) {}
  start(out: SourceOutput): Promise<void> {
    this.run = (async () => {
      for (let i = 0; i < this.count && !this.stopping; i++) {
        const e: EnrichedEvent = { num: i, ts: BigInt(i), tid: 1, type: 'read', enter: false };
        if (!out.push(e, `host:${out.node}`)) {
          this.pauses++;
          await out.ready();
        }
        if (i % 256 === 0) await sleep(0);
      }
    })();
    return Promise.resolve();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await this.run;
  }
}

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

test('/healthz is 200 while NATS is up and the source runs, 503 while NATS is down; teardown flushes', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\ncollector:\n  id: svc\n  node: n\n  buffer_events: 2000\n  batch_max_events: 100\n  publish_timeout_ms: 300\n` }] });
    assert.ok(r.ok);
    const source = new CountingSource(20_000);
    const svc = await startCollector({ config: r.config, source, log: quiet, handleSignals: false });
    const url = `http://127.0.0.1:${svc.http!.port}/healthz`;
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { status: string }).status, 'ok');
    await server.stop();
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await sleep(50);
      status = (await fetch(url)).status;
    }
    assert.equal(status, 503);
    const down = (await (await fetch(url)).json()) as { nats: string; source: { state: string } };
    assert.equal(down.nats, 'disconnected');
    assert.equal(down.source.state, 'running');
    await sleep(300);
    assert.ok(source.pauses > 0, 'the source was told to pause');
    assert.deepEqual(svc.publisher.stats().drops, {}, 'a source that pauses loses nothing');
    await server.start();
    for (let i = 0; i < 200 && svc.publisher.stats().eventsIn < 20_000; i++) await sleep(50);
    await svc.stop();
    assert.equal(await svc.stopped, 0);
    const s = svc.publisher.stats();
    assert.equal(s.eventsIn, 20_000);
    assert.equal(s.eventsPublished, 20_000);
    assert.equal(s.queueEvents, 0);
  } finally {
    await server.dispose();
  }
});
