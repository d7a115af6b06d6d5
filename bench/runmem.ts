// (11) The resident memory of everything `harrier run` starts, as `npx harrier run` does: the
// harrier process (collector and engine worker), its private nats-server and the probe, plus the
// launcher when there is one. Measured after the start-up, under the machine's own activity.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

export interface RunMemory {
  readonly total: number;
  readonly parts: readonly { readonly name: string; readonly pid: number; readonly rss: number }[];
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Every descendant of `pid` (through /proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: string[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        continue;
      }
      for (const k of kids) {
        out.push(Number(k));
        walk(Number(k));
      }
    }
  };
  walk(pid);
  return out;
}

export async function benchRunMemory(settleSeconds = 12): Promise<RunMemory> {
  const state = mkdtempSync(join(tmpdir(), 'harrier-bench-run-'));
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin/harrier.js'), 'run', '-M', String(settleSeconds + 10), '-o', `nats.embedded.state_dir=${state}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const started = Date.now();
    while (!/live detection:/.test(err)) {
      if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`harrier run did not start: ${err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    const pids = [child.pid!, ...descendants(child.pid!)];
    const parts = pids.map((pid) => ({ name: commOf(pid), pid, rss: rssOf(pid) })).filter((p) => p.rss > 0);
    return { total: parts.reduce((n, p) => n + p.rss, 0), parts };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(state, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchRunMemory(), null, 2));
