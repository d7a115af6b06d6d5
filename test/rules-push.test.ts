// End to end: `harrier rules push` as a child process against a real nats-server stores valid
// rules in the rules bucket, refuses broken ones with file:line diagnostics, and `rules pull`
// shows what the bucket holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { readRuleset, rulesetDigest } from '@harrier/engine';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');

function harrier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], { cwd: root }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const GOOD = '- rule: Cat ran\n  desc: d\n  condition: evt.type = execve and proc.name = cat\n  output: cat ran %proc.cmdline\n  priority: WARNING\n';
const UNUSED = '- macro: never_used\n  condition: proc.name = x\n';
const BROKEN = '- rule: Broken\n  desc: d\n  condition: evt.type = open and proc.nmae = cat\n  output: o\n  priority: WARNING\n';

test('harrier rules push: valid rules land in the bucket (exit 0); broken ones are refused (exit 1) and the bucket keeps the old; rules clear deletes it', { skip: natsServerSkip }, async () => {
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-push-'));
  const nc = await connect({ servers: server.url });
  try {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, GOOD);
    writeFileSync(b, UNUSED);
    const nats = ['-o', `nats.url=${server.url}`, '-o', 'engine.rules_bucket=e2e-rules'];

    const ok = await harrier(['rules', 'push', a, b, ...nats]);
    assert.equal(ok.code, 0, ok.stderr);
    const stored = await readRuleset(nc, 'e2e-rules');
    assert.ok(stored?.kind === 'ruleset');
    const files = [
      { name: a, content: GOOD },
      { name: b, content: UNUSED },
    ];
    assert.deepEqual(stored.doc.files, files, 'the files, in the order given');
    assert.equal(stored.doc.digest, rulesetDigest(files));
    assert.equal(ok.stdout, `pushed 2 file(s), 1 rules, to bucket e2e-rules: revision ${stored.revision}, digest sha256:${stored.doc.digest}\n`);
    assert.match(ok.stderr, /warning LOAD_UNUSED_MACRO/, 'warnings are printed, and do not stop the push');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, BROKEN);
    const refused = await harrier(['rules', 'push', a, bad, ...nats]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:14: error LOAD_ERR_COMPILE_CONDITION: unknown field 'proc\\.nmae'`));
    assert.match(refused.stderr, /not pushed: .* have 1 error\(s\); the rules in force stay/);
    const after = await readRuleset(nc, 'e2e-rules');
    assert.equal(after?.revision, stored.revision, 'the bucket is unchanged');

    const missing = await harrier(['rules', 'push', join(dir, 'nope.yaml'), ...nats]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml:1:1: error LOAD_ERR_FILE_READ: cannot read rules file: ENOENT/);

    const pulled = await harrier(['rules', 'pull', '--json', ...nats]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const doc = JSON.parse(pulled.stdout) as { revision: number; digest: string; files: unknown };
    assert.equal(doc.revision, stored.revision);
    assert.deepEqual(doc.files, files);

    const dry = await harrier(['rules', 'push', '--dry-run', a, ...nats]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Ok, 1 rules, 0 warning\(s\); not pushed \(--dry-run\)/);
    assert.equal((await readRuleset(nc, 'e2e-rules'))?.revision, stored.revision);

    // Clearing deletes the pushed ruleset (workers go back to their files); a second clear finds none.
    const cleared = await harrier(['rules', 'clear', ...nats]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, new RegExp(`cleared the pushed ruleset from bucket e2e-rules \\(revision ${stored.revision + 1}\\)`));
    assert.equal(await readRuleset(nc, 'e2e-rules'), undefined);
    const again = await harrier(['rules', 'clear', ...nats]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /holds no pushed ruleset: workers already use their rules files/);
    const none = await harrier(['rules', 'pull', ...nats]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /holds no ruleset: workers use their rules files/);
  } finally {
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('harrier rules push with an unreachable NATS exits 1 naming the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-push-'));
  try {
    const a = join(dir, 'a.yaml');
    writeFileSync(a, GOOD);
    const r = await harrier(['rules', 'push', a, '-o', 'nats.url=nats://127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot push the rules: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: .*check that the server runs and nats\.url is right/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
