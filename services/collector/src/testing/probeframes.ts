// Test support: hand-built probe frames (probe/FORMAT.md) and a fake harrier-probe that writes
// them, so ProbeProcess and LiveCapture can be driven through their real stdout path without
// root, BPF or the built probe.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

/** A syscall frame (kind 1; 2 for a process exit): header fields, args and items (tag, bytes). */
export function frame(nr: number, ret: number, args: number[], items: [number, Uint8Array][], opts: { comm?: string; tid?: number; kind?: number } = {}): Uint8Array {
  const len = 144 + items.reduce((n, [, b]) => n + 4 + b.length, 0);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  const tid = opts.tid ?? 4242;
  v.setUint32(0, len, true);
  v.setUint16(4, opts.kind ?? 1, true);
  v.setUint16(6, nr, true);
  v.setBigUint64(8, 5_000_000_000n, true);
  v.setUint32(16, tid, true);
  v.setUint32(20, tid, true); // pid
  v.setUint32(24, 1, true); // ppid
  v.setBigInt64(72, BigInt(ret), true);
  args.forEach((a, i) => v.setBigInt64(80 + i * 8, BigInt(a), true));
  b.set(new TextEncoder().encode(opts.comm ?? 'cat'), 128);
  let o = 144;
  for (const [tag, bytes] of items) {
    v.setUint16(o, tag, true);
    v.setUint16(o + 2, bytes.length, true);
    b.set(bytes, o + 4);
    o += 4 + bytes.length;
  }
  return b;
}

export function hello(bootEpoch: bigint): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, 32, true);
  v.setUint16(4, 4, true);
  v.setUint16(6, 1, true);
  v.setBigUint64(16, bootEpoch, true);
  v.setUint32(24, 2, true);
  return b;
}

/** A stats frame (kind 3) with `sent` events. */
export function statsFrame(sent: number): Uint8Array {
  const b = new Uint8Array(72);
  const v = new DataView(b.buffer);
  v.setUint32(0, 72, true);
  v.setUint16(4, 3, true);
  v.setUint16(6, 1, true);
  v.setBigUint64(24, BigInt(sent), true);
  return b;
}

/** struct hrr_file (32 bytes). */
export function fileItem(ino: number | bigint, dev: number, fmode: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(ino), true);
  v.setUint32(8, dev, true);
  v.setUint32(24, fmode, true);
  return b;
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export interface FakeProbe {
  /** The executable, for ProbeOptions.binary. */
  readonly binary: string;
  dispose(): void;
}

/**
 * An executable standing in for harrier-probe: it writes `parts[0]` to stdout, then each further
 * part when a command line arrives on its stdin (ProbeProcess.requestStats() sends one), each with
 * one write; then it waits to be stopped, as the probe does. It ignores its arguments.
 */
export function fakeProbe(parts: readonly Uint8Array[]): FakeProbe {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-fakeprobe-'));
  const lines = ['#!/bin/sh'];
  parts.forEach((p, i) => {
    const file = join(dir, `part${i}.bin`);
    writeFileSync(file, p);
    if (i > 0) lines.push('read line || exit 0');
    lines.push(`cat '${file}'`);
  });
  lines.push('exec sleep 3600');
  const binary = join(dir, 'harrier-probe');
  writeFileSync(binary, `${lines.join('\n')}\n`);
  chmodSync(binary, 0o755);
  return { binary, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits until `cond` holds (polling), or fails naming `what` (on the monotonic clock: tests may mock Date). */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
