// Batch evaluation. A condition runs over a whole batch at once: each node takes a selection of
// rows (sorted row numbers) and writes the rows for which it holds. A check on a dictionary column
// runs once per distinct value of the batch, not once per row; a subtree shared by several rules
// (an expanded macro) is computed once per row per batch. Checks that are not a plain field's value
// (transformers, field-to-field comparisons, either-end socket fields, fields without a column)
// run row by row through the per-event filter, so results never differ from per-event evaluation.

import type { BinaryCheck, Expr, UnaryCheck } from '../ast.js';
import type { BatchAccessor, FieldColumn, FieldRef } from '../accessor.js';
import { fieldKey } from './fieldmap.js';
import type { Filter, ValueCheck } from './compile.js';

/** Scratch row buffers, reused across nodes and batches. */
class Pool {
  private free: Int32Array[] = [];
  constructor(public capacity: number) {}

  take(): Int32Array {
    return this.free.pop() ?? new Int32Array(this.capacity);
  }

  give(b: Int32Array): void {
    if (b.length === this.capacity) this.free.push(b);
  }

  ensure(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = Math.max(rows, this.capacity * 2);
    this.free = [];
  }
}

/** Everything evaluation needs about the batch in hand. */
export class BatchContext<B, E> {
  /** Advances per batch; per-batch caches are valid while their stamp equals it. */
  gen = 0;
  /** Row stamps (`stamp * 2 + bit` in an Int32Array) start over after 2^30 batches, in a new era. */
  stamp = 0;
  era = 0;
  rows = 0;
  batch!: B;
  readonly pool = new Pool(1024);
  private readonly columns = new Map<string, FieldColumn | null>();

  constructor(readonly accessor: BatchAccessor<B, E>) {}

  begin(batch: B): void {
    this.batch = batch;
    this.rows = this.accessor.rows(batch);
    this.pool.ensure(this.rows);
    this.columns.clear();
    this.gen++;
    if (this.stamp >= 0x3ffffff0) {
      this.stamp = 0;
      this.era++;
    }
    this.stamp++;
  }

  column(ref: FieldRef): FieldColumn | undefined {
    const key = fieldKey(ref.name, ref.arg);
    let c = this.columns.get(key);
    if (c === undefined) {
      c = this.accessor.column(this.batch, ref) ?? null;
      this.columns.set(key, c);
    }
    return c ?? undefined;
  }
}

export interface VNode<B, E> {
  /** Rough work per row, relative to one dictionary-column check. */
  readonly cost: number;
  /** Writes to `out` the rows of `sel[0..n)` for which the node holds; returns how many. */
  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number;
}

/** Rows of `sel` (n of them) not in `drop` (m of them, a subset of sel, both sorted) into out. */
export function minus(sel: Int32Array, n: number, drop: Int32Array, m: number, out: Int32Array): number {
  let j = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const r = sel[i]!;
    if (j < m && drop[j] === r) {
      j++;
      continue;
    }
    out[k++] = r;
  }
  return k;
}

/**
 * The evaluation order of an and/or's children. Checks have no side effects, so any order gives
 * the same result; the order that settles the most rows for the least work is learnt from the
 * rows each child sees and keeps (the classic rank cost / (1 - pass rate) for and, cost / pass
 * rate for or), and revised every few runs as the data changes.
 */
class Ordering {
  readonly order: Int32Array;
  private readonly seen: Float64Array;
  private readonly kept: Float64Array;
  private runs = 0;

  constructor(
    private readonly costs: readonly number[],
    private readonly conjunction: boolean,
  ) {
    this.order = Int32Array.from(costs.keys());
    this.seen = new Float64Array(costs.length);
    this.kept = new Float64Array(costs.length);
  }

  record(child: number, seen: number, kept: number): void {
    this.seen[child]! += seen;
    this.kept[child]! += kept;
  }

  /** Called after each run of the node. */
  ran(): void {
    if (++this.runs % 8 !== 0) return;
    const rank = this.costs.map((c, i) => {
      const pass = (this.kept[i]! + 1) / (this.seen[i]! + 2);
      return c / Math.max(this.conjunction ? 1 - pass : pass, 1e-3);
    });
    const next = [...this.order].sort((a, b) => rank[a]! - rank[b]! || a - b);
    this.order.set(next);
    if (this.seen.some((x) => x > 1e6)) {
      for (let i = 0; i < this.seen.length; i++) {
        this.seen[i]! /= 2;
        this.kept[i]! /= 2;
      }
    }
  }
}

