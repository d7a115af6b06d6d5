// Reads fields from a decoded event batch: the rules package's BatchAccessor over EventBatch.
// Fields of a process, fd, user or container become dictionary columns through the events'
// table references, so a check on `proc.name` runs once per process in the batch; event
// arguments become columns on first use. Columns are built once per batch and field.

import type { BatchAccessor, FieldColumn, FieldReader, FieldRef, FieldValue } from '@harrier/rules';
import type { Container, EventBatch, FileDescriptor, Process } from '@harrier/proto';
import { ERRNO_NAMES, capabilitiesText } from '@harrier/events';
import { eventTypeInfo } from '@harrier/rules';
import { decodeEventBatch } from './decode.js';

/** A batch that is not what its encoding promises: which part, and what is wrong with it. */
export class BatchError extends Error {
  override readonly name = 'BatchError';
}

type Table = readonly FieldValue[] | readonly (FieldValue | undefined)[];

export class DecodedBatch {
  readonly rows: number;
  /** Event type per row as an index into `strings` (-1 when missing). */
  readonly typeIds: Int32Array;
  readonly strings: readonly string[];
  private readonly columns = new Map<string, FieldColumn | null>();
  private refs: Map<string, number> | undefined;
  private procRows: Int32Array | undefined;
  private fdCache: Int32Array | undefined;
  private raws: FieldValue[] | undefined;

  constructor(readonly msg: EventBatch) {
    const ev = msg.events;
    const n = ev?.type.length ?? 0;
    this.rows = n;
    this.strings = msg.strings;
    if (!ev) {
      this.typeIds = new Int32Array(0);
      return;
    }
    validate(msg, ev, n);
    const typeIds = new Int32Array(n);
    const type = ev.type;
    for (let i = 0; i < n; i++) typeIds[i] = type[i]! - 1;
    this.typeIds = typeIds;
  }

  /** Decodes a batch from its wire form; a malformed one throws BatchError. */
  static decode(bytes: Uint8Array): DecodedBatch {
    let msg: EventBatch;
    try {
      msg = decodeEventBatch(bytes);
    } catch (err) {
      throw new BatchError(`the batch is not a valid EventBatch message (${(err as Error).message})`);
    }
    return new DecodedBatch(msg);
  }

  get events(): NonNullable<EventBatch['events']> {
    return this.msg.events!;
  }

  str(ref: number): string | undefined {
    return ref === 0 ? undefined : this.strings[ref - 1];
  }

  /** The string reference of a text (its last entry, should the table hold it twice), or 0 when the batch does not hold it. */
  ref(s: string): number {
    this.refs ??= new Map();
    let r = this.refs.get(s);
    if (r === undefined) {
      r = this.strings.lastIndexOf(s) + 1;
      this.refs.set(s, r);
    }
    return r;
  }

  /** The string table with integers as numbers: the values of evt.rawarg. */
  rawTable(): readonly FieldValue[] {
    return (this.raws ??= this.strings.map((x) => (/^-?\d{1,15}$/.test(x) ? Number(x) : x)));
  }

  /** Each row's process as a 0-based table row, -1 when unknown. */
  processRows(): Int32Array {
    return (this.procRows ??= rowsOf(this.msg.events?.process));
  }

  /** Each row's fd as a 0-based table row, -1 when the event has none. */
  fdRows(): Int32Array {
    return (this.fdCache ??= rowsOf(this.msg.events?.fd));
  }

  /** The field's column, built on first use. */
  column(ref: FieldRef): FieldColumn | undefined {
    const key = ref.arg === undefined ? ref.name : `${ref.name}[${ref.arg}]`;
    let c = this.columns.get(key);
    if (c === undefined) {
      c = buildColumn(this, ref) ?? null;
      this.columns.set(key, c);
    }
    return c ?? undefined;
  }
}

type Events = NonNullable<EventBatch['events']>;

/** Table references (0 none, n the (n - 1)th row) as 0-based rows, -1 for none. */
function rowsOf(refs: readonly number[] | undefined): Int32Array {
  const n = refs?.length ?? 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = refs![i]! - 1;
  return out;
}

/**
 * The checks a batch must pass before its columns are read: every column as long as the events,
 * argument ranges in order, every reference within its table. Errors name the first offence in a
 * fixed order (events' columns, then processes, fds, containers, users, groups).
 */
