// Reads a .scap capture (libscap's pcapng-like savefile, plain or gzip) from a whole buffer: the
// section header, the metadata tables that seed the state engine (machine, processes, fds, users,
// groups, interfaces) and, lazily, the events with zero-copy views of their raw params. Param
// values are not decoded here (that is @harrier/events' decodeParam).

import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { PPM_EVENT_MAX, eventInfo, hasLargePayload, type EventInfo } from '@harrier/events';
import { ScapError } from './errors.js';
import {
  Cursor,
  FD_LIST_V2,
  INTERFACE_LIST_V2,
  PROCESS_LIST_VERSIONS,
  USER_LIST_V2,
  cString,
  readFdList,
  readInterfaceList,
  readMachineInfo,
  readProcessList,
  readUserList,
  type ScapFd,
  type ScapGroup,
  type ScapInterfaces,
  type ScapMachineInfo,
  type ScapProcess,
  type ScapUser,
} from './tables.js';

const SHB = 0x0a0d0d0a;
const SHB_MAGIC = 0x1a2b3c4d;
const SHB_MAGIC_SWAPPED = 0x4d3c2b1a;
const SUPPORTED_MAJOR = 1;

/** Event block layouts: whether the header carries nparams (V2) and whether 32-bit dump flags precede it. */
interface EventLayout {
  readonly name: string;
  readonly v2: boolean;
  readonly withFlags: boolean;
}

const EVENT_BLOCKS: ReadonlyMap<number, EventLayout> = new Map([
  [0x204, { name: 'event', v2: false, withFlags: false }],
  [0x8010abcd, { name: 'event (pre-release)', v2: false, withFlags: false }],
  [0x208, { name: 'event with flags', v2: false, withFlags: true }],
  [0x216, { name: 'event V2', v2: true, withFlags: false }],
  [0x217, { name: 'event with flags V2', v2: true, withFlags: true }],
  [0x221, { name: 'event V2 large', v2: true, withFlags: false }],
  [0x222, { name: 'event with flags V2 large', v2: true, withFlags: true }],
]);

const OTHER_BLOCKS: ReadonlyMap<number, string> = new Map([
  [SHB, 'section header'],
  [0x201, 'machine info'],
  [0x8002abcd, 'machine info (pre-release)'],
  [0x203, 'fd list'],
  [0x8001abcd, 'fd list (pre-release)'],
  [FD_LIST_V2, 'fd list V2'],
  [0x205, 'interface list'],
  [0x8011abcd, 'interface list (pre-release)'],
  [INTERFACE_LIST_V2, 'interface list V2'],
  [0x206, 'user list'],
  [0x8012abcd, 'user list (pre-release)'],
  [USER_LIST_V2, 'user list V2'],
]);

/** A human name for a block type (`process list V9`, `event V2`, `unknown 0x1234`). */
export function blockTypeName(type: number): string {
  const ev = EVENT_BLOCKS.get(type);
  if (ev) return ev.name;
  const pl = PROCESS_LIST_VERSIONS.get(type);
  if (pl !== undefined) return `process list V${pl}`;
  return OTHER_BLOCKS.get(type) ?? `unknown 0x${type.toString(16)}`;
}

export interface ScapOption {
  /** pcapng option code (1 comment, 2.. section-specific: 2 hardware, 3 OS, 4 user application). */
  readonly code: number;
  readonly value: Uint8Array;
  /** The value as text (NUL-trimmed UTF-8). */
  readonly text: string;
}

export interface ScapHeader {
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** -1 when unspecified. */
  readonly sectionLength: bigint;
  /** Options after the fixed header (newer writers, e.g. editcap, add comments and the writer's name). */
  readonly options: readonly ScapOption[];
}

export interface ScapEvent {
  /** 1-based position among the events delivered. */
  readonly num: number;
  /** Offset of the event's block in the (decompressed) capture. */
  readonly offset: number;
  /** ns since the epoch. */
  readonly ts: bigint;
  readonly tid: number;
  readonly cpu: number;
  /** PPME_* code. */
  readonly type: number;
  /** Dump flags (event-with-flags blocks only). */
  readonly flags: number | undefined;
  /** The event table entry; undefined for codes beyond this table (only with unknownEvents: 'yield'). */
  readonly info: EventInfo | undefined;
  /** Raw bytes of each param, views into the capture buffer (no copy). */
  readonly params: readonly Uint8Array[];
}

