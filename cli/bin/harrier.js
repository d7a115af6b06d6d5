#!/usr/bin/env node
// Entry for `harrier`: runs the TypeScript CLI through tsx with the workspace "source" condition,
// so the repo works straight after `npm ci` with no build step. Signals are passed on to the child.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'src', 'main.ts');
// tsx as this repository has it: resolved here, not from the caller's working directory.
const tsx = import.meta.resolve('tsx');
const args = ['--conditions=source', '--import', tsx, main, ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) {
  process.on(sig, () => child.kill(sig));
}
child.on('error', (err) => {
  process.stderr.write(`harrier: cannot start: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
});
