import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import type { ContainerInfo } from '@harrier/batch';
import { createLogger } from '@harrier/kit';
import { ContainerMetadataCache } from './cache.js';
import { DockerEngineClient } from './docker.js';
import { ContainerRuntimeError, type ContainerRuntime, type ContainerRuntimeKind } from './runtime.js';
import { startPodmanService, type PodmanService } from './podman-service.js';
import { PODMAN_BASE, RUN_LIMITS, ensureTestImage, podmanUnavailable, removeContainer } from '../testing/podman.js';

const execFileP = promisify(execFile);
const hex = (c: string): string => c.repeat(64);

/** A scripted runtime: `answer` decides each inspect; calls and peak concurrency are recorded. */
class ScriptedRuntime implements ContainerRuntime {
  calls: string[] = [];
  active = 0;
  peak = 0;
  closed = false;
  constructor(
    readonly kind: ContainerRuntimeKind,
    readonly answer: (id: string, call: number) => Promise<ContainerInfo | undefined> | ContainerInfo | undefined,
    readonly endpoint = `/fake/${kind}.sock`,
  ) {}
  async inspect(id: string): Promise<ContainerInfo | undefined> {
    this.calls.push(id);
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await this.answer(id, this.calls.length);
    } finally {
      this.active--;
    }
  }
  close(): void {
    this.closed = true;
  }
}

const infoFor = (id: string, type = 'docker'): ContainerInfo => ({ id: id.slice(0, 12), type, name: `n-${id.slice(0, 4)}` });
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('concurrent misses start one lookup; the result arrives through onUpdate and is then a hit', async () => {
  const rt = new ScriptedRuntime('docker', async (id) => {
    await delay(20);
    return infoFor(id);
  });
  const updates: ContainerInfo[] = [];
  const cache = new ContainerMetadataCache({ runtimes: [rt], onUpdate: (i) => updates.push(i) });
  for (let i = 0; i < 50; i++) assert.equal(cache.get(hex('a'), 'docker'), undefined);
  assert.equal(cache.get('aaaaaaaaaaaa'), undefined, 'the short id is the same container');
  await cache.whenIdle();
  assert.deepEqual(rt.calls, [hex('a')], 'asked once, with the full id');
  assert.deepEqual(updates, [infoFor(hex('a'))]);
  assert.deepEqual(cache.get('aaaaaaaaaaaa'), infoFor(hex('a')));
  assert.equal(cache.counters.misses, 51);
  assert.equal(cache.counters.hits, 1);
  assert.equal(cache.counters.lookups, 1);
  assert.equal(cache.counters.found, 1);
  assert.equal(cache.counters.runtimes[0]!.found, 1);
  cache.close();
  assert.equal(rt.closed, true);
});

test('failures are retried with backoff, a bounded number of times, then left alone until giveUpMs', async () => {
  const rt = new ScriptedRuntime('podman', () => {
    throw new ContainerRuntimeError({ code: 'protocol', runtime: 'podman', endpoint: '/x', message: 'bad answer' });
  });
  let now = 1_000_000;
  const cache = new ContainerMetadataCache({ runtimes: [rt], maxAttempts: 3, retryMinMs: 5, retryMaxMs: 20, giveUpMs: 60_000, now: () => now });
  const t0 = Date.now();
  cache.get(hex('b'));
  await cache.whenIdle();
  assert.equal(rt.calls.length, 3);
  assert.ok(Date.now() - t0 >= 5 + 10, 'waited 5 then 10 ms between attempts');
  assert.equal(cache.counters.errors, 3);
  assert.equal(cache.counters.retries, 2);
  assert.equal(cache.counters.gaveUp, 1);
  assert.equal(cache.counters.runtimes[0]!.errors, 3);
  cache.get(hex('b'));
  await cache.whenIdle();
  assert.equal(rt.calls.length, 3, 'no new lookup while given up');
  now += 60_001;
  cache.get(hex('b'));
  await cache.whenIdle();
  assert.equal(rt.calls.length, 6, 'starts over after giveUpMs');
  cache.forget(hex('b'));
  cache.get(hex('b'));
  await cache.whenIdle();
  assert.equal(rt.calls.length, 9, 'forget clears the given-up state');
  cache.close();
});

