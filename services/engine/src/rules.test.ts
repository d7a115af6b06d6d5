// RulesManager against a real nats-server: the bucket's ruleset wins over the files, a valid push
// switches every listener, a broken push or file is refused (old rules stay, internal alert says
// why), and a worker does not start without rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { createLogger } from '@harrier/kit';
import { natsServerSkip, startNatsServer, type TestNatsServer } from '@harrier/kit/testing';
import type { InternalAlertInput } from './internal.js';
import { RULES_RELOAD_FAILED, RulesLoadError, RulesManager, type RulesInForce } from './rules.js';
import { clearRuleset, pushRuleset, RULESET_KEY, rulesetDigest } from './rulesstore.js';

const skip = natsServerSkip;

const rule = (name: string, type: string): string => `- rule: ${name}\n  desc: d\n  condition: evt.type = ${type} and proc.name = cat\n  output: ${name} %proc.name\n  priority: WARNING\n`;
/** Line 3 refers to a field that does not exist. */
const BROKEN = '- rule: Broken\n  desc: d\n  condition: evt.type = open and proc.nmae = cat\n  output: o\n  priority: WARNING\n';

type Alert = InternalAlertInput;

interface Harness {
  server: TestNatsServer;
  nc: Awaited<ReturnType<typeof connect>>;
  dir: string;
  file: string;
  alerts: Alert[];
  logs: string[];
  manager(): RulesManager;
  /** Resolves at the next internal alert. */
  nextAlert(): Promise<Alert>;
  /** Resolves at the next rules switch. */
  nextChange(m: RulesManager): Promise<RulesInForce>;
  close(): Promise<void>;
}

async function harness(fileContent: string): Promise<Harness> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, fileContent);
  const alerts: Alert[] = [];
  const logs: string[] = [];
  let alertWaiter: ((a: Alert) => void) | undefined;
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (c: Buffer, _e, done) => (logs.push(c.toString()), done()) }) });
  const managers: RulesManager[] = [];
  return {
    server,
    nc,
    dir,
    file,
    alerts,
    logs,
    manager: () => {
      const m = new RulesManager({
        nc,
        bucket: 'rules-test',
        files: [file],
        options: {},
        log,
        raiseInternal: (a) => {
          alerts.push(a);
          alertWaiter?.(a);
        },
      });
      managers.push(m);
      return m;
    },
    nextAlert: () => within(new Promise<Alert>((done) => (alertWaiter = done)), 'an internal alert'),
    nextChange: (m) => within(new Promise<RulesInForce>((done) => { const off = m.onChange((r) => (off(), done(r))); }), 'a rules switch'),
    close: async () => {
      for (const m of managers) await m.stop();
      await nc.close();
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.finally(() => clearTimeout(t)), new Promise<T>((_, fail) => (t = setTimeout(() => fail(new Error(`no ${what} within ${ms} ms`)), ms)))]);
}

const names = (r: RulesInForce): string[] => r.ruleset.enabledRules().map((c) => c.rule.name);

test('starts from the files when the bucket is empty, and from the bucket when it holds a ruleset', { skip }, async () => {
  const h = await harness(rule('From files', 'execve'));
  try {
    const m1 = h.manager();
    const r1 = await m1.start();
    assert.equal(r1.origin, 'files');
    assert.equal(r1.version, `files:${rulesetDigest([{ name: h.file, content: rule('From files', 'execve') }]).slice(0, 12)}`);
    assert.deepEqual(names(r1), ['From files']);
    assert.deepEqual(r1.eventTypes, new Set(['execve']));
    assert.equal(m1.current(), r1);

    const pushed = [{ name: 'pushed.yaml', content: rule('From bucket', 'openat') }];
    const p = await pushRuleset(h.nc, 'rules-test', pushed);
    const m2 = h.manager();
    const r2 = await m2.start();
    assert.equal(r2.origin, 'push');
    assert.equal(r2.revision, p.revision);
    assert.equal(r2.version, `push:${p.revision}:${p.digest.slice(0, 12)}`);
    assert.deepEqual(names(r2), ['From bucket']);
    assert.deepEqual(r2.eventTypes, new Set(['openat']));
    // The first manager follows the push too.
    await within((async () => { while (m1.current().origin !== 'push') await new Promise((r) => setTimeout(r, 20)); })(), 'the first manager to switch');
    assert.deepEqual(names(m1.current()), ['From bucket']);
  } finally {
    await h.close();
  }
});