class AndNode<B, E> implements VNode<B, E> {
  readonly cost: number;
  private readonly ordering: Ordering;

  constructor(private readonly children: readonly VNode<B, E>[]) {
    this.cost = children.reduce((a, c) => a + c.cost, 0);
    this.ordering = new Ordering(children.map((c) => c.cost), true);
  }

  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    const last = this.children.length - 1;
    const order = this.ordering.order;
    const a = ctx.pool.take();
    const b = ctx.pool.take();
    let cur = sel;
    let cn = n;
    for (let i = 0; i <= last && cn > 0; i++) {
      const dst = i === last ? out : cur === a ? b : a;
      const c = order[i]!;
      const before = cn;
      cn = this.children[c]!.run(ctx, cur, cn, dst);
      this.ordering.record(c, before, cn);
      cur = dst;
    }
    ctx.pool.give(a);
    ctx.pool.give(b);
    this.ordering.ran();
    return cn;
  }
}

class OrNode<B, E> implements VNode<B, E> {
  readonly cost: number;
  private readonly ordering: Ordering;

  constructor(private readonly children: readonly VNode<B, E>[]) {
    this.cost = children.reduce((a, c) => a + c.cost, 0);
    this.ordering = new Ordering(children.map((c) => c.cost), false);
  }

  /** The rows for which no child holds are whittled down child by child; the rest hold. */
  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    const order = this.ordering.order;
    const hit = ctx.pool.take();
    const a = ctx.pool.take();
    const b = ctx.pool.take();
    let rest = sel;
    let rn = n;
    for (let i = 0; i < this.children.length && rn > 0; i++) {
      const c = order[i]!;
      const h = this.children[c]!.run(ctx, rest, rn, hit);
      this.ordering.record(c, rn, h);
      if (h === 0) continue;
      const dst = rest === a ? b : a;
      rn = minus(rest, rn, hit, h, dst);
      rest = dst;
    }
    const k = rest === sel ? 0 : minus(sel, n, rest, rn, out);
    ctx.pool.give(hit);
    ctx.pool.give(a);
    ctx.pool.give(b);
    this.ordering.ran();
    return k;
  }
}

class NotNode<B, E> implements VNode<B, E> {
  readonly cost: number;

  constructor(private readonly child: VNode<B, E>) {
    this.cost = child.cost + 0.5;
  }

  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    const hit = ctx.pool.take();
    const h = this.child.run(ctx, sel, n, hit);
    const k = minus(sel, n, hit, h, out);
    ctx.pool.give(hit);
    return k;
  }
}

class ConstNode<B, E> implements VNode<B, E> {
  readonly cost = 0.1;

  constructor(private readonly value: boolean) {}

  run(_ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    if (!this.value) return 0;
    out.set(sel.subarray(0, n));
    return n;
  }
}

/** A subtree used by several rules: each row's result is kept for the rest of the batch. */
class SharedNode<B, E> implements VNode<B, E> {
  readonly cost: number;
  private stamps = new Int32Array(0);
  private era = 0;

  /** Most rows reach a shared subtree already answered by another rule. */
  constructor(private readonly inner: VNode<B, E>) {
    this.cost = Math.min(inner.cost, 2);
  }

  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    if (this.stamps.length < ctx.rows) this.stamps = new Int32Array(Math.max(ctx.rows, ctx.pool.capacity));
    else if (this.era !== ctx.era) this.stamps.fill(0);
    this.era = ctx.era;
    const st = this.stamps;
    const known = ctx.stamp * 2;
    const todo = ctx.pool.take();
    let tn = 0;
    for (let i = 0; i < n; i++) {
      const r = sel[i]!;
      if ((st[r]! & ~1) !== known) todo[tn++] = r;
    }
    if (tn > 0) {
      const hit = ctx.pool.take();
      const h = this.inner.run(ctx, todo, tn, hit);
      let j = 0;
      for (let i = 0; i < tn; i++) {
        const r = todo[i]!;
        if (j < h && hit[j] === r) {
          st[r] = known | 1;
          j++;
        } else st[r] = known;
      }
      ctx.pool.give(hit);
    }
    ctx.pool.give(todo);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const r = sel[i]!;
      if (st[r] === (known | 1)) out[k++] = r;
    }
    return k;
  }
}

