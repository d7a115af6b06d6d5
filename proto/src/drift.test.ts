// The committed ts-proto output must match the .proto files: regenerate into a scratch folder and
// compare. Needs protoc (Debian's protobuf-compiler, installed by scripts/setup.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const hasProtoc = spawnSync('protoc', ['--version']).status === 0;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

test('generated code matches the .proto files', { skip: hasProtoc ? false : 'protoc not installed (apt-get install protobuf-compiler)' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'harrier-proto-'));
  try {
    execFileSync('bash', [join(here, 'generate.sh'), out], { stdio: 'pipe' });
    const committed = join(here, 'src', 'gen');
    const fresh = files(out).map((f) => relative(out, f)).sort();
    assert.deepEqual(files(committed).map((f) => relative(committed, f)).sort(), fresh);
    for (const f of fresh) assert.equal(readFileSync(join(committed, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `${f} is stale: run npm run generate -w proto`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
