// Capture replay: a .scap file's tables seed the state engine, its events become raw events for
// the replay pipeline. The adapter between the capture reader and the state engine.

import { syscallName, type EventInfo, type ParamDesc } from '@harrier/events';
import type { ScapCapture, ScapEvent } from '../scap/reader.js';
import type { ScapFd, ScapProcess } from '../scap/tables.js';
import { StateEngine, type SeedFd, type SeedThread } from '../state/engine.js';
import { exactNumber, uint, type RawEvent } from '../state/params.js';
import type { FdKind } from '../state/tables.js';
import type { ReplayPipeline } from './pipeline.js';

interface Shape {
  readonly names: readonly string[];
  readonly descs: readonly ParamDesc[];
}

const shapes = new Map<number, Shape>();

function shapeOf(info: EventInfo): Shape {
  let s = shapes.get(info.code);
  if (!s) {
    s = { names: info.params.map((p) => p.name), descs: info.params };
    shapes.set(info.code, s);
  }
  return s;
}

/** A capture event as the state engine takes it; undefined for codes the table does not know. */
export function toRawEvent(e: ScapEvent): RawEvent | undefined {
  const info = e.info;
  if (!info) return undefined;
  const { names, descs } = shapeOf(info);
  // Generic events stand for syscalls without an event of their own: they show the syscall's name.
  let type = info.name;
  if (info.code <= 1) {
    const id = uint(e.params[0]) ?? 0;
    type = id === 0 ? '<unknown>' : (syscallName(id) ?? '<unknown>');
  }
  return { num: e.num, ts: e.ts, tid: e.tid, cpu: e.cpu, type, enter: info.dir === '>', names, descs, params: e.params, flags: info.flags };
}

export function seedThread(p: ScapProcess): SeedThread {
  return {
    tid: p.tid,
    pid: p.pid,
    ptid: p.ptid,
    sid: p.sid,
    vpgid: p.vpgid,
    vtid: p.vtid,
    vpid: p.vpid,
    comm: p.comm,
    exe: p.exe,
    exepath: p.exepath,
    args: p.args,
    cwd: p.cwd,
    env: p.env,
    fdlimit: p.fdlimit,
    uid: p.uid,
    gid: p.gid,
    loginuid: p.loginuid,
    tty: p.tty,
    cgroups: p.cgroups,
    capPermitted: p.capPermitted,
    capEffective: p.capEffective,
    capInheritable: p.capInheritable,
    exeIno: p.exeIno === undefined ? undefined : exactNumber(p.exeIno),
    exeWritable: p.exeWritable,
    exeUpperLayer: p.exeUpperLayer,
    exeFromMemfd: p.exeFromMemfd,
    pidnsInitStartTs: p.pidnsInitStartTs,
  };
}

const FD_KIND: Partial<Record<ScapFd['kind'], FdKind>> = {
  file: 'file',
  file_v2: 'file',
  directory: 'directory',
  ipv4: 'ipv4',
  ipv4_server: 'ipv4',
  ipv6: 'ipv6',
  ipv6_server: 'ipv6',
  fifo: 'pipe',
  unix: 'unix',
  event: 'event',
  signalfd: 'signalfd',
  eventpoll: 'eventpoll',
  inotify: 'inotify',
  timerfd: 'timerfd',
  netlink: 'netlink',
  bpf: 'bpf',
  userfaultfd: 'userfaultfd',
  io_uring: 'io_uring',
  memfd: 'memfd',
  pidfd: 'pidfd',
};

const L4: Record<number, string> = { 2: 'tcp', 3: 'udp', 4: 'icmp', 5: 'raw' };

export function seedFd(f: ScapFd): SeedFd {
  const kind = FD_KIND[f.kind] ?? 'unknown';
  const l4proto = f.l4proto === undefined ? undefined : L4[f.l4proto];
  if (f.kind === 'ipv4' || f.kind === 'ipv6') {
    // The table gives local then remote; an accepted connection (local port a well-known one,
    // remote an ephemeral one) reads client -> server like the events' tuples.
    const accepted = (f.sport ?? 0) < 1024 && (f.dport ?? 0) >= 1024;
    if (accepted) return { num: f.fd, kind, cip: f.dip, cport: f.dport, sip: f.sip, sport: f.sport, l4proto, isServer: true, name: `${f.dip}:${f.dport}->${f.sip}:${f.sport}` };
    return { num: f.fd, kind, cip: f.sip, cport: f.sport, sip: f.dip, sport: f.dport, l4proto, name: `${f.sip}:${f.sport}->${f.dip}:${f.dport}` };
  }
  if (f.kind === 'ipv4_server' || f.kind === 'ipv6_server') {
    return { num: f.fd, kind, sip: f.ip, sport: f.port, l4proto, isServer: true, name: `${f.ip}:${f.port}` };
  }
  return { num: f.fd, kind, name: f.name, openFlags: f.openFlags, dev: f.dev, ino: f.ino === undefined ? undefined : exactNumber(f.ino) };
}

/** What capture seeding feeds: a ReplayPipeline, or a state engine behind a thin adapter. */
export type CaptureSeedTarget = Pick<ReplayPipeline, 'seedThread' | 'seedFd' | 'seedUsers'>;

/** Seeds a pipeline from a capture's tables: users and groups, then processes, then their fds. */
export function seedFromCapture(p: CaptureSeedTarget, cap: ScapCapture): void {
  p.seedUsers(
    cap.users.map((u) => ({ uid: u.uid, name: u.name, homedir: u.homedir, shell: u.shell })),
    cap.groups.map((g) => ({ gid: g.gid, name: g.name })),
  );
  // Main threads first, so other threads share their fd table and working directory.
  const procs = [...cap.processes].sort((a, b) => Number(b.tid === b.pid) - Number(a.tid === a.pid));
  for (const proc of procs) p.seedThread(seedThread(proc));
  for (const [tid, fds] of cap.fds) for (const f of fds) p.seedFd(tid, seedFd(f));
}

/** A state engine seeded from a capture's tables, ready for its events. */
export function stateFromCapture(cap: ScapCapture): StateEngine {
  const state = new StateEngine();
  state.bootEpoch = cap.machine?.bootTsEpoch ?? 0n;
  seedFromCapture(
    {
      seedThread: (s) => void state.seedThread(s),
      seedFd: (tid, f) => state.seedFd(tid, f),
      seedUsers: (users, groups) => {
        for (const u of users) state.tables.users.set(u.uid, u);
        for (const g of groups) state.tables.groups.set(g.gid, g);
      },
    },
    cap,
  );
  return state;
}

/**
 * Replays every event of a capture through a seeded pipeline. `beforeEvent` sees each event's time
 * first; when it returns false the replay stops there (the events before it are evaluated).
 * Returns false when it stopped early.
 */
export function replayCapture(p: ReplayPipeline, cap: ScapCapture, beforeEvent?: (tsNs: bigint) => boolean): boolean {
  seedFromCapture(p, cap);
  p.state.bootEpoch = cap.machine?.bootTsEpoch ?? 0n;
  for (const e of cap.events) {
    if (beforeEvent && !beforeEvent(e.ts)) {
      p.flush();
      return false;
    }
    const raw = toRawEvent(e);
    if (raw) p.push(raw);
  }
  p.flush();
  return true;
}
