// Turns a raw event and what the state engine knows about it into an EnrichedEvent for a batch:
// arguments rendered as libsinsp renders them (fd names, resolved paths, flag names), the result,
// the open flags, the thread and fd.

import type { EnrichedEvent, EventArg } from '@harrier/batch';
import { renderParamParts, type Int64, type ParamDesc, type RenderContext } from '@harrier/events';
import type { EventState } from '../state/engine.js';
import { resolvePath } from '../state/engine.js';
import type { RawEvent } from '../state/params.js';
import { int, uint } from '../state/params.js';
import type { StateTables, ThreadInfo } from '../state/tables.js';

/** Which arguments to render: all, or only those named (rules ask for a few by name). */
export type ArgSelection = 'all' | ReadonlySet<string> | ArgsByType;

/** A selection per event type (a rule's argument fields matter only for the types it can match). */
export interface ArgsByType {
  readonly byType: ReadonlyMap<string, 'all' | ReadonlySet<string>>;
  /** For types no rule names specifically (rules that match any type contribute here and everywhere). */
  readonly rest: 'all' | ReadonlySet<string>;
}

type Names = 'all' | ReadonlySet<string>;

function selectionFor(sel: ArgSelection, type: string): Names {
  if (sel === 'all' || sel instanceof Set) return sel as Names;
  const s = sel as ArgsByType;
  return s.byType.get(type) ?? s.rest;
}

/** What argsNamedBy needs of a compiled rule. */
interface RuleArgsView {
  readonly rule: { readonly ast: unknown; readonly eventTypes: { readonly negated: boolean; readonly names: ReadonlySet<string> } };
  readonly outputFormat: string;
}

/**
 * The event arguments rules read (evt.arg.X, evt.rawarg.X; all of them for evt.args, evt.info and
 * evt.arg[N]), per event type: rendering every argument of every event costs more than the rest
 * of enrichment, and most rules name one or two.
 */
export function argsNamedBy(rs: { readonly rules: Iterable<RuleArgsView> }): ArgSelection {
  const byType = new Map<string, Set<string> | 'all'>();
  let rest: Set<string> | 'all' = new Set();
  const add = (into: Set<string> | 'all', names: Set<string> | 'all'): Set<string> | 'all' => {
    if (into === 'all' || names === 'all') return 'all';
    for (const n of names) into.add(n);
    return into;
  };
  const perRule: { types: RuleArgsView['rule']['eventTypes']; names: Set<string> | 'all' }[] = [];
  for (const r of rs.rules) {
    let names: Set<string> | 'all' = new Set();
    const field = (name: string, arg: string | undefined): void => {
      if (names === 'all') return;
      if (name === 'evt.args' || name === 'evt.info') names = 'all';
      else if (name === 'evt.buffer') names.add('data');
      else if (name === 'evt.arg' || name === 'evt.rawarg') {
        if (arg === undefined || /^\d+$/.test(arg)) names = 'all';
        else names.add(arg);
      } else if (name.startsWith('evt.arg.') || name.startsWith('evt.rawarg.')) names.add(name.slice(name.indexOf('arg.') + 4));
    };
    const seen = new Set<object>();
    const walk = (x: unknown): void => {
      if (typeof x !== 'object' || x === null || seen.has(x)) return;
      seen.add(x);
      const o = x as { kind?: string; name?: string; arg?: string };
      if (o.kind === 'field' && typeof o.name === 'string') field(o.name, o.arg);
      for (const v of Object.values(x)) if (typeof v === 'object') walk(v);
    };
    walk(r.rule.ast);
    for (const m of r.outputFormat.matchAll(/%(evt\.(?:raw)?args?|evt\.info)(?:\.([A-Za-z0-9_]+)|\[([^\]]*)\])?/g)) field(m[2] !== undefined ? `${m[1]}.${m[2]}` : m[1]!, m[3]);
    perRule.push({ types: r.rule.eventTypes, names });
  }
  // Rules that can match any type count for every type.
  for (const p of perRule) if (p.types.negated) rest = add(rest, p.names);
  for (const p of perRule) {
    if (p.types.negated) continue;
    for (const t of p.types.names) byType.set(t, add(byType.get(t) ?? (rest === 'all' ? 'all' : new Set(rest)), p.names));
  }
  return { byType, rest };
}