export interface ScapReadOptions {
  /**
   * Events with codes beyond this reader's table (written by a newer driver): libscap skips them
   * ('skip', the default); 'yield' delivers them with `info` undefined.
   */
  readonly unknownEvents?: 'skip' | 'yield';
  /**
   * A capture that ends inside a block: 'throw' (default) a ScapError; 'stop' keeps every complete
   * block before the cut and reports the error in `truncated`.
   */
  readonly truncated?: 'throw' | 'stop';
}

export interface ScapStats {
  /** Sections (section header blocks) read. */
  sections: number;
  /** Blocks of types this reader does not know, skipped by their length. */
  unknownBlocks: number;
  /** Events skipped because their code is beyond the table (counted while iterating). */
  unknownEvents: number;
}

export interface ScapCapture {
  readonly header: ScapHeader;
  readonly machine: ScapMachineInfo | undefined;
  readonly processes: readonly ScapProcess[];
  /** Fds by the tid their fd list block names (the process' main thread). */
  readonly fds: ReadonlyMap<number, readonly ScapFd[]>;
  readonly users: readonly ScapUser[];
  readonly groups: readonly ScapGroup[];
  readonly interfaces: ScapInterfaces;
  /** Number of event blocks (events delivered may be fewer when unknown codes are skipped). */
  readonly eventBlocks: number;
  /** The events, decoded lazily; iterable any number of times. Throws ScapError on a corrupt event. */
  readonly events: Iterable<ScapEvent>;
  readonly stats: ScapStats;
  /** With `truncated: 'stop'`: why the capture ended early. */
  readonly truncated: ScapError | undefined;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function gunzip(buf: Uint8Array, mode: 'throw' | 'stop'): { data: Uint8Array; error: ScapError | undefined } {
  try {
    return { data: gunzipSync(buf), error: undefined };
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const short = code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((cause as Error).message));
    const error = new ScapError(
      short ? 'the gzip stream ends early: the file is truncated' : `the gzip stream is corrupt (${(cause as Error).message})`,
      { code: short ? 'TRUNCATED' : 'GZIP', block: 'gzip', blockOffset: 0, offset: buf.length, cause },
    );
    if (mode === 'throw' || !short) throw error;
    // Keep what decompresses: the block walk then stops at the cut with its own error.
    try {
      return { data: gunzipSync(buf, { finishFlush: zlibConstants.Z_SYNC_FLUSH }), error };
    } catch {
      throw error;
    }
  }
}

/** Reads a capture from a file (plain or gzip). */
export async function readScapFile(path: string, opts?: ScapReadOptions): Promise<ScapCapture> {
  return readScap(await readFile(path), opts);
}