function validate(msg: EventBatch, ev: Events, n: number): void {
  lengthIs('enter', ev.enter.length, n);
  lengthIs('ts', ev.ts.length, n);
  lengthIs('num', ev.num.length, n);
  lengthIs('tid', ev.tid.length, n);
  lengthIs('process', ev.process.length, n);
  lengthIs('fd', ev.fd.length, n);
  lengthIs('res', ev.res.length, n);
  lengthIs('has_res', ev.hasRes.length, n);
  lengthIs('cpu', ev.cpu.length, n);
  lengthIs('args_end', ev.argsEnd.length, n);
  lengthIs('json', ev.json.length, n);
  lengthIs('open', ev.open.length, n);
  const nArgs = ev.argName.length;
  if (ev.argText.length !== nArgs || ev.argRaw.length !== nArgs || ev.argResolved.length !== nArgs) throw new BatchError('the argument columns differ in length: the batch is malformed');
  const argsEnd = ev.argsEnd;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const end = argsEnd[i]!;
    if (end < prev || end > nArgs) throw new BatchError(`events.args_end[${i}] = ${end} is out of order or past the ${nArgs} arguments`);
    prev = end;
  }
  const ns = msg.strings.length;
  const nProcs = msg.processes.length;
  const nUsers = msg.users.length;
  const nGroups = msg.groups.length;
  const nContainers = msg.containers.length;
  refsWithin('events.type', ev.type, ns);
  refsWithin('events.arg_name', ev.argName, ns);
  refsWithin('events.arg_text', ev.argText, ns);
  refsWithin('events.arg_resolved', ev.argResolved, ns);
  refsWithin('events.arg_raw', ev.argRaw, ns);
  refsWithin('events.json', ev.json, ns);
  refsWithin('events.process', ev.process, nProcs);
  refsWithin('events.fd', ev.fd, msg.fds.length);
  const procs = msg.processes;
  for (let i = 0; i < nProcs; i++) {
    const p = procs[i]!;
    refsWithin(`processes[${i}].ancestors`, p.ancestors, nProcs);
    refsWithin(`processes[${i}].args`, p.args, ns);
    refsWithin(`processes[${i}].env`, p.env, ns);
    if (p.name > ns) pastTable(`processes[${i}].name`, p.name, ns);
    if (p.exe > ns) pastTable(`processes[${i}].exe`, p.exe, ns);
    if (p.exepath > ns) pastTable(`processes[${i}].exepath`, p.exepath, ns);
    if (p.cwd > ns) pastTable(`processes[${i}].cwd`, p.cwd, ns);
    if (p.comm > ns) pastTable(`processes[${i}].comm`, p.comm, ns);
    if (p.user > nUsers) pastTable(`processes[${i}].user`, p.user, nUsers);
    if (p.loginuser > nUsers) pastTable(`processes[${i}].loginuser`, p.loginuser, nUsers);
    if (p.group > nGroups) pastTable(`processes[${i}].group`, p.group, nGroups);
    if (p.container > nContainers) pastTable(`processes[${i}].container`, p.container, nContainers);
    if (p.parent > nProcs) pastTable(`processes[${i}].parent`, p.parent, nProcs);
  }
  const fds = msg.fds;
  for (let i = 0; i < fds.length; i++) {
    const f = fds[i]!;
    // One comparison for the usual case; the field at fault is looked for only on failure.
    if (Math.max(f.type, f.typechar, f.name, f.nameRaw, f.directory, f.filename, f.cip, f.sip, f.lip, f.rip, f.l4proto, f.sockfamily) > ns) {
      stringsWithin(`fds[${i}]`, ns, [
        ['type', f.type],
        ['typechar', f.typechar],
        ['name', f.name],
        ['nameRaw', f.nameRaw],
        ['directory', f.directory],
        ['filename', f.filename],
        ['cip', f.cip],
        ['sip', f.sip],
        ['lip', f.lip],
        ['rip', f.rip],
        ['l4proto', f.l4proto],
        ['sockfamily', f.sockfamily],
      ]);
    }
  }
  const containers = msg.containers;
  for (let i = 0; i < nContainers; i++) {
    const c = containers[i]!;
    stringsWithin(`containers[${i}]`, ns, [
      ['id', c.id],
      ['name', c.name],
      ['type', c.type],
      ['image', c.image],
      ['imageRepository', c.imageRepository],
      ['imageTag', c.imageTag],
      ['imageDigest', c.imageDigest],
      ['imageId', c.imageId],
      ['podName', c.podName],
      ['podNamespace', c.podNamespace],
      ['podUid', c.podUid],
      ['ip', c.ip],
    ]);
    for (const list of [c.labels, c.podLabels]) for (const l of list) if (l.key > ns || l.value > ns) throw new BatchError(`containers[${i}] has a label that refers past the ${ns} strings`);
  }
  const users = msg.users;
  for (let i = 0; i < nUsers; i++) {
    const u = users[i]!;
    if (u.name > ns || u.homedir > ns || u.shell > ns) stringsWithin(`users[${i}]`, ns, [['name', u.name], ['homedir', u.homedir], ['shell', u.shell]]);
  }
  const groups = msg.groups;
  for (let i = 0; i < nGroups; i++) if (groups[i]!.name > ns) stringsWithin(`groups[${i}]`, ns, [['name', groups[i]!.name]]);
}

