// The probe's cost to the programs it watches: `dd bs=1` (read/write, outside the traced set) and
// a C loop of open/close on one file (inside it), each timed without and with the probe running,
// alternating, median of several runs. The probe's frames go to /dev/null: this measures the
// kernel side and the loader, not the collector.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultProbeBinary } from '../services/collector/src/live/probe.js';

export interface ProbeOverhead {
  readonly ddBase: number;
  readonly ddProbe: number;
  readonly loopBase: number;
  readonly loopProbe: number;
  /** With the probe tracing execve alone: what any attached sys_exit hook costs every syscall. */
  readonly ddHookOnly: number;
  readonly loopHookOnly: number;
  readonly loopIterations: number;
  readonly syscalls: number;
}

export function probeBenchSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(defaultProbeBinary())) return 'the probe is not built (make -C probe)';
  if (spawnSync('cc', ['--version']).status !== 0) return 'needs a C compiler (cc)';
  return undefined;
}

function seconds(cmd: string, args: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchProbeOverhead(syscalls: readonly string[], runs = 5): Promise<ProbeOverhead> {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-bench-'));
  try {
    const loop = join(dir, 'openclose');
    execFileSync('cc', ['-O2', '-o', loop, join(import.meta.dirname, 'c/openclose.c')]);
    const iterations = 300_000;
    const dd = (): number => seconds('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=5M']);
    const oc = (): number => seconds(loop, ['/etc/hostname', String(iterations)]);
    const base = { dd: [] as number[], loop: [] as number[] };
    const withProbe = { dd: [] as number[], loop: [] as number[] };
    const hookOnly = { dd: [] as number[], loop: [] as number[] };
    const measureWith = async (set: readonly string[], into: { dd: number[]; loop: number[] }): Promise<void> => {
      const p = spawn(defaultProbeBinary(), ['--syscalls', set.join(',')], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // Attached once it says so on stderr.
      for (let t = 0; t < 100 && !err.includes('tracing'); t++) await new Promise((r) => setTimeout(r, 50));
      if (!err.includes('tracing')) throw new Error(`the probe did not start: ${err}`);
      into.dd.push(dd());
      into.loop.push(oc());
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    };
    for (let i = 0; i < runs; i++) {
      base.dd.push(dd());
      base.loop.push(oc());
      await measureWith(syscalls, withProbe);
      // Neither workload calls execve: every bit of this is the hook's cost on untraced syscalls.
      await measureWith(['execve'], hookOnly);
    }
    return {
      ddBase: median(base.dd),
      ddProbe: median(withProbe.dd),
      loopBase: median(base.loop),
      loopProbe: median(withProbe.loop),
      ddHookOnly: median(hookOnly.dd),
      loopHookOnly: median(hookOnly.loop),
      loopIterations: iterations,
      syscalls: syscalls.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
