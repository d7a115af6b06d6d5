// EventBatch from its wire form, written out message by message for the engine's hot path. It
// yields exactly what the generated decoder (@harrier/proto, ts-proto over @bufbuild/protobuf's
// reader) yields, errors included: the same values, the same handling of unpacked and packed
// repeated fields, unknown fields skipped alike, and the same failures (premature EOF, invalid
// varints, 64-bit values beyond 2^53) with the same messages. decode.test.ts compares the two.
//
// Where the generated code reads every 64-bit varint through a BigInt, this one reads it as two
// 32-bit halves and combines them into a number; varints of one byte (most references, flags
// and counts) take a short path; strings of ASCII text are cut from one latin1 decoding of the
// whole message instead of being decoded one by one.

import type { Container, EventBatch, Events, FileDescriptor, Group, Label, Process, User } from '@harrier/proto';

const TWO_32 = 4294967296;
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

class Wire {
  pos = 0;
  readonly len: number;
  /** The halves of the last varint read by `varint64`. */
  lo = 0;
  hi = 0;
  /** The whole message as latin1 text, made on the first string: ASCII strings are slices of it. */
  private latin1: string | undefined;

  constructor(readonly buf: Uint8Array) {
    this.len = buf.length;
  }

  /** A varint's low 32 bits, unsigned (uint32 fields, tags, lengths). */
  u32(): number {
    const buf = this.buf;
    let pos = this.pos;
    // Past the end a read yields undefined, which the bit operations take as 0 with no
    // continuation bit: the read stops and the bounds check below fails.
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b & 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b & 0x80) {
        b = buf[pos++]!;
        v |= (b & 0x7f) << 14;
        if (b & 0x80) {
          b = buf[pos++]!;
          v |= (b & 0x7f) << 21;
          if (b & 0x80) {
            b = buf[pos++]!;
            v |= (b & 0x0f) << 28;
            for (let n = 5; b & 0x80 && n < 10; n++) b = buf[pos++]!;
            if (b & 0x80) throw new Error('invalid varint');
          }
        }
      }
    }
    if (pos > this.len) throw new RangeError('premature EOF');
    this.pos = pos;
    return v >>> 0;
  }

  /** A varint of up to 64 bits into `lo` and `hi` (bits past the 64th are dropped). */
  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let done = false;
    for (let shift = 0; shift < 28; shift += 7) {
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        done = true;
        break;
      }
    }
    if (!done) {
      b = buf[pos++]!;
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x70) >> 4;
      if (b & 0x80) {
        for (let shift = 3; ; shift += 7) {
          if (shift > 31) throw new Error('invalid varint');
          b = buf[pos++]!;
          hi |= (b & 0x7f) << shift;
          if ((b & 0x80) === 0) break;
        }
      }
    }
    if (pos > this.len) throw new RangeError('premature EOF');
    this.pos = pos;
    this.lo = lo;
    this.hi = hi;
  }

  /**
   * A varint of at most 7 bytes (below 2^49, where any 64-bit reading of it is the same number)
   * as a number, or -1, reading nothing, for a longer one or one that runs past the end.
   */
  private short(): number {
    const buf = this.buf;
    let pos = this.pos;
    // Past the end a read yields undefined, which is not below 0x80: the varint counts as long.
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let v = b & 0x7f;
    b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return v | (b << 7);
    }
    v |= (b & 0x7f) << 7;
    b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return v | (b << 14);
    }
    v |= (b & 0x7f) << 14;
    b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return v | (b << 21);
    }
    v |= (b & 0x7f) << 21;
    for (let scale = 2 ** 28; scale < 2 ** 49; scale *= 128) {
      b = buf[pos++]!;
      if (b < 0x80) {
        this.pos = pos;
        return v + b * scale;
      }
      v += (b & 0x7f) * scale;
    }
    return -1;
  }

  /** An int64 as a number; beyond ±(2^53 - 1) it fails, as the generated decoder does. */
  int64(): number {
    const v = this.short();
    if (v >= 0) return v;
    this.varint64();
    return signed(this.lo, this.hi);
  }

  uint64(): number {
    const v = this.short();
    if (v >= 0) return v;
    this.varint64();
    const hi = this.hi >>> 0;
    if (hi > 0x1fffff) throw new Error('Value is larger than Number.MAX_SAFE_INTEGER');
    return hi * TWO_32 + (this.lo >>> 0);
  }

  sint64(): number {
    const v = this.short();
    if (v >= 0) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    this.varint64();
    const lo = this.lo;
    const hi = this.hi;
    const s = -(lo & 1);
    return signed(((lo >>> 1) | ((hi & 1) << 31)) ^ s, (hi >>> 1) ^ s);
  }

  /** A uint64 as decimal text, exact at any size (the jstype = JS_STRING fields). */
  uint64Text(): string {
    this.varint64();
    const hi = this.hi >>> 0;
    const lo = this.lo >>> 0;
    if (hi <= 0x1fffff) return String(hi * TWO_32 + lo);
    // Long division by 10^9 over 16-bit limbs: every intermediate stays below 2^53.
    let q = 0;
    let r = 0;
    for (const limb of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
      const cur = r * 65536 + limb;
      const d = Math.floor(cur / 1e9);
      r = cur - d * 1e9;
      q = q * 65536 + d;
    }
    return q === 0 ? String(r) : String(q) + String(r).padStart(9, '0');
  }

  bool(): boolean {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      this.pos++;
      return b !== 0;
    }
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  string(): string {
    const len = this.u32();
    const start = this.pos;
    const end = start + len;
    if (end > this.len) {
      this.pos = end;
      throw new RangeError('premature EOF');
    }
    this.pos = end;
    if (len === 0) return '';
    const buf = this.buf;
    let high = 0;
    for (let i = start; i < end; i++) high |= buf[i]!;
    if (high & 0x80) return utf8.decode(buf.subarray(start, end));
    this.latin1 ??= Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
    return this.latin1.slice(start, end);
  }

  /** A tag as the reader of a group checks it (the top level reads tags as plain uint32). */
  private tag(): [number, number] {
    const start = this.pos;
    const tag = this.u32();
    const n = this.pos - start;
    if (n > 5 || (n === 5 && this.buf[this.pos - 1]! > 0x0f)) throw new Error('illegal tag: varint overflows uint32');
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNo <= 0 || wireType > 5) throw new Error(`illegal tag: field no ${fieldNo} wire type ${wireType}`);
    return [fieldNo, wireType];
  }

  /** Steps over a field this decoder does not read. */
  skip(wireType: number, fieldNo?: number, depth = 100): void {
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++]! & 0x80) {
          // continuation bytes
        }
        break;
      case 1:
        this.pos += 8;
        break;
      case 5:
        this.pos += 4;
        break;
      case 2: {
        const len = this.u32();
        this.pos += len;
        break;
      }
      case 3:
        if (depth <= 0) throw new Error('maximum recursion depth reached');
        for (;;) {
          const [fn, wt] = this.tag();
          if (wt === 4) {
            if (fieldNo !== undefined && fn !== fieldNo) throw new Error('invalid end group tag');
            break;
          }
          this.skip(wt, fn, depth - 1);
        }
        break;
      default:
        throw new Error(`cant skip wire type ${wireType}`);
    }
    if (this.pos > this.len) throw new RangeError('premature EOF');
  }
}