function lengthIs(name: string, len: number, n: number): void {
  if (len !== n) throw new BatchError(`events.${name} has ${len} entries for ${n} events: the batch is malformed`);
}

function refsWithin(name: string, refs: readonly number[], limit: number): void {
  for (let i = 0; i < refs.length; i++) if (refs[i]! > limit) pastTable(`${name}[${i}]`, refs[i]!, limit);
}

function pastTable(what: string, v: number, limit: number): never {
  throw new BatchError(`${what} = ${v} refers past the ${limit} entries of its table`);
}

function stringsWithin(where: string, ns: number, fields: readonly (readonly [string, number])[]): void {
  for (const [k, v] of fields) if (v > ns) throw new BatchError(`${where}.${k} = ${v} refers past the ${ns} strings`);
}

// --- column builders ---------------------------------------------------------------------------

type Builder = (b: DecodedBatch, arg: string | undefined) => FieldColumn | undefined;

function dict(ids: Int32Array, table: Table): FieldColumn {
  return { kind: 'dict', ids, table: table as readonly FieldValue[] };
}

/** A column with a value on every row. */
function allNum(b: DecodedBatch, col: readonly number[]): FieldColumn {
  const n = b.rows;
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) values[r] = col[r]!;
  return { kind: 'num', values, present: new Uint8Array(n).fill(1) };
}

function num(b: DecodedBatch, value: (row: number) => number | undefined): FieldColumn {
  const values = new Float64Array(b.rows);
  const present = new Uint8Array(b.rows);
  for (let r = 0; r < b.rows; r++) {
    const v = value(r);
    if (v !== undefined) {
      values[r] = v;
      present[r] = 1;
    }
  }
  return { kind: 'num', values, present };
}

/** A process field: one value per process of the batch, read through each event's process. */
function proc(f: (p: Process, b: DecodedBatch) => FieldValue | undefined): Builder {
  return (b) => dict(b.processRows(), b.msg.processes.map((p) => f(p, b)));
}

/** A field of the process's `n`th ancestor (0 = the process itself). */
function ancestor(f: (p: Process, b: DecodedBatch) => FieldValue | undefined): Builder {
  return (b, arg) => {
    const n = arg === undefined ? 1 : Number(arg);
    if (!Number.isInteger(n) || n < 0) return undefined;
    const ps = b.msg.processes;
    return dict(
      b.processRows(),
      ps.map((p) => {
        if (n === 0) return f(p, b);
        const a = p.ancestors[n - 1];
        return a === undefined || a === 0 ? undefined : f(ps[a - 1]!, b);
      }),
    );
  };
}

/** A field of the thread's parent (proc.pname, proc.pcmdline, ...). */
function parent(f: (p: Process, b: DecodedBatch) => FieldValue | undefined): Builder {
  return (b) => {
    const ps = b.msg.processes;
    return dict(b.processRows(), ps.map((p) => (p.parent === 0 ? undefined : f(ps[p.parent - 1]!, b))));
  };
}

/** Any ancestor's value (no index): the list of the parent's, grandparent's, ... values. */
function anyAncestor(f: (p: Process, b: DecodedBatch) => FieldValue | undefined): Builder {
  return (b) => {
    const ps = b.msg.processes;
    return dict(
      b.processRows(),
      ps.map((p) => {
        const out: (string | number)[] = [];
        for (const a of p.ancestors) {
          const v = a === 0 ? undefined : f(ps[a - 1]!, b);
          if (typeof v === 'string' || typeof v === 'number') out.push(v);
        }
        return out.length > 0 ? out : undefined;
      }),
    );
  };
}

