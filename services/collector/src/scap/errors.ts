// The one error a .scap read can fail with: what was wrong, in which block, at which byte offset.

/** Stable codes of ScapError. */
export type ScapErrorCode =
  /** The data ends inside a block (or a gzip stream ends early). */
  | 'TRUNCATED'
  /** A length or count inside the file contradicts the rest of it. */
  | 'CORRUPT'
  /** Not a capture: the first block is not a section header, or its byte-order magic is wrong. */
  | 'BAD_MAGIC'
  /** A section header with a major version this reader does not know. */
  | 'UNSUPPORTED_VERSION'
  /** The gzip layer is broken (not only short). */
  | 'GZIP';

export interface ScapErrorFields {
  readonly code: ScapErrorCode;
  /** Name of the block being read (`section header`, `process list V9`, `event V2`, `gzip`, ...). */
  readonly block: string;
  /** Block type number, when a block header was read. */
  readonly blockType?: number | undefined;
  /** Offset of the block's first byte in the (decompressed) capture. */
  readonly blockOffset: number;
  /** Offset where the problem was found. */
  readonly offset: number;
  readonly cause?: unknown;
}

export class ScapError extends Error {
  override readonly name = 'ScapError';
  readonly code: ScapErrorCode;
  readonly block: string;
  readonly blockType: number | undefined;
  readonly blockOffset: number;
  readonly offset: number;

  constructor(what: string, f: ScapErrorFields) {
    super(`${f.block} block at offset ${f.blockOffset}: ${what} (byte ${f.offset})`, { cause: f.cause });
    this.code = f.code;
    this.block = f.block;
    this.blockType = f.blockType;
    this.blockOffset = f.blockOffset;
    this.offset = f.offset;
  }
}