const RESULT_TYPES = new Set(['errno', 'fd', 'pid']);

/** Integer-like param types whose rendering depends on the value alone (not on fds, threads, users or time zones). */
const CONTEXT_FREE: ReadonlySet<string> = new Set([
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'errno',
  'flags8', 'flags16', 'flags32', 'enumflags8', 'enumflags16', 'enumflags32', 'mode', 'sigtype', 'sigset', 'port', 'l4proto', 'sockfamily', 'bool',
]);
/** Rendered values kept per parameter, at most (the cache starts over beyond). */
const RENDERED_PER_PARAM = 1024;
const RENDERED_PARAMS = 4096;

/** A rendered argument kept for its bytes' value: shared by every event with that value, so never changed. */
interface RenderedArg {
  readonly len: number;
  readonly arg: EventArg;
}

/** The bytes of a 1-, 2-, 4- or 8-byte param as a number (unsigned, exact below 2^53), else -1. */
function cacheKey(b: Uint8Array): number {
  const v = uint(b);
  return v !== undefined && v < 9007199254740992 ? v : -1;
}

export class Enricher {
  private thread: ThreadInfo | undefined;
  private readonly ctx: RenderContext;
  /** Arguments of context-free types already rendered, per param (its desc) and value. */
  private readonly rendered = new Map<ParamDesc, Map<number, RenderedArg>>();
  private readonly picks = new Map<string, WeakMap<readonly string[], Int32Array | null>>();

  constructor(
    private readonly tables: StateTables,
    private readonly args: ArgSelection = 'all',
  ) {
    const fdOf = (fd: Int64): ReturnType<ThreadInfo['fdTable']['fds']['get']> => this.thread?.fdTable.fds.get(Number(fd));
    this.ctx = {
      fdName: (fd) => {
        const f = fdOf(fd);
        if (!f) return undefined;
        const l4 = f.l4proto === 'tcp' ? 't' : f.l4proto === 'udp' ? 'u' : f.l4proto === 'raw' ? 'r' : f.l4proto === 'icmp' ? 'i' : '';
        // eslint-disable-next-line no-control-regex
        return `<${f.typechar}${f.kind === 'ipv4' || f.kind === 'ipv6' ? l4 : ''}>${(f.name ?? '').replace(/[\x00-\x1f\x7f]/g, '')}`;
      },
      fdTypeChar: (fd) => fdOf(fd)?.typechar,
      comm: (tid) => this.tables.threads.get(Number(tid))?.name,
      userName: (uid) => this.tables.user(uid, this.thread?.container).name,
      groupName: (gid) => this.tables.group(gid, this.thread?.container).name,
      resolvePath: (path) => (path.startsWith('/') ? undefined : this.thread?.cwd === undefined ? undefined : resolvePath(this.thread.cwd, path)),
      timeZone: 'utc',
    };
  }

  enrich(e: RawEvent, st: EventState): EnrichedEvent {
    this.thread = st.thread;
    return {
      num: e.num,
      ts: e.ts,
      tid: e.tid,
      cpu: e.cpu,
      type: e.type,
      enter: e.enter,
      res: e.enter ? undefined : result(e),
      args: this.renderArgs(e),
      process: st.thread,
      fd: st.fd,
      open: st.open,
    };
  }