function user(f: (u: { uid: number; name: number; homedir: number; shell: number }, b: DecodedBatch) => FieldValue | undefined, which: 'user' | 'loginuser' = 'user'): Builder {
  return proc((p, b) => {
    const u = b.msg.users[p[which] - 1];
    return u ? f(u, b) : undefined;
  });
}

/** A container field; host processes (no container) get `host` for the id and name. */
function container(f: (c: Container, b: DecodedBatch) => FieldValue | undefined, onHost?: FieldValue): Builder {
  return proc((p, b) => {
    const c = b.msg.containers[p.container - 1];
    return c ? f(c, b) : onHost;
  });
}

function fd(f: (x: FileDescriptor, b: DecodedBatch) => FieldValue | undefined): Builder {
  return (b) => dict(b.fdRows(), b.msg.fds.map((x) => f(x, b)));
}

function str(k: 'name' | 'exe' | 'exepath' | 'cwd' | 'comm'): (p: Process, b: DecodedBatch) => string | undefined {
  return (p, b) => b.str(p[k]);
}

function argsText(p: Process, b: DecodedBatch): string {
  return p.args.map((a) => b.str(a) ?? '').join(' ');
}

function cmdline(p: Process, b: DecodedBatch): string | undefined {
  const name = b.str(p.name);
  if (name === undefined) return undefined;
  return p.args.length > 0 ? `${name} ${argsText(p, b)}` : name;
}

function label(list: 'labels' | 'podLabels'): Builder {
  return (b, arg) => {
    if (arg === undefined) return undefined;
    return container((c, bb) => {
      for (const l of c[list]) if (bb.str(l.key) === arg) return bb.str(l.value);
      return undefined;
    })(b, undefined);
  };
}

/** evt.arg.NAME / evt.arg[N] (the resolved form, else the text) and evt.rawarg (numbers as numbers). */
/**
 * evt.buffer: the bytes of the event's `data` argument (what a read, write, send or receive moved,
 * as far as it was captured), kept byte for byte as its raw text (one character per byte).
 */
function dataBuffer(b: DecodedBatch): FieldColumn {
  const ev = b.events;
  const ids = new Int32Array(b.rows).fill(-1);
  const want = b.ref('data');
  const table: Uint8Array[] = [];
  if (want === 0) return dict(ids, table);
  const byRef = new Map<number, number>();
  let start = 0;
  for (let r = 0; r < b.rows; r++) {
    const end = ev.argsEnd[r]!;
    for (let i = start; i < end; i++) {
      if (ev.argName[i] !== want) continue;
      const ref = ev.argRaw[i]!;
      if (ref === 0) break;
      let id = byRef.get(ref);
      if (id === undefined) {
        id = table.push(Buffer.from(b.str(ref)!, 'latin1')) - 1;
        byRef.set(ref, id);
      }
      ids[r] = id;
      break;
    }
    start = end;
  }
  return dict(ids, table);
}

/**
 * evt.buflen, as libsinsp gives it: the result of an exit event of the I/O categories (reads,
 * writes, sends, receives, other fd I/O) on an fd the state knows, when it is not an error: the
 * bytes the call moved. Other events have none.
 */
function bufferLength(b: DecodedBatch): FieldColumn {
  const ev = b.events;
  const fds = b.fdRows();
  // Per event type (its string), whether it is I/O: 0 not looked up yet, 1 yes, 2 no.
  const io = new Uint8Array(b.strings.length);
  return num(b, (r) => {
    const t = b.typeIds[r]!;
    if (t < 0 || ev.enter[r] || fds[r]! < 0 || !ev.hasRes[r] || ev.res[r]! < 0) return undefined;
    if (io[t] === 0) {
      const c = eventTypeInfo(b.strings[t]!)?.category;
      io[t] = c === 'io_read' || c === 'io_write' || c === 'io_other' ? 1 : 2;
    }
    return io[t] === 1 ? ev.res[r] : undefined;
  });
}

