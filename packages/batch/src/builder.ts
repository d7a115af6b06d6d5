// Builds event batches from enriched events: strings interned once per batch, each process, user,
// group, container and fd object encoded once per batch (by identity), events as columns.

import { EventBatch, type Container, type FileDescriptor, type Process } from '@harrier/proto';
import { BatchWriter } from './writer.js';
import { ColumnStore, encodeEvents } from './columns.js';
import type { ContainerInfo, EnrichedEvent, FdInfo, GroupInfo, ProcessInfo, UserInfo } from './model.js';

/** How far up the process tree ancestors are encoded (libsinsp walks further, rules never do). */
export const MAX_ANCESTORS = 32;

export interface BatchIdentity {
  readonly collectorId: string;
  readonly node: string;
  readonly source: string;
}

const NS = 1_000_000_000n;

/** The writer `finishEncoded` uses: encoding is synchronous, so one serves every builder. */
const WRITER = new BatchWriter();

/** The largest time delta from a batch's base that a double holds exactly (2^53 - 1 ns). */
const MAX_DELTA = BigInt(Number.MAX_SAFE_INTEGER);

export class BatchBuilder {
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  /** UTF-8 bytes of the interned strings (see `approxBytes`). */
  private textLength = 0;
  /** A bound on the encoded size of the table rows (processes, fds, containers, users, groups). */
  private rowBytes = 0;
  private processes: Process[] = [];
  private processIds = new Map<ProcessInfo, { version: number; id: number }>();
  private users: { uid: number; name: number; homedir: number; shell: number }[] = [];
  private userIds = new Map<UserInfo, number>();
  private groups: { gid: number; name: number }[] = [];
  private groupIds = new Map<GroupInfo, number>();
  private containers: Container[] = [];
  private containerIds = new Map<ContainerInfo, number>();
  private fds: FileDescriptor[] = [];
  private fdIds = new Map<FdInfo, { version: number; id: number }>();
  private base: bigint | undefined;
  /** The event columns: typed arrays kept between batches. */
  private readonly cols = new ColumnStore();
  /** The times an event of this batch may have (its delta from `base` a safe integer). */
  private lowest: bigint | undefined;
  private highest: bigint | undefined;

  constructor(private readonly identity: BatchIdentity) {}

  /** Events added since the last `finish`. */
  get size(): number {
    return this.cols.type.n;
  }

  /**
   * About how many bytes `finishEncoded` would give now, never fewer: the interned strings' UTF-8
   * bytes (text decoded from invalid UTF-8 holds U+FFFD, three bytes for each bad byte) and a
   * generous share per string, per table row, per event and per argument for the rest.
   */
  get approxBytes(): number {
    return this.textLength + 4 * this.strings.length + this.rowBytes + 32 * this.cols.type.n + 8 * this.cols.argName.n;
  }

  /**
   * False when the event's time is too far from the batch's first (beyond 2^53 ns, about 104
   * days: a capture's untimed events carry 0) for the batch's time deltas: finish first.
   */
  fits(e: EnrichedEvent): boolean {
    // Compared against bounds made once per batch: no BigInt arithmetic per event.
    return this.base === undefined || (e.ts >= this.lowest! && e.ts <= this.highest!);
  }

  /** Adds an event; the caller has checked `fits` (a batch whose deltas overflow cannot be decoded). */
  add(e: EnrichedEvent): void {
    const c = this.cols;
    if (this.base === undefined) {
      this.base = e.ts;
      this.lowest = e.ts - MAX_DELTA;
      this.highest = e.ts + MAX_DELTA;
    }
    c.type.push(this.str(e.type));
    c.enter.push(e.enter);
    c.ts.push(Number(e.ts - this.base));
    c.num.push(e.num);
    c.tid.push(e.tid);
    c.process.push(e.process ? this.process(e.process) : 0);
    c.fd.push(e.fd ? this.fd(e.fd) : 0);
    c.res.push(e.res ?? 0);
    c.hasRes.push(e.res !== undefined);
    c.cpu.push(e.cpu ?? 0);
    for (const a of e.args ?? []) {
      c.argName.push(this.str(a.name));
      c.argText.push(this.str(a.text));
      c.argResolved.push(a.resolved === undefined || a.resolved === '' ? 0 : this.str(a.resolved));
      c.argRaw.push(a.raw === undefined ? 0 : this.str(a.raw));
    }
    c.argsEnd.push(c.argName.n);
    c.json.push(e.json === undefined ? 0 : this.str(e.json));
    const o = e.open;
    c.open.push(o ? (o.read ? 1 : 0) | (o.write ? 2 : 0) | (o.exec ? 4 : 0) | (o.create ? 8 : 0) : 0);
  }