function signed(lo: number, hi: number): number {
  if (hi > 0x1fffff) throw new Error('Value is larger than Number.MAX_SAFE_INTEGER');
  if (hi < -0x200000 || (hi === -0x200000 && lo === 0)) throw new Error('Value is smaller than Number.MIN_SAFE_INTEGER');
  return hi * TWO_32 + (lo >>> 0);
}

/** The end of a packed run: its length is read first, then added to the position after it. */
function packedEnd(r: Wire): number {
  const len = r.u32();
  return len + r.pos;
}

function packedU32(r: Wire, out: number[]): void {
  const end = packedEnd(r);
  const buf = r.buf;
  let pos = r.pos;
  while (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      out.push(b);
      pos++;
    } else {
      r.pos = pos;
      out.push(r.u32());
      pos = r.pos;
    }
  }
  r.pos = pos;
}

function packedBool(r: Wire, out: boolean[]): void {
  const end = packedEnd(r);
  const buf = r.buf;
  let pos = r.pos;
  while (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      out.push(b !== 0);
      pos++;
    } else {
      r.pos = pos;
      out.push(r.bool());
      pos = r.pos;
    }
  }
  r.pos = pos;
}

function packedInt64(r: Wire, out: number[]): void {
  const end = packedEnd(r);
  while (r.pos < end) out.push(r.int64());
}