test('not found on the first try (runtime still registering it) is found on a retry', async () => {
  const rt = new ScriptedRuntime('docker', (id, call) => (call === 1 ? undefined : infoFor(id)));
  const updates: ContainerInfo[] = [];
  const cache = new ContainerMetadataCache({ runtimes: [rt], retryMinMs: 5, onUpdate: (i) => updates.push(i) });
  cache.get(hex('c'));
  await cache.whenIdle();
  assert.equal(updates.length, 1);
  assert.equal(cache.counters.notFound, 1);
  assert.equal(cache.counters.found, 1);
  cache.close();
});

test('an unreachable runtime (real client, missing socket) is reported once, skipped, and the next runtime answers', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  });
  const socketPath = join(tmpdir(), `harrier-missing-${randomBytes(4).toString('hex')}.sock`);
  const dead = new DockerEngineClient({ socketPath, kind: 'docker' });
  const alive = new ScriptedRuntime('docker', (id) => infoFor(id));
  const updates: ContainerInfo[] = [];
  const cache = new ContainerMetadataCache({ runtimes: [dead, alive], log, onUpdate: (i) => updates.push(i), unreachableRetryMs: 60_000 });
  for (const c of ['1', '2', '3', '4', '5']) cache.get(hex(c), 'docker');
  await cache.whenIdle();
  assert.equal(updates.length, 5);
  const warnings = lines.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1, 'one warning for the outage, not one per container');
  assert.equal(warnings[0]!.endpoint, socketPath);
  assert.match(String(warnings[0]!.msg), /container runtime unreachable.*does not exist/);
  const rc = cache.counters.runtimes[0]!;
  assert.equal(rc.reachable, false);
  assert.ok(rc.errors >= 1);
  assert.equal(rc.errors + rc.skipped, 5, 'tried until marked down, then skipped');
  cache.close();
});

test('lookups run at most `concurrency` at a time; a full queue defers misses, counts them, and looks them up later', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const rt = new ScriptedRuntime('docker', async (id) => {
    await gate;
    return infoFor(id);
  });
  const cache = new ContainerMetadataCache({ runtimes: [rt], concurrency: 2, maxQueued: 3, retryMinMs: 5 });
  for (let i = 0; i < 8; i++) cache.get(i.toString(16).repeat(64));
  await delay(10);
  assert.equal(rt.active, 2);
  assert.equal(cache.counters.deferred >= 3, true, '2 running + 3 queued, 3 deferred');
  assert.equal(cache.counters.dropped, 0);
  assert.equal(cache.tracked, 8);
  release();
  await cache.whenIdle();
  assert.equal(rt.peak, 2);
  assert.equal(cache.size, 8, 'the deferred ones were looked up without another get');
  assert.equal(cache.tracked, 0);
  cache.close();
});

