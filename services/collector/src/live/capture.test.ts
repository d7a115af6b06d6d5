// LiveCapture's container bookkeeping, fed events as the probe's decoder hands them on (exit events
// built from the event table): metadata that arrives late, containers forgotten once their last
// thread is gone, and container users named by the container's own /etc/passwd (read through a
// proc root made here) and never by the host's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerInfo } from '@harrier/batch';
import { EVENT_FLAGS, eventCodes, eventInfo, type ParamInfo } from '@harrier/events';
import { ContainerMetadataCache } from '../containers/cache.js';
import { ContainerRuntimeError, type ContainerRuntime } from '../containers/runtime.js';
import type { RawEvent } from '../state/params.js';
import { LiveCapture, type LiveCaptureOptions } from './capture.js';

type V = number | bigint | string | readonly string[];
const WIDTH: Readonly<Record<string, number>> = { int32: 4, uint32: 4, uid: 4, gid: 4, int64: 8, uint64: 8, errno: 8, fd: 8, pid: 8 };

function encode(p: ParamInfo, v: V | undefined): Uint8Array {
  const width = WIDTH[p.type];
  if (width !== undefined) {
    const b = new Uint8Array(width);
    const n = BigInt.asUintN(64, BigInt(typeof v === 'number' || typeof v === 'bigint' ? v : 0));
    if (width === 8) new DataView(b.buffer).setBigUint64(0, n, true);
    else new DataView(b.buffer).setUint32(0, Number(BigInt.asUintN(32, n)), true);
    return b;
  }
  if (v === undefined || typeof v === 'number' || typeof v === 'bigint') return new Uint8Array(0);
  return new TextEncoder().encode(typeof v === 'string' ? `${v}\0` : v.map((s) => `${s}\0`).join(''));
}

let num = 0;
/** The current version of an event, every table param present. */
function event(type: string, dir: '<' | '>', tid: number, ts: bigint, values: Readonly<Record<string, V>> = {}): RawEvent {
  const code = eventCodes(type, dir).filter((c) => (eventInfo(c)!.flags & EVENT_FLAGS.OLD_VERSION) === 0).at(-1);
  assert.ok(code !== undefined, `no ${type} ${dir} event`);
  const info = eventInfo(code)!;
  return { num: ++num, ts, tid, cpu: 0, type, enter: dir === '>', names: info.params.map((p) => p.name), descs: info.params, flags: info.flags, params: info.params.map((p) => encode(p, values[p.name])) };
}

const SEC = 1_000_000_000n;
const cid = (i: number): string => i.toString(16).padStart(12, '0').padEnd(64, 'c');
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Harness {
  readonly lc: LiveCapture;
  ts = 1_700_000_000n * SEC;
  constructor(opts: Partial<LiveCaptureOptions> = {}) {
    this.lc = new LiveCapture({ node: 'n1', probe: { binary: '/nonexistent' }, types: 'all', containerGraceMs: 2000, ...opts }, { event: () => true });
    // The shell everything starts from, on the host.
    this.lc.state.seedThread({ tid: 1, pid: 1, ptid: 0, comm: 'init', exe: '/sbin/init', args: [], cwd: '/', uid: 0, gid: 0 });
  }
  feed(e: RawEvent): void {
    (this.lc as unknown as { onEvent(e: RawEvent): void }).onEvent(e);
  }
  /** Thread `tid` runs `exe` in container `id` (or on the host) as uid/gid. */
  exec(tid: number, id: string | undefined, uid = 0, gid = uid, exe = '/bin/job'): void {
    const cgroups = id ? [`0::/kubepods.slice/cri-containerd-${id}.scope`] : ['0::/user.slice'];
    this.feed(event('execve', '<', tid, (this.ts += 1000n), { res: 0, exe, args: [], tid, pid: tid, ptid: 1, cwd: '/', comm: 'job', cgroups, uid }));
    // The execve exit carries the uid alone.
    this.feed(event('setgid', '<', tid, (this.ts += 1000n), { res: 0, gid }));
  }
  exit(tid: number): void {
    this.feed(event('procexit', '>', tid, (this.ts += 1000n), { status: 0, ret: 0 }));
  }
  /** Some host activity `seconds` later (event time drives the container scans). */
  later(seconds: bigint): void {
    this.ts += seconds * SEC;
    this.feed(event('close', '<', 1, this.ts, { res: 0, fd: 9 }));
  }
}