function eventArg(raw: boolean): Builder {
  return (b, arg) => {
    if (arg === undefined) return undefined;
    const ev = b.events;
    const ids = new Int32Array(b.rows).fill(-1);
    const index = /^\d+$/.test(arg) ? Number(arg) : -1;
    const want = index < 0 ? b.ref(arg) : 0;
    const table = raw ? b.rawTable() : b.strings;
    if (index < 0 && want === 0) return dict(ids, []);
    const pick = (i: number): number => (raw ? ev.argRaw[i]! || ev.argText[i]! : ev.argResolved[i]! || ev.argText[i]!) - 1;
    let start = 0;
    for (let r = 0; r < b.rows; r++) {
      const end = ev.argsEnd[r]!;
      if (index >= 0) {
        if (start + index < end) ids[r] = pick(start + index);
      } else {
        for (let i = start; i < end; i++) {
          if (ev.argName[i] === want) {
            ids[r] = pick(i);
            break;
          }
        }
      }
      start = end;
    }
    return dict(ids, table);
  };
}

function openBit(bit: number): Builder {
  return (b) => {
    const open = b.events.open;
    const ids = new Int32Array(b.rows);
    for (let r = 0; r < b.rows; r++) ids[r] = open[r]! & bit ? 1 : 0;
    return dict(ids, [false, true]);
  };
}