test('a valid push switches the rules and tells the listeners; a broken one is refused with an internal alert', { skip }, async () => {
  const h = await harness(rule('Old rule', 'execve'));
  try {
    const m = h.manager();
    const old = await m.start();
    const changed = h.nextChange(m);
    const p = await pushRuleset(h.nc, 'rules-test', [{ name: 'new.yaml', content: rule('New rule', 'connect') }]);
    const r = await changed;
    assert.equal(r.version, `push:${p.revision}:${p.digest.slice(0, 12)}`);
    assert.deepEqual(names(r), ['New rule']);
    assert.deepEqual(r.eventTypes, new Set(['connect']));
    assert.equal(m.current(), r);
    assert.notEqual(r, old);

    let switched = 0;
    m.onChange(() => switched++);
    const alert = h.nextAlert();
    const bad = await pushRuleset(h.nc, 'rules-test', [{ name: 'push.yaml', content: BROKEN }]);
    const a = await alert;
    assert.equal(a.rule, RULES_RELOAD_FAILED);
    assert.equal(a.priority, 'Error');
    assert.equal(a.fields['rules.source'], `push:${bad.revision}`);
    assert.equal(a.fields['rules.errors'], 1);
    assert.equal(a.fields['rules.in_force'], r.version);
    assert.equal(a.key, `rules-reload:rules-test:push:${bad.revision}`, 'workers refusing the same push raise one alert');
    assert.match(String(a.fields['rules.diagnostics']), /^push\.yaml:3:14: error LOAD_ERR_COMPILE_CONDITION: unknown field 'proc\.nmae'/);
    assert.match(a.text, new RegExp(`the ruleset pushed at revision ${bad.revision} has 1 error\\(s\\) and was refused; the rules in force \\(${r.version}\\) stay`));
    assert.equal(m.current(), r, 'the old rules stay in force');
    assert.equal(switched, 0, 'listeners hear nothing of a refused ruleset');
    assert.ok(h.logs.some((l) => l.includes('"level":50') && l.includes('push.yaml:3:14: error LOAD_ERR_COMPILE_CONDITION')), 'the diagnostics are logged');

    // A value written by another tool is refused the same way.
    const alert2 = h.nextAlert();
    await (await new Kvm(h.nc).open('rules-test')).put(RULESET_KEY, '{"format":1}');
    assert.match(String((await alert2).fields['rules.diagnostics']), /malformed value: 'files' must be a non-empty list/);
    assert.equal(m.current(), r);

    // Clearing the pushed ruleset (harrier rules clear) brings the files back.
    const back = h.nextChange(m);
    assert.ok((await clearRuleset(h.nc, 'rules-test'))! > 0);
    const f = await back;
    assert.equal(f.origin, 'files');
    assert.deepEqual(names(f), ['Old rule']);
  } finally {
    await h.close();
  }
});

test('reloadFromFiles (SIGHUP): a broken file is refused and the old rules stay; a fixed one switches; a pushed ruleset wins', { skip }, async () => {
  const h = await harness(rule('First', 'execve'));
  try {
    const m = h.manager();
    const first = await m.start();
    writeFileSync(h.file, BROKEN);
    const bad = m.reloadFromFiles();
    assert.equal(bad.ok, false);
    assert.equal(m.current(), first);
    assert.equal(h.alerts.length, 1);
    const a = h.alerts[0]!;
    assert.equal(a.rule, RULES_RELOAD_FAILED);
    assert.equal(a.fields['rules.source'], `files:${h.file}`);
    assert.ok(String(a.fields['rules.diagnostics']).startsWith(`${h.file}:3:14: error LOAD_ERR_COMPILE_CONDITION`));
    assert.match(a.text, /the rules files \(.*rules\.yaml\) has 1 error\(s\) and was refused/);

    writeFileSync(h.file, rule('Second', 'execve') + rule('Third', 'openat'));
    let heard: RulesInForce | undefined;
    m.onChange((r) => (heard = r));
    const good = m.reloadFromFiles();
    assert.ok(good.ok);
    assert.equal(heard, m.current());
    assert.equal(good.version, heard.version);
    assert.deepEqual(names(heard), ['Second', 'Third']);
    assert.deepEqual(heard.eventTypes, new Set(['execve', 'openat']));

    // With a pushed ruleset in force the files are only checked: every worker keeps the same rules.
    const pushed = h.nextChange(m);
    await pushRuleset(h.nc, 'rules-test', [{ name: 'p.yaml', content: rule('Pushed', 'connect') }]);
    const p = await pushed;
    const r = m.reloadFromFiles();
    assert.ok(!r.ok);
    assert.match(r.reason, /is in force and wins over the files; the files load fine: push them \(harrier rules push\), or clear the pushed ruleset \(harrier rules clear\)/);
    assert.equal(m.current(), p);
    assert.equal(h.alerts.length, 1, 'no alert: nothing was wrong with the files');
  } finally {
    await h.close();
  }
});

test('start() throws with the diagnostics when the rules in force do not load', { skip }, async () => {
  const h = await harness(BROKEN);
  try {
    await assert.rejects(h.manager().start(), (err: unknown) => {
      assert.ok(err instanceof RulesLoadError);
      assert.equal(err.diagnostics.length, 1);
      assert.match(err.message, /the rules \(files:.*rules\.yaml\) have 1 error\(s\); fix them \(harrier rules validate shows every problem\):\n {2}.*rules\.yaml:3:14: error LOAD_ERR_COMPILE_CONDITION: unknown field 'proc\.nmae'/);
      return true;
    });
    // A missing file is an error too, not an empty ruleset.
    rmSync(h.file);
    await assert.rejects(h.manager().start(), /LOAD_ERR_FILE_READ: cannot read rules file: ENOENT/);

    // A broken value in the bucket stops a start, even with good files, and says how to fix it.
    writeFileSync(h.file, rule('Fine', 'execve'));
    await (await new Kvm(h.nc).create('rules-test')).put(RULESET_KEY, 'garbage');
    await assert.rejects(h.manager().start(), /holds a malformed ruleset at revision \d+: the value is not JSON .*Push valid rules with harrier rules push/);
    await pushRuleset(h.nc, 'rules-test', [{ name: 'bad.yaml', content: BROKEN }]);
    await assert.rejects(h.manager().start(), /the rules \(push:\d+\) have 1 error\(s\); push corrected rules with harrier rules push:\n {2}bad\.yaml:3:14/);
  } finally {
    await h.close();
  }
});
