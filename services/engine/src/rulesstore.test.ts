// The rules bucket against a real nats-server: push, read and watch round trip; malformed values
// reach the watcher as values; a ruleset too large for one message is refused with the fix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';
import { parseDoc, pushRuleset, readRuleset, RULESET_KEY, rulesetDigest, RulesStoreError, watchRuleset, type RulesetEntry } from './rulesstore.js';

const skip = natsServerSkip;
const files = [
  { name: 'a.yaml', content: '- list: l\n  items: [x]\n' },
  { name: 'b.yaml', content: '- macro: m\n  condition: evt.type = open\n' },
];

/** Collects watch entries and lets a test wait for the n-th one. */
function collector(): { entries: RulesetEntry[]; cb: (e: RulesetEntry) => void; next: (n: number) => Promise<RulesetEntry> } {
  const entries: RulesetEntry[] = [];
  const waiters: { n: number; done: (e: RulesetEntry) => void }[] = [];
  return {
    entries,
    cb: (e) => {
      entries.push(e);
      for (const w of waiters.splice(0)) {
        if (entries.length >= w.n) w.done(entries[w.n - 1]!);
        else waiters.push(w);
      }
    },
    next: (n) =>
      new Promise((done, fail) => {
        if (entries.length >= n) return done(entries[n - 1]!);
        const t = setTimeout(() => fail(new Error(`watch entry ${n} never came; got ${JSON.stringify(entries)}`)), 5000);
        waiters.push({ n, done: (e) => (clearTimeout(t), done(e)) });
      }),
  };
}

test('push, read and watch round trip: current value first, then every change in order', { skip }, async () => {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    assert.equal(await readRuleset(nc, 'rules-t'), undefined, 'an empty bucket has no ruleset');
    const p1 = await pushRuleset(nc, 'rules-t', files, { pushedBy: 'host-a', now: new Date('2026-01-02T03:04:05Z') });
    assert.equal(p1.digest, rulesetDigest(files));
    const read = await readRuleset(nc, 'rules-t');
    assert.ok(read?.kind === 'ruleset');
    assert.equal(read.revision, p1.revision);
    assert.deepEqual(read.doc, { format: 1, files, pushed_at: '2026-01-02T03:04:05.000Z', pushed_by: 'host-a', digest: p1.digest });

    const w = collector();
    const stop = await watchRuleset(nc, 'rules-t', w.cb);
    const first = await w.next(1);
    assert.equal(first.kind, 'ruleset');
    assert.equal(first.revision, p1.revision);

    const changed = [{ name: 'a.yaml', content: '- list: l\n  items: [y]\n' }];
    const p2 = await pushRuleset(nc, 'rules-t', changed);
    assert.ok(p2.revision > p1.revision);
    assert.notEqual(p2.digest, p1.digest);
    const second = await w.next(2);
    assert.ok(second.kind === 'ruleset');
    assert.deepEqual(second.doc.files, changed);

    const kv = await new Kvm(nc).open('rules-t');
    await kv.delete(RULESET_KEY);
    const third = await w.next(3);
    assert.equal(third.kind, 'deleted');
    assert.equal(await readRuleset(nc, 'rules-t'), undefined, 'a deleted ruleset reads as none');

    await stop();
    await pushRuleset(nc, 'rules-t', files);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(w.entries.length, 3, 'a stopped watch reports nothing more');

    // A watcher that has already read revision N starts after it.
    const w2 = collector();
    const latest = await readRuleset(nc, 'rules-t');
    const stop2 = await watchRuleset(nc, 'rules-t', w2.cb, { afterRevision: latest!.revision });
    await pushRuleset(nc, 'rules-t', changed);
    const only = await w2.next(1);
    assert.ok(only.revision > latest!.revision);
    await stop2();
  } finally {
    await nc.close();
    await server.dispose();
  }
});