const BUILDERS: Record<string, Builder> = {
  'evt.type': (b) => dict(b.typeIds, b.strings),
  'evt.dir': (b) => {
    const enter = b.events.enter;
    const ids = new Int32Array(b.rows);
    for (let r = 0; r < b.rows; r++) ids[r] = enter[r] ? 0 : 1;
    return dict(ids, ['>', '<']);
  },
  'evt.num': (b) => allNum(b, b.events.num),
  'evt.cpu': (b) => allNum(b, b.events.cpu),
  'evt.rawres': (b) => num(b, (r) => (b.events.hasRes[r] ? b.events.res[r] : undefined)),
  'evt.res': (b) => {
    const ev = b.events;
    const names: string[] = [];
    const index = new Map<string, number>();
    const ids = new Int32Array(b.rows).fill(-1);
    for (let r = 0; r < b.rows; r++) {
      if (!ev.hasRes[r]) continue;
      const res = ev.res[r]!;
      const text = res >= 0 ? 'SUCCESS' : (ERRNO_NAMES[-res] ?? String(res));
      let id = index.get(text);
      if (id === undefined) {
        id = names.length;
        names.push(text);
        index.set(text, id);
      }
      ids[r] = id;
    }
    return dict(ids, names);
  },
  'evt.category': (b) => dict(b.typeIds, b.strings.map((t) => eventTypeInfo(t)?.category)),
  'evt.hostname': (b) => dict(new Int32Array(b.rows), [b.msg.node]),
  'evt.failed': (b) => dict(Int32Array.from(b.events.hasRes, (h, r) => (h && b.events.res[r]! < 0 ? 1 : 0)), [false, true]),
  'evt.is_open_read': openBit(1),
  'evt.is_open_write': openBit(2),
  'evt.is_open_exec': openBit(4),
  'evt.is_open_create': openBit(8),
  'evt.arg': eventArg(false),
  'evt.rawarg': eventArg(true),
  'evt.buffer': dataBuffer,
  'evt.buflen': bufferLength,
  'thread.tid': (b) => allNum(b, b.events.tid),
  'proc.pid': proc((p) => p.pid),
  'proc.ppid': proc((p) => p.ppid),
  'proc.vpid': proc((p) => p.vpid),
  'proc.sid': proc((p) => p.sid),
  'proc.vpgid': proc((p) => p.vpgid),
  'proc.is_vpgid_leader': proc((p) => p.vpid === p.vpgid),
  'proc.is_sid_leader': proc((p) => p.pid === p.sid),
  'proc.name': proc(str('name')),
  'proc.exe': proc(str('exe')),
  'proc.exepath': proc(str('exepath')),
  'proc.args': proc(argsText),
  'proc.cmdline': proc(cmdline),
  'proc.cwd': proc(str('cwd')),
  'proc.tty': proc((p) => p.tty),
  'proc.env': proc((p, b) => p.env.map((e) => b.str(e) ?? '').join(' ')),
  'proc.is_exe_upper_layer': proc((p) => p.exeUpperLayer),
  'proc.is_exe_from_memfd': proc((p) => p.exeFromMemfd),
  'proc.is_exe_writable': proc((p) => p.exeWritable),
  'proc.exe_ino': proc((p) => u64(p.exeIno)),
  'thread.cap_permitted': proc((p) => capabilitiesText(p.capPermitted)),
  'thread.cap_effective': proc((p) => capabilitiesText(p.capEffective)),
  'thread.cap_inheritable': proc((p) => capabilitiesText(p.capInheritable)),
  'thread.vtid': proc((p) => p.vtid),
  'proc.pname': parent(str('name')),
  'proc.pexe': parent(str('exe')),
  'proc.pexepath': parent(str('exepath')),
  'proc.pcmdline': parent(cmdline),
  'proc.aname': (b, arg) => (arg === undefined ? anyAncestor(str('name'))(b, arg) : ancestor(str('name'))(b, arg)),
  'proc.apid': (b, arg) => (arg === undefined ? anyAncestor((p) => p.pid)(b, arg) : ancestor((p) => p.pid)(b, arg)),
  'proc.aexe': (b, arg) => (arg === undefined ? anyAncestor(str('exe'))(b, arg) : ancestor(str('exe'))(b, arg)),
  'proc.aexepath': (b, arg) => (arg === undefined ? anyAncestor(str('exepath'))(b, arg) : ancestor(str('exepath'))(b, arg)),
  'proc.acmdline': (b, arg) => (arg === undefined ? anyAncestor(cmdline)(b, arg) : ancestor(cmdline)(b, arg)),
  'user.uid': user((u) => u.uid),
  'user.name': user((u, b) => b.str(u.name)),
  'user.homedir': user((u, b) => b.str(u.homedir)),
  'user.shell': user((u, b) => b.str(u.shell)),
  'user.loginuid': proc((p) => p.loginuid),
  'user.loginname': user((u, b) => b.str(u.name), 'loginuser'),
  'group.gid': proc((p, b) => b.msg.groups[p.group - 1]?.gid),
  'group.name': proc((p, b) => {
    const g = b.msg.groups[p.group - 1];
    return g ? b.str(g.name) : undefined;
  }),
  'container.id': container((c, b) => b.str(c.id), 'host'),
  'container.name': container((c, b) => b.str(c.name), 'host'),
  'container.type': container((c, b) => b.str(c.type)),
  'container.image': container((c, b) => b.str(c.image)),
  'container.image.repository': container((c, b) => b.str(c.imageRepository)),
  'container.image.tag': container((c, b) => b.str(c.imageTag)),
  'container.image.digest': container((c, b) => b.str(c.imageDigest)),
  'container.image.id': container((c, b) => b.str(c.imageId)),
  'container.privileged': container((c) => c.privileged),
  'container.ip': container((c, b) => b.str(c.ip)),
  'container.label': label('labels'),
  'k8s.pod.name': container((c, b) => b.str(c.podName)),
  'k8s.ns.name': container((c, b) => b.str(c.podNamespace)),
  'k8s.pod.uid': container((c, b) => b.str(c.podUid)),
  'k8s.pod.label': label('podLabels'),
  'fd.num': fd((x) => x.num),
  'fd.type': fd((x, b) => b.str(x.type)),
  'fd.typechar': fd((x, b) => b.str(x.typechar)),
  'fd.name': fd((x, b) => b.str(x.name)),
  'fd.nameraw': fd((x, b) => b.str(x.nameRaw)),
  'fd.directory': fd((x, b) => b.str(x.directory)),
  'fd.filename': fd((x, b) => b.str(x.filename)),
  'fd.cip': fd((x, b) => b.str(x.cip)),
  'fd.sip': fd((x, b) => b.str(x.sip)),
  'fd.lip': fd((x, b) => b.str(x.lip)),
  'fd.rip': fd((x, b) => b.str(x.rip)),
  'fd.cport': fd((x) => (x.hasPorts ? x.cport : undefined)),
  'fd.sport': fd((x) => (x.hasPorts ? x.sport : undefined)),
  'fd.lport': fd((x) => (x.hasPorts ? x.lport : undefined)),
  'fd.rport': fd((x) => (x.hasPorts ? x.rport : undefined)),
  'fd.l4proto': fd((x, b) => b.str(x.l4proto)),
  'fd.sockfamily': fd((x, b) => b.str(x.sockfamily)),
  'fd.connected': fd((x) => x.connected),
  'fd.dev': fd((x) => x.dev),
  'fd.ino': fd((x) => u64(x.inode)),
};