/** Reads a whole capture held in memory (plain or gzip, detected by magic). */
export function readScap(input: Uint8Array, opts: ScapReadOptions = {}): ScapCapture {
  const mode = opts.truncated ?? 'throw';
  let buf = input;
  let truncated: ScapError | undefined;
  if (isGzip(input)) ({ data: buf, error: truncated } = gunzip(input, mode));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

  let header: ScapHeader | undefined;
  let machine: ScapMachineInfo | undefined;
  const processes: ScapProcess[] = [];
  const fds = new Map<number, ScapFd[]>();
  const users: ScapUser[] = [];
  const groups: ScapGroup[] = [];
  const interfaces: ScapInterfaces = { v4: [], v6: [] };
  const eventOffsets: number[] = [];
  const stats: ScapStats = { sections: 0, unknownBlocks: 0, unknownEvents: 0 };

  let off = 0;
  try {
    while (off < buf.length) {
      const left = buf.length - off;
      const first = off === 0;
      if (left < 12) {
        throw new ScapError(`only ${left} bytes left, less than a block header and trailer (12 bytes): the file is truncated`, {
          code: 'TRUNCATED', block: left >= 4 ? blockTypeName(view.getUint32(off, true)) : 'block header', blockOffset: off, offset: off,
        });
      }
      const type = view.getUint32(off, true);
      const total = view.getUint32(off + 4, true);
      const name = blockTypeName(type);
      const fields = { block: name, blockType: type, blockOffset: off };
      if (first && type !== SHB) {
        throw new ScapError(`not a scap capture: the first block has type 0x${type.toString(16)}, not a section header (0x0a0d0d0a)`, {
          code: 'BAD_MAGIC', ...fields, offset: 0,
        });
      }
      if (total < 12) {
        throw new ScapError(`block length ${total} is less than a block header and trailer (12 bytes)`, { code: 'CORRUPT', ...fields, offset: off + 4 });
      }
      if (total > left) {
        throw new ScapError(`block length ${total} runs past the end of the data (${left} bytes left): the file is truncated or the length corrupt`, {
          code: 'TRUNCATED', ...fields, offset: off + 4,
        });
      }
      const trailer = view.getUint32(off + total - 4, true);
      if (trailer !== total) {
        throw new ScapError(`block trailer length ${trailer} does not match the header length ${total}`, {
          code: 'CORRUPT', ...fields, offset: off + total - 4,
        });
      }
      const c = new Cursor(buf, view, off + 8, off + total - 4, name, type, off);
      if (type === SHB) {
        const h = readSectionHeader(c);
        stats.sections++;
        header ??= h;
      } else if (EVENT_BLOCKS.has(type)) {
        eventOffsets.push(off);
      } else {
        const version = PROCESS_LIST_VERSIONS.get(type);
        if (version !== undefined) readProcessList(c, version, processes);
        else if (type === 0x201 || type === 0x8002abcd) machine = readMachineInfo(c);
        else if (type === 0x203 || type === 0x8001abcd || type === FD_LIST_V2) readFdList(c, type === FD_LIST_V2, fds);
        else if (type === 0x206 || type === 0x8012abcd || type === USER_LIST_V2) readUserList(c, type === USER_LIST_V2, users, groups);
        else if (type === 0x205 || type === 0x8011abcd || type === INTERFACE_LIST_V2) readInterfaceList(c, type === INTERFACE_LIST_V2, interfaces);
        else stats.unknownBlocks++;
      }
      off += total;
    }
  } catch (err) {
    if (!(err instanceof ScapError) || err.code !== 'TRUNCATED' || mode === 'throw') throw err;
    // A short gzip stream is the cause of whatever the walk then met.
    if (header === undefined) throw truncated ?? err;
    truncated ??= err;
  }
  if (header === undefined) {
    throw truncated ?? new ScapError('the capture is empty', { code: 'TRUNCATED', block: 'section header', blockOffset: 0, offset: 0 });
  }

  const unknownMode = opts.unknownEvents ?? 'skip';
  const events: Iterable<ScapEvent> = {
    *[Symbol.iterator]() {
      let num = 0;
      for (const at of eventOffsets) {
        const e = readEvent(buf, view, at, num + 1);
        if (e.info === undefined && unknownMode === 'skip') {
          stats.unknownEvents++;
          continue;
        }
        num++;
        yield e;
      }
    },
  };

  return { header, machine, processes, fds, users, groups, interfaces, eventBlocks: eventOffsets.length, events, stats, truncated };
}

function readSectionHeader(c: Cursor): ScapHeader {
  const magicAt = c.pos;
  const magic = c.u32('byte-order magic');
  if (magic === SHB_MAGIC_SWAPPED) c.fail('the capture was written big-endian, which is not supported', 'BAD_MAGIC', magicAt);
  if (magic !== SHB_MAGIC) c.fail(`byte-order magic 0x${magic.toString(16)} is not 0x1a2b3c4d: not a scap capture`, 'BAD_MAGIC', magicAt);
  const majorAt = c.pos;
  const majorVersion = c.u16('major version');
  const minorVersion = c.u16('minor version');
  if (majorVersion !== SUPPORTED_MAJOR) {
    c.fail(`format version ${majorVersion}.${minorVersion} is not supported (major version ${SUPPORTED_MAJOR} is)`, 'UNSUPPORTED_VERSION', majorAt);
  }
  const sectionLength = BigInt.asIntN(64, c.u64('section length'));
  const options: ScapOption[] = [];
  while (c.remaining >= 4) {
    const code = c.u16('option code');
    const len = c.u16('option length');
    if (code === 0) break;
    const value = c.bytes(len, `option ${code}`);
    c.skip(Math.min((4 - (len % 4)) % 4, c.remaining), 'option padding');
    options.push({ code, value, text: cString(value) });
  }
  return { majorVersion, minorVersion, sectionLength, options };
}