const answering = (answer: (id: string) => ContainerInfo | undefined | Promise<ContainerInfo | undefined>): ContainerRuntime & { calls: number; down: boolean } => {
  const rt = {
    kind: 'containerd' as const,
    endpoint: '/fake/containerd.sock',
    calls: 0,
    down: false,
    close(): void {},
    async inspect(id: string): Promise<ContainerInfo | undefined> {
      rt.calls++;
      if (rt.down) throw new ContainerRuntimeError({ code: 'unreachable', runtime: 'containerd', endpoint: rt.endpoint, message: 'connect ECONNREFUSED' });
      return answer(id);
    },
  };
  return rt;
};

test('metadata of a container whose runtime was down arrives when it is back, without another event of the container', async () => {
  const rt = answering((id) => ({ id: id.slice(0, 12), type: 'containerd', name: 'web', image: 'nginx:1.27' }));
  rt.down = true;
  const cache = new ContainerMetadataCache({ runtimes: [rt], retryMinMs: 1, unreachableRetryMs: 20, giveUpMs: 200, onUpdate: (i) => h.lc.mergeContainer(i) });
  const h = new Harness({ containers: cache });
  try {
    h.exec(500, cid(1));
    const c = h.lc.state.tables.threads.get(500)!.container!;
    await delay(200); // ten unreachable retries: more than maxAttempts (4)
    assert.equal(c.name, undefined);
    rt.down = false;
    await delay(100);
    assert.equal(c.name, 'web', 'merged into the container object the thread points at');
    assert.equal(c.image, 'nginx:1.27');
    assert.equal(h.lc.state.tables.containers.get(cid(1).slice(0, 12)), c);
    assert.equal(cache.tracked, 0);
  } finally {
    cache.close();
  }
});

test('a burst of new containers past the cache queue: every one that lives gets its metadata', async () => {
  const rt = answering(async (id) => {
    await delay(1);
    return { id: id.slice(0, 12), type: 'containerd', name: `n-${id.slice(0, 12)}` };
  });
  const cache = new ContainerMetadataCache({ runtimes: [rt], concurrency: 2, maxQueued: 8, retryMinMs: 5, retryMaxMs: 50, onUpdate: (i) => h.lc.mergeContainer(i) });
  const h = new Harness({ containers: cache });
  try {
    for (let i = 0; i < 300; i++) h.exec(1000 + i, cid(i));
    assert.ok(cache.counters.deferred >= 290, `deferred ${cache.counters.deferred}`);
    await cache.whenIdle();
    const unnamed = [...h.lc.state.tables.containers.values()].filter((c) => c.name === undefined);
    assert.deepEqual(unnamed, []);
    assert.equal(h.lc.state.tables.containers.size, 300);
    assert.equal(cache.counters.dropped, 0);
  } finally {
    cache.close();
  }
});

test('thousands of short-lived containers: once their threads are gone and the grace period passed, every container structure is back to its baseline', async () => {
  // Short-lived ones are gone from the runtime before their lookups; the long-lived one is found.
  const LONG = 'ab'.repeat(32);
  const rt = answering((id) => (id.slice(0, 12) === LONG.slice(0, 12) ? { id: id.slice(0, 12), type: 'containerd', name: 'long' } : undefined));
  const cache = new ContainerMetadataCache({ runtimes: [rt], retryMinMs: 1, onUpdate: (i) => h.lc.mergeContainer(i) });
  const h = new Harness({ containers: cache });
  try {
    // A long-lived container, on both sides of the churn.
    h.exec(100, LONG);
    await cache.whenIdle();
    h.later(10n);
    h.later(10n);
    const baseline = { threads: h.lc.state.tables.threads.size, ...h.lc.containerCounts() };
    assert.equal(baseline.state, 1);
    assert.equal(baseline.users, 1);
    assert.equal(baseline.cacheEntries, 1);
    assert.equal(baseline.cacheTracked, 0);

    const N = 5000;
    for (let i = 0; i < N; i++) {
      h.exec(10_000 + i, cid(i), 1000);
      h.exit(10_000 + i);
    }
    h.later(0n);
    const peak = h.lc.containerCounts();
    assert.ok(peak.state > N / 2 && peak.users > N / 2, `the churn is seen: ${JSON.stringify(peak)}`);
    assert.ok(cache.tracked + cache.counters.found + cache.counters.dropped > 0);

    h.later(1n); // a scan: every exited container found without a thread
    h.later(3n); // past the 2 s grace: forgotten
    await delay(20); // lookups already running finish (their results are dropped)
    assert.deepEqual({ threads: h.lc.state.tables.threads.size, ...h.lc.containerCounts() }, baseline);
    assert.equal(h.lc.state.tables.containers.size, 1);
    assert.equal(h.lc.state.tables.containerUsers.size, 1);
    assert.equal(h.lc.state.tables.containerGroups.size, 1);
    assert.equal(cache.tracked, 0);
    assert.equal(h.lc.counters.containersForgotten, N);
    assert.equal(h.lc.state.tables.threads.get(100)!.container!.name, 'long', 'the long-lived container stays, with its metadata');
    await cache.whenIdle();
    assert.equal(cache.tracked, 0, 'no retry of exited containers');
  } finally {
    cache.close();
  }
});

