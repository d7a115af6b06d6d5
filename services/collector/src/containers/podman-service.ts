// Test support: podman's Docker-compatible API service on a private socket, as a child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PODMAN_BASE } from '../testing/podman.js';

export interface PodmanService {
  readonly socketPath: string;
  stop(): Promise<void>;
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Starts the service on `socketPath` (default: a fresh one in the temp directory). */
export async function startPodmanService(socketPath = join(tmpdir(), `harrier-podman-${randomBytes(6).toString('hex')}.sock`)): Promise<PodmanService> {
  const child: ChildProcess = spawn('podman', [...PODMAN_BASE, 'system', 'service', '--time=0', `unix://${socketPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(socketPath, { force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`podman system service exited with ${child.exitCode}: ${stderr}`);
    if (existsSync(socketPath) && (await ping(socketPath))) return { socketPath, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`podman system service did not answer on ${socketPath} within 20 s: ${stderr}`);
}