test('a container whose runtime was unreachable gets its metadata once the runtime is back, without another get', async () => {
  let down = true;
  const rt = new ScriptedRuntime('docker', (id) => {
    if (down) throw new ContainerRuntimeError({ code: 'unreachable', runtime: 'docker', endpoint: '/x', message: 'connect ECONNREFUSED' });
    return infoFor(id);
  });
  const updates: ContainerInfo[] = [];
  // Every attempt finds the runtime down: many more than maxAttempts, and none of them spends one.
  const cache = new ContainerMetadataCache({ runtimes: [rt], maxAttempts: 2, retryMinMs: 1, unreachableRetryMs: 10, giveUpMs: 600_000, onUpdate: (i) => updates.push(i) });
  cache.get(hex('a'), 'docker');
  cache.get(hex('b'), 'docker');
  await delay(150);
  assert.equal(updates.length, 0);
  assert.ok(rt.calls.length > 4, `tried ${rt.calls.length} times while down`);
  assert.equal(cache.counters.gaveUp, 0, 'an outage is not the container\'s fault');
  assert.equal(cache.tracked, 2);
  down = false;
  await delay(60);
  assert.deepEqual(updates.map((u) => u.id).sort(), ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
  assert.equal(cache.tracked, 0);
  assert.equal(cache.counters.runtimes[0]!.reachable, true);
  cache.close();
});

test('after giving up, a tracked container starts a new round by itself after giveUpMs; forget stops it', async () => {
  const rt = new ScriptedRuntime('docker', (id, call) => (call >= 5 ? infoFor(id) : undefined));
  const updates: ContainerInfo[] = [];
  const cache = new ContainerMetadataCache({ runtimes: [rt], maxAttempts: 2, retryMinMs: 1, giveUpMs: 40, onUpdate: (i) => updates.push(i) });
  cache.get(hex('c'));
  cache.get(hex('d'));
  await cache.whenIdle();
  assert.equal(cache.counters.gaveUp, 2, 'both rest after two not-founds');
  cache.forget(hex('d'));
  assert.equal(cache.counters.forgotten, 1);
  await delay(100);
  assert.deepEqual(updates, [infoFor(hex('c'))], 'c found in its second round, with no get; d forgotten');
  assert.equal(rt.calls.filter((c) => c === hex('d')).length, 2, 'no lookup of d after forget');
  assert.equal(cache.tracked, 0);
  cache.close();
});

test('past maxTracked a miss is dropped and counted; its next get tracks it', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const rt = new ScriptedRuntime('docker', async (id) => {
    await gate;
    return infoFor(id);
  });
  const cache = new ContainerMetadataCache({ runtimes: [rt], maxTracked: 2 });
  cache.get(hex('1'));
  cache.get(hex('2'));
  cache.get(hex('3'));
  assert.equal(cache.counters.dropped, 1);
  assert.equal(cache.tracked, 2);
  release();
  await cache.whenIdle();
  cache.get(hex('3'));
  await cache.whenIdle();
  assert.equal(cache.size, 3);
  cache.close();
});

test('least recently used containers are evicted past maxEntries; forget drops one', async () => {
  const rt = new ScriptedRuntime('docker', (id) => infoFor(id));
  const cache = new ContainerMetadataCache({ runtimes: [rt], maxEntries: 2 });
  cache.get(hex('1'));
  cache.get(hex('2'));
  await cache.whenIdle();
  assert.ok(cache.get(hex('1')), 'touch 1: 2 is now the oldest');
  cache.get(hex('3'));
  await cache.whenIdle();
  assert.equal(cache.counters.evicted, 1);
  assert.ok(cache.get(hex('1')));
  assert.ok(cache.get(hex('3')));
  cache.forget(hex('3'));
  assert.equal(cache.size, 1);
  cache.close();
});

test('the cgroup container type picks the runtime; an unknown type tries all in order', async () => {
  const docker = new ScriptedRuntime('docker', (id) => infoFor(id, 'docker'));
  const cri = new ScriptedRuntime('cri', (id) => infoFor(id, 'cri'));
  const cache = new ContainerMetadataCache({ runtimes: [docker, cri] });
  cache.get(hex('d'), 'containerd');
  cache.get(hex('e'), 'lxc');
  await cache.whenIdle();
  assert.deepEqual(cri.calls, [hex('d')]);
  assert.deepEqual(docker.calls, [hex('e')]);
  cache.close();
});

test('a throwing onUpdate is logged and does not stop the cache', async () => {
  const rt = new ScriptedRuntime('docker', (id) => infoFor(id));
  const cache = new ContainerMetadataCache({
    runtimes: [rt],
    onUpdate: () => {
      throw new Error('consumer bug');
    },
  });
  cache.get(hex('f'));
  await cache.whenIdle();
  assert.ok(cache.get(hex('f')));
  cache.close();
});

