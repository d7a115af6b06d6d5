// The whole live collector under a syscall storm: `harrier collector` (probe, decoding, state
// engine, enrichment, batches, JetStream) as its own process against a nats-server started here,
// the upstream stable rules deciding the traced syscalls, and a paced storm of open/close pairs with
// a fork+exec every 2,000 pairs (bench/c/storm.c). The rate steps up until something drops (the
// probe's kernel rings or the collector's queue, from the collector's stats messages); the highest
// clean rate is then held for 30 s; a hold that drops anything is tried again one step lower (up
// to three holds), and every hold is reported. Also: JetStream storage per million events.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from '@harrier/kit/testing';
import { corpusPath } from '../packages/rules/src/testing/corpus.js';

interface Stats {
  events_in: number;
  events_published: number;
  drops: Record<string, number>;
  source_drops: Record<string, number>;
}

export interface StormStep {
  readonly target: number;
  /** Events the storm caused per second (what it reached). */
  readonly achieved: number;
  readonly seconds: number;
  /** Events the collector took in during the step (every traced syscall on the machine). */
  readonly collected: number;
  readonly dropped: number;
  /** CPU seconds the collector process (node) and the probe used during the step. */
  readonly collectorCpu: number;
  readonly probeCpu: number;
}

export interface CollectorBench {
  readonly steps: readonly StormStep[];
  /** The first hold without drops, if any. */
  readonly sustained: StormStep | undefined;
  /** Every hold tried, highest target first. */
  readonly holds: readonly StormStep[];
  readonly bytesPerMillion: number;
  readonly storedEvents: number;
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function childPid(pid: number | undefined): number | undefined {
  try {
    const c = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return c ? Number(c) : undefined;
  } catch {
    return undefined;
  }
}

const dropsOf = (s: Stats): number => Object.values(s.drops).reduce((a, b) => a + b, 0) + Object.values(s.source_drops).reduce((a, b) => a + b, 0);

export async function benchCollector(rates: readonly number[] = [150_000, 200_000, 250_000, 300_000, 350_000, 400_000], stepSeconds = 6, holdSeconds = 30): Promise<CollectorBench> {
  const root = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'harrier-storm-'));
  const storm = join(dir, 'storm');
  execFileSync('cc', ['-O2', '-o', storm, join(import.meta.dirname, 'c/storm.c')]);
  const server = await startNatsServer();
  const rules = corpusPath('rules/falcosecurity-rules@main/falco_rules.yaml');
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(root, 'cli/src/main.ts'), 'collector', '-r', rules, '-o', `nats.url=${server.url}`, '-o', 'webserver.listen_port=0', '-o', 'collector.id=bench', '-o', 'collector.stats_interval_ms=250', '-o', 'logging.level=warn',
    // More options for comparisons, e.g. BENCH_COLLECTOR_OPTS='-o collector.probe.buffer_mb=1'.
    ...(process.env['BENCH_COLLECTOR_OPTS']?.split(/\s+/).filter(Boolean) ?? [])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HARRIER_LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString().slice(0, 10_000)));
  child.stderr.on('data', (d: Buffer) => (out += d.toString().slice(0, 10_000)));
  const nc = await connect({ servers: server.url });
  let latest: Stats | undefined;
  const sub = nc.subscribe('harrier.stats.collector.bench');
  void (async () => {
    for await (const m of sub) latest = m.json<Stats>();
  })();
  try {
    for (let i = 0; i < 600 && !latest; i++) await sleep(50);
    if (!latest) throw new Error(`the collector did not start:\n${out}`);
    await sleep(1000);
    const settle = async (): Promise<Stats> => {
      // Wait until the collector has published what it took in.
      let s = latest!;
      for (let i = 0; i < 80; i++) {
        await sleep(250);
        s = latest!;
        if (s.events_published >= s.events_in) break;
      }
      return s;
    };
    const step = async (target: number, seconds: number): Promise<StormStep> => {
      const before = await settle();
      const probe = childPid(child.pid);
      const cpu0 = cpuSeconds(child.pid);
      const pcpu0 = cpuSeconds(probe);
      const t0 = performance.now();
      const res = execFileSync(storm, [String(target), String(seconds), '2000'], { encoding: 'utf8' }).trim().split(' ');
      const took = (performance.now() - t0) / 1000;
      const after = await settle();
      const [pairs, execs] = [Number(res[0]), Number(res[1])];
      // Per exec: clone (parent and child), execve, procexit, plus the loader's opens.
      return {
        target,
        achieved: Math.round((2 * pairs + 5 * execs) / took),
        seconds: took,
        collected: after.events_in - before.events_in,
        dropped: dropsOf(after) - dropsOf(before),
        collectorCpu: cpuSeconds(child.pid) - cpu0,
        probeCpu: cpuSeconds(probe) - pcpu0,
      };
    };
    const steps: StormStep[] = [];
    const clean: number[] = [];
    for (const r of rates) {
      const s = await step(r, stepSeconds);
      steps.push(s);
      if (s.dropped > 0) break;
      clean.push(r);
    }
    // A short step can pass where a long hold, at the edge of what the machine's two cores give
    // the storm and the collector together, drops: then the next clean target down is held.
    const holds: StormStep[] = [];
    let sustained: StormStep | undefined;
    for (const target of clean.reverse().slice(0, 3)) {
      const h = await step(target, holdSeconds);
      holds.push(h);
      if (h.dropped === 0) {
        sustained = h;
        break;
      }
    }
    const info = await (await jetstreamManager(nc)).streams.info('EVENTS');
    const stats = await settle();
    return { steps, sustained, holds, bytesPerMillion: (info.state.bytes / Math.max(1, stats.events_published)) * 1e6, storedEvents: stats.events_published };
  } finally {
    sub.unsubscribe();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