function packedUint64(r: Wire, out: number[]): void {
  const end = packedEnd(r);
  while (r.pos < end) out.push(r.uint64());
}

function packedSint64(r: Wire, out: number[]): void {
  const end = packedEnd(r);
  while (r.pos < end) out.push(r.sint64());
}

/** Decodes an EventBatch; malformed input throws, as EventBatch.decode does. */
export function decodeEventBatch(bytes: Uint8Array): EventBatch {
  const r = new Wire(bytes);
  const m: EventBatch = { collectorId: '', sequence: 0, node: '', source: '', strings: [], processes: [], containers: [], fds: [], users: [], events: undefined, baseSec: 0, baseNsec: 0, groups: [] };
  const end = r.len;
  while (r.pos < end) {
    const tag = r.u32();
    switch (tag) {
      case 10:
        m.collectorId = r.string();
        continue;
      case 16:
        m.sequence = r.uint64();
        continue;
      case 26:
        m.node = r.string();
        continue;
      case 34:
        m.source = r.string();
        continue;
      case 42:
        m.strings.push(r.string());
        continue;
      case 50:
        m.processes.push(decodeProcess(r, r.u32()));
        continue;
      case 58:
        m.containers.push(decodeContainer(r, r.u32()));
        continue;
      case 66:
        m.fds.push(decodeFd(r, r.u32()));
        continue;
      case 74:
        m.users.push(decodeUser(r, r.u32()));
        continue;
      case 82:
        m.events = decodeEvents(r, r.u32());
        continue;
      case 88:
        m.baseSec = r.uint64();
        continue;
      case 96:
        m.baseNsec = r.u32();
        continue;
      case 106:
        m.groups.push(decodeGroup(r, r.u32()));
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}

function decodeEvents(r: Wire, length: number): Events {
  const end = r.pos + length;
  const m: Events = { type: [], enter: [], ts: [], num: [], tid: [], process: [], fd: [], res: [], hasRes: [], cpu: [], argsEnd: [], argName: [], argText: [], argRaw: [], argResolved: [], json: [], open: [] };
  while (r.pos < end) {
    const tag = r.u32();
    switch (tag) {
      case 8:
        m.type.push(r.u32());
        continue;
      case 10:
        packedU32(r, m.type);
        continue;
      case 16:
        m.enter.push(r.bool());
        continue;
      case 18:
        packedBool(r, m.enter);
        continue;
      case 24:
        m.ts.push(r.sint64());
        continue;
      case 26:
        packedSint64(r, m.ts);
        continue;
      case 32:
        m.num.push(r.uint64());
        continue;
      case 34:
        packedUint64(r, m.num);
        continue;
      case 40:
        m.tid.push(r.int64());
        continue;
      case 42:
        packedInt64(r, m.tid);
        continue;
      case 48:
        m.process.push(r.u32());
        continue;
      case 50:
        packedU32(r, m.process);
        continue;
      case 56:
        m.fd.push(r.u32());
        continue;
      case 58:
        packedU32(r, m.fd);
        continue;
      case 64:
        m.res.push(r.int64());
        continue;
      case 66:
        packedInt64(r, m.res);
        continue;
      case 72:
        m.hasRes.push(r.bool());
        continue;
      case 74:
        packedBool(r, m.hasRes);
        continue;
      case 80:
        m.cpu.push(r.u32());
        continue;
      case 82:
        packedU32(r, m.cpu);
        continue;
      case 88:
        m.argsEnd.push(r.u32());
        continue;
      case 90:
        packedU32(r, m.argsEnd);
        continue;
      case 96:
        m.argName.push(r.u32());
        continue;
      case 98:
        packedU32(r, m.argName);
        continue;
      case 104:
        m.argText.push(r.u32());
        continue;
      case 106:
        packedU32(r, m.argText);
        continue;
      case 112:
        m.argRaw.push(r.u32());
        continue;
      case 114:
        packedU32(r, m.argRaw);
        continue;
      case 120:
        m.json.push(r.u32());
        continue;
      case 122:
        packedU32(r, m.json);
        continue;
      case 128:
        m.open.push(r.u32());
        continue;
      case 130:
        packedU32(r, m.open);
        continue;
      case 136:
        m.argResolved.push(r.u32());
        continue;
      case 138:
        packedU32(r, m.argResolved);
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}

function decodeProcess(r: Wire, length: number): Process {
  const end = r.pos + length;
  const m: Process = {
    pid: 0,
    tid: 0,
    ppid: 0,
    vpid: 0,
    vtid: 0,
    sid: 0,
    vpgid: 0,
    name: 0,
    exe: 0,
    exepath: 0,
    args: [],
    cwd: 0,
    env: [],
    tty: 0,
    loginuid: 0,
    user: 0,
    loginuser: 0,
    group: 0,
    container: 0,
    ancestors: [],
    exeUpperLayer: false,
    exeFromMemfd: false,
    exeWritable: false,
    exeIno: '0',
    capPermitted: 0,
    capEffective: 0,
    capInheritable: 0,
    startTs: '0',
    pidnsInitStartTs: '0',
    isThreadLeader: false,
    comm: 0,
    fdlimit: 0,
    parent: 0,
  };
  while (r.pos < end) {
    const tag = r.u32();
    switch (tag) {
      case 8:
        m.pid = r.int64();
        continue;
      case 16:
        m.tid = r.int64();
        continue;
      case 24:
        m.ppid = r.int64();
        continue;
      case 32:
        m.vpid = r.int64();
        continue;
      case 40:
        m.vtid = r.int64();
        continue;
      case 48:
        m.sid = r.int64();
        continue;
      case 56:
        m.vpgid = r.int64();
        continue;
      case 64:
        m.name = r.u32();
        continue;
      case 72:
        m.exe = r.u32();
        continue;
      case 80:
        m.exepath = r.u32();
        continue;
      case 88:
        m.args.push(r.u32());
        continue;
      case 90:
        packedU32(r, m.args);
        continue;
      case 96:
        m.cwd = r.u32();
        continue;
      case 104:
        m.env.push(r.u32());
        continue;
      case 106:
        packedU32(r, m.env);
        continue;
      case 112:
        m.tty = r.u32();
        continue;
      case 120:
        m.loginuid = r.int64();
        continue;
      case 128:
        m.user = r.u32();
        continue;
      case 136:
        m.loginuser = r.u32();
        continue;
      case 144:
        m.group = r.u32();
        continue;
      case 152:
        m.container = r.u32();
        continue;
      case 160:
        m.ancestors.push(r.u32());
        continue;
      case 162:
        packedU32(r, m.ancestors);
        continue;
      case 168:
        m.exeUpperLayer = r.bool();
        continue;
      case 176:
        m.exeFromMemfd = r.bool();
        continue;
      case 184:
        m.exeWritable = r.bool();
        continue;
      case 192:
        m.exeIno = r.uint64Text();
        continue;
      case 200:
        m.capPermitted = r.uint64();
        continue;
      case 208:
        m.capEffective = r.uint64();
        continue;
      case 216:
        m.capInheritable = r.uint64();
        continue;
      case 224:
        m.startTs = r.uint64Text();
        continue;
      case 232:
        m.pidnsInitStartTs = r.uint64Text();
        continue;
      case 240:
        m.isThreadLeader = r.bool();
        continue;
      case 248:
        m.comm = r.u32();
        continue;
      case 256:
        m.fdlimit = r.int64();
        continue;
      case 264:
        m.parent = r.u32();
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}

/**
 * A message whose fields are all uint32, field n being keys[n - 1] (User, Group, Label): `m`
 * comes with every field at its default, so the object keeps one shape.
 */
function decodeU32Fields<T extends object>(r: Wire, length: number, m: T, keys: readonly (keyof T)[]): T {
  const end = r.pos + length;
  while (r.pos < end) {
    const tag = r.u32();
    const field = tag >>> 3;
    if ((tag & 7) === 0 && field >= 1 && field <= keys.length) {
      (m as Record<keyof T, number>)[keys[field - 1]!] = r.u32();
      continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}

const USER_FIELDS = ['uid', 'name', 'homedir', 'shell'] as const;
const GROUP_FIELDS = ['gid', 'name'] as const;
const LABEL_FIELDS = ['key', 'value'] as const;

function decodeUser(r: Wire, length: number): User {
  return decodeU32Fields<User>(r, length, { uid: 0, name: 0, homedir: 0, shell: 0 }, USER_FIELDS);
}

function decodeGroup(r: Wire, length: number): Group {
  return decodeU32Fields<Group>(r, length, { gid: 0, name: 0 }, GROUP_FIELDS);
}

function decodeLabel(r: Wire, length: number): Label {
  return decodeU32Fields<Label>(r, length, { key: 0, value: 0 }, LABEL_FIELDS);
}

function decodeContainer(r: Wire, length: number): Container {
  const end = r.pos + length;
  const m: Container = { id: 0, name: 0, type: 0, image: 0, imageRepository: 0, imageTag: 0, imageDigest: 0, imageId: 0, privileged: false, labels: [], podName: 0, podNamespace: 0, podUid: 0, podLabels: [], ip: 0 };
  while (r.pos < end) {
    const tag = r.u32();
    switch (tag) {
      case 8:
        m.id = r.u32();
        continue;
      case 16:
        m.name = r.u32();
        continue;
      case 24:
        m.type = r.u32();
        continue;
      case 32:
        m.image = r.u32();
        continue;
      case 40:
        m.imageRepository = r.u32();
        continue;
      case 48:
        m.imageTag = r.u32();
        continue;
      case 56:
        m.imageDigest = r.u32();
        continue;
      case 64:
        m.imageId = r.u32();
        continue;
      case 72:
        m.privileged = r.bool();
        continue;
      case 82:
        m.labels.push(decodeLabel(r, r.u32()));
        continue;
      case 88:
        m.podName = r.u32();
        continue;
      case 96:
        m.podNamespace = r.u32();
        continue;
      case 104:
        m.podUid = r.u32();
        continue;
      case 114:
        m.podLabels.push(decodeLabel(r, r.u32()));
        continue;
      case 120:
        m.ip = r.u32();
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}

function decodeFd(r: Wire, length: number): FileDescriptor {
  const end = r.pos + length;
  const m: FileDescriptor = {
    num: 0,
    type: 0,
    typechar: 0,
    name: 0,
    nameRaw: 0,
    directory: 0,
    filename: 0,
    cip: 0,
    sip: 0,
    lip: 0,
    rip: 0,
    cport: 0,
    sport: 0,
    lport: 0,
    rport: 0,
    hasPorts: false,
    l4proto: 0,
    sockfamily: 0,
    connected: false,
    dev: 0,
    inode: '0',
    openFlags: 0,
    isServer: false,
  };
  while (r.pos < end) {
    const tag = r.u32();
    switch (tag) {
      case 8:
        m.num = r.int64();
        continue;
      case 16:
        m.type = r.u32();
        continue;
      case 24:
        m.typechar = r.u32();
        continue;
      case 32:
        m.name = r.u32();
        continue;
      case 40:
        m.nameRaw = r.u32();
        continue;
      case 48:
        m.directory = r.u32();
        continue;
      case 56:
        m.filename = r.u32();
        continue;
      case 64:
        m.cip = r.u32();
        continue;
      case 72:
        m.sip = r.u32();
        continue;
      case 80:
        m.lip = r.u32();
        continue;
      case 88:
        m.rip = r.u32();
        continue;
      case 96:
        m.cport = r.u32();
        continue;
      case 104:
        m.sport = r.u32();
        continue;
      case 112:
        m.lport = r.u32();
        continue;
      case 120:
        m.rport = r.u32();
        continue;
      case 128:
        m.hasPorts = r.bool();
        continue;
      case 136:
        m.l4proto = r.u32();
        continue;
      case 144:
        m.sockfamily = r.u32();
        continue;
      case 152:
        m.connected = r.bool();
        continue;
      case 168:
        m.dev = r.uint64();
        continue;
      case 176:
        m.inode = r.uint64Text();
        continue;
      case 184:
        m.openFlags = r.int64();
        continue;
      case 192:
        m.isServer = r.bool();
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    r.skip(tag & 7);
  }
  return m;
}
