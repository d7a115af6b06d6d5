// The collector service in-process against a real nats-server: /healthz follows NATS and the
// source (503 while NATS is down), back-pressure reaches the source, teardown flushes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { existsSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createLogger, loadConfig } from '@harrier/kit';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';
import type { EnrichedEvent } from '@harrier/batch';
import type { EventSource, SourceOutput } from './source.js';
import { startCollector } from './service.js';
import { EbpfSource } from './live/source.js';
import { defaultProbeBinary } from './live/probe.js';

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

test('/healthz (and webserver.k8s_healthz_endpoint) is 200 while NATS is up and the source runs, 503 while NATS is down; teardown flushes', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\n  k8s_healthz_endpoint: /ready\ncollector:\n  id: svc\n  node: n\n  buffer_events: 2000\n  batch_max_events: 100\n  publish_timeout_ms: 300\n` }] });
    assert.ok(r.ok);
    const source = new CountingSource(20_000);
    const svc = await startCollector({ config: r.config, source, log: quiet, handleSignals: false });
    const url = `http://127.0.0.1:${svc.http!.port}/healthz`;
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { status: string }).status, 'ok');
    // Falco's webserver.k8s_healthz_endpoint serves the same health (liveness probes keep their path).
    const k8s = await fetch(`http://127.0.0.1:${svc.http!.port}/ready`);
    assert.equal(k8s.status, 200);
    assert.equal(((await k8s.json()) as { status: string }).status, 'ok');
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

test('a NATS server restarted without its storage: the collector creates EVENTS again and publishes everything', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\ncollector:\n  id: lost\n  node: n\n  buffer_events: 2000\n  batch_max_events: 100\n  publish_timeout_ms: 300\n` }] });
    assert.ok(r.ok);
    const source = new CountingSource(1000);
    const svc = await startCollector({ config: r.config, source, log: quiet, handleSignals: false });
    try {
      const url = `http://127.0.0.1:${svc.http!.port}/healthz`;
      for (let i = 0; i < 100 && svc.publisher.stats().eventsPublished < 1000; i++) await sleep(50);
      assert.equal(svc.publisher.stats().eventsPublished, 1000);
      // The server comes back on the same port with an empty store: no EVENTS stream any more.
      await server.stop();
      rmSync(server.storeDir!, { recursive: true, force: true });
      await server.start();
      // More events after the restart, handed to the publisher as a source would.
      for (let i = 0; i < 1000; i++) {
        if (!svc.publisher.add({ num: i, ts: BigInt(i), tid: 1, type: 'read', enter: false }, 'host:n')) await svc.publisher.ready();
      }
      for (let i = 0; i < 200 && svc.publisher.stats().eventsPublished < 2000; i++) await sleep(50);
      const s = svc.publisher.stats();
      assert.equal(s.eventsPublished, 2000, `every event published after the stream was lost (last error: ${s.lastError})`);
      assert.equal((await fetch(url)).status, 200, 'healthy again once publishes go through');
      const nc = await connect({ servers: server.url });
      try {
        const info = await (await jetstreamManager(nc)).streams.info('EVENTS');
        assert.equal(info.state.messages > 0, true);
    } finally {
      await nc.close();
    }
    } finally {
      await svc.stop();
    }
  } finally {
    await server.dispose();
  }
});

test('/healthz is 503 while publishes fail on a connected NATS (a server without JetStream), 200 once they go through', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\ncollector:\n  id: nojs\n  node: n\n  publish_timeout_ms: 300\n` }] });
    assert.ok(r.ok);
    const svc = await startCollector({ config: r.config, source: new CountingSource(100), log: quiet, handleSignals: false });
    try {
      const url = `http://127.0.0.1:${svc.http!.port}/healthz`;
      for (let i = 0; i < 100 && svc.publisher.stats().eventsPublished < 100; i++) await sleep(50);
      assert.equal((await fetch(url)).status, 200);
      // The same port, now a server without JetStream: connected, but no publish is stored.
      await server.stop();
      for (let i = 0; i < 100 && svc.publisher.stats().natsConnected; i++) await sleep(20);
      assert.equal(svc.publisher.stats().natsConnected, false);
      const plain = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(server.port)], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 200 && !svc.publisher.stats().natsConnected; i++) await sleep(50);
        assert.ok(svc.publisher.stats().natsConnected, 'reconnected to the server without JetStream');
        for (let i = 0; i < 100; i++) svc.publisher.add({ num: i, ts: BigInt(i), tid: 1, type: 'read', enter: false }, 'host:n');
        let h: { status: string; nats: string; publishing: string } | undefined;
        let code = 0;
        for (let i = 0; i < 100 && h?.publishing !== 'failing'; i++) {
          await sleep(50);
          const res = await fetch(url);
          code = res.status;
          h = (await res.json()) as typeof h;
        }
        assert.equal(h?.publishing, 'failing', 'publishes fail: nothing is stored');
        assert.equal(code, 503, 'not healthy while nothing is stored');
        assert.equal(h.nats, 'connected');
      } finally {
        const gone = new Promise((done) => plain.once('exit', done));
        plain.kill('SIGTERM');
        await gone;
      }
      await server.start();
      for (let i = 0; i < 200 && svc.publisher.stats().eventsPublished < 200; i++) await sleep(50);
      assert.equal(svc.publisher.stats().eventsPublished, 200);
      const back = await fetch(url);
      assert.equal(back.status, 200);
      assert.equal(((await back.json()) as { publishing: string }).publishing, 'ok');
    } finally {
      await svc.stop();
    }
  } finally {
    await server.dispose();
  }
});