test('a forgotten container that comes back (same id, new process) is looked up again', async () => {
  const rt = answering((id) => ({ id: id.slice(0, 12), type: 'containerd', name: 'again' }));
  const cache = new ContainerMetadataCache({ runtimes: [rt], onUpdate: (i) => h.lc.mergeContainer(i) });
  const h = new Harness({ containers: cache });
  try {
    h.exec(200, cid(7));
    await cache.whenIdle();
    h.exit(200);
    h.later(1n);
    h.later(3n);
    assert.equal(h.lc.state.tables.containers.size, 0);
    h.exec(201, cid(7));
    await cache.whenIdle();
    assert.equal(h.lc.state.tables.threads.get(201)!.container!.name, 'again');
    assert.equal(rt.calls, 2);
  } finally {
    cache.close();
  }
});

test('container users and groups come from the container\'s /etc/passwd and /etc/group only: a uid it lacks is nameless, not the host\'s', () => {
  const proc = mkdtempSync(join(tmpdir(), 'harrier-capture-proc-'));
  try {
    // pid 300's root has the image's users; pid 400's image has no /etc/passwd (distroless).
    mkdirSync(join(proc, '300/root/etc'), { recursive: true });
    writeFileSync(join(proc, '300/root/etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nharrier:x:4242:4242:Harrier:/home/harrier:/bin/sh\n');
    writeFileSync(join(proc, '300/root/etc/group'), 'root:x:0:\nharrier:x:4242:\n');
    mkdirSync(join(proc, '400/root'), { recursive: true });
    const h = new Harness({ procRoot: proc });
    const host = h.lc.state.tables;
    host.users.set(1000, { uid: 1000, name: 'ubuntu', homedir: '/home/ubuntu' });
    host.users.set(4242, { uid: 4242, name: 'host-4242' });
    host.groups.set(1000, { gid: 1000, name: 'ubuntu' });

    h.exec(300, cid(3), 4242);
    const t = host.threads.get(300)!;
    assert.equal(t.user?.name, 'harrier', 'the container\'s own name wins');
    assert.equal(t.group?.name, 'harrier');
    assert.equal(h.lc.counters.containersUsersRead, 1);
    h.feed(event('setuid', '<', 300, (h.ts += 1000n), { res: 0, uid: 1000 }));
    h.exec(300, cid(3), 1000, 1000);
    assert.equal(t.uid, 1000);
    assert.equal(t.user?.name, undefined, 'uid 1000 is not in the container\'s /etc/passwd: no host name (libsinsp: <NA>)');
    assert.equal(t.group?.name, undefined);
    assert.equal(t.user, host.user(1000, t.container), 'the same object every time (batches dedupe by identity)');

    h.exec(400, cid(4), 1000, 1000);
    const d = host.threads.get(400)!;
    assert.equal(d.user?.name, undefined, 'no /etc/passwd in the image: no host fallback either');
    h.exec(401, cid(4), 0, 0);
    assert.equal(host.threads.get(401)!.user?.name, 'root', 'libsinsp names root without a table');
    assert.equal(host.threads.get(401)!.user?.homedir, '/root');
    assert.equal(host.threads.get(401)!.group?.name, 'root');

    h.exec(500, undefined, 1000, 1000);
    assert.equal(host.threads.get(500)!.user?.name, 'ubuntu', 'host processes keep the host\'s users');
    assert.equal(host.threads.get(500)!.group?.name, 'ubuntu');
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});
