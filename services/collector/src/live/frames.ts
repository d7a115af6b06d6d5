// Splits the probe's output stream into frames (probe/FORMAT.md) without copying: a frame that
// lies inside one chunk is a view into it; only a frame split across chunks is copied once.

/** Frame kinds (probe/src/harrier.h). */
export const FRAME_SYSCALL = 1;
export const FRAME_PROCEXIT = 2;
export const FRAME_STATS = 3;
export const FRAME_HELLO = 4;

/** The probe's frames are at most 32 KiB; anything larger means the stream lost its framing. */
export const MAX_FRAME = 65536;
export const HEADER_SIZE = 144;

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** One frame: `bytes` is the whole frame, `view` a DataView over the same memory. */
export interface Frame {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Offset of the frame in `bytes`/`view` (views are shared by the frames of a chunk). */
  readonly off: number;
  readonly len: number;
  readonly kind: number;
}

type MutableFrame = { -readonly [K in keyof Frame]: Frame[K] };

export class FrameReader {
  private pending: Uint8Array | undefined;
  /** Bytes read since the start, for error positions. */
  private consumed = 0;

  /** The one frame object push() hands out, moved along the chunk. */
  private readonly frame: MutableFrame = { bytes: new Uint8Array(0), view: new DataView(new ArrayBuffer(0)), off: 0, len: 0, kind: 0 };

  /**
   * Calls `onFrame` for every whole frame in `chunk` (plus what was left over from the previous
   * chunk). The frame object is reused for the next frame: it holds until `onFrame` returns (its
   * bytes stay valid; copy the object to keep it). Throws FrameError when a length is impossible:
   * the stream cannot be resynchronised. When `stop` says so after a frame, the rest is held
   * and handed out by the next push (an empty chunk only drains it).
   */
  push(chunk: Uint8Array, onFrame: (f: Frame) => void, stop?: () => boolean): void {
    let buf = chunk;
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      buf = joined;
      this.pending = undefined;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const f = this.frame;
    f.bytes = buf;
    f.view = view;
    let off = 0;
    const end = buf.length;
    while (end - off >= 8) {
      const len = view.getUint32(off, true);
      if (len < 8 || len > MAX_FRAME) {
        throw new FrameError(`frame at byte ${this.consumed + off} has impossible length ${len} (8..${MAX_FRAME})`, this.consumed + off);
      }
      if (end - off < len) break;
      f.off = off;
      f.len = len;
      f.kind = view.getUint16(off + 4, true);
      onFrame(f);
      off += len;
      if (stop?.()) break;
    }
    this.consumed += off;
    if (off < end) this.pending = buf.slice(off);
  }

  /** Bytes of an incomplete frame still held (a truncated stream leaves some at its end). */
  get leftover(): number {
    return this.pending?.length ?? 0;
  }

  reset(): void {
    this.pending = undefined;
    this.consumed = 0;
  }

  /**
   * The stream ended (the probe exited): whole frames still held (a pause stopped before them)
   * stay, to be handed out before the next stream's; a frame cut off is dropped. Returns the
   * bytes dropped.
   */
  endOfStream(): number {
    const p = this.pending;
    this.consumed = 0;
    if (!p) return 0;
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    let off = 0;
    while (p.length - off >= 8) {
      const len = view.getUint32(off, true);
      if (len < 8 || len > MAX_FRAME || p.length - off < len) break;
      off += len;
    }
    this.pending = off > 0 ? p.subarray(0, off) : undefined;
    return p.length - off;
  }
}