/** A uint64 the batch carries as decimal text (inode numbers): a number while exact, else a bigint. */
function u64(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function buildColumn(b: DecodedBatch, ref: FieldRef): FieldColumn | undefined {
  const f = BUILDERS[ref.name];
  if (!f || b.rows === 0) return undefined;
  return f(b, ref.arg);
}

/** Fields read row by row only: values unique to each event. */
const ROW_FIELDS: Record<string, (b: DecodedBatch, row: number, arg: string | undefined) => FieldValue | undefined> = {
  'evt.rawtime': (b, r) => rawtime(b, r),
  'evt.rawtime.s': (b, r) => Number(rawtime(b, r) / NS),
  'evt.rawtime.ns': (b, r) => Number(rawtime(b, r) % NS),
  'evt.time': (b, r) => timeText(rawtime(b, r), 'time', true),
  'evt.time.s': (b, r) => timeText(rawtime(b, r), 'time', false),
  'evt.time.iso8601': (b, r) => timeText(rawtime(b, r), 'iso', true),
  'evt.datetime': (b, r) => timeText(rawtime(b, r), 'datetime', true),
  'evt.datetime.s': (b, r) => timeText(rawtime(b, r), 'datetime', false),
  'evt.args': (b, r) => {
    const ev = b.events;
    const start = r === 0 ? 0 : ev.argsEnd[r - 1]!;
    const parts: string[] = [];
    for (let i = start; i < ev.argsEnd[r]!; i++) {
      const text = b.str(ev.argText[i]!) ?? '';
      const resolved = b.str(ev.argResolved[i]!);
      parts.push(`${b.str(ev.argName[i]!) ?? ''}=${resolved === undefined ? text : `${text}(${resolved})`} `);
    }
    return parts.join('');
  },
};

const NS = 1_000_000_000n;

function rawtime(b: DecodedBatch, r: number): bigint {
  return BigInt(b.msg.baseSec) * NS + BigInt(b.msg.baseNsec) + BigInt(b.events.ts[r]!);
}

/** Event times as libsinsp prints them, in UTC (hosts run Harrier in UTC; sysdig prints local time). */
function timeText(ns: bigint, form: 'time' | 'iso' | 'datetime', withNs: boolean): string {
  const d = new Date(Number(ns / 1_000_000n));
  const frac = (ns % NS).toString().padStart(9, '0');
  const hms = d.toISOString().slice(11, 19);
  const day = d.toISOString().slice(0, 10);
  switch (form) {
    case 'time':
      return withNs ? `${hms}.${frac}` : hms;
    case 'iso':
      return `${day}T${hms}.${frac}Z`;
    default:
      return withNs ? `${day} ${hms}.${frac}` : `${day} ${hms}`;
  }
}

/** Points at one row of a batch. */
export class BatchCursor {
  constructor(
    public batch: DecodedBatch,
    public row = 0,
  ) {}
}

/** The accessor for every DecodedBatch; readers look up the cursor's batch's column. */
export function batchAccessor(): BatchAccessor<DecodedBatch, BatchCursor> {
  const cursor = new BatchCursor(undefined as unknown as DecodedBatch);
  return {
    eventType: (c) => (c.batch.typeIds[c.row]! >= 0 ? c.batch.strings[c.batch.typeIds[c.row]!]! : ''),
    reader(ref: FieldRef): FieldReader<BatchCursor> | undefined {
      const row = ROW_FIELDS[ref.name];
      if (row) return (c) => row(c.batch, c.row, ref.arg);
      if (!BUILDERS[ref.name]) return undefined;
      return (c) => {
        const col = c.batch.column(ref);
        if (col === undefined) return undefined;
        if (col.kind === 'dict') {
          const id = col.ids[c.row]!;
          return id < 0 ? undefined : col.table[id];
        }
        return col.present[c.row] === 1 ? col.values[c.row] : undefined;
      };
    },
    rows: (b) => b.rows,
    types: (b) => ({ ids: b.typeIds, names: b.strings }),
    at(b, row) {
      cursor.batch = b;
      cursor.row = row;
      return cursor;
    },
    column: (b, ref) => b.column(ref),
  };
}
