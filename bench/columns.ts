// A columnar in-memory event batch for benchmarks: one typed array or string-table column per
// field, events addressed by index through a reusable cursor. It has the shape the pipeline's
// decoded batches take (tables of strings indexed by small integers, numbers in typed arrays),
// so evaluation speed measured over it carries over, unlike plain JSON objects.

import { fieldKey, type FieldAccessor, type FieldReader, type FieldRef, type FieldValue } from '@harrier/rules';

type Column =
  | { readonly kind: 'num'; readonly data: Float64Array; readonly present: Uint8Array }
  | { readonly kind: 'str'; readonly idx: Int32Array; readonly table: readonly string[] }
  | { readonly kind: 'bool'; readonly data: Int8Array };

export class ColumnBatch {
  readonly length: number;
  readonly types: Int32Array;
  readonly typeNames: readonly string[];
  private readonly columns = new Map<string, Column>();

  constructor(events: readonly Record<string, FieldValue>[]) {
    this.length = events.length;
    const keys = new Set<string>();
    for (const e of events) for (const k of Object.keys(e)) keys.add(k);
    for (const key of keys) this.columns.set(key, buildColumn(events, key));
    const typeCol = this.columns.get('evt.type');
    if (typeCol?.kind !== 'str') throw new Error('every event needs a string evt.type');
    this.types = typeCol.idx;
    this.typeNames = typeCol.table;
  }

  column(key: string): Column | undefined {
    return this.columns.get(key);
  }
}

/** Points at one event of a batch; reused across events so evaluation allocates nothing. */
export class ColumnCursor {
  i = 0;
  constructor(public batch: ColumnBatch) {}
}

function buildColumn(events: readonly Record<string, FieldValue>[], key: string): Column {
  const sample = events.find((e) => e[key] !== undefined)?.[key];
  const n = events.length;
  if (typeof sample === 'number') {
    const data = new Float64Array(n);
    const present = new Uint8Array(n);
    events.forEach((e, i) => {
      const v = e[key];
      if (typeof v === 'number') {
        data[i] = v;
        present[i] = 1;
      }
    });
    return { kind: 'num', data, present };
  }
  if (typeof sample === 'boolean') {
    const data = new Int8Array(n).fill(-1);
    events.forEach((e, i) => {
      const v = e[key];
      if (typeof v === 'boolean') data[i] = v ? 1 : 0;
    });
    return { kind: 'bool', data };
  }
  const table: string[] = [];
  const ids = new Map<string, number>();
  const idx = new Int32Array(n).fill(-1);
  events.forEach((e, i) => {
    const v = e[key];
    if (v === undefined) return;
    const s = String(v);
    let id = ids.get(s);
    if (id === undefined) {
      id = table.length;
      table.push(s);
      ids.set(s, id);
    }
    idx[i] = id;
  });
  return { kind: 'str', idx, table };
}

/**
 * Accessor over one batch. Readers close over the batch's columns, so a ruleset is compiled
 * against the batch it evaluates (the pipeline will instead bind readers to column slots).
 */
export function columnAccessor(batch: ColumnBatch): FieldAccessor<ColumnCursor> {
  return {
    eventType: (c) => batch.typeNames[batch.types[c.i]!]!,
    reader(ref: FieldRef): FieldReader<ColumnCursor> | undefined {
      const col = batch.column(fieldKey(ref.name, ref.arg));
      if (!col) return () => undefined;
      switch (col.kind) {
        case 'num': {
          const { data, present } = col;
          return (c) => (present[c.i] === 1 ? data[c.i] : undefined);
        }
        case 'bool': {
          const { data } = col;
          return (c) => {
            const v = data[c.i]!;
            return v < 0 ? undefined : v === 1;
          };
        }
        case 'str': {
          const { idx, table } = col;
          return (c) => {
            const id = idx[c.i]!;
            return id < 0 ? undefined : table[id];
          };
        }
      }
    },
  };
}