  /** The batch of the events added so far; the builder starts over empty. */
  finish(sequence: number): EventBatch {
    const batch = this.tables(sequence);
    batch.events = this.cols.toEvents();
    this.cols.clear();
    return batch;
  }

  /**
   * Encoded form of `finish`. The event columns come last (field 10 after 13: protobuf readers
   * take fields in any order), written straight from the column store by `encodeEvents`.
   */
  finishEncoded(sequence: number): Uint8Array {
    const batch = this.tables(sequence);
    // One writer for every batch: its buffer, grown to a batch's size once, is kept (finish copies
    // the bytes out). A new buffer per batch cost more than the encoding: each is zeroed memory
    // outside the heap, and it makes the collector run more often.
    const w = WRITER;
    try {
      EventBatch.encode(batch, w);
      w.uint32((10 << 3) | 2).bytes(encodeEvents(this.cols.views()));
    } catch (err) {
      w.finish(); // leaves the shared writer empty for the next batch
      throw err;
    } finally {
      this.cols.clear();
    }
    return w.finish();
  }

  /** The batch without its events (`events` undefined); the tables start over empty. */
  private tables(sequence: number): EventBatch {
    const base = this.base ?? 0n;
    const batch: EventBatch = {
      collectorId: this.identity.collectorId,
      sequence,
      node: this.identity.node,
      source: this.identity.source,
      strings: this.strings,
      processes: this.processes,
      containers: this.containers,
      fds: this.fds,
      users: this.users,
      groups: this.groups,
      baseSec: Number(base / NS),
      baseNsec: Number(base % NS),
      events: undefined,
    };
    this.strings = [];
    this.stringIds = new Map();
    this.textLength = 0;
    this.rowBytes = 0;
    this.processes = [];
    this.processIds = new Map();
    this.users = [];
    this.userIds = new Map();
    this.groups = [];
    this.groupIds = new Map();
    this.containers = [];
    this.containerIds = new Map();
    this.fds = [];
    this.fdIds = new Map();
    this.base = undefined;
    return batch;
  }

  /** A text of the process or fd tables, without control characters (libsinsp drops them from field values). */
  private clean(s: string | undefined): number {
    // eslint-disable-next-line no-control-regex
    return this.str(s === undefined || !/[\x00-\x1f\x7f]/.test(s) ? s : s.replace(/[\x00-\x1f\x7f]/g, ''));
  }

