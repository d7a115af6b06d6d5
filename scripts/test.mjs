// Runs every *.test.ts under the workspaces (or the paths given) with node:test through tsx.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skip = new Set(['node_modules', 'dist', '.git', '.harrier']);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['packages', 'proto', 'services', 'cli', 'test'])
  .flatMap((r) => {
    try {
      return statSync(join(root, r)).isDirectory() ? collect(join(root, r), []) : [r];
    } catch {
      return [];
    }
  })
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The probe's own tests (C layout check, runtime tests on the real kernel) when everything is run.
if (roots.length === 0 && process.getuid?.() === 0 && existsSync(join(root, 'probe/build/harrier-probe'))) {
  const r = spawnSync('make', ['-s', '-C', join(root, 'probe'), 'test'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('probe tests failed');
    process.exit(1);
  }
}
// A test file that hangs fails after 15 minutes (with Node 20 the limit is per file; the slowest
// takes about 4) instead of holding the whole run until something outside kills it.
const args = ['--conditions=source', '--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=900000', ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
