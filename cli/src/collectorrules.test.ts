// The collector's traced syscalls follow the rules bucket (real nats-server): the bucket's valid
// ruleset wins at start, pushes retune, bad pushes are ignored, a deleted one brings the files back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { pushRuleset, RULESET_KEY } from '@harrier/engine';
import { createLogger } from '@harrier/kit';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';
import { CollectorRules, fileTypes, type TracedTypes } from './collectorrules.js';

const rule = (name: string, cond: string): string => `- rule: ${name}\n  desc: d\n  condition: ${cond}\n  output: "%evt.arg.flags"\n  priority: WARNING\n`;
const BROKEN = '- rule: Broken\n  desc: d\n  condition: evt.type = open and proc.nmae = cat\n  output: o\n  priority: WARNING\n';
type Ok = Extract<TracedTypes, { ok: true }>;

/** The sorted types, or a word saying why there are none. */
function typesOf(t: TracedTypes | undefined): string[] | string {
  if (!t) return 'none';
  if (!t.ok) return `error: ${t.message}`;
  return t.types === 'all' ? 'all' : [...t.types].sort();
}

test('traced syscalls: the bucket wins at start, valid pushes retune, bad ones are ignored, a delete brings the files back', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), 'harrier-crules-'));
  const logs: string[] = [];
  const log = createLogger({ destination: new Writable({ write: (c: Buffer, _e, done) => (logs.push(c.toString()), done()) }) });
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, rule('Files', 'evt.type = execve'));
  const bucket = 'crules';
  const followers: CollectorRules[] = [];
  const make = (): CollectorRules => {
    const f = new CollectorRules({ nc, bucket, log, options: {}, files: () => fileTypes([file], {}) });
    followers.push(f);
    return f;
  };
  try {
    // Empty bucket: the files.
    assert.deepEqual(typesOf(await make().initial()), ['execve']);

    // A valid ruleset in the bucket wins over the files, with the arguments its rules read.
    await pushRuleset(nc, bucket, [{ name: 'p.yaml', content: rule('Pushed', 'evt.type in (openat, connect)') }]);
    const f = make();
    const init = await f.initial();
    assert.deepEqual(typesOf(init), ['connect', 'openat']);
    assert.match((init as Ok).version, /^push:\d+:[0-9a-f]{12}$/);
    const args = (init as Ok).args;
    assert.ok(typeof args === 'object' && 'byType' in args);
    assert.deepEqual(args.byType.get('openat'), new Set(['flags']), 'the collector renders the arguments pushed rules read');

    const applied: Ok[] = [];
    let wake: (() => void) | undefined;
    const next = (): Promise<Ok> =>
      new Promise((done, fail) => {
        const n = applied.length;
        const t = setTimeout(() => fail(new Error(`nothing applied; logs:\n${logs.join('')}`)), 5000);
        wake = () => {
          if (applied.length <= n) return;
          clearTimeout(t);
          done(applied[n]!);
        };
      });
    await f.follow((t) => (applied.push(t), wake?.()));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(applied.length, 0, 'the value read at start is not applied twice');

    let got = next();
    await pushRuleset(nc, bucket, [{ name: 'q.yaml', content: rule('Pushed again', 'evt.type = unshare') }]);
    assert.deepEqual(typesOf(await got), ['unshare']);

    // A push that does not load, and a value written by another tool, change nothing.
    await pushRuleset(nc, bucket, [{ name: 'bad.yaml', content: BROKEN }]);
    await (await new Kvm(nc).open(bucket)).put(RULESET_KEY, 'junk');
    got = next();
    await pushRuleset(nc, bucket, [{ name: 'r.yaml', content: rule('Last', 'evt.type = memfd_create') }]);
    assert.deepEqual(typesOf(await got), ['memfd_create'], 'the next valid push is the first applied after the bad ones');
    assert.equal(applied.length, 2);
    assert.ok(logs.some((l) => l.includes('pushed ruleset refused') && l.includes('bad.yaml:3:14: error LOAD_ERR_COMPILE_CONDITION')));
    assert.ok(logs.some((l) => l.includes('pushed ruleset refused') && l.includes('malformed value')));

    // SIGHUP while a pushed ruleset is in force: the bucket wins.
    writeFileSync(file, rule('Files 2', 'evt.type = chmod'));
    f.reloadFiles((t) => applied.push(t));
    assert.equal(applied.length, 2);
    assert.ok(logs.some((l) => l.includes('wins over the files')));

    // Deleted from the bucket: the files are the rules again, and SIGHUP reloads them.
    got = next();
    await (await new Kvm(nc).open(bucket)).delete(RULESET_KEY);
    assert.deepEqual(typesOf(await got), ['chmod']);
    writeFileSync(file, rule('Files 3', 'evt.type = fchmod'));
    f.reloadFiles((t) => applied.push(t));
    assert.deepEqual(typesOf(applied.at(-1)), ['fchmod']);
    writeFileSync(file, BROKEN);
    f.reloadFiles((t) => applied.push(t));
    assert.equal(applied.length, 4, 'broken files keep the traced set');

    // A bucket value that does not load at start: the files' types, and the reason logged.
    writeFileSync(file, rule('Files 4', 'evt.type = execve'));
    await pushRuleset(nc, bucket, [{ name: 'bad.yaml', content: BROKEN }]);
    assert.deepEqual(typesOf(await make().initial()), ['execve']);
    assert.ok(logs.some((l) => l.includes('holds a ruleset that does not load')));
  } finally {
    for (const f of followers) await f.stop();
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