  private str(s: string | undefined): number {
    if (s === undefined) return 0;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      this.strings.push(s);
      // Counting characters would do for ASCII only; a native count is cheap next to interning.
      this.textLength += Buffer.byteLength(s, 'utf8');
      id = this.strings.length;
      this.stringIds.set(s, id);
    }
    return id;
  }

  private process(p: ProcessInfo): number {
    const known = this.processIds.get(p);
    if (known !== undefined && known.version === (p.version ?? 0)) return known.id;
    // Reserve the row first: ancestors refer to rows of their own.
    const row: Process = {
      pid: p.pid,
      tid: p.tid,
      ppid: p.ppid,
      vpid: p.vpid ?? p.pid,
      vtid: p.vtid ?? p.tid,
      sid: p.sid ?? 0,
      vpgid: p.vpgid ?? 0,
      name: this.clean(p.name),
      exe: this.clean(p.exe),
      exepath: this.clean(p.exepath),
      args: (p.args ?? []).map((a) => this.clean(a)),
      cwd: this.clean(p.cwd),
      env: (p.env ?? []).map((a) => this.str(a)),
      tty: p.tty ?? 0,
      loginuid: p.loginuid ?? -1,
      user: p.user ? this.user(p.user) : 0,
      loginuser: p.loginUser ? this.user(p.loginUser) : 0,
      group: p.group ? this.group(p.group) : 0,
      container: p.container ? this.container(p.container) : 0,
      ancestors: [],
      parent: 0,
      exeUpperLayer: p.exeUpperLayer ?? false,
      exeFromMemfd: p.exeFromMemfd ?? false,
      exeWritable: p.exeWritable ?? false,
      exeIno: String(p.exeIno ?? 0),
      capPermitted: Number(p.capPermitted ?? 0n),
      capEffective: Number(p.capEffective ?? 0n),
      capInheritable: Number(p.capInheritable ?? 0n),
      startTs: String(p.startTs ?? 0n),
      pidnsInitStartTs: String(p.pidnsInitStartTs ?? 0n),
      isThreadLeader: p.pid === p.tid,
      comm: this.clean(p.comm),
      fdlimit: p.fdlimit ?? 0,
    };
    this.processes.push(row);
    const id = this.processes.length;
    this.processIds.set(p, { version: p.version ?? 0, id });
    // Like libsinsp, ancestry goes from process to process: each ancestor is its thread group's
    // leader, whichever of its threads created the child.
    const leader = (x: ProcessInfo): ProcessInfo => x.main ?? x;
    const head = leader(p);
    const seen = new Set<ProcessInfo>([p, head]);
    for (let a = head.parent && leader(head.parent); a !== undefined && row.ancestors.length < MAX_ANCESTORS && !seen.has(a); a = a.parent && leader(a.parent)) {
      seen.add(a);
      row.ancestors.push(this.process(a));
    }
    const parent = p.parent && leader(p.parent);
    row.parent = parent === undefined ? 0 : parent === leader(head.parent ?? p) ? (row.ancestors[0] ?? 0) : this.process(parent);
    // About 30 scalar fields (three 64-bit values as decimal text) and a string or row id per list item.
    this.rowBytes += 128 + 4 * (row.args.length + row.env.length + row.ancestors.length);
    return id;
  }

  private user(u: UserInfo): number {
    let id = this.userIds.get(u);
    if (id === undefined) {
      this.users.push({ uid: u.uid, name: this.str(u.name), homedir: this.str(u.homedir), shell: this.str(u.shell) });
      this.rowBytes += 32;
      id = this.users.length;
      this.userIds.set(u, id);
    }
    return id;
  }

  private group(g: GroupInfo): number {
    let id = this.groupIds.get(g);
    if (id === undefined) {
      this.groups.push({ gid: g.gid, name: this.str(g.name) });
      this.rowBytes += 16;
      id = this.groups.length;
      this.groupIds.set(g, id);
    }
    return id;
  }

  private container(c: ContainerInfo): number {
    let id = this.containerIds.get(c);
    if (id === undefined) {
      const labels = (m: ReadonlyMap<string, string> | undefined): { key: number; value: number }[] => [...(m ?? [])].map(([k, v]) => ({ key: this.str(k), value: this.str(v) }));
      this.containers.push({
        id: this.str(c.id),
        name: this.str(c.name),
        type: this.str(c.type),
        image: this.str(c.image),
        imageRepository: this.str(c.imageRepository),
        imageTag: this.str(c.imageTag),
        imageDigest: this.str(c.imageDigest),
        imageId: this.str(c.imageId),
        privileged: c.privileged ?? false,
        labels: labels(c.labels),
        podName: this.str(c.podName),
        podNamespace: this.str(c.podNamespace),
        podUid: this.str(c.podUid),
        podLabels: labels(c.podLabels),
        ip: this.str(c.ip),
      });
      this.rowBytes += 64 + 12 * ((c.labels?.size ?? 0) + (c.podLabels?.size ?? 0));
      id = this.containers.length;
      this.containerIds.set(c, id);
    }
    return id;
  }

  private fd(f: FdInfo): number {
    const known = this.fdIds.get(f);
    let id = known?.version === (f.version ?? 0) ? known.id : undefined;
    if (id === undefined) {
      this.fds.push({
        num: f.num,
        type: this.str(f.type),
        typechar: this.str(f.typechar),
        name: this.clean(f.name),
        nameRaw: this.clean(f.nameRaw),
        directory: this.clean(f.directory),
        filename: this.clean(f.filename),
        cip: this.str(f.cip),
        sip: this.str(f.sip),
        lip: this.str(f.lip),
        rip: this.str(f.rip),
        cport: f.cport ?? 0,
        sport: f.sport ?? 0,
        lport: f.lport ?? 0,
        rport: f.rport ?? 0,
        hasPorts: f.cport !== undefined || f.sport !== undefined,
        l4proto: this.str(f.l4proto),
        sockfamily: this.str(f.sockfamily),
        connected: f.connected ?? false,
        dev: f.dev ?? 0,
        inode: String(f.ino ?? 0),
        openFlags: f.openFlags ?? 0,
        isServer: f.isServer ?? false,
      });
      this.rowBytes += 48;
      id = this.fds.length;
      this.fdIds.set(f, { version: f.version ?? 0, id });
    }
    return id;
  }
}