test('malformed values reach the watcher as values, and the watch goes on', { skip }, async () => {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    const w = collector();
    const stop = await watchRuleset(nc, 'rules-m', w.cb);
    const kv = await new Kvm(nc).open('rules-m');
    await kv.put(RULESET_KEY, 'not json {');
    await kv.put(RULESET_KEY, JSON.stringify({ format: 2, files: [] }));
    const tampered = { format: 1, files, pushed_at: 'x', pushed_by: 'y', digest: rulesetDigest(files) };
    await kv.put(RULESET_KEY, JSON.stringify({ ...tampered, files: [{ name: 'a.yaml', content: 'changed' }] }));
    await kv.put(RULESET_KEY, JSON.stringify({ ...tampered, files: [{ name: 'a.yaml' }] }));
    const p = await pushRuleset(nc, 'rules-m', files);
    const last = await w.next(5);
    const errors = w.entries.slice(0, 4).map((e) => (e.kind === 'malformed' ? e.error : `not malformed: ${e.kind}`));
    assert.match(errors[0]!, /the value is not JSON/);
    assert.match(errors[1]!, /format 2, newer than this Harrier understands \(1\); upgrade it/);
    assert.match(errors[2]!, /does not match the files .* push the rules again/);
    assert.match(errors[3]!, /files\[0\] must be \{name: string, content: string\}/);
    assert.ok(last.kind === 'ruleset' && last.revision === p.revision);
    await stop();

    // Reading returns the malformed value as a value too.
    await kv.put(RULESET_KEY, '[]');
    const r = await readRuleset(nc, 'rules-m');
    assert.ok(r?.kind === 'malformed');
    assert.match(r.error, /not a JSON object/);
  } finally {
    await nc.close();
    await server.dispose();
  }
});

test('a ruleset over the server\'s max_payload is refused with the fix; an empty one too', { skip }, async () => {
  // max_payload has no command-line flag: it goes through a config file.
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-'));
  writeFileSync(join(dir, 'nats.conf'), 'max_payload: 65536\n');
  const server = await startNatsServer({ args: ['-c', join(dir, 'nats.conf')] });
  const nc = await connect({ servers: server.url });
  try {
    const big = [{ name: 'big.yaml', content: `# ${'x'.repeat(70_000)}\n` }];
    await assert.rejects(pushRuleset(nc, 'rules-b', big), (err: unknown) => {
      assert.ok(err instanceof RulesStoreError);
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /the ruleset is 68\.\d KB once encoded, over what the NATS server accepts in one message \(max_payload 64\.0 KB\): raise max_payload/);
      return true;
    });
    await assert.rejects(pushRuleset(nc, 'rules-b', []), /refusing to push an empty ruleset/);
    assert.equal(await readRuleset(nc, 'rules-b'), undefined);
  } finally {
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without JetStream the bucket error says to enable it', { skip }, async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url });
  try {
    await assert.rejects(readRuleset(nc, 'rules-x'), (err: unknown) => err instanceof RulesStoreError && err.code === 'BUCKET' && /needs JetStream enabled \(nats-server -js\)/.test(err.message));
  } finally {
    await nc.close();
    await server.dispose();
  }
});

test('parseDoc accepts what pushRuleset writes and names what is missing', () => {
  const ok = { format: 1, files, pushed_at: 't', pushed_by: 'h', digest: rulesetDigest(files) };
  assert.deepEqual(parseDoc(new TextEncoder().encode(JSON.stringify(ok))), ok);
  assert.equal(parseDoc(new TextEncoder().encode(JSON.stringify({ ...ok, digest: 1 }))), "'digest' must be a string");
  assert.equal(parseDoc(new TextEncoder().encode(JSON.stringify({ ...ok, files: [] }))), "'files' must be a non-empty list of {name, content}");
  assert.match(parseDoc(new Uint8Array([0xff, 0xfe])) as string, /not JSON/);
  // The digest covers names and contents with lengths, so moving text between them changes it.
  assert.notEqual(rulesetDigest([{ name: 'ab', content: 'c' }]), rulesetDigest([{ name: 'a', content: 'bc' }]));
});
