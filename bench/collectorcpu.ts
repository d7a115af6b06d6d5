// The live collector's CPU per event, offline and repeatable: real probe frames of a storm
// (bench/c/storm.c: open/close pairs and a fork+exec every 2,000 pairs) recorded once to a file,
// then fed again and again through the collector's in-process path: frame splitting and decoding,
// the state engine, enrichment with the upstream stable rules' selection, batches, and (with
// `publish`) the EventPublisher to a real nats-server. Prints µs of this process's CPU
// (process.cpuUsage: user + system) per event frame, per round and the median.
//
//   node --conditions=source --import tsx bench/collectorcpu.ts record FILE [RATE] [SECONDS]   (root)
//   node --expose-gc --conditions=source --import tsx bench/collectorcpu.ts run FILE [ROUNDS] [build|publish]
//   node --expose-gc --conditions=source --import tsx bench/collectorcpu.ts stages FILE [ROUNDS]

import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { BatchBuilder, partitionOf } from '@harrier/batch';
import { fieldMapAccessor, loadRules, Ruleset } from '@harrier/rules';
import { startNatsServer } from '@harrier/kit/testing';
import { corpusPath } from '../packages/rules/src/testing/corpus.js';
import { Enricher, argsNamedBy, type ArgSelection } from '../services/collector/src/replay/enrich.js';
import { LiveCapture, syscallSet } from '../services/collector/src/live/capture.js';
import { FrameDecoder } from '../services/collector/src/live/decode.js';
import { FrameReader } from '../services/collector/src/live/frames.js';
import { StateEngine } from '../services/collector/src/state/engine.js';
import { defaultProbeBinary } from '../services/collector/src/live/probe.js';
import { EventPublisher } from '../services/collector/src/publish/publisher.js';
import { ensureEventsStream } from '../services/collector/src/publish/stream.js';

const CHUNK = 65536;

/** A full collection between rounds (with --expose-gc), so no round pays for the garbage of the one before. */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export interface CollectorCpu {
  readonly frames: number;
  readonly events: number;
  readonly emitted: number;
  /** µs of CPU per event frame, one per measured round. */
  readonly rounds: readonly number[];
  readonly median: number;
  /** The least: the least disturbed by other work on a shared machine. */
  readonly min: number;
}

/** The types and argument selection the upstream stable rules give the live collector. */
export function upstreamSelection(): { types: ReadonlySet<string> | 'all'; args: ArgSelection } {
  const path = 'rules/falcosecurity-rules@main/falco_rules.yaml';
  const rs = new Ruleset(loadRules([{ name: path, content: readFileSync(corpusPath(path), 'utf8') }]), fieldMapAccessor, { source: 'syscall' });
  return { types: rs.eventTypes(), args: argsNamedBy(rs) };
}