const probeSkip = natsServerSkip || (!existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : process.getuid?.() !== 0 ? 'needs root' : false);

test('a killed probe: /healthz is 503 until it runs again, restarts are in /metrics, each exit reports only its own run', { skip: probeSkip }, async () => {
  const server = await startNatsServer();
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\ncollector:\n  id: probe\n  node: n\n  container_runtimes: []\n` }] });
    assert.ok(r.ok);
    const source = new EbpfSource({ types: new Set(['openat']), natsServers: [server.url], containerRuntimes: [] });
    const svc = await startCollector({ config: r.config, source, log, handleSignals: false });
    try {
      const base = `http://127.0.0.1:${svc.http!.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^harrier_collector_source_up 1$/m);
      assert.match(metrics, /^harrier_collector_source_restarts_total 0$/m);
      assert.match(metrics, /^harrier_collector_source_dropped_events_total\{place="ring_buffer"\} 0$/m, 'a zero drop count is exported, not missing');
      assert.match(metrics, /^harrier_collector_dropped_events_total\{place="publish_queue"\} 0$/m);
      for (let kill = 1; kill <= 2; kill++) {
        const probe = source.capture!.probe;
        const pid = probe.pid!;
        process.kill(pid, 'SIGKILL');
        let seen503 = false;
        let body: { source: { state: string; detail?: string } } | undefined;
        for (let i = 0; i < 500 && !(seen503 && probe.live && probe.pid !== pid); i++) {
          const res = await fetch(`${base}/healthz`);
          if (res.status === 503) {
            seen503 = true;
            body = (await res.json()) as typeof body;
          } else await res.arrayBuffer();
          await sleep(5);
        }
        assert.ok(seen503, '/healthz said 503 while the probe was down');
        assert.match(body!.source.detail ?? '', /probe restarting/);
        assert.ok(probe.live && probe.pid !== pid, 'the probe runs again');
        for (let i = 0; i < 100 && (await fetch(`${base}/healthz`)).status !== 200; i++) await sleep(20);
        assert.equal((await fetch(`${base}/healthz`)).status, 200);
        const m = await (await fetch(`${base}/metrics`)).text();
        assert.match(m, new RegExp(`^harrier_collector_source_restarts_total ${kill}$`, 'm'));
      }
      const exits = lines.filter((l) => l.includes('the probe exited (SIGKILL)'));
      assert.equal(exits.length, 2, lines.join(''));
      // The second exit quotes the second run's stderr, not the first run's as well.
      assert.ok(exits[1]!.split('harrier-probe: tracing').length - 1 <= 1, exits[1]);
    } finally {
      await svc.stop();
    }
  } finally {
    await server.dispose();
  }
  assert.ok(!lines.some((l) => l.includes('"level":50')), lines.filter((l) => l.includes('"level":50')).join(''));
});

test('back-pressure from the live probe: with NATS down and a small buffer, nothing is dropped at publish_queue; the kernel rings drop and count instead', { skip: probeSkip }, async () => {
  const server = await startNatsServer();
  try {
    const r = loadConfig({ texts: [{ name: 't.yaml', text: `nats:\n  url: ${server.url}\nwebserver:\n  listen_port: 0\ncollector:\n  id: bp\n  node: n\n  buffer_events: 300\n  publish_timeout_ms: 300\n  container_runtimes: []\n  probe:\n    ringbuf_mb: 1\n    buffer_mb: 1\n    stats_interval_ms: 100\n` }] });
    assert.ok(r.ok);
    // The storm below is this process's child: watch our own tree too.
    const source = new EbpfSource({ types: new Set(['openat']), natsServers: [server.url], containerRuntimes: [], ringBufferMb: 1, bufferMb: 1, statsIntervalMs: 100, excludeSelf: false });
    const svc = await startCollector({ config: r.config, source, log: quiet, handleSignals: false });
    try {
      await server.stop();
      for (let i = 0; i < 100 && svc.publisher.stats().natsConnected; i++) await sleep(20);
      // An open storm.
      const storm = spawn('sh', ['-c', 'i=0; while [ $i -lt 50000 ]; do : < /etc/hostname; i=$((i+1)); done'], { stdio: 'ignore' });
      await new Promise((done) => storm.once('exit', done));
      assert.ok(svc.publisher.stats().queueEvents <= 300);
      // The probe's counts come after the frames it holds: NATS back, the backlog drains, they arrive.
      await server.start();
      for (let i = 0; i < 200 && (svc.publisher.stats().sourceDrops['ring_buffer'] ?? 0) === 0; i++) await sleep(50);
      const s = svc.publisher.stats();
      assert.ok((s.sourceDrops['ring_buffer'] ?? 0) > 0, `the kernel rings dropped and counted: ${JSON.stringify(s.sourceDrops)}`);
      assert.equal(s.drops['publish_queue'] ?? 0, 0, `paused in time: nothing dropped at the publisher (${JSON.stringify(s.drops)})`);
    } finally {
      await svc.stop();
    }
  } finally {
    await server.dispose();
  }
});
