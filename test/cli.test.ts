// End to end: runs the real `harrier` command as a user would, and checks its output and exit codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerSkip } from '@harrier/kit/testing';
import { credentials } from '@grpc/grpc-js';
import { falcoOutputs, falcoSchema } from '@harrier/proto';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const bin = join(root, 'cli', 'bin', 'harrier.js');
const corpus = process.env['HARRIER_CORPUS'] ?? resolve(root, '..', 'shared', 'corpus');
const upstream = join(corpus, 'rules', 'falcosecurity-rules@main', 'falco_rules.yaml');

function harrier(args: string[], env: Record<string, string> = {}, cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      done({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'harrier-cli-'));

test('harrier works from any working directory, not only the repository\'s', async () => {
  const r = await harrier(['rules', 'validate', join(root, 'rules')], {}, tmpdir());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /: Ok, [1-9]\d* rules/);
});

test('rules validate: ok on Harrier\'s default rules, with counts', async () => {
  const r = await harrier(['rules', 'validate', '--json', 'rules/']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { successful: boolean; errors: unknown[]; warnings: unknown[]; rules: number; macros: number; lists: number };
  assert.equal(out.successful, true);
  assert.deepEqual(out.errors, []);
  assert.ok(out.rules >= 10 && out.macros > 0 && out.lists > 0);
});

test('-V on a broken file: exit 1, diagnostics with file:line:col and codes', async () => {
  const bad = join(tmp, 'broken.yaml');
  writeFileSync(bad, '- rule: broken\n  desc: d\n  condition: evt.type = open and proc.nmae = cat\n  output: o\n  priority: WARNING\n- macro: m\n  condition: (unclosed\n');
  const r = await harrier(['-V', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:14: error LOAD_ERR_COMPILE_CONDITION: unknown field 'proc.nmae'`));
  // The unused macro's syntax error counts too: Falco parses every macro.
  assert.match(r.stdout, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:23: error LOAD_ERR_COMPILE_CONDITION: .*\\(macro 'm'\\)`));
  assert.match(r.stdout, /Invalid \(2 errors\)/);
  const j = await harrier(['rules', 'validate', '--json', bad]);
  const out = JSON.parse(j.stdout) as { errors: { code: string; line: number; item: { name: string } }[]; warnings: { code: string }[] };
  assert.deepEqual(out.errors.map((e) => [e.code, e.item.name]), [['LOAD_ERR_COMPILE_CONDITION', 'm'], ['LOAD_ERR_COMPILE_CONDITION', 'broken']]);
  assert.ok(out.warnings.some((w) => w.code === 'LOAD_UNUSED_MACRO'));
});

test('upstream Falco rules validate unchanged', { skip: existsSync(upstream) ? false : `conformance corpus not found at ${corpus}` }, async () => {
  const r = await harrier(['-V', upstream]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /: Ok, 25 rules, 87 macros, 49 lists/);
});

test('replay --fields prints Falco text alerts and JSON alerts with the alert contract', async () => {
  const events = join(tmp, 'events.ndjson');
  writeFileSync(
    events,
    [
      JSON.stringify({ 'evt.type': 'openat', 'evt.rawres': 3, 'evt.is_open_read': true, 'fd.typechar': 'f', 'fd.num': 3, 'fd.name': '/etc/shadow', 'fd.directory': '/etc', 'proc.name': 'cat', 'proc.pid': 77, 'proc.cmdline': 'cat /etc/shadow', 'user.name': 'bob', 'evt.time': '2026-11-22T10:00:00.000000001Z' }),
      '{"not": "an event"}',
      'garbage',
      JSON.stringify({ 'evt.type': 'openat', 'evt.rawres': 3, 'evt.is_open_read': true, 'fd.typechar': 'f', 'fd.num': 3, 'fd.name': '/etc/hostname', 'proc.name': 'cat' }),
    ].join('\n'),
  );
  const text = await harrier(['replay', '--fields', events, '-r', 'rules/']);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal(lines[0], '10:00:00.000000001: Warning Sensitive file opened for reading (file=/etc/shadow process=cat pid=77 parent=<NA> cmdline=cat /etc/shadow user=bob uid=<NA> container=<NA> image=<NA>)');
  assert.match(text.stderr, /:2: skipped: every event needs an 'evt.type' string/);
  assert.match(text.stderr, /:3: skipped: not valid JSON/);
  assert.match(text.stderr, /Events processed: 2, skipped: 2, alerts: 1, rules enabled: \d+/);

  const json = await harrier(['replay', '--fields', events, '-r', 'rules/', '-o', 'json_output=true']);
  const alert = JSON.parse(json.stdout.trim()) as Record<string, unknown>;
  assert.equal(alert['rule'], 'Sensitive file opened for reading');
  assert.equal(alert['priority'], 'Warning');
  assert.equal(alert['source'], 'syscall');
  assert.equal(alert['time'], '2026-11-22T10:00:00.000000001Z');
  assert.deepEqual((alert['output_fields'] as Record<string, unknown>)['proc.pid'], 77);
  assert.equal((alert['output_fields'] as Record<string, unknown>)['proc.pname'], null);
  assert.match(String(alert['uuid']), /^[0-9a-f-]{36}$/);
  assert.equal(alert['engine_version'], '0.63.0');
  assert.ok(Array.isArray(alert['tags']));
});

test('rules list and describe (-L, -l), fields (--list)', async () => {
  const l = await harrier(['-L', '-r', 'rules/', '--json']);
  const names = (JSON.parse(l.stdout) as { rules: { name: string }[] }).rules.map((x) => x.name);
  assert.ok(names.includes('Shell started in a container'));
  const d = await harrier(['-l', 'Shell started in a container', '-r', 'rules/', '--json']);
  const desc = JSON.parse(d.stdout) as { rules: { info: { name: string }; details: { condition_compiled: string; events: string[] } }[] };
  assert.equal(desc.rules[0]!.info.name, 'Shell started in a container');
  assert.deepEqual(desc.rules[0]!.details.events, ['execve', 'execveat']);
  assert.match(desc.rules[0]!.details.condition_compiled, /proc\.name in \(sh, bash/);
  const missing = await harrier(['-l', 'No such rule', '-r', 'rules/']);
  assert.equal(missing.code, 1);
  const f = await harrier(['--list']);
  assert.match(f.stdout, /Field Class: process/);
  assert.match(f.stdout, /proc\.aname\[ARG\?\]/);
});

test('usage errors exit 2 with a message; unsupported keys are refused (exit 1, as Falco ends on a bad configuration)', async () => {
  const r = await harrier(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  const o = await harrier(['run', '-o', 'base_syscalls.custom_set=[open]']);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /base_syscalls.custom_set is not supported/);
  const e = await harrier(['-e', join(tmp, 'no-such.scap')]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /cannot read capture file .*no-such\.scap: ENOENT/);
  const p = await harrier(['replay', '--fields', 'examples/events.ndjson', '--print', '%proc.name']);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /--print works on capture files/);
});

test('run evaluates the example events with the default rules', async () => {
  const r = await harrier(['run', '--fields', 'examples/events.ndjson']);
  assert.equal(r.code, 0, r.stderr);
  const rules = r.stdout.trim().split('\n').map((l) => /: \w+ (.*?) \(/.exec(l)?.[1]);
  assert.deepEqual(rules, ['Sensitive file opened for reading', 'Shell started in a container', 'Symlink to a sensitive file', 'Outbound connection from a shell', 'Fileless program run from memory']);
});

test('-c reads a falco.yaml-style config; its errors point at file:line:col', async () => {
  const good = join(tmp, 'falco.yaml');
  writeFileSync(good, 'rules_files:\n  - rules/\njson_output: true\nengine:\n  kind: modern_ebpf\n');
  const r = await harrier(['run', '--fields', 'examples/events.ndjson', '-c', good]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 5);
  assert.ok(r.stdout.trim().split('\n').every((l) => (JSON.parse(l) as { rule?: string }).rule !== undefined));
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'json_output: true\nprioirty: warning\n');
  const b = await harrier(['run', '-c', bad]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:1: unknown key 'prioirty' \\(did you mean 'priority'\\?\\)`));
});

const legacy = join(corpus, 'falco', 'legacy_python_tests@2583ea9b', 'test');
const catWrite = join(corpus, 'scap', 'falco', 'cat_write.scap');
const noCorpus = existsSync(catWrite) ? false : `conformance corpus not found at ${corpus}`;

test('replay of a capture prints exactly the alert lines Falco printed', { skip: noCorpus }, async () => {
  const r = await harrier(['replay', catWrite, '-r', join(legacy, 'rules', 'single_rule.yaml'), '-o', 'time_format_iso_8601=true']);
  assert.equal(r.code, 0, r.stderr);
  // The reference file has no newline after its last line.
  assert.equal(r.stdout, readFileSync(join(legacy, 'output_files', 'single_rule_with_cat_write.txt'), 'utf8').trimEnd() + '\n');
  assert.match(r.stderr, /Events processed: 345, evaluated: 8, alerts: 8, rules enabled: 1/);
  // Falco's -e form, with JSON alerts carrying the alert contract.
  const j = await harrier(['-e', catWrite, '-r', join(legacy, 'rules', 'single_rule.yaml'), '--json']);
  assert.equal(j.code, 0, j.stderr);
  const alerts = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(alerts.length, 8);
  assert.equal(alerts[0]!['rule'], 'open_from_cat');
  assert.equal(alerts[0]!['time'], '2016-08-04T16:17:57.881781397Z');
  assert.deepEqual(Object.keys(alerts[0]!['output_fields'] as object), ['evt.time', 'proc.cmdline']);
  assert.equal((alerts[0]!['output_fields'] as Record<string, unknown>)['proc.cmdline'], 'cat /dev/null');
  // The event time in nanoseconds, exact in the text (a JS number would round it).
  assert.match(j.stdout.split('\n')[0]!, /"output_fields":\{"evt\.time":1470327477881781397,"proc\.cmdline":"cat \/dev\/null"\}/);
  assert.match(String(alerts[0]!['event_id']), /^replay-\d+-\d+$/);
  assert.equal(new Set(alerts.map((a) => a['uuid'])).size, 8);
  // Falco's JSON switches: output_fields left out, message (the rule's output alone) put in.
  const m = await harrier(['-e', catWrite, '-r', join(legacy, 'rules', 'single_rule.yaml'), '--json', '-o', 'json_include_output_fields_property=false', '-o', 'json_include_message_property=true']);
  assert.equal(m.code, 0, m.stderr);
  const slim = m.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(slim.length, 8);
  assert.ok(slim.every((a) => !('output_fields' in a) && a['message'] === 'An open was seen (command=cat /dev/null)'), m.stdout);
  assert.match(String(slim[0]!['output']), /^\d{2}:\d{2}:\d{2}\.\d{9}: Warning An open was seen/);
});

/** One row of EXPECTATIONS.json, by its test name. */
function expectationRow(name: string): { capture: string; rules_files: string[]; detect: boolean; other_keys: Record<string, unknown> } {
  const doc = JSON.parse(readFileSync(join(corpus, 'scap', 'EXPECTATIONS.json'), 'utf8')) as { rows: { test: string }[] };
  const row = doc.rows.find((r) => r.test === `falco_tests.yaml:${name}`);
  assert.ok(row, `row ${name} is in EXPECTATIONS.json`);
  return row as unknown as ReturnType<typeof expectationRow>;
}

test('log lines on stderr start with the time as Falco\'s do, ISO 8601 with time_format_iso_8601 (its time_iso_8601 case)', { skip: noCorpus }, async () => {
  const row = expectationRow('time_iso_8601');
  const k = row.other_keys as { stdout_contains: string; stderr_contains: string };
  const r = await harrier(['-e', join(corpus, 'scap', row.capture), ...row.rules_files.flatMap((f) => ['-r', join(corpus, f)]), '-o', 'time_format_iso_8601=true']);
  assert.equal(r.code, 0, r.stderr);
  // Falco's test searches with these regular expressions (Python re.search: ^ is the start of the text).
  assert.match(r.stdout, new RegExp(k.stdout_contains));
  assert.match(r.stderr, new RegExp(k.stderr_contains));
  assert.equal(r.stdout.trim().split('\n').length, 8);
  assert.match(r.stderr, /\+0000: Loading rules from:\n\S+\+0000: {4}\S+single_rule\.yaml\n/);
  // Without the ISO switch: asctime in local time, as Falco's logger writes it.
  const plain = await harrier(['-e', join(corpus, 'scap', row.capture), ...row.rules_files.flatMap((f) => ['-r', join(corpus, f)])]);
  assert.match(plain.stderr, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}: Harrier version: /);
  // log_stderr: false (Falco's key) silences them; the closing count stays.
  const quiet = await harrier(['-e', join(corpus, 'scap', row.capture), ...row.rules_files.flatMap((f) => ['-r', join(corpus, f)]), '-o', 'log_stderr=false']);
  assert.equal(quiet.stderr, 'Events processed: 345, evaluated: 8, alerts: 8, rules enabled: 1\n');
  // --print writes what sysdig -p would and logs nothing.
  const print = await harrier(['replay', join(corpus, 'scap', row.capture), '--print', '%evt.num']);
  assert.equal(print.stderr, '');
});

test('the built-in rules load without warnings and stay quiet on an empty capture (Falco\'s builtin_rules_no_warnings case)', { skip: noCorpus }, async () => {
  const row = expectationRow('builtin_rules_no_warnings');
  assert.deepEqual(row.rules_files, []);
  assert.equal(row.detect, false);
  // No -r and no rules_file: Harrier's own rules (rules/) stand for Falco's built-in ones.
  const r = await harrier(['-e', join(corpus, 'scap', row.capture), '-o', 'time_format_iso_8601=true']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Loading rules from:\n\S+: {4}\S+\/rules\/harrier_rules\.yaml\n/);
  assert.doesNotMatch(r.stderr, /warning/i);
  assert.match(r.stderr, /Events processed: \d+, evaluated: 0, alerts: 0, rules enabled: [1-9]\d*\n/);
  const v = await harrier(['rules', 'validate', join(root, 'rules')]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /: Ok, [1-9]\d* rules, \d+ macros, \d+ lists, 0 warnings\n$/);
  assert.equal(v.stderr, '');
});

/** A response in protobuf's text format, one field per line, as Falco's test client printed them. */
function responseText(r: falcoOutputs.response): string {
  const q = (v: string): string => JSON.stringify(v);
  const name = Object.entries(falcoSchema.priority).find(([, v]) => v === r.priority)?.[0];
  return [
    `seconds:${r.time?.seconds} nanos:${r.time?.nanos}`,
    `priority: ${name}`,
    `rule: ${q(r.rule)}`,
    `output: ${q(r.output)}`,
    ...Object.entries(r.outputFields).flatMap(([k, v]) => [`key: ${q(k)}`, `value: ${q(v)}`]),
    `hostname: ${q(r.hostname)}`,
    ...r.tags.map((t) => `tags: ${q(t)}`),
    `source: ${q(r.source)}`,
  ].join('\n');
}

test('Falco\'s gRPC outputs service on a unix socket serves the replayed alerts (its grpc_unix_socket_outputs case)', { skip: noCorpus }, async (t) => {
  const row = expectationRow('grpc_unix_socket_outputs');
  const k = row.other_keys as { conf_file: string; run_duration: number; grpc: { address: string; service: string; method: string; results: string[] } };
  assert.equal(`${k.grpc.service}/${k.grpc.method}`, 'falco.outputs.service/get');
  // Falco's configuration for the case, with the socket moved into this test's folder.
  const sock = join(tmp, 'grpc', 'falco.sock');
  const args = ['-e', join(corpus, 'scap', row.capture), ...row.rules_files.flatMap((f) => ['-r', join(corpus, f)]), '-c', join(legacy, k.conf_file), '-o', `grpc.bind_address=unix://${sock}`, '-o', 'time_format_iso_8601=true', '-M', String(k.run_duration)];
  const child = spawn(process.execPath, [join(root, 'cli', 'bin', 'harrier.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  // The server stays up for run_duration; a client polls get, as Falco's test client did, until it has the 8 alerts.
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  const client = new falcoOutputs.serviceClient(`unix://${sock}`, credentials.createInsecure());
  const got: falcoOutputs.response[] = [];
  for (let i = 0; i < 150 && got.length < 8; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    await new Promise<void>((resolve, reject) => {
      const call = client.get({});
      call.on('data', (r: falcoOutputs.response) => got.push(r));
      call.on('end', resolve);
      call.on('error', reject);
    });
  }
  client.close();
  assert.equal(got.length, 8, stderr);
  // Falco's test looks for each of these lines in what its client printed for the first alert.
  const first = responseText(got[0]!);
  for (const want of k.grpc.results) assert.ok(first.includes(want), `${JSON.stringify(want)} not in:\n${first}`);
  assert.equal(await exited, 0, stderr);
  assert.ok(!existsSync(sock), 'the socket is removed at exit');
  // Without -M the server stays until a client has fetched every alert: none here, so Ctrl-C ends it and says what was not fetched.
  const c2 = spawn(process.execPath, [join(root, 'cli', 'bin', 'harrier.js'), ...args.slice(0, -2), '-o', 'log_stderr=true'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let e2 = '';
  c2.stderr.on('data', (d: Buffer) => (e2 += d.toString()));
  const x2 = new Promise<number | null>((resolve) => c2.on('exit', (code) => resolve(code)));
  t.after(() => c2.kill('SIGKILL'));
  for (let i = 0; i < 300 && !/Serving gRPC clients/.test(e2); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(e2, /\+0000: Serving gRPC clients on unix:\/\/\S+falco\.sock until 8 alert\(s\) are fetched \(Ctrl-C stops\)\n/);
  c2.kill('SIGINT');
  assert.equal(await x2, 1, e2);
  assert.match(e2, /grpc_output: 8 alert\(s\) were not fetched by a gRPC client/);
});

test('JSON alerts hold every key and value of Falco\'s JSON lines (its stdout_output_json_strict case)', { skip: noCorpus }, async () => {
  const row = expectationRow('stdout_output_json_strict');
  const k = row.other_keys as { conf_file: string; output_strictly_contains: { stdout: string }[] };
  const r = await harrier(['-e', join(corpus, 'scap', row.capture), ...row.rules_files.flatMap((f) => ['-r', join(corpus, f)]), '-c', join(legacy, k.conf_file), '-o', 'json_output=true', '-o', 'time_format_iso_8601=true'], { FALCO_HOSTNAME: 'test-falco-hostname' });
  assert.equal(r.code, 0, r.stderr);
  const expected = readFileSync(join(legacy, k.output_strictly_contains[0]!.stdout), 'utf8').trim().split('\n');
  const got = r.stdout.trim().split('\n');
  assert.equal(got.length, expected.length);
  // JSON.parse would round the nanosecond time: it is compared as text, the rest as values.
  const TIME = /"evt\.time\.iso8601":(\d+)/;
  const CONTRACT = ['uuid', 'node', 'event_id', 'engine_version'];
  for (let i = 0; i < expected.length; i++) {
    assert.equal(TIME.exec(got[i]!)?.[1], TIME.exec(expected[i]!)?.[1], `line ${i + 1}: evt.time.iso8601`);
    const mine = JSON.parse(got[i]!) as Record<string, unknown>;
    const theirs = JSON.parse(expected[i]!) as Record<string, unknown>;
    // Harrier's lines add the alert contract's keys; every key of Falco's is there with its value.
    assert.deepEqual(Object.keys(mine).filter((key) => !CONTRACT.includes(key)).sort(), Object.keys(theirs).sort());
    for (const key of Object.keys(theirs)) assert.deepEqual(mine[key], theirs[key], `line ${i + 1}: ${key}`);
  }
});

test('a reader that closes stdout early (harrier ... | head) ends alerts to stdout, not the command: no crash, the loss said once', { skip: noCorpus }, async () => {
  const child = spawn(process.execPath, [bin, '-e', catWrite, '-r', join(legacy, 'rules', 'single_rule.yaml')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first alert
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.doesNotMatch(stderr, /internal error|Unhandled 'error' event|at .*\.ts:\d+/);
  assert.equal(stderr.match(/stdout_output: standard output was closed by its reader \(EPIPE\); later alerts are not written to it/g)?.length, 1, stderr);
  assert.match(stderr, /Events processed: 345, evaluated: 8, alerts: 8, rules enabled: 1/);
  // The lines that never reached stdout are counted: status 1 when some were refused after the close was seen.
  assert.ok(code === 0 || (code === 1 && /stdout_output: \d+ alert\(s\) could not be written/.test(stderr)), `status ${code}\n${stderr}`);
});

test('file_output and program_output get exactly the lines Falco wrote (its file_output_strict and program_output_strict cases)', { skip: noCorpus }, async () => {
  const expected = readFileSync(join(legacy, 'output_files', 'single_rule_with_cat_write.txt'), 'utf8');
  const rules = ['-r', join(legacy, 'rules', 'single_rule.yaml'), '-o', 'time_format_iso_8601=true'];
  // Falco's own configuration files for these cases, with the paths moved into this test's folder.
  const file = join(tmp, 'file_output.txt');
  const f = await harrier(['replay', catWrite, ...rules, '-c', join(legacy, 'confs', 'file_output.yaml'), '-o', `file_output.filename=${file}`]);
  assert.equal(f.code, 0, f.stderr);
  assert.ok(readFileSync(file, 'utf8').includes(expected), readFileSync(file, 'utf8'));
  // Those configurations keep stdout_output on: the same lines there too.
  assert.ok(f.stdout.includes(expected), f.stdout);
  const prog = join(tmp, 'program_output.txt');
  const p = await harrier(['replay', catWrite, ...rules, '-c', join(legacy, 'confs', 'program_output.yaml'), '-o', `program_output.program=cat >> ${prog}`]);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(readFileSync(prog, 'utf8').includes(expected), readFileSync(prog, 'utf8'));
  assert.equal(readFileSync(prog, 'utf8').split('\n').length, 9); // 8 alerts, one program run each
  // JSON lines through a kept-alive program; stdout off.
  const kept = join(tmp, 'kept.ndjson');
  const k = await harrier(['replay', catWrite, ...rules, '--json', '-o', 'stdout_output.enabled=false', '-o', 'program_output.enabled=true', '-o', 'program_output.keep_alive=true', '-o', `program_output.program=cat > ${kept}`]);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(k.stdout, '');
  const alerts = readFileSync(kept, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: string });
  assert.deepEqual(alerts.map((a) => a.rule), Array(8).fill('open_from_cat'));
  // An output that cannot be written: reported once, counted, exit 1; the other outputs still get every alert.
  const lost = await harrier(['replay', catWrite, ...rules, '-o', 'file_output.enabled=true', '-o', `file_output.filename=${join(tmp, 'no-such-dir', 'x.txt')}`]);
  assert.equal(lost.code, 1);
  assert.equal(lost.stderr.match(/file_output: cannot write to .*no-such-dir\/x\.txt: ENOENT/g)?.length, 1, lost.stderr);
  assert.match(lost.stderr, /file_output: 8 alert\(s\) could not be written/);
  assert.equal(lost.stdout, expected.trimEnd() + '\n');
  // An enabled program output with no program is a configuration error.
  const empty = await harrier(['replay', catWrite, ...rules, '-o', 'program_output.enabled=true']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /program_output is enabled but program_output\.program is empty/);
  // An output Falco has and this command does not deliver to: said, not silently dropped.
  const http = await harrier(['replay', catWrite, ...rules, '-o', 'http_output.enabled=true', '-o', 'http_output.url=http://127.0.0.1:9/']);
  assert.equal(http.code, 0, http.stderr);
  assert.match(http.stderr, /http_output is enabled but not available in this command yet/);
  assert.equal(http.stdout, expected.trimEnd() + '\n');
});

test('replay --print shows field values per event, as sysdig -p does', { skip: noCorpus }, async () => {
  const r = await harrier(['replay', catWrite, '--print', '%evt.num %evt.dir %evt.type %proc.name %fd.name']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('197 < open cat /dev/null'), lines.slice(130, 140).join('\n'));
  assert.ok(lines.includes('209 < close cat /dev/null'));
  assert.ok(lines.includes('131 < execve cat <NA>'));
});

test('a truncated or corrupt capture: a clear error naming the block and offset, exit 1', { skip: noCorpus }, async () => {
  const whole = readFileSync(catWrite);
  const cut = join(tmp, 'cut.scap');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const r = await harrier(['replay', cut, '-r', join(legacy, 'rules', 'single_rule.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /block|offset/i);
  assert.match(r.stderr, /the events before it were replayed|truncated/i);
  const junk = join(tmp, 'junk.scap');
  writeFileSync(junk, Buffer.from('this is not a capture file at all'));
  const j = await harrier(['replay', junk]);
  assert.equal(j.code, 1);
  assert.match(j.stderr, /junk\.scap: .*(magic|section header)/i);
});

test('-t with -T or -D is refused as Falco refuses it (exit 1)', { skip: noCorpus }, async () => {
  for (const extra of [['-T', 'a'], ['-D', 'open.*']]) {
    const r = await harrier(['-e', catWrite, '-r', join(legacy, 'rules', 'single_rule.yaml'), '-t', 'a', ...extra]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /You can not specify both disabled \(-D\/-T\) and enabled \(-t\) rules/);
  }
});

test('run without live capture (no probe) replays a capture with the upstream Falco rules', { skip: existsSync(upstream) ? noCorpus : `conformance corpus not found at ${corpus}` }, async () => {
  const r = await harrier(['run'], { HARRIER_PROBE: join(tmp, 'no-probe') });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /the probe is not built .*no-probe.*; replaying a capture instead/);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2, r.stdout);
  for (const l of lines) assert.match(l, /Notice Unexpected UDP Traffic Seen \| connection=::1:38255->/);
});

const liveSkip = natsServerSkip || (process.getuid?.() !== 0 ? 'needs root' : !existsSync(join(root, 'probe/build/harrier-probe')) ? 'the probe is not built (make -C probe)' : false);

test('run -M: live detection with the default rules prints Falco alert lines, then stops', { skip: liveSkip }, async () => {
  const run = harrier(['run', '-M', '6', '-o', `nats.embedded.state_dir=${join(tmp, 'nats')}`]);
  // The capture is up within a few seconds; then a sensitive read and a symlink to it.
  await new Promise((r) => setTimeout(r, 3500));
  await new Promise<void>((done) => execFile('sh', ['-c', `cat /etc/shadow > /dev/null; ln -sf /etc/shadow ${join(tmp, 'live-link')}`], () => done()));
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /live detection: \d+ rules from .*rules, \d+ event types traced; nats-server pid \d+/);
  assert.match(r.stderr, /Events published: [1-9]\d*, evaluated: [1-9]\d*, alerts: [1-9]\d*, rules enabled: \d+\n/);
  assert.doesNotMatch(r.stderr, /dropped:/);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d\.\d{9}: Warning Sensitive file opened for reading .*file=\/etc\/shadow.*process=cat/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /Symlink to a sensitive file/.test(l) && l.includes('live-link')), r.stdout);
});

// Falco's syscall_event_drops rows of EXPECTATIONS.json: simulated drops over ping_sendto.scap's
// event time, each action, the closing counts, and the configurations Falco refuses.
test('syscall_event_drops on a capture: the actions, the counts, and refused settings, as Falco\'s drop tests expect', { skip: noCorpus }, async () => {
  const rows = JSON.parse(readFileSync(join(corpus, 'scap', 'EXPECTATIONS.json'), 'utf8')) as unknown;
  const all: LegacyDropRow[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'object' && x !== null) {
      const r = x as LegacyDropRow;
      if (typeof r.other_keys?.conf_file === 'string' && r.other_keys.conf_file.startsWith('confs/drops_')) all.push(r);
      else Object.values(x).forEach(walk);
    }
  };
  walk(rows);
  assert.equal(all.length, 8, 'the eight drop rows');
  for (const r of all) {
    const k = r.other_keys;
    const got = await harrier(['-e', join(corpus, 'scap', r.capture), ...r.rules_files.flatMap((f) => ['-r', join(corpus, f)]), '-c', join(legacy, k.conf_file)]);
    const name = r.test;
    assert.equal(got.code, k.exit_status, `${name}: exit status\n${got.stderr}`);
    for (const t of list(k.stderr_contains)) assert.ok(got.stderr.includes(t), `${name}: stderr should contain ${JSON.stringify(t)}:\n${got.stderr}`);
    for (const t of list(k.stderr_not_contains)) assert.ok(!got.stderr.includes(t), `${name}: stderr should not contain ${JSON.stringify(t)}:\n${got.stderr}`);
    for (const t of list(k.stdout_contains)) assert.ok(got.stdout.includes(t), `${name}: stdout should contain ${JSON.stringify(t)}:\n${got.stdout}`);
    for (const t of list(k.stdout_not_contains)) assert.ok(!got.stdout.includes(t), `${name}: stdout should not contain ${JSON.stringify(t)}:\n${got.stdout}`);
  }
});

interface LegacyDropRow {
  test: string;
  capture: string;
  rules_files: string[];
  other_keys: { conf_file: string; exit_status: number; stderr_contains?: string[]; stderr_not_contains?: string[]; stdout_contains?: string[]; stdout_not_contains?: string[] };
}

function list(v: string[] | undefined): string[] {
  return v ?? [];
}