  /** The indexes of the params to render, per event type and params list (null: none). */
  private wanted(e: RawEvent): Int32Array | null {
    let byNames = this.picks.get(e.type);
    if (byNames === undefined) this.picks.set(e.type, (byNames = new WeakMap()));
    let pick = byNames.get(e.names);
    if (pick === undefined) {
      const want = selectionFor(this.args, e.type);
      const n = Math.min(e.names.length, e.descs?.length ?? 0);
      const idx: number[] = [];
      // Generic events (syscalls without an event of their own) show no arguments, as in libsinsp.
      const generic = e.names[0] === 'ID' && e.descs?.[0]?.type === 'syscallid';
      if (!generic) for (let i = 0; i < n; i++) if (want === 'all' || want.has(e.names[i]!)) idx.push(i);
      pick = idx.length === 0 ? null : Int32Array.from(idx);
      byNames.set(e.names, pick);
    }
    return pick;
  }

  private renderArgs(e: RawEvent): EventArg[] | undefined {
    const descs = e.descs;
    const pick = descs === undefined ? null : this.wanted(e);
    if (pick === null) return undefined;
    const out: EventArg[] = [];
    for (let k = 0; k < pick.length; k++) {
      const i = pick[k]!;
      if (i >= e.params.length) break;
      const name = e.names[i]!;
      const desc = descs![i]!;
      const bytes = e.params[i]!;
      if (!CONTEXT_FREE.has(desc.type)) {
        out.push(render(name, desc, bytes, this.ctx));
        continue;
      }
      const key = cacheKey(bytes);
      if (key < 0) {
        out.push(render(name, desc, bytes, this.ctx));
        continue;
      }
      let byValue = this.rendered.get(desc);
      if (byValue === undefined) {
        if (this.rendered.size >= RENDERED_PARAMS) this.rendered.clear();
        byValue = new Map();
        this.rendered.set(desc, byValue);
      }
      const known = byValue.get(key);
      if (known !== undefined && known.len === bytes.length && known.arg.name === name) {
        out.push(known.arg);
        continue;
      }
      const arg = Object.freeze(render(name, desc, bytes, this.ctx));
      if (byValue.size >= RENDERED_PER_PARAM) byValue.clear();
      byValue.set(key, { len: bytes.length, arg });
      out.push(arg);
    }
    return out;
  }
}

function render(name: string, desc: ParamDesc, bytes: Uint8Array, ctx: RenderContext): EventArg {
  let r: { text: string; resolved: string };
  try {
    r = renderParamParts(desc, bytes, ctx);
  } catch {
    // A parameter whose bytes do not fit its type renders as libsinsp's <NA> and is kept.
    r = { text: '<NA>', resolved: '' };
  }
  return { name, text: r.text, resolved: r.resolved || undefined, raw: rawText(name, desc, bytes) };
}

/** evt.rawres: the first parameter of an exit event when it is a result (errno, fd or pid). */
function result(e: RawEvent): number | undefined {
  const d = e.descs?.[0];
  if (d ? !RESULT_TYPES.has(d.type) : e.names[0] !== 'res') return undefined;
  return int(e.params[0]);
}

const SIGNED: ReadonlySet<string> = new Set(['int8', 'int16', 'int32', 'int64', 'errno', 'fd', 'pid']);

/**
 * The raw value as text for evt.rawarg: integers in decimal, strings as they are. A read's, write's,
 * send's or receive's `data` goes byte for byte (one character per byte, U+0000 to U+00FF), which
 * evt.buffer turns back into bytes.
 */
function rawText(name: string, desc: ParamDesc, bytes: Uint8Array): string | undefined {
  if (desc.type === 'bytebuf' && name === 'data') return bytes.length === 0 ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (bytes.length > 8 || desc.type === 'charbuf' || desc.type === 'fspath' || desc.type === 'fsrelpath' || desc.type === 'bytebuf') return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signed = SIGNED.has(desc.type);
  switch (bytes.length) {
    case 1:
      return String(signed ? v.getInt8(0) : v.getUint8(0));
    case 2:
      return String(signed ? v.getInt16(0, true) : v.getUint16(0, true));
    case 4:
      return String(signed ? v.getInt32(0, true) : v.getUint32(0, true));
    case 8:
      return String(signed ? v.getBigInt64(0, true) : v.getBigUint64(0, true));
    default:
      return undefined;
  }
}
