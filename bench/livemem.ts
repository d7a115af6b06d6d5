// The collector's memory with many live processes: 5,000 sleeping processes exist, the live capture
// seeds its state from /proc and runs the probe for a few seconds; then its RSS and heap are read.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { LiveCapture } from '../services/collector/src/live/capture.js';

export interface LiveMemory {
  readonly processes: number;
  readonly threadsSeeded: number;
  readonly rssBefore: number;
  readonly rss: number;
  readonly heap: number;
  readonly events: number;
}

function countProcesses(): number {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
}

export async function benchLiveMemory(types: ReadonlySet<string>, extra = 5000): Promise<LiveMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const before = countProcesses();
  // One shell starts them all, in its own process group so they are all stopped together.
  const group = spawn('bash', ['-c', `for i in $(seq ${extra}); do sleep 600 & done; wait`], { detached: true, stdio: 'ignore' });
  try {
    for (let i = 0; i < 600 && countProcesses() < before + extra; i++) await new Promise((r) => setTimeout(r, 100));
    const processes = countProcesses();
    let events = 0;
    const lc = new LiveCapture({ node: 'bench', probe: {}, types }, { event: () => (events++, true) });
    await lc.start();
    await new Promise((r) => setTimeout(r, 3000));
    gc?.();
    const mem = process.memoryUsage();
    await lc.stop();
    return { processes, threadsSeeded: lc.counters.seededThreads, rssBefore, rss: mem.rss, heap: mem.heapUsed, events };
  } finally {
    try {
      process.kill(-group.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** In a fresh process, so nothing else the benchmark did counts: `node ... bench/livemem.ts TYPE,TYPE`. */
export async function benchLiveMemoryIsolated(types: ReadonlySet<string>): Promise<LiveMemory> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((done, fail) =>
    execFile(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', import.meta.filename, [...types].join(',')], { maxBuffer: 1 << 20 }, (err, stdout) => (err ? fail(err) : done(stdout))),
  );
  return JSON.parse(out.trim().split('\n').pop()!) as LiveMemory;
}

if (process.argv[1] === import.meta.filename) {
  const r = await benchLiveMemory(new Set((process.argv[2] ?? 'openat,execve').split(',')));
  console.log(JSON.stringify(r));
}
