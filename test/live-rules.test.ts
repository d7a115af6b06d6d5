// End to end on the real kernel: `harrier collector` (eBPF source) follows the rules bucket. The
// bucket's ruleset wins over the -r file at start, `harrier rules push` retunes the traced syscalls
// without a restart, and a broken push changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { DecodedBatch, batchAccessor } from '@harrier/batch';
import { compileOutput } from '@harrier/rules';
import { defaultProbeBinary } from '@harrier/collector';
import { natsServerSkip, startNatsServer } from '@harrier/kit/testing';

const execFileP = promisify(execFile);
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const main = join(root, 'cli', 'src', 'main.ts');
// The same conditions as the other live tests (test/live.test.ts).
const skip = natsServerSkip || (process.getuid?.() !== 0 ? 'needs root' : !existsSync(defaultProbeBinary()) ? 'the probe is not built (make -C probe)' : false);

const rule = (type: string): string => `- rule: live ${type}\n  desc: d\n  condition: evt.type = ${type}\n  output: "%evt.type %evt.args"\n  priority: NOTICE\n`;

test('live collector follows the rules bucket: the pushed ruleset wins over -r, a push retunes the probe, a broken push is ignored', { skip }, async () => {
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-live-rules-'));
  const nats = ['-o', `nats.url=${server.url}`];
  const push = async (file: string): Promise<{ code: number; stderr: string }> =>
    execFileP(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'rules', 'push', file, ...nats], { cwd: root }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? '' }),
    );
  const files = { chmod: join(dir, 'chmod.yaml'), ln: join(dir, 'ln.yaml'), bad: join(dir, 'bad.yaml') };
  writeFileSync(files.chmod, rule('fchmodat'));
  writeFileSync(files.ln, rule('symlinkat'));
  writeFileSync(files.bad, '- rule: bad\n  desc: d\n  condition: evt.type = unshare and proc.nmae = x\n  output: o\n  priority: NOTICE\n');

  // In the bucket before the collector starts: chmod. The -r file says ln.
  assert.equal((await push(files.chmod)).code, 0);
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, 'collector', '-r', files.ln, ...nats, '-o', 'webserver.listen_port=0', '-o', 'collector.id=live-rules'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const nc = await connect({ servers: server.url });
  try {
    const waitLog = async (text: string, from: number): Promise<void> => {
      for (let i = 0; i < 400 && !out.slice(from).includes(text); i++) {
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      assert.ok(out.slice(from).includes(text), `the collector never logged '${text}':\n${out}`);
    };
    await waitLog('live capture started', 0);

    const acc = batchAccessor();
    const fmt = compileOutput('%evt.type %evt.args', acc);
    if (!fmt.ok) throw new Error(fmt.message);
    const rows: string[] = [];
    const messages = await (await jetstream(nc).consumers.get('EVENTS')).consume();
    void (async () => {
      for await (const m of messages) {
        const b = DecodedBatch.decode(m.data);
        for (let r = 0; r < b.rows; r++) rows.push(fmt.output.render(acc.at(b, r)).text);
      }
    })();
    /** Runs ln and chmod on files named for the round; resolves when `expect` is published, plus a margin for the other. */
    const round = async (name: string, expect: 'symlinkat' | 'fchmodat'): Promise<string[]> => {
      await execFileP('bash', ['-c', `ln -s /etc/hostname ${dir}/${name}-link; touch ${dir}/${name}-file; chmod 600 ${dir}/${name}-file`]);
      const mine = (): string[] => rows.filter((r) => r.includes(`${name}-`));
      for (let i = 0; i < 200 && !mine().some((r) => r.startsWith(`${expect} `)); i++) await sleep(50);
      await sleep(500);
      return mine().map((r) => r.split(' ')[0]!);
    };

    assert.deepEqual(await round('r1', 'fchmodat'), ['fchmodat'], 'the pushed ruleset wins over the -r file at start');

    let mark = out.length;
    assert.equal((await push(files.ln)).code, 0);
    await waitLog('pushed ruleset: traced syscalls updated', mark);
    assert.deepEqual(await round('r2', 'symlinkat'), ['symlinkat'], 'a push retunes the probe without a restart');

    mark = out.length;
    const refused = await push(files.bad);
    assert.equal(refused.code, 1, 'harrier rules push refuses the broken file itself');
    assert.match(refused.stderr, /bad\.yaml:3:\d+: error LOAD_ERR_COMPILE_CONDITION/);
    assert.deepEqual(await round('r3', 'symlinkat'), ['symlinkat'], 'the traced set stays');
    assert.ok(!out.slice(mark).includes('traced syscalls updated'));
    await messages.close().catch(() => undefined);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    await nc.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `the collector exits 0 on SIGTERM:\n${out.slice(-3000)}`);
  }
});
