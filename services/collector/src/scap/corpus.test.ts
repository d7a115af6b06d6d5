// Reads every corpus capture and checks the reader against the corpus statistics
// (scap_stats.json, made with sysdig 0.29.3) and, where sysdig is installed, against sysdig's own
// reading of each event (number, type, direction, thread).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syscallName } from '@harrier/events';
import { readScap, type ScapCapture, type ScapEvent } from './reader.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const corpusDir = process.env['HARRIER_CORPUS'] ?? resolve(repoRoot, '..', 'shared', 'corpus');
const scapDir = join(corpusDir, 'scap');
const corpusSkip = existsSync(scapDir) ? false : `conformance corpus not found at ${scapDir} (set HARRIER_CORPUS)`;
const SYSDIG = '/usr/bin/sysdig';
const sysdigSkip = corpusSkip || (existsSync(SYSDIG) ? false : `${SYSDIG} not installed`);

interface StatsRow {
  readonly file: string;
  readonly sysdig_error: string | null;
  readonly summary_S_by_dir_type: Readonly<Record<string, number>>;
}

function captures(): string[] {
  if (corpusSkip) return [];
  return ['falco', 'libs'].flatMap((d) =>
    readdirSync(join(scapDir, d)).filter((f) => f.endsWith('.scap')).sort().map((f) => `${d}/${f}`),
  );
}

function load(rel: string): ScapCapture {
  return readScap(readFileSync(join(scapDir, rel)));
}

const GENERIC = new Set([0, 1]);
// sysdig 0.29.3's event table ends with clone3 (335): libscap skips later codes without numbering
// them (sample.scap's useradded/groupadded events).
const SYSDIG_EVENT_MAX = 336;
const CONTAINER_CODES = new Set([228, 272, 324]);
// Names sysdig 0.29.3 spells differently from current libs.
const OLD_NAMES: Readonly<Record<string, string>> = { scapevent: 'sysdigevent' };
const OLD_SYSCALL_NAMES: Readonly<Record<string, string>> = { unknown: '<unknown>', rt_sigreturn: 'sigreturn' };

/** evt.type as sysdig prints it: a generic event shows the name of the syscall in its ID param. */
function sysdigType(e: ScapEvent): string {
  if (GENERIC.has(e.type)) {
    const id = e.params[0];
    const name = id && id.length >= 2 ? syscallName(id[0]! | (id[1]! << 8)) : undefined;
    return name === undefined ? '<unknown>' : (OLD_SYSCALL_NAMES[name] ?? name);
  }
  const name = e.info?.name ?? '<unknown>';
  return OLD_NAMES[name] ?? name;
}

/**
 * The events as sysdig 0.29.3 delivers them, with its numbering: codes it does not know are
 * dropped unnumbered; container events at the start of the capture are consumed by libsinsp as
 * initial state (numbered but never shown).
 */
function asSysdig(cap: ScapCapture): { num: number; e: ScapEvent }[] {
  const out: { num: number; e: ScapEvent }[] = [];
  let num = 0;
  let leading = true;
  for (const e of cap.events) {
    if (e.type >= SYSDIG_EVENT_MAX) continue;
    num++;
    if (leading && CONTAINER_CODES.has(e.type)) continue;
    leading = false;
    out.push({ num, e });
  }
  return out;
}

test('every corpus capture reads without error, with consistent tables', { skip: corpusSkip }, () => {
  const files = captures();
  assert.ok(files.length >= 16, `expected the 16 falco/libs captures, found ${files.length}`);
  for (const rel of files) {
    const cap = load(rel);
    assert.equal(cap.header.majorVersion, 1, rel);
    assert.ok(cap.processes.length > 0, `${rel}: no processes`);
    const tids = new Set(cap.processes.map((p) => p.tid));
    for (const tid of cap.fds.keys()) assert.ok(tids.has(tid), `${rel}: fd list for unknown tid ${tid}`);
    assert.ok(cap.users.some((u) => u.uid === 0 && u.name === 'root'), `${rel}: no root user`);
    assert.ok(cap.interfaces.v4.some((i) => i.addr === '127.0.0.1'), `${rel}: no loopback`);
    let n = 0;
    for (const e of cap.events) {
      n++;
      assert.equal(e.num, n);
      assert.ok(e.info, `${rel}: event ${n} has no table entry`);
    }
    assert.equal(n, cap.eventBlocks, rel);
    assert.equal(cap.stats.unknownBlocks, 0, rel);
  }
});

