// Test support: a tiny busybox image built from the local busybox-static (no registry here) and
// podman invocations that work on this kind of host (runc, cgroupfs, bounded ulimits).

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const execFileP = promisify(execFile);

async function run(cmd: string, args: readonly string[]): Promise<string> {
  return (await execFileP(cmd, [...args], { encoding: 'utf8', maxBuffer: 16 << 20 })).stdout;
}

export const PODMAN_BASE = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
export const RUN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
export const TEST_IMAGE = 'localhost/harrier-busybox:test';

/** Why podman tests cannot run here, or undefined when they can. */
export function podmanUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (apt-get install podman runc)';
  if (!existsSync('/bin/busybox')) return 'busybox-static is not installed (apt-get install busybox-static)';
  return undefined;
}

export function podman(args: readonly string[], input?: string): string {
  return execFileSync('podman', [...PODMAN_BASE, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/** Builds TEST_IMAGE (busybox, a root and a "harrier" user, an /etc/shadow) unless it exists. */
export function ensureTestImage(): string {
  if (spawnSync('podman', [...PODMAN_BASE, 'image', 'exists', TEST_IMAGE]).status === 0) return TEST_IMAGE;
  const root = mkdtempSync(join(tmpdir(), 'harrier-image-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(root, d));
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'cat', 'ln', 'chmod', 'touch', 'sleep', 'true', 'id', 'ls', 'cp', 'nc', 'unshare', 'wget']) {
      symlinkSync('busybox', join(root, 'bin', applet));
    }
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nharrier:x:4242:4242:Harrier Test:/home/harrier:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nharrier:x:4242:\n');
    writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
    execFileSync('sh', ['-c', 'r="$1"; shift; tar -C "$r" -c . | podman "$@" >/dev/null', 'sh', root, ...PODMAN_BASE, 'import', '-', TEST_IMAGE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return TEST_IMAGE;
}

/** Runs a container to completion without blocking the event loop; resolves to its full id. No network unless extra names one. */
export async function runContainer(name: string, cmd: string, extra: readonly string[] = []): Promise<string> {
  const network = extra.includes('--network') ? [] : ['--network', 'none'];
  await run('podman', [...PODMAN_BASE, 'run', ...RUN_LIMITS, '--name', name, ...network, ...extra, TEST_IMAGE, 'sh', '-c', cmd]);
  return (await run('podman', [...PODMAN_BASE, 'inspect', '--format', '{{.Id}}', name])).trim();
}

export function removeContainer(name: string): void {
  spawnSync('podman', [...PODMAN_BASE, 'rm', '-f', name], { stdio: 'ignore' });
}
