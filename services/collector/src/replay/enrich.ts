// Turns a raw event and what the state engine knows about it into an EnrichedEvent for a batch:
// arguments rendered as libsinsp renders them (fd names, resolved paths, flag names), the result,
// the open flags, the thread and fd.

import type { EnrichedEvent, EventArg } from '@harrier/batch';
import { renderParamParts, type Int64, type ParamDesc, type RenderContext } from '@harrier/events';
import type { EventState } from '../state/engine.js';
import { resolvePath } from '../state/engine.js';
import type { RawEvent } from '../state/params.js';
import { int } from '../state/params.js';
import type { StateTables, ThreadInfo } from '../state/tables.js';

/** Which arguments to render: all, or only those named (rules ask for a few by name). */
export type ArgSelection = 'all' | ReadonlySet<string>;

const RESULT_TYPES = new Set(['errno', 'fd', 'pid']);

export class Enricher {
  private thread: ThreadInfo | undefined;
  private readonly ctx: RenderContext;

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

  private renderArgs(e: RawEvent): EventArg[] | undefined {
    const descs = e.descs;
    if (!descs || (this.args !== 'all' && this.args.size === 0)) return undefined;
    // Generic events (syscalls without an event of their own) show no arguments, as in libsinsp.
    if (e.names[0] === 'ID' && e.descs?.[0]?.type === 'syscallid') return undefined;
    const out: EventArg[] = [];
    for (let i = 0; i < e.params.length && i < descs.length; i++) {
      const name = e.names[i]!;
      if (this.args !== 'all' && !this.args.has(name)) continue;
      const desc = descs[i]!;
      let r: { text: string; resolved: string };
      try {
        r = renderParamParts(desc, e.params[i]!, this.ctx);
      } catch {
        // A parameter whose bytes do not fit its type renders as libsinsp's <NA> and is kept.
        r = { text: '<NA>', resolved: '' };
      }
      out.push({ name, text: r.text, resolved: r.resolved || undefined, raw: rawText(desc, e.params[i]!) });
    }
    return out;
  }
}

/** evt.rawres: the first parameter of an exit event when it is a result (errno, fd or pid). */
function result(e: RawEvent): number | undefined {
  const d = e.descs?.[0];
  if (d ? !RESULT_TYPES.has(d.type) : e.names[0] !== 'res') return undefined;
  return int(e.params[0]);
}

/** The raw value as text for evt.rawarg: integers in decimal, strings as they are. */
function rawText(desc: ParamDesc, bytes: Uint8Array): string | undefined {
  if (bytes.length > 8 || desc.type === 'charbuf' || desc.type === 'fspath' || desc.type === 'fsrelpath' || desc.type === 'bytebuf') return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signed = /^int|^errno$|^fd$|^pid$/.test(desc.type);
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