// Lines missing from the corpus statistics although sysdig -D prints those events (the sysdig test
// below checks them one by one): the -S summary the statistics were made from lost them.
const KNOWN_STATS_GAPS: Readonly<Record<string, readonly string[]>> = {
  'falco/psp__run_as_user_0_container.scap': ['> inotify_add_watch', '< inotify_add_watch'],
};

test('event counts and types agree with scap_stats.json (sysdig 0.29.3)', { skip: corpusSkip }, () => {
  const rows = JSON.parse(readFileSync(join(scapDir, 'scap_stats.json'), 'utf8')) as StatsRow[];
  const byFile = new Map(rows.map((r) => [r.file, r]));
  let compared = 0;
  for (const rel of captures()) {
    const row = byFile.get(rel);
    if (!row || row.sysdig_error !== null) continue;
    const counts: Record<string, number> = {};
    for (const { e } of asSysdig(load(rel))) {
      const k = `${e.info?.dir} ${sysdigType(e)}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const k of KNOWN_STATS_GAPS[rel] ?? []) delete counts[k];
    assert.deepEqual(counts, { ...row.summary_S_by_dir_type }, rel);
    compared++;
  }
  assert.ok(compared >= 15, `only ${compared} captures compared`);
});

test('curl_google_comments.scap (section header with options) holds the same events as curl_google.scap', { skip: corpusSkip }, () => {
  const a = load('libs/curl_google.scap');
  const b = load('libs/curl_google_comments.scap');
  assert.deepEqual(b.header.options.map((o) => [o.code, o.text]), [
    [1, 'File-level comment'],
    [4, 'Editcap (Wireshark) 4.5.0 (v4.5.0rc0-1982-g9ef0fb979bd6)'],
  ]);
  assert.deepEqual(a.header.options, []);
  assert.deepEqual(b.processes, a.processes);
  assert.deepEqual(b.fds, a.fds);
  const ea = [...a.events];
  const eb = [...b.events];
  assert.equal(eb.length, ea.length);
  for (let i = 0; i < ea.length; i++) {
    const x = ea[i]!;
    const y = eb[i]!;
    assert.deepEqual([y.ts, y.tid, y.cpu, y.type, y.params], [x.ts, x.tid, x.cpu, x.type, x.params], `event ${i + 1}`);
  }
});

// sysdig hides libsinsp's internal events (procinfo, ...) unless given -D; with -D it prints every
// event it delivers (see asSysdig for the two it does not).

test('each event matches sysdig -D: number, type, direction, thread', { skip: sysdigSkip }, () => {
  // sysdig 0.29.3 cannot read curl_google_comments.scap (its section header has options).
  const files = captures().filter((f) => f !== 'libs/curl_google_comments.scap');
  assert.ok(files.length >= 15);
  for (const rel of files) {
    const out = execFileSync(SYSDIG, ['-D', '-r', join(scapDir, rel), '-p', '%evt.num %evt.type %evt.dir %thread.tid'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const expected = out.split('\n').filter((l) => l !== '');
    const actual = asSysdig(load(rel)).map(({ num, e }) => `${num} ${sysdigType(e)} ${e.info?.dir} ${e.tid}`);
    assert.equal(actual.length, expected.length, `${rel}: event count`);
    for (let i = 0; i < actual.length; i++) assert.equal(actual[i], expected[i], `${rel}: line ${i + 1}`);
  }
});
