// The local outputs on real files and real programs run by /bin/sh: order, keep_alive, failures
// counted and reported once, nothing lost that was accepted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink, LocalOutputs, ProgramSink, onceEach } from './index.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-sinks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lines = (n: number, tag = 'alert'): string[] => Array.from({ length: n }, (_, i) => `${tag} ${i} "quoted" $(not run) \`nor this\``);

test('file_output appends one line per alert, opening the file per alert or once (keep_alive)', (t) => {
  const dir = scratch(t);
  for (const keepAlive of [false, true]) {
    const file = join(dir, `alerts-${keepAlive}.txt`);
    const sink = new FileSink({ filename: file, keepAlive }, () => assert.fail('no failure expected'));
    for (const l of lines(100)) sink.write(l);
    assert.equal(readFileSync(file, 'utf8'), lines(100).join('\n') + '\n');
    assert.equal(sink.written, 100);
    assert.equal(sink.failed, 0);
  }
});

test('file_output without keep_alive follows log rotation: a moved file is created again at the next alert', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'events.txt');
  const sink = new FileSink({ filename: file, keepAlive: false }, () => assert.fail('no failure expected'));
  sink.write('before');
  renameSync(file, `${file}.1`);
  sink.write('after');
  await sink.close();
  assert.equal(readFileSync(`${file}.1`, 'utf8'), 'before\n');
  assert.equal(readFileSync(file, 'utf8'), 'after\n');
});

test('file_output to a folder that does not exist: every alert counted as failed, reported once', async () => {
  const reports: string[] = [];
  const sink = new FileSink({ filename: '/nonexistent-harrier-dir/alerts.txt', keepAlive: false }, onceEach((s, m) => reports.push(`${s}: ${m}`)));
  for (const l of lines(5)) sink.write(l);
  await sink.close();
  assert.equal(sink.failed, 5);
  assert.equal(sink.written, 0);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /^file_output: cannot write to \/nonexistent-harrier-dir\/alerts\.txt: ENOENT; check file_output\.filename/);
});

test('program_output runs the program once per alert, in order, the alert only on its input', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'out.txt');
  const sink = new ProgramSink({ program: `cat >> ${file}`, keepAlive: false }, () => assert.fail('no failure expected'));
  for (const l of lines(30)) sink.write(l);
  await sink.close();
  // Shell syntax inside the alert text stayed text: it never reached a command line.
  assert.equal(readFileSync(file, 'utf8'), lines(30).join('\n') + '\n');
  assert.equal(sink.written, 30);
});

test('program_output with keep_alive: one program reads every alert', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'out.txt');
  // Each run of the program adds a "start" line: one run for all alerts.
  const sink = new ProgramSink({ program: `echo start >> ${file}; cat >> ${file}`, keepAlive: true }, () => assert.fail('no failure expected'));
  for (const l of lines(200)) sink.write(l);
  await sink.close();
  assert.equal(readFileSync(file, 'utf8'), ['start', ...lines(200)].join('\n') + '\n');
  assert.equal(sink.written, 200);
});

test('program_output with keep_alive: a program that exits is reported and started again at the next alert', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'out.txt');
  const reports: string[] = [];
  // Reads one line, then exits.
  const sink = new ProgramSink({ program: `read -r l; echo "$l" >> ${file}`, keepAlive: true }, (s, m) => reports.push(`${s}: ${m}`));
  sink.write('first');
  await waitFor(() => reports.length > 0);
  assert.match(reports[0]!, /^program_output: 'read -r l; .*' exited with status 0 while kept alive; it is started again at the next alert$/);
  sink.write('second');
  await sink.close();
  assert.equal(readFileSync(file, 'utf8'), 'first\nsecond\n');
});

test('program_output: a failing program, or one that cannot start, is counted per alert and reported', async () => {
  const reports: string[] = [];
  const failing = new ProgramSink({ program: 'cat >/dev/null; exit 3', keepAlive: false }, onceEach((s, m) => reports.push(`${s}: ${m}`)));
  for (const l of lines(4)) failing.write(l);
  await failing.close();
  assert.equal(failing.failed, 4);
  assert.equal(failing.written, 0);
  assert.deepEqual(reports, ["program_output: 'cat >/dev/null; exit 3' exited with status 3; check program_output.program"]);

  const missing = new ProgramSink({ program: '/nonexistent-harrier-program', keepAlive: false }, () => undefined);
  missing.write('x');
  await missing.close();
  assert.equal(missing.failed, 1);
});

test('program_output without keep_alive: alerts beyond the queue limit are dropped, counted and reported', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'out.txt');
  const reports: string[] = [];
  const sink = new ProgramSink({ program: `cat >> ${file}`, keepAlive: false, maxQueued: 3 }, onceEach((s, m) => reports.push(`${s}: ${m}`)));
  for (const l of lines(10)) sink.write(l);
  await sink.close();
  assert.equal(sink.written, 3);
  assert.equal(sink.failed, 7);
  assert.equal(readFileSync(file, 'utf8'), lines(3).join('\n') + '\n');
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /more than 3 alerts wait for 'cat >> .*' to run; alerts are dropped until it catches up/);
});

test('program_output with keep_alive: a program that stops reading holds at most the queue limit; later alerts are dropped, counted and reported', async () => {
  const reports: string[] = [];
  // Reads nothing for a second, then exits: the pipe fills, alerts wait in the process, then fail.
  const sink = new ProgramSink({ program: 'sleep 1', keepAlive: true, maxQueued: 1000 }, onceEach((s, m) => reports.push(`${s}: ${m}`)));
  const big = 'x'.repeat(1024);
  for (let i = 0; i < 5000; i++) sink.write(`${i} ${big}`);
  // Some lines fit the pipe's buffer at once and leave the queue; the rest of the first 1000 wait.
  assert.ok(sink.failed >= 3900 && sink.failed <= 4000, `dropped ${sink.failed}`);
  assert.equal(reports.filter((r) => /more than 1000 alerts wait for 'sleep 1' to read its input; alerts are dropped until it reads again/.test(r)).length, 1, reports.join('\n'));
  await sink.close();
  // Every alert is accounted for: what the pipe took, and the rest as failed.
  assert.equal(sink.written + sink.failed, 5000);
  assert.ok(sink.written < 1000, `written ${sink.written}`);
});

test('LocalOutputs gives every line to every output and sums up the failures', async (t) => {
  const dir = scratch(t);
  const good = new FileSink({ filename: join(dir, 'a.txt'), keepAlive: true }, () => undefined);
  const bad = new FileSink({ filename: join(dir, 'missing', 'b.txt'), keepAlive: false }, () => undefined);
  const outputs = new LocalOutputs([good, bad]);
  for (const l of lines(3)) outputs.write(l);
  await outputs.close();
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), lines(3).join('\n') + '\n');
  assert.deepEqual(outputs.failures(), [{ sink: 'file_output', failed: 3 }]);
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
