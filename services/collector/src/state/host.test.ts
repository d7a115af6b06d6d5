// The live-capture questions to /proc, over a made-up /proc tree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsTables, procThreadAlive } from './host.js';

function fakeProc(): string {
  const root = mkdtempSync(join(tmpdir(), 'harrier-proc-'));
  const proc = (pid: number, ns: string | undefined, tcp: string): void => {
    mkdirSync(join(root, String(pid), 'task', String(pid)), { recursive: true });
    mkdirSync(join(root, String(pid), 'ns'));
    mkdirSync(join(root, String(pid), 'net'));
    if (ns !== undefined) symlinkSync(ns, join(root, String(pid), 'ns', 'net'));
    writeFileSync(join(root, String(pid), 'net', 'tcp'), tcp);
  };
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net', 'tcp'), 'host');
  proc(1, 'net:[4026531993]', 'host');
  proc(10, 'net:[4026532500]', 'container A');
  proc(11, 'net:[4026532500]', 'container A, another process');
  proc(20, 'net:[4026532600]', 'container B');
  proc(30, undefined, 'not permitted');
  return root;
}

test("each network namespace's tables are read once, through a process in it", () => {
  const root = fakeProc();
  try {
    const reads: string[] = [];
    const nets = new NetnsTables(root, (dir) => {
      reads.push(dir.slice(root.length));
      return `tcp of ${dir.slice(root.length)}`;
    });
    assert.equal(nets.of(10), 'tcp of /10/net');
    assert.equal(nets.of(11), 'tcp of /10/net', 'same namespace: same tables');
    assert.equal(nets.of(20), 'tcp of /20/net');
    assert.equal(nets.of(1), 'tcp of /1/net');
    assert.equal(nets.of(30), 'tcp of /net', "a namespace that cannot be told: the reader's own");
    assert.equal(nets.of(31), 'tcp of /net', 'a process gone mid-scan too');
    assert.deepEqual(reads, ['/10/net', '/20/net', '/1/net', '/net']);
    assert.equal(nets.size, 4);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a thread is alive while /proc/PID/task/TID exists', () => {
  const root = fakeProc();
  try {
    const alive = procThreadAlive(root);
    assert.equal(alive(10, 10), true);
    assert.equal(alive(10, 12), false);
    assert.equal(alive(99, 99), false);
    assert.equal(procThreadAlive()(process.pid, process.pid), true, 'this very process, in the real /proc');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
