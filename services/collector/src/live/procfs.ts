// Seeds the state engine from a running system's /proc at start, the way libscap scans /proc
// before the first live event: every thread with its process's identity, credentials, cgroups
// and open fds (sockets resolved to their addresses through /proc/net), and the users and groups
// of /etc/passwd and /etc/group. Processes that vanish mid-scan are skipped, not errors.

import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedFd, SeedThread } from '../state/engine.js';
import type { FdKind } from '../state/tables.js';
import { exactNumber } from '../state/params.js';
import { NetnsTables } from '../state/host.js';

export interface ProcScan {
  readonly threads: SeedThread[];
  /** Open fds by the tid of each process's main thread. */
  readonly fds: Map<number, SeedFd[]>;
  /** Processes that could not be read (gone, or not permitted), counted. */
  readonly skipped: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function nulList(s: string | undefined): string[] {
  if (!s) return [];
  const parts = s.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(s: string): string[] {
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

function statusField(status: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status);
  return m?.[1]?.trim();
}

/** A socket's addresses by inode, from /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}. */
export interface SocketInfo {
  readonly kind: FdKind;
  readonly l4proto?: string | undefined;
  readonly local?: { ip: string; port: number } | undefined;
  readonly remote?: { ip: string; port: number } | undefined;
  /** TCP LISTEN. */
  readonly listening?: boolean | undefined;
  readonly path?: string | undefined;
}

function hexIpv4(h: string): string {
  // /proc/net gives the address as one little-endian 32-bit word in hex.
  const n = parseInt(h, 16);
  return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`;
}

function hexIpv6(h: string): string {
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = parseInt(h.slice(i * 8, i * 8 + 8), 16);
    // Each 32-bit word is little-endian.
    const b = [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, w >>> 24];
    words.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
  }
  if (words.slice(0, 5).every((x) => x === 0) && words[5] === 0xffff) return `${words[6]! >>> 8}.${words[6]! & 255}.${words[7]! >>> 8}.${words[7]! & 255}`;
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > len && j - i > 1) {
      best = i;
      len = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

export function readSockets(procNet: string): Map<number, SocketInfo> {
  const out = new Map<number, SocketInfo>();
  const inet = (file: string, kind: FdKind, l4proto: string, v6: boolean): void => {
    const text = read(join(procNet, file));
    if (!text) return;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [lip, lport] = f[1]!.split(':') as [string, string];
      const [rip, rport] = f[2]!.split(':') as [string, string];
      const ino = Number(f[9]);
      if (!ino) continue;
      const ip = v6 ? hexIpv6 : hexIpv4;
      out.set(ino, {
        kind,
        l4proto,
        local: { ip: ip(lip), port: parseInt(lport, 16) },
        remote: { ip: ip(rip), port: parseInt(rport, 16) },
        listening: l4proto === 'tcp' && f[3] === '0A',
      });
    }
  };
  inet('tcp', 'ipv4', 'tcp', false);
  inet('tcp6', 'ipv6', 'tcp', true);
  inet('udp', 'ipv4', 'udp', false);
  inet('udp6', 'ipv6', 'udp', true);
  inet('raw', 'ipv4', 'raw', false);
  inet('raw6', 'ipv6', 'raw', true);
  const unix = read(join(procNet, 'unix'));
  for (const line of unix?.split('\n').slice(1) ?? []) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    out.set(Number(f[6]), { kind: 'unix', path: f[7] ?? '' });
  }
  return out;
}

function fdOf(num: number, target: string, socket: (inode: number) => SocketInfo | undefined): SeedFd {
  const anon = /^anon_inode:\[?([^\]]+)\]?$/.exec(target)?.[1];
  if (anon !== undefined) {
    const kind: FdKind = anon === 'eventfd' ? 'event' : anon === 'eventpoll' ? 'eventpoll' : anon === 'inotify' ? 'inotify' : anon === 'timerfd' ? 'timerfd' : anon === 'signalfd' ? 'signalfd' : anon.startsWith('bpf') ? 'bpf' : anon === 'userfaultfd' ? 'userfaultfd' : anon === 'io_uring' ? 'io_uring' : anon === 'pidfd' ? 'pidfd' : 'unknown';
    return { num, kind, name: '' };
  }
  const sock = /^socket:\[(\d+)\]$/.exec(target);
  if (sock) {
    const s = socket(Number(sock[1]));
    if (!s) return { num, kind: 'unknown', name: '' };
    if (s.kind === 'unix') return { num, kind: 'unix', name: s.path ?? '' };
    const { local, remote } = s;
    if (s.listening || !remote || remote.port === 0) return { num, kind: s.kind, sip: local?.ip, sport: local?.port, l4proto: s.l4proto, isServer: true, name: `${local?.ip}:${local?.port}` };
    return { num, kind: s.kind, cip: local?.ip, cport: local?.port, sip: remote.ip, sport: remote.port, l4proto: s.l4proto, name: `${local?.ip}:${local?.port}->${remote.ip}:${remote.port}` };
  }
  if (/^pipe:\[\d+\]$/.test(target)) return { num, kind: 'pipe', name: '' };
  if (target.startsWith('/memfd:')) return { num, kind: 'memfd', name: target.replace(/^\//, '').replace(/ \(deleted\)$/, '') };
  let kind: FdKind = 'file';
  try {
    if (statSync(target).isDirectory()) kind = 'directory';
  } catch {
    // Deleted or unreachable: still a file by its name.
  }
  return { num, kind, name: target };
}

/** Scans `root` (normally /proc) for every thread and each process's fds. */
export function scanProc(root = '/proc'): ProcScan {
  const threads: SeedThread[] = [];
  // Processes started alike (a service's workers, a shell's children) have the same command line,
  // environment and cgroups: one array each, shared, keyed by the file's text. The state engine
  // replaces these lists and never changes them in place (clones share their parent's too).
  const shared = new Map<string, string[]>();
  const sharedList = (kind: string, text: string | undefined, parse: (t: string) => string[]): string[] | undefined => {
    if (text === undefined) return undefined;
    const key = kind + text;
    let list = shared.get(key);
    if (!list) shared.set(key, (list = parse(text)));
    return list;
  };
  const fds = new Map<number, SeedFd[]>();
  let skipped = 0;
  // Sockets by network namespace: /proc/net is only the collector's own. A socket made in one
  // namespace and passed to a process in another (a parent's socketpair) is in the first's tables:
  // looked up in the collector's own too.
  const nets = new NetnsTables(root, readSockets);
  let own: ReadonlyMap<number, SocketInfo> | undefined;
  const socketOf = (pid: number) => (inode: number) => nets.of(pid).get(inode) ?? (own ??= readSockets(join(root, 'net'))).get(inode);
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const dir = join(root, name);
    const status = read(join(dir, 'status'));
    const stat = read(join(dir, 'stat'));
    if (!status || !stat) {
      skipped++;
      continue;
    }
    const st = statFields(stat);
    const cmdline = read(join(dir, 'cmdline')) ?? '';
    const argv = sharedList('c', cmdline, nulList)!;
    const args = sharedList('a', cmdline, (t) => nulList(t).slice(1))!;
    const uid = Number(statusField(status, 'Uid')?.split(/\s+/)[1] ?? NaN);
    const gid = Number(statusField(status, 'Gid')?.split(/\s+/)[1] ?? NaN);
    const nspid = statusField(status, 'NSpid')?.split(/\s+/).map(Number);
    const cap = (key: string): bigint | undefined => {
      const v = statusField(status, key);
      return v === undefined ? undefined : BigInt(`0x${v}`);
    };
    const loginuidText = read(join(dir, 'loginuid'))?.trim();
    const loginuid = loginuidText === undefined ? undefined : Number(loginuidText) === 4294967295 ? -1 : Number(loginuidText);
    // /proc/PID/cgroup: `hierarchy:controllers:path`; the state engine reads `controllers=path`.
    const cgroups = sharedList('g', read(join(dir, 'cgroup')), (t) =>
      t
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [, controllers, ...path] = l.split(':');
          return `${controllers ?? ''}=${path.join(':')}`;
        }),
    );
    const limits = /^Max open files\s+(\d+)/m.exec(read(join(dir, 'limits')) ?? '');
    let exeIno: number | bigint | undefined;
    try {
      // Exact: overlayfs with xino gives inode numbers past 2^53.
      exeIno = exactNumber(statSync(join(dir, 'exe'), { bigint: true }).ino);
    } catch {
      exeIno = undefined;
    }
    const common = {
      pid,
      ptid: Number(st[1]),
      vpgid: Number(st[2]),
      sid: Number(st[3]),
      tty: Number(st[4]),
      exe: argv[0],
      exepath: link(join(dir, 'exe'))?.replace(/ \(deleted\)$/, ''),
      args,
      cwd: link(join(dir, 'cwd')),
      env: sharedList('e', read(join(dir, 'environ')) ?? '', nulList),
      fdlimit: limits ? Number(limits[1]) : undefined,
      uid: Number.isNaN(uid) ? undefined : uid,
      gid: Number.isNaN(gid) ? undefined : gid,
      loginuid,
      cgroups,
      capInheritable: cap('CapInh'),
      capPermitted: cap('CapPrm'),
      capEffective: cap('CapEff'),
      exeIno,
      vpid: nspid?.[nspid.length - 1],
    };
    let tids: string[];
    try {
      tids = readdirSync(join(dir, 'task'));
    } catch {
      tids = [name];
    }
    for (const t of tids) {
      const tid = Number(t);
      const comm = read(join(dir, 'task', t, 'comm'))?.replace(/\n$/, '') ?? statusField(status, 'Name');
      threads.push({ ...common, tid, comm, vtid: tid === pid ? common.vpid : undefined });
    }
    const list: SeedFd[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync(join(dir, 'fd'));
    } catch {
      // Not permitted (another user's process when not root): no fds.
    }
    for (const e of entries) {
      const target = link(join(dir, 'fd', e));
      if (target !== undefined) list.push(fdOf(Number(e), target, socketOf(pid)));
    }
    fds.set(pid, list);
  }
  return { threads, fds, skipped };
}

export interface PasswdEntry {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly homedir: string;
  readonly shell: string;
}

/** /etc/passwd entries (malformed lines are skipped). */
export function readPasswd(path: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of read(path)?.split('\n') ?? []) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ uid, gid, name: f[0]!, homedir: f[5]!, shell: f[6]! });
  }
  return out;
}

/** /etc/group entries (malformed lines are skipped). */
export function readGroup(path: string): { gid: number; name: string }[] {
  const out: { gid: number; name: string }[] = [];
  for (const line of read(path)?.split('\n') ?? []) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.push({ gid, name: f[0]! });
  }
  return out;
}
