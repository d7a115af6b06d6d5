// The contract between compiled rules and events. The rules package never sees an event's layout:
// an event representation (field-map events for tests, decoded batches for the pipeline) implements
// FieldAccessor, and the compiler asks it once per field, at compile time, for a reader.

import type { FieldInfo } from './fields/types.js';

/**
 * A field as a condition or output names it, resolved against the field registry at compile time.
 * `arg` is the raw argument text (`2` in `proc.aname[2]`, `path` in `evt.arg.path`).
 */
export interface FieldRef {
  readonly name: string;
  readonly arg: string | undefined;
  readonly info: FieldInfo;
}

/**
 * A field's value for one event. Strings for text, paths and addresses as text; numbers for
 * integers that fit 2^53 and for booleans' numeric forms; bigint for 64-bit values that may not
 * fit (timestamps in ns); Uint8Array for byte buffers; arrays for fields with several values.
 * `undefined` means the field has no value for this event (Falco prints `<NA>`).
 */
export type FieldValue = string | number | bigint | boolean | Uint8Array | readonly FieldScalar[];
export type FieldScalar = string | number | bigint | boolean | Uint8Array;

/** Reads one field from an event. Must not throw for a well-formed event: a missing value is `undefined`. */
export type FieldReader<E> = (event: E) => FieldValue | undefined;

/** Implemented by every event representation that rules can evaluate. */
export interface FieldAccessor<E> {
  /**
   * Returns a reader for the field, or undefined when this representation can never supply it
   * (the compiler then treats the field as always missing). Called once per distinct field at
   * compile time, never per event.
   */
  reader(field: FieldRef): FieldReader<E> | undefined;
  /** The event's type name (`evt.type`), used to pick the rules that can match it. */
  eventType(event: E): string;
}

/**
 * One field over every event of a batch, for batch evaluation. `dict`: each row holds an index into
 * `table` (or -1 when the field has no value); a test on the field then runs once per distinct
 * value, not once per row. `num`: numbers in a typed array, `present[row]` 0 when missing. Column
 * values must equal what the field's reader returns for the same row.
 */
export type FieldColumn =
  | { readonly kind: 'dict'; readonly ids: Int32Array; readonly table: readonly FieldValue[] }
  | { readonly kind: 'num'; readonly values: Float64Array; readonly present: Uint8Array };

/**
 * An event representation whose events come in batches (the pipeline's decoded batches). Rulesets
 * built over one evaluate a whole batch at a time (Ruleset.evaluateBatch).
 */
export interface BatchAccessor<B, E> extends FieldAccessor<E> {
  /** Number of events in the batch. */
  rows(batch: B): number;
  /** The event types of the batch's rows, as indices into `names`. */
  types(batch: B): { readonly ids: Int32Array; readonly names: readonly string[] };
  /** The event at a row, for fields without a column (the returned object may be reused). */
  at(batch: B, row: number): E;
  /** The field as a column, or undefined to have it read row by row through `reader`. */
  column(batch: B, field: FieldRef): FieldColumn | undefined;
}
