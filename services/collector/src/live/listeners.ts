// Which local processes listen on a TCP port: the collector leaves the NATS server it talks to
// out of the capture when that server runs on this machine (a capture of it would feed itself).

import { readdirSync, readlinkSync } from 'node:fs';
import { readSockets } from './procfs.js';

/** Pids of the processes holding a listening TCP socket on `port` (any local address). */
export function listenerPids(port: number, procRoot = '/proc'): number[] {
  const inodes = new Set<number>();
  for (const [ino, s] of readSockets(`${procRoot}/net`)) if (s.listening && s.local?.port === port) inodes.add(ino);
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const d of readdirSync(procRoot)) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${d}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(Number(m[1]))) {
        pids.push(Number(d));
        break;
      }
    }
  }
  return pids;
}

/** The port of a NATS URL when it points at this machine (loopback or localhost), else undefined. */
export function localPort(url: string): number | undefined {
  const m = /^(?:nats|tls|ws|wss):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(url.includes('://') ? url : `nats://${url}`);
  if (!m) return undefined;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host) && !host.startsWith('127.')) return undefined;
  return m[2] ? Number(m[2]) : 4222;
}