/** Records the probe's output while the storm runs at `rate` events/s for `seconds` (needs root). */
export async function recordStorm(file: string, rate = 150_000, seconds = 3): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-stormrec-'));
  try {
    const storm = join(dir, 'storm');
    execFileSync('cc', ['-O2', '-o', storm, join(import.meta.dirname, 'c/storm.c')]);
    const syscalls = syscallSet(upstreamSelection().types);
    const probe = spawn(defaultProbeBinary(), ['--syscalls', syscalls.join(','), '--stats-ms', '1000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = createWriteStream(file);
    probe.stdout.pipe(out);
    let err = '';
    probe.stderr.on('data', (d: Buffer) => (err += d.toString()));
    for (let t = 0; t < 200 && !err.includes('tracing'); t++) await sleep(50);
    if (!err.includes('tracing')) throw new Error(`the probe did not start: ${err}`);
    // Not execFileSync: this process must keep draining the probe's pipe meanwhile.
    const st = spawn(storm, [String(rate), String(seconds), '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let res = '';
    st.stdout.on('data', (d: Buffer) => (res += d.toString()));
    await new Promise((r) => st.once('exit', r));
    await sleep(300);
    probe.kill('SIGTERM');
    await new Promise((r) => probe.once('exit', r));
    await new Promise((r) => out.end(r));
    process.stderr.write(`storm: ${res.trim()} (pairs execs seconds)\n${err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whole frames of a recording (a probe stopped mid-write may leave a partial one at the end). */
function wholeFrames(buf: Uint8Array): { bytes: Uint8Array; frames: number; eventFrames: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  let frames = 0;
  let eventFrames = 0;
  while (buf.length - off >= 8) {
    const len = v.getUint32(off, true);
    if (len < 8 || off + len > buf.length) break;
    const kind = v.getUint16(off + 4, true);
    if (kind === 1 || kind === 2) eventFrames++;
    frames++;
    off += len;
  }
  return { bytes: buf.subarray(0, off), frames, eventFrames };
}

interface Sink {
  add(e: Parameters<EventPublisher['add']>[0], key: string): boolean;
  /** Resolves when the sink can take more. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Batches per partition, as the publisher builds them, encoded and dropped. */
function builderSink(partitions = 32, max = 512): Sink {
  const open = new Map<number, BatchBuilder>();
  let seq = 0;
  return {
    add(e, key) {
      const p = partitionOf(key, partitions);
      let b = open.get(p);
      if (!b) open.set(p, (b = new BatchBuilder({ collectorId: 'bench', node: 'bench', source: 'syscall' })));
      if (!b.fits(e)) b.finishEncoded(seq++);
      b.add(e);
      if (b.size >= max) b.finishEncoded(seq++);
      return true;
    },
    settle: () => Promise.resolve(),
    async close() {
      for (const b of open.values()) if (b.size > 0) b.finishEncoded(seq++);
    },
  };
}

async function publisherSink(): Promise<Sink> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  await ensureEventsStream(await jetstreamManager(nc), { maxBytes: 4 * 1024 ** 3 });
  const p = new EventPublisher(nc, { collectorId: 'bench', node: 'bench', partitions: 32, batchMaxEvents: 512, batchLingerMs: 20, bufferEvents: 262_144, maxInflight: 64 });
  return {
    add: (e, key) => p.add(e, key) && !p.shouldPause,
    async settle() {
      if (p.shouldPause) await p.ready();
    },
    async close() {
      await p.close();
      if (process.env['BENCH_VERBOSE']) console.error(p.stats());
      await nc.close();
      await server.dispose();
    },
  };
}

/** Feeds the recording through the collector's path `rounds` times (the first a warm-up). */
export async function benchCollectorCpu(file: string, rounds = 6, mode: 'build' | 'publish' = 'build'): Promise<CollectorCpu> {
  const rec = wholeFrames(readFileSync(file));
  const sel = upstreamSelection();
  const sink = mode === 'publish' ? await publisherSink() : builderSink();
  const lc = new LiveCapture(
    { node: 'bench', types: sel.types, args: sel.args, probe: { binary: '/nonexistent' } },
    { event: (e, key) => sink.add(e, key) },
  );
  // The probe's stdout handler, fed from memory.
  const feed = (lc.probe as unknown as { onChunk(c: Uint8Array): void }).onChunk.bind(lc.probe);
  const results: number[] = [];
  const emitted0 = lc.counters.emitted;
  try {
    for (let r = 0; r < rounds; r++) {
      collect();
      const c0 = process.cpuUsage();
      for (let off = 0; off < rec.bytes.length; off += CHUNK) {
        // Chunks are copies, as the pipe's are: each round's slabs and views are its own.
        feed(rec.bytes.slice(off, Math.min(off + CHUNK, rec.bytes.length)));
        lc.resume();
        await sink.settle();
        if ((off / CHUNK) % 16 === 15) await new Promise((res) => setImmediate(res));
      }
      const c = process.cpuUsage(c0);
      if (r > 0) results.push((c.user + c.system) / rec.eventFrames);
    }
  } finally {
    await sink.close();
  }
  const sorted = [...results].sort((a, b) => a - b);
  return { frames: rec.frames, events: rec.eventFrames, emitted: (lc.counters.emitted - emitted0) / rounds, rounds: results, median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN };
}

/**
 * The same path cut after each stage, without the publisher: frames and decoding (1), + state
 * engine (2), + enrichment of the events rules need (3), + BatchBuilder.add (4), + encoding the
 * batches (5). µs of CPU per event frame, the least of `rounds` after a warm-up (the stages'
 * differences drown in the noise of a shared machine otherwise).
 */
export function collectorCpuStages(file: string, rounds = 5): number[] {
  const rec = wholeFrames(readFileSync(file));
  const sel = upstreamSelection();
  const types = sel.types;
  const closeAsNumbers = types !== 'all' && !types.has('close');
  const run = (stage: number): number => {
    const reader = new FrameReader();
    const decoder = new FrameDecoder({ reuse: true });
    const state = new StateEngine();
    const enricher = new Enricher(state.tables, sel.args);
    const b = new BatchBuilder({ collectorId: 'bench', node: 'bench', source: 'syscall' });
    collect();
    const c0 = process.cpuUsage();
    for (let off = 0; off < rec.bytes.length; off += CHUNK) {
      reader.push(rec.bytes.slice(off, Math.min(off + CHUNK, rec.bytes.length)), (f) => {
        // Close exits no rule needs take the capture's short path (LiveCapture.onClosed).
        if (closeAsNumbers && decoder.readClose(f)) {
          if (stage >= 2) state.closeExit(decoder.closed.tid, decoder.closed.ts, decoder.closed.fd, decoder.closed.res);
          return;
        }
        const e = decoder.decode(f);
        if (!e || stage < 2) return;
        const st = state.process(e);
        if (stage < 3 || (types !== 'all' && !types.has(e.type))) return;
        const x = enricher.enrich(e, st);
        if (stage < 4) return;
        b.add(x);
        if (b.size >= 512) {
          if (stage < 5) b.finish(0);
          else b.finishEncoded(0);
        }
      });
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / rec.eventFrames;
  };
  const out: number[] = [];
  for (let stage = 1; stage <= 5; stage++) {
    const xs: number[] = [];
    for (let r = 0; r <= rounds; r++) xs.push(run(stage));
    xs.shift();
    out.push(Math.min(...xs));
  }
  return out;
}

if (process.argv[1] === import.meta.filename) {
  const [cmd, file, a, b] = process.argv.slice(2);
  if (cmd === 'record' && file) await recordStorm(file, a ? Number(a) : undefined, b ? Number(b) : undefined);
  else if (cmd === 'run' && file) {
    const r = await benchCollectorCpu(file, a ? Number(a) : undefined, b === 'publish' ? 'publish' : 'build');
    console.log(`${r.events.toLocaleString()} event frames per round (${Math.round(r.emitted).toLocaleString()} handed on), µs of CPU per event: ${r.rounds.map((x) => x.toFixed(2)).join(' ')}; median ${r.median.toFixed(2)}, min ${r.min.toFixed(2)}`);
  } else if (cmd === 'stages' && file) {
    const st = collectorCpuStages(file, a ? Number(a) : undefined);
    const names = ['frames + decode', '+ state', '+ enrich', '+ BatchBuilder.add', '+ encode'];
    console.log(st.map((x, i) => `${names[i]} ${x.toFixed(2)}`).join('; ') + ' (µs of CPU per event frame, cumulative)');
  } else {
    console.error('usage: collectorcpu.ts record FILE [RATE] [SECONDS] | run FILE [ROUNDS] [build|publish] | stages FILE [ROUNDS]');
    process.exit(2);
  }
}