const podmanSkip = podmanUnavailable();
describe('ContainerMetadataCache with a real podman service', { skip: podmanSkip && `podman tests skipped: ${podmanSkip}` }, () => {
  let svc: PodmanService;
  const name = `harrier-cache-${randomBytes(4).toString('hex')}`;
  let id = '';

  before(async () => {
    ensureTestImage();
    svc = await startPodmanService();
    id = (await execFileP('podman', [...PODMAN_BASE, 'run', '-d', ...RUN_LIMITS, '--network', 'none', '--name', name, '--label', 'team=blue', 'localhost/harrier-busybox:test', 'sleep', '300'], { encoding: 'utf8' })).stdout.trim();
  });
  after(async () => {
    removeContainer(name);
    await svc?.stop();
  });

  test('a runtime unreachable at the first lookups is asked again once its socket answers: the metadata arrives without another get', async () => {
    const socketPath = join(tmpdir(), `harrier-late-${randomBytes(4).toString('hex')}.sock`);
    const updates: ContainerInfo[] = [];
    let notify!: () => void;
    const arrived = new Promise<void>((r) => (notify = r));
    const cache = new ContainerMetadataCache({
      runtimes: [new DockerEngineClient({ socketPath, kind: 'podman' })],
      maxAttempts: 2,
      retryMinMs: 10,
      unreachableRetryMs: 200,
      onUpdate: (i) => {
        updates.push(i);
        notify();
      },
    });
    let late: PodmanService | undefined;
    try {
      assert.equal(cache.get(id, 'podman'), undefined);
      await delay(700);
      assert.equal(updates.length, 0);
      assert.equal(cache.counters.runtimes[0]!.reachable, false);
      assert.ok(cache.counters.lookups >= 3, 'tried through the outage, past maxAttempts');
      late = await startPodmanService(socketPath);
      await Promise.race([arrived, delay(5000).then(() => assert.fail('no metadata 5 s after the runtime came back'))]);
      assert.equal(updates[0]!.name, name);
      assert.equal(cache.counters.runtimes[0]!.reachable, true);
      assert.equal(cache.tracked, 0);
    } finally {
      cache.close();
      await late?.stop();
    }
  });

  test('a miss never blocks; the metadata arrives once via onUpdate and later gets hit', async () => {
    const updates: ContainerInfo[] = [];
    let notify!: () => void;
    const arrived = new Promise<void>((r) => (notify = r));
    const cache = new ContainerMetadataCache({
      runtimes: [new DockerEngineClient({ socketPath: svc.socketPath, kind: 'podman' })],
      onUpdate: (i) => {
        updates.push(i);
        notify();
      },
    });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => Promise.resolve().then(() => cache.get(id, 'podman'))));
      assert.ok(results.every((r) => r === undefined));
      await arrived;
      await cache.whenIdle();
      assert.equal(updates.length, 1);
      assert.equal(updates[0]!.name, name);
      assert.equal(updates[0]!.labels?.get('team'), 'blue');
      assert.equal(cache.get(id.slice(0, 12))?.name, name);
      assert.equal(cache.counters.lookups, 1);
      assert.equal(cache.counters.runtimes[0]!.lookups, 1);
    } finally {
      cache.close();
    }
  });
});

test('a runtime socket that answers garbage (real client and socket) is reported once as a warning, not only at debug level', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  });
  const socketPath = join(tmpdir(), `harrier-garbage-${randomBytes(4).toString('hex')}.sock`);
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end('\x00\xff not HTTP at all\r\n\r\n'));
  });
  await new Promise<void>((done) => server.listen(socketPath, done));
  try {
    const garbage = new DockerEngineClient({ socketPath, kind: 'docker' });
    const cache = new ContainerMetadataCache({ runtimes: [garbage], log, retryMinMs: 1, retryMaxMs: 5, maxAttempts: 3, giveUpMs: 60_000 });
    for (const c of ['1', '2', '3']) cache.get(hex(c), 'docker');
    await cache.whenIdle();
    assert.ok(cache.counters.runtimes[0]!.errors >= 6, `errors: ${cache.counters.runtimes[0]!.errors}`);
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1, `one warning for the runtime, not one per lookup: ${JSON.stringify(lines)}`);
    assert.equal(warnings[0]!.endpoint, socketPath);
    assert.match(String(warnings[0]!.msg), /container runtime answers with errors.*Parse Error.*check collector\.container_runtimes/);
    cache.close();
  } finally {
    await new Promise((done) => server.close(done));
  }
});
