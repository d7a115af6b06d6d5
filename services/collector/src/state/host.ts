// What the state engine asks of the running system during live capture, kept apart from the
// engine (which does no I/O): whether a thread still runs, and each network namespace's socket
// tables. Capture replay uses neither: a capture's processes are not this machine's.

import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ThreadAlive } from './engine.js';

/** Whether /proc/PID/task/TID exists under `procRoot`: the state engine's liveness check for live capture. */
export function procThreadAlive(procRoot = '/proc'): ThreadAlive {
  return (pid, tid) => existsSync(`${procRoot}/${pid}/task/${tid}`);
}

/**
 * Per network namespace tables read through /proc/PID/net of one process in it, as libscap reads
 * sockets: /proc/net is only the reader's own namespace, so a container's sockets are found
 * through a process of that container. Each namespace (by the inode /proc/PID/ns/net names) is read
 * once; a process whose namespace cannot be told (not permitted, or gone) gets the reader's own.
 */
export class NetnsTables<T> {
  private readonly byNamespace = new Map<string, T>();
  private own: T | undefined;

  constructor(
    private readonly procRoot: string,
    private readonly read: (procNet: string) => T,
  ) {}

  /** Namespaces read so far (the reader's own included once asked for). */
  get size(): number {
    return this.byNamespace.size + (this.own === undefined ? 0 : 1);
  }

  of(pid: number): T {
    const ns = netNamespace(this.procRoot, pid);
    if (ns === undefined) return (this.own ??= this.read(join(this.procRoot, 'net')));
    let tables = this.byNamespace.get(ns);
    if (tables === undefined) {
      tables = this.read(join(this.procRoot, String(pid), 'net'));
      this.byNamespace.set(ns, tables);
    }
    return tables;
  }
}

/** The namespace /proc/PID/ns/net links to (`net:[4026531993]`), or undefined. */
function netNamespace(procRoot: string, pid: number): string | undefined {
  try {
    const target = readlinkSync(join(procRoot, String(pid), 'ns', 'net'));
    return target.startsWith('net:[') ? target : undefined;
  } catch {
    return undefined;
  }
}