const EVT_HDR_V1 = 22; // ts u64, tid u64, len u32, type u16
const EVT_HDR_V2 = 26; // + nparams u32
const PPME_NOTIFICATION_E = 280;
const PPME_INFRASTRUCTURE_EVENT_E = 286;

function readEvent(buf: Uint8Array, view: DataView, at: number, num: number): ScapEvent {
  const type0 = view.getUint32(at, true);
  const layout = EVENT_BLOCKS.get(type0)!;
  const total = view.getUint32(at + 4, true);
  const c = new Cursor(buf, view, at + 8, at + total - 4, layout.name, type0, at);
  const cpu = c.u16('cpu id');
  const flags = layout.withFlags ? c.u32('dump flags') : undefined;
  const evtStart = c.pos;
  const ts = c.u64('timestamp');
  const tid = c.i64n('tid');
  const lenAt = c.pos;
  let len = c.u32('event length');
  const type = c.u16('event type');
  const hdr = layout.v2 ? EVT_HDR_V2 : EVT_HDR_V1;
  let nparams = layout.v2 ? c.u32('nparams') : -1;
  // Old captures wrote a length 3 bytes too long for these two events.
  if (!layout.v2 && (type === PPME_NOTIFICATION_E || type === PPME_INFRASTRUCTURE_EVENT_E)) len -= 3;
  if (len < hdr || len > c.end - evtStart) {
    c.fail(`event length ${len} does not fit its block (header ${hdr}, ${c.end - evtStart} bytes available)`, 'CORRUPT', lenAt);
  }
  const evtEnd = evtStart + len;
  c.end = evtEnd;
  const info = type < PPM_EVENT_MAX ? eventInfo(type) : undefined;
  const lenSize = hasLargePayload(type) ? 4 : 2;
  const lensAt = c.pos;
  if (nparams < 0) nparams = inferParamCount(view, lensAt, evtEnd, info?.params.length ?? 0, lenSize, c);
  if (nparams * lenSize > evtEnd - lensAt) {
    c.fail(`${nparams} params need ${nparams * lenSize} bytes of lengths but the event has ${evtEnd - lensAt} left`, 'CORRUPT', lensAt);
  }
  const params: Uint8Array[] = new Array<Uint8Array>(nparams);
  let p = lensAt + nparams * lenSize;
  for (let i = 0; i < nparams; i++) {
    const l = lenSize === 2 ? view.getUint16(lensAt + 2 * i, true) : view.getUint32(lensAt + 4 * i, true);
    if (l > evtEnd - p) {
      c.fail(`param ${i + 1} of ${nparams} has length ${l} but only ${evtEnd - p} bytes of the event are left`, 'CORRUPT', lensAt + lenSize * i);
    }
    params[i] = buf.subarray(p, p + l);
    p += l;
  }
  return { num, offset: at, ts, tid, cpu, type, flags, info, params };
}

/**
 * V1 event headers have no param count: take the largest count, up to the table's, whose lengths
 * add up exactly to the event's length (libscap's rule).
 */
function inferParamCount(view: DataView, lensAt: number, evtEnd: number, max: number, lenSize: number, c: Cursor): number {
  for (let n = max; n >= 0; n--) {
    let p = lensAt + lenSize * n;
    if (p > evtEnd) continue;
    for (let i = 0; i < n; i++) p += lenSize === 2 ? view.getUint16(lensAt + 2 * i, true) : view.getUint32(lensAt + 4 * i, true);
    if (p === evtEnd) return n;
    if (p < evtEnd) break;
  }
  return c.fail('cannot work out the param count of this old-format event: its param lengths do not add up to its length', 'CORRUPT', lensAt);
}