/** A check evaluated row by row through its per-event filter. */
class RowNode<B, E> implements VNode<B, E> {
  readonly cost = 20;

  constructor(private readonly filter: Filter<E>) {}

  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    const f = this.filter;
    const acc = ctx.accessor;
    const batch = ctx.batch;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const r = sel[i]!;
      if (f(acc.at(batch, r))) out[k++] = r;
    }
    return k;
  }
}

/**
 * A check on one field's value. Over a dictionary column the answer is kept per distinct value
 * for the batch; over a numeric column it is computed per row; without a column, row by row.
 */
class ValueNode<B, E> implements VNode<B, E> {
  readonly cost = 1;
  private gen = -1;
  private col: FieldColumn | undefined;
  /** Per dictionary entry: 0 unknown, 1 false, 2 true (valid for batch `gen`). */
  private answers = new Uint8Array(0);

  constructor(
    private readonly check: ValueCheck,
    private readonly filter: Filter<E>,
  ) {}

  run(ctx: BatchContext<B, E>, sel: Int32Array, n: number, out: Int32Array): number {
    if (this.gen !== ctx.gen) {
      this.gen = ctx.gen;
      this.col = ctx.column(this.check.field);
      if (this.col?.kind === 'dict') {
        const len = this.col.table.length;
        if (this.answers.length < len) this.answers = new Uint8Array(Math.max(len, this.answers.length * 2));
        else this.answers.fill(0, 0, len);
      }
    }
    const col = this.col;
    let k = 0;
    if (col === undefined) {
      const f = this.filter;
      const acc = ctx.accessor;
      const batch = ctx.batch;
      for (let i = 0; i < n; i++) {
        const r = sel[i]!;
        if (f(acc.at(batch, r))) out[k++] = r;
      }
      return k;
    }
    const on = this.check.onValue;
    if (col.kind === 'num') {
      const { values, present } = col;
      for (let i = 0; i < n; i++) {
        const r = sel[i]!;
        if (present[r] === 1 && on(values[r]!)) out[k++] = r;
      }
      return k;
    }
    const { ids, table } = col;
    const ans = this.answers;
    for (let i = 0; i < n; i++) {
      const r = sel[i]!;
      const id = ids[r]!;
      if (id < 0) continue;
      let a = ans[id]!;
      if (a === 0) {
        const v = table[id];
        a = v !== undefined && on(v) ? 2 : 1;
        ans[id] = a;
      }
      if (a === 2) out[k++] = r;
    }
    return k;
  }
}

export interface VectorCompileOptions<E> {
  /** Subtrees referenced by more than one condition of the ruleset. */
  readonly shared: ReadonlySet<Expr>;
  /** Compiles one check to its per-event filter and value check. */
  readonly check: (e: UnaryCheck | BinaryCheck) => { readonly filter: Filter<E>; readonly value: ValueCheck | undefined };
}

/** Builds batch programs for the conditions of one ruleset; shared subtrees become one node. */
export class VectorCompiler<B, E> {
  private readonly memo = new Map<Expr, VNode<B, E>>();

  constructor(private readonly opts: VectorCompileOptions<E>) {}

  compile(e: Expr): VNode<B, E> {
    const hit = this.memo.get(e);
    if (hit) return hit;
    let node = this.node(e);
    if (this.opts.shared.has(e)) node = new SharedNode(node);
    this.memo.set(e, node);
    return node;
  }

  private node(e: Expr): VNode<B, E> {
    switch (e.kind) {
      case 'and':
        return new AndNode(e.children.map((c) => this.compile(c)));
      case 'or':
        return new OrNode(e.children.map((c) => this.compile(c)));
      case 'not':
        return new NotNode(this.compile(e.child));
      case 'unary':
      case 'binary': {
        const { filter, value } = this.opts.check(e);
        return value ? new ValueNode(value, filter) : new RowNode(filter);
      }
      default:
        // Conditions reach here already compiled once; anything else is a programming error.
        throw new Error(`cannot evaluate a '${e.kind}' node in a condition`);
    }
  }

  /** A node that always yields `value` (for rules whose condition folds to a constant). */
  static constant<B, E>(value: boolean): VNode<B, E> {
    return new ConstNode(value);
  }
}
