// A columnar event batch: one column per field (strings as indices into a per-batch table, numbers
// in typed arrays), the shape the pipeline's decoded batches take. Benchmarks measure evaluation
// over it, and tests check that batch evaluation agrees with per-event evaluation over it.

import type { BatchAccessor, FieldColumn, FieldReader, FieldRef, FieldValue } from '../accessor.js';
import { fieldKey } from '../compiler/fieldmap.js';

/** Assigns every field key a slot, shared by all batches built with it. */
export class ColumnSchema {
  private readonly slots = new Map<string, number>();

  slot(key: string): number {
    let s = this.slots.get(key);
    if (s === undefined) {
      s = this.slots.size;
      this.slots.set(key, s);
    }
    return s;
  }

  find(key: string): number | undefined {
    return this.slots.get(key);
  }
}

export class ColumnBatch {
  readonly length: number;
  readonly columns: (FieldColumn | undefined)[] = [];
  readonly types: Int32Array;
  readonly typeNames: readonly string[];
  private none: FieldColumn | undefined;

  constructor(
    readonly schema: ColumnSchema,
    events: readonly Readonly<Record<string, FieldValue>>[],
  ) {
    this.length = events.length;
    const keys = new Set<string>();
    for (const e of events) for (const k of Object.keys(e)) keys.add(k);
    for (const key of keys) this.columns[schema.slot(key)] = buildColumn(events, key);
    const typeCol = this.columns[schema.slot('evt.type')];
    if (typeCol?.kind !== 'dict' || typeCol.table.some((t) => typeof t !== 'string')) throw new Error('every event needs a string evt.type');
    this.types = typeCol.ids;
    this.typeNames = typeCol.table as string[];
  }

  /** The column of a field no event of the batch has. */
  missing(): FieldColumn {
    return (this.none ??= { kind: 'dict', ids: new Int32Array(this.length).fill(-1), table: [] });
  }
}

/** Points at one event of a batch; reused, so per-row evaluation allocates nothing. */
export class ColumnCursor {
  constructor(
    public batch: ColumnBatch,
    public i = 0,
  ) {}
}

function buildColumn(events: readonly Readonly<Record<string, FieldValue>>[], key: string): FieldColumn {
  const n = events.length;
  if (events.every((e) => e[key] === undefined || typeof e[key] === 'number')) {
    const values = new Float64Array(n);
    const present = new Uint8Array(n);
    events.forEach((e, i) => {
      const v = e[key];
      if (typeof v === 'number') {
        values[i] = v;
        present[i] = 1;
      }
    });
    return { kind: 'num', values, present };
  }
  const table: FieldValue[] = [];
  const index = new Map<FieldValue, number>();
  const ids = new Int32Array(n).fill(-1);
  events.forEach((e, i) => {
    const v = e[key];
    if (v === undefined) return;
    let id = index.get(v);
    if (id === undefined) {
      id = table.length;
      table.push(v);
      index.set(v, id);
    }
    ids[i] = id;
  });
  return { kind: 'dict', ids, table };
}

/** The accessor over every batch built with `schema`. */
export function columnAccessor(schema: ColumnSchema): BatchAccessor<ColumnBatch, ColumnCursor> {
  const cursor = new ColumnCursor(undefined as unknown as ColumnBatch);
  return {
    eventType: (c) => c.batch.typeNames[c.batch.types[c.i]!] ?? '',
    reader(ref: FieldRef): FieldReader<ColumnCursor> {
      const s = schema.slot(fieldKey(ref.name, ref.arg));
      return (c) => {
        const col = c.batch.columns[s];
        if (col === undefined) return undefined;
        if (col.kind === 'dict') {
          const id = col.ids[c.i]!;
          return id < 0 ? undefined : col.table[id];
        }
        return col.present[c.i] === 1 ? col.values[c.i] : undefined;
      };
    },
    rows: (b) => b.length,
    types: (b) => ({ ids: b.types, names: b.typeNames }),
    at(b, row) {
      cursor.batch = b;
      cursor.i = row;
      return cursor;
    },
    column: (b, ref) => b.columns[schema.slot(fieldKey(ref.name, ref.arg))] ?? b.missing(),
  };
}
