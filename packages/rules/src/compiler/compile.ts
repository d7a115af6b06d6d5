// Compiles a condition AST into one closure per node. Fields are resolved and type-checked, and
// literals parsed, once here; per event only field readers and specialised comparisons run.

import type { BinaryCheck, Expr, FieldExpr, FieldLike, ListExpr, Operand, Pos, TransformerArg, TransformerExpr, UnaryCheck, ValueExpr } from '../ast.js';
import type { FieldAccessor, FieldRef, FieldScalar, FieldValue } from '../accessor.js';
import type { FieldLookup } from '../fields/registry.js';
import { resolveField } from '../fields/registry.js';
import type { FieldInfo, FieldType } from '../fields/types.js';
import {
  classOf,
  globToRegExp,
  inNet,
  ipKey,
  isList,
  opAllowed,
  parseBool,
  parseHexBytes,
  parseIp,
  parseNet,
  parseNumber,
  toBool,
  toNum,
  toStr,
  type IpNet,
} from './values.js';

export type Filter<E> = (event: E) => boolean;
type Getter<E> = (event: E) => FieldValue | undefined;

export interface CompileIssue {
  readonly message: string;
  readonly pos: Pos;
}

export interface CompileWarning extends CompileIssue {
  readonly code: 'LOAD_UNSAFE_NA_CHECK' | 'LOAD_COMPILE_CONDITION';
}

/**
 * Lets many conditions compiled for one ruleset share work: a subtree used by several rules (an
 * expanded macro) compiles to one closure whose result is kept for the current event, identified
 * by `epoch.n`, which the ruleset advances per event.
 */
export interface SharedCompilation<E> {
  readonly epoch: { n: number };
  readonly cache: Map<Expr, Filter<E>>;
  /** Subtrees referenced more than once across the ruleset: only these are memoised. */
  readonly shared: ReadonlySet<Expr>;
}

/**
 * A check that depends on one field's value only: false when the field is missing, else
 * `onValue(value)`. Batch evaluation runs it once per distinct value of a column.
 */
export interface ValueCheck {
  readonly field: FieldRef;
  readonly onValue: (value: FieldValue) => boolean;
}

export interface CompileOptions {
  /** Field resolution (default: Harrier's registry). Tests add mock fields through it. */
  readonly resolve?: (name: string, arg: string | undefined) => FieldLookup;
  /** A check on a field for which this returns a boolean compiles to that constant (libs' mock fields). */
  readonly constantCheck?: (field: string) => boolean | undefined;
  /** Generate code for the condition (default true); validation-only compiles skip it. */
  readonly generate?: boolean;
  /** Work shared across the conditions of one ruleset (see SharedCompilation). */
  readonly sharing?: SharedCompilation<unknown>;
}

export type CompileResult<E> =
  | { readonly ok: true; readonly filter: Filter<E>; readonly fields: readonly FieldRef[]; readonly warnings: readonly CompileWarning[] }
  | { readonly ok: false; readonly errors: readonly CompileIssue[] };

class TooBig extends Error {}

class CompileFailure extends Error {
  constructor(
    message: string,
    readonly pos: Pos,
  ) {
    super(message);
  }
}

/** A value source on either side of an operator: a field or a transformer over fields. */
interface Source<E> {
  readonly get: Getter<E>;
  readonly type: FieldType;
  /** May yield several values (list fields, any-ancestor fields, either-end socket fields). */
  readonly multi: boolean;
  readonly text: string;
  /** Either-end socket fields: readers of each end, tested one by one without building a list. */
  readonly ends?: readonly Getter<E>[];
  /** Set when the source is one field read as is (no transformer, not either-end). */
  readonly ref?: FieldRef;
  /**
   * Any-ancestor fields (`proc.aname` without an index): libsinsp applies the comparison to each
   * ancestor and holds when any ancestor passes, whatever the operator (`in` and `!=` included).
   */
  readonly anyAncestor?: boolean;
}

/** Socket fields that match either end of a connection, read through their one-ended fields. */
const EITHER_END: Record<string, readonly string[]> = {
  'fd.ip': ['fd.cip', 'fd.sip'],
  'fd.port': ['fd.cport', 'fd.sport'],
  'fd.proto': ['fd.cproto', 'fd.sproto'],
  'fd.net': ['fd.cip', 'fd.sip'],
  'fd.cnet': ['fd.cip'],
  'fd.snet': ['fd.sip'],
  'fd.lnet': ['fd.lip'],
  'fd.rnet': ['fd.rip'],
};

const STRING_TRANSFORMERS = new Set(['tolower', 'toupper', 'basename']);

class Compiler<E> {
  readonly fields: FieldRef[] = [];
  readonly warnings: CompileWarning[] = [];
  private readonly resolve: (name: string, arg: string | undefined) => FieldLookup;
  private readonly readers = new Map<string, Getter<E>>();
  /** The value check recorded by the last check compiled (see `checked`). */
  private lastCheck: ValueCheck | undefined;

  constructor(
    private readonly accessor: FieldAccessor<E>,
    private readonly opts: CompileOptions,
  ) {
    this.resolve = opts.resolve ?? resolveField;
  }

  expr(e: Expr): Filter<E> {
    const sharing = this.opts.sharing as SharedCompilation<E> | undefined;
    if (!sharing || !sharing.shared.has(e)) return this.node(e);
    const hit = sharing.cache.get(e);
    if (hit) return hit;
    const inner = this.node(e);
    const epoch = sharing.epoch;
    let at = -1;
    let last = false;
    const memo: Filter<E> = (ev) => {
      if (epoch.n === at) return last;
      last = inner(ev);
      at = epoch.n;
      return last;
    };
    sharing.cache.set(e, memo);
    return memo;
  }

  /** Compiles one check (a unary or binary node), with its value check when it has one. */
  check(e: UnaryCheck | BinaryCheck): { readonly filter: Filter<E>; readonly value: ValueCheck | undefined } {
    this.lastCheck = undefined;
    const filter = this.node(e);
    const value = this.lastCheck;
    this.lastCheck = undefined;
    return { filter, value };
  }

  /**
   * Compiles the and/or/not skeleton of a condition into one generated function whose leaves are
   * the checks' closures. Each leaf then has its own call site, which V8 can inline, where a shared
   * loop over children could not. Very large conditions keep the closure tree.
   */
  generated(e: Expr): Filter<E> | undefined {
    const leaves: Filter<E>[] = [];
    const consts: unknown[] = [];
    const sharing = this.opts.sharing;
    const code = (x: Expr, depth: number): string => {
      if (leaves.length > 2000 || depth > 64) throw new TooBig();
      if (sharing?.shared.has(x)) {
        leaves.push(this.expr(x));
        return `L${leaves.length - 1}(ev)`;
      }
      const inline = this.inlineLeaf(x, leaves, consts);
      if (inline !== undefined) return inline;
      switch (x.kind) {
        case 'and':
          return `(${x.children.map((c) => code(c, depth + 1)).join(' && ')})`;
        case 'or':
          return `(${x.children.map((c) => code(c, depth + 1)).join(' || ')})`;
        case 'not':
          return `!${code(x.child, depth + 1)}`;
        default:
          leaves.push(this.expr(x));
          return `L${leaves.length - 1}(ev)`;
      }
    };
    let body: string;
    try {
      body = code(e, 0);
    } catch (err) {
      if (err instanceof TooBig) return undefined;
      throw err;
    }
    const names = [...leaves.map((_, i) => `L${i}`), ...consts.map((_, i) => `K${i}`)];
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function(...names, `return function condition(ev) { let v; return ${body}; };`) as (...l: unknown[]) => Filter<E>;
    return make(...leaves, ...consts);
  }

  /**
   * Inline code for the commonest checks: a plain single-valued field against literals. The value
   * is tested in place when it has the expected JS type; anything else (lists, odd types) goes to
   * the check's closure, so results never differ from the closure path.
   */
  private inlineLeaf(x: Expr, leaves: Filter<E>[], consts: unknown[]): string | undefined {
    if (x.kind !== 'binary' && x.kind !== 'unary') return undefined;
    if (x.left.kind !== 'field' || this.constant(x.left) !== undefined) return undefined;
    const r = this.resolve(x.left.name, x.left.arg);
    if (!r.ok || r.info.list || r.info.name in EITHER_END || (r.info.arg === 'optional' && r.arg === undefined && /^proc\.a/.test(r.info.name))) return undefined;
    const cls = classOf(r.info.type);
    if (cls !== 'str' && cls !== 'num' && cls !== 'bool') return undefined;
    if (x.kind === 'binary' && (x.right.kind !== 'value' && x.right.kind !== 'list')) return undefined;
    const full = this.node(x); // type checks, errors and warnings happen here, as on the closure path
    leaves.push(full);
    const F = `L${leaves.length - 1}`;
    const src = this.source(x.left, false);
    this.fields.pop();
    consts.push(src.get);
    const R = `K${consts.length - 1}`;
    const k = (value: unknown): string => {
      consts.push(value);
      return `K${consts.length - 1}`;
    };
    if (x.kind === 'unary') return `(${R}(ev) !== undefined && ${F}(ev))`;
    const op = x.op;
    const vals = x.right.kind === 'list' ? x.right.values.map((v) => v.value) : [(x.right as ValueExpr).value];
    const jsType = cls === 'str' ? 'string' : cls === 'num' ? 'number' : 'boolean';
    let test: string | undefined;
    if (cls === 'str') {
      const one = vals[0] ?? '';
      switch (op) {
        case '=':
        case '==':
          test = `v === ${k(one)}`;
          break;
        case '!=':
          test = `v !== ${k(one)}`;
          break;
        case 'in':
        case 'intersects':
          test = `${k(new Set(vals))}.has(v)`;
          break;
        case 'startswith':
          test = `v.startsWith(${k(one)})`;
          break;
        case 'endswith':
          test = `v.endsWith(${k(one)})`;
          break;
        case 'contains':
          test = `v.includes(${k(one)})`;
          break;
      }
    } else if (cls === 'num') {
      const nums = vals.map((v) => parseNumber(v, r.info.type));
      if (nums.some((n) => n === undefined)) return `${F}(ev)`;
      const one = nums[0]!;
      if (op === '=' || op === '==') test = `v === ${k(one)}`;
      else if (op === '!=') test = `v !== ${k(one)}`;
      else if (op === '<' || op === '<=' || op === '>' || op === '>=') test = `v ${op} ${k(one)}`;
      else if (op === 'in' || op === 'intersects') test = `${k(new Set(nums))}.has(v)`;
    } else {
      const b = parseBool(vals[0] ?? '');
      if (b === undefined) return `${F}(ev)`;
      if (op === '=' || op === '==') test = `v === ${b}`;
      else if (op === '!=') test = `v !== ${b}`;
    }
    if (test === undefined) return `${F}(ev)`;
    return `((v = ${R}(ev)) === undefined ? false : typeof v === '${jsType}' ? ${test} : ${F}(ev))`;
  }

  private node(e: Expr): Filter<E> {
    switch (e.kind) {
      case 'and': {
        const parts = e.children.map((c) => this.expr(c));
        if (parts.length === 2) {
          const [a, b] = parts as [Filter<E>, Filter<E>];
          return (ev) => a(ev) && b(ev);
        }
        return (ev) => {
          for (let i = 0; i < parts.length; i++) if (!parts[i]!(ev)) return false;
          return true;
        };
      }
      case 'or': {
        const parts = e.children.map((c) => this.expr(c));
        if (parts.length === 2) {
          const [a, b] = parts as [Filter<E>, Filter<E>];
          return (ev) => a(ev) || b(ev);
        }
        return (ev) => {
          for (let i = 0; i < parts.length; i++) if (parts[i]!(ev)) return true;
          return false;
        };
      }
      case 'not': {
        const c = this.expr(e.child);
        return (ev) => !c(ev);
      }
      case 'identifier':
        throw new CompileFailure(`undefined macro '${e.name}': define it with '- macro: ${e.name}' before use, or fix the name`, e.pos);
      case 'unary':
        return this.unary(e.left);
      case 'binary':
        return this.binary(e.left, e.op, e.right, e.pos);
      case 'value':
      case 'list':
        throw new CompileFailure('expected a condition, found a value', e.pos);
    }
  }

  private constant(left: FieldLike): boolean | undefined {
    if (left.kind !== 'field' || !this.opts.constantCheck) return undefined;
    return this.opts.constantCheck(left.name);
  }

  private unary(left: FieldLike): Filter<E> {
    const k = this.constant(left);
    if (k !== undefined) return () => k;
    const src = this.source(left, false);
    return this.checked(src, (v) => !(isList(v) && v.length === 0));
  }

  // --- sources -------------------------------------------------------------------------------

  private field(f: FieldExpr): Source<E> {
    const r = this.resolve(f.name, f.arg);
    if (!r.ok) throw new CompileFailure(r.message, f.pos);
    const info = r.info;
    const ref: FieldRef = { name: info.name, arg: r.arg, info };
    this.fields.push(ref);
    const text = f.arg === undefined ? f.name : `${f.name}[${f.arg}]`;
    const anyAncestor = info.arg === 'optional' && r.arg === undefined && /^proc\.a/.test(info.name);
    const multi = info.list === true || anyAncestor || info.name in EITHER_END;
    const ends = this.endReaders(ref);
    if (ends) return { get: this.reader(ref), type: info.type, multi, text, ends };
    return anyAncestor ? { get: this.reader(ref), type: info.type, multi, text, ref, anyAncestor } : { get: this.reader(ref), type: info.type, multi, text, ref };
  }

  /** For either-end fields: the field's own reader (if the representation has one) then each end's. */
  private endReaders(ref: FieldRef): Getter<E>[] | undefined {
    const parts = EITHER_END[ref.name];
    if (!parts) return undefined;
    const out: Getter<E>[] = [];
    const own = this.accessor.reader(ref);
    if (own) out.push(own);
    for (const p of parts) {
      const info = this.resolve(p, undefined);
      const g = info.ok ? this.accessor.reader({ name: p, arg: undefined, info: info.info }) : undefined;
      if (g) out.push(g);
    }
    return out;
  }

  private reader(ref: FieldRef): Getter<E> {
    const key = ref.arg === undefined ? ref.name : `${ref.name}\u0000${ref.arg}`;
    const cached = this.readers.get(key);
    if (cached) return cached;
    let g: Getter<E> | undefined = this.accessor.reader(ref);
    const parts = EITHER_END[ref.name];
    if (parts) {
      const direct = g;
      const subs = parts.map((p) => {
        const info = this.resolve(p, undefined);
        return info.ok ? this.accessor.reader({ name: p, arg: undefined, info: info.info }) : undefined;
      });
      const readers = subs.filter((s): s is NonNullable<typeof s> => s !== undefined);
      // An event representation may supply the either-end field itself; otherwise read both ends.
      g = (ev) => {
        const d = direct?.(ev);
        if (d !== undefined) return d;
        const out: FieldScalar[] = [];
        for (const r of readers) {
          const v = r(ev);
          if (v !== undefined && !isList(v)) out.push(v);
        }
        return out.length ? out : undefined;
      };
    }
    const result: Getter<E> = g ?? (() => undefined);
    this.readers.set(key, result);
    return result;
  }

  valueSource(x: FieldLike): Source<E> {
    return this.source(x, false);
  }

  private source(x: FieldLike, rhs: boolean): Source<E> {
    return x.kind === 'field' ? this.field(x) : this.transformer(x, rhs);
  }

  private transformer(t: TransformerExpr, rhs: boolean): Source<E> {
    if (t.name === 'val') {
      if (!rhs) throw new CompileFailure("val() is allowed only on the right-hand side of an operator", t.pos);
      if (t.arg !== undefined) throw new CompileFailure("filter error: transformer 'val' does not support field arguments", t.pos);
      const inner = t.values[0];
      if (t.values.length !== 1 || inner?.kind !== 'field') throw new CompileFailure('val() takes exactly one field', t.pos);
      const src = this.field(inner);
      if (this.fields[this.fields.length - 1]?.info.filterOnly) throw new CompileFailure(`field '${src.text}' can only be compared with literal values, not read with val()`, t.pos);
      return src;
    }
    if (t.arg !== undefined && t.name !== 'getopt') throw new CompileFailure(`filter error: transformer '${t.name}' does not support field arguments`, t.pos);
    const args = t.values.map((v) => this.transformerArg(v));
    const text = `${t.name}(${args.map((a) => a.text).join(', ')})`;
    const first = args[0];
    if (!first) throw new CompileFailure(`transformer '${t.name}' needs an argument`, t.pos);
    if (STRING_TRANSFORMERS.has(t.name) || t.name === 'b64') {
      if (args.length !== 1) throw new CompileFailure(`transformer '${t.name}' takes exactly one argument`, t.pos);
      const cls = classOf(first.type);
      if (!(cls === 'str' || (t.name === 'b64' && cls === 'bytes'))) {
        throw new CompileFailure(`transformer '${t.name}' does not support field type ${first.type}: use it on text fields`, t.pos);
      }
      const fn = STRING_FNS[t.name]!;
      const g = first.get;
      return {
        type: 'CHARBUF',
        multi: first.multi,
        text,
        get: (ev) => {
          const v = g(ev);
          if (v === undefined) return undefined;
          return isList(v) ? v.map((x) => fn(toStr(x))) : fn(toStr(v));
        },
      };
    }
    if (t.name === 'len') {
      if (args.length !== 1) throw new CompileFailure("transformer 'len' takes exactly one argument", t.pos);
      const cls = classOf(first.type);
      if (!first.multi && cls !== 'str' && cls !== 'bytes') throw new CompileFailure(`transformer 'len' does not support field type ${first.type}`, t.pos);
      const g = first.get;
      return {
        type: 'UINT64',
        multi: false,
        text,
        get: (ev) => {
          const v = g(ev);
          if (v === undefined) return undefined;
          if (isList(v)) return v.length;
          return v instanceof Uint8Array ? v.length : toStr(v).length;
        },
      };
    }
    if (t.name === 'concat') {
      if (args.length < 2) throw new CompileFailure("transformer 'concat' takes at least two arguments", t.pos);
      if (args.some((a) => a.multi)) throw new CompileFailure("transformer 'concat' takes single values (fields or quoted strings), not lists", t.pos);
      const gs = args.map((a) => a.get);
      return {
        type: 'CHARBUF',
        multi: false,
        text,
        get: (ev) => {
          let out = '';
          for (const g of gs) {
            const v = g(ev);
            if (v === undefined) return undefined;
            out += isList(v) ? v.map(toStr).join('') : toStr(v);
          }
          return out;
        },
      };
    }
    if (t.name === 'join') {
      if (args.length !== 2 || args[0]!.multi || !args[1]!.multi) throw new CompileFailure("transformer 'join' takes a quoted separator and a list: join(\"-\", (a, b))", t.pos);
      const sepSrc = args[0]!;
      const listSrc = args[1]!;
      return {
        type: 'CHARBUF',
        multi: false,
        text,
        get: (ev) => {
          const sep = sepSrc.get(ev);
          const v = listSrc.get(ev);
          if (sep === undefined || v === undefined) return undefined;
          return isList(v) ? v.map(toStr).join(toStr(sep as FieldScalar)) : toStr(v);
        },
      };
    }
    if (t.name === 'getopt') {
      if (args.length !== 2 || !args[0]!.multi || t.values[1]?.kind !== 'value') throw new CompileFailure('transformer \'getopt\' takes a list of arguments and a quoted option string: getopt(proc.args, "nt:")', t.pos);
      if (t.arg === '') throw new CompileFailure("transformer 'getopt' needs an option letter in [...]", t.pos);
      const argsSrc = args[0]!;
      const optsSrc = args[1]!;
      const want = t.arg;
      return {
        type: 'CHARBUF',
        multi: want === undefined,
        text: want === undefined ? text : `${text}[${want}]`,
        get: (ev) => {
          const a = argsSrc.get(ev);
          const o = optsSrc.get(ev);
          if (a === undefined || o === undefined) return undefined;
          const argv = isList(a) ? a.map(toStr) : splitArgs(toStr(a));
          const parsed = getopt(argv, toStr(o as FieldScalar));
          if (want === undefined) return parsed.flat;
          return parsed.values.get(want);
        },
      };
    }
    throw new CompileFailure(`unknown transformer '${t.name}'`, t.pos);
  }

  private transformerArg(v: TransformerArg): Source<E> {
    switch (v.kind) {
      case 'value': {
        const s = v.value;
        return { type: 'CHARBUF', multi: false, text: JSON.stringify(s), get: () => s };
      }
      case 'transformer_list': {
        const parts = v.values.map((x) => this.transformerArg(x));
        const gs = parts.map((p) => p.get);
        return {
          type: 'CHARBUF',
          multi: true,
          text: `(${parts.map((p) => p.text).join(', ')})`,
          get: (ev) => {
            const out: FieldScalar[] = [];
            for (const g of gs) {
              const x = g(ev);
              if (x === undefined) continue;
              if (isList(x)) out.push(...x);
              else out.push(x);
            }
            return out;
          },
        };
      }
      default:
        return this.source(v, false);
    }
  }

  // --- checks --------------------------------------------------------------------------------

  private binary(left: FieldLike, op: string, right: Operand, pos: Pos): Filter<E> {
    const k = this.constant(left);
    if (k !== undefined) return () => k;
    const src = this.source(left, false);
    const [baseOp, modifier] = op.split(' ') as [string, string | undefined];
    const cls = classOf(src.type);
    if (!opAllowed(cls, baseOp)) {
      throw new CompileFailure(`operator '${baseOp}' is not supported for field '${src.text}' of type ${src.type}`, pos);
    }
    if (modifier !== undefined && (cls === 'num' || cls === 'bool' || ['in', 'intersects', 'pmatch', '<', '<=', '>', '>='].includes(baseOp))) {
      throw new CompileFailure(`modifier '${modifier}' cannot be used with operator '${baseOp}' on field '${src.text}'`, pos);
    }
    this.warn(src, left, baseOp, right, pos);
    if (right.kind === 'field' || right.kind === 'transformer') {
      if (left.kind === 'field' && this.fields[this.fields.length - 1]?.info.filterOnly) throw new CompileFailure(`field '${src.text}' can only be compared with literal values`, pos);
      return this.fieldToField(src, baseOp, this.source(right, true), pos);
    }
    if (right.kind === 'identifier') throw new CompileFailure(`unexpected name '${right.name}' on the right of '${baseOp}'`, pos);

    const values = right.kind === 'list' ? right.values : [right];
    const isListOp = baseOp === 'in' || baseOp === 'intersects' || baseOp === 'pmatch';
    if (!isListOp && modifier === undefined && right.kind === 'list') throw new CompileFailure(`operator '${baseOp}' takes a single value, not a list`, right.pos);
    if (modifier !== undefined) {
      const tests = values.map((v) => this.scalarTest(src, baseOp, v));
      return this.applyModifier(src, modifier, tests);
    }
    if (isListOp) return this.wrap(src, this.listTest(src, baseOp, values, right), baseOp === 'in');
    return this.wrap(src, this.scalarTest(src, baseOp, values[0]!), false, baseOp === '!=');
  }

  private warn(src: Source<E>, left: FieldLike, op: string, right: Operand, pos: Pos): void {
    const names: string[] = [];
    const collect = (x: FieldLike | TransformerArg): void => {
      if (x.kind === 'field') names.push(x.name);
      else if (x.kind === 'transformer' || x.kind === 'transformer_list') x.values.forEach(collect);
    };
    collect(left);
    if (names.includes('evt.dir')) {
      this.warnings.push({ code: 'LOAD_COMPILE_CONDITION', pos, message: "checks on 'evt.dir' are deprecated: Harrier, like Falco, evaluates exit events only, so remove the evt.dir check" });
    }
    const unsafe = names.some((n) => n.startsWith('ka.') || n.startsWith('jevt.'));
    if (!unsafe || !['=', '==', '!=', 'in', 'intersects', 'pmatch'].includes(op)) return;
    const vals = right.kind === 'list' ? right.values : right.kind === 'value' ? [right] : [];
    if (vals.some((v) => v.value === '<NA>')) {
      this.warnings.push({
        code: 'LOAD_UNSAFE_NA_CHECK',
        pos,
        message: `comparing '${src.text}' with <NA> is unsafe: a missing field does not equal the text <NA>; use '${src.text} exists' instead`,
      });
    }
  }

  /** Applies a per-value test to an event value, spreading over multi-valued fields. */
  private wrap(src: Source<E>, test: (x: FieldScalar) => boolean, every: boolean, negated = false): Filter<E> {
    const ends = src.ends;
    if (ends) {
      // Either end may match; for != every end present must differ.
      const all = negated || every;
      return (ev) => {
        let seen = false;
        for (let i = 0; i < ends.length; i++) {
          const v = ends[i]!(ev);
          if (v === undefined) continue;
          if (isList(v)) {
            if (v.length === 0) continue;
            const ok = all ? v.every(test) : v.some(test);
            if (ok && !all) return true;
            if (!ok && all) return false;
            seen = true;
            continue;
          }
          seen = true;
          const ok = test(v);
          if (ok && !all) return true;
          if (!ok && all) return false;
        }
        return all && seen;
      };
    }
    const all = !src.anyAncestor && (negated || every);
    const onValue = (v: FieldValue): boolean => {
      if (typeof v === 'object' && isList(v)) return v.length > 0 && (all ? v.every(test) : v.some(test));
      return test(v);
    };
    return this.checked(src, onValue);
  }

  /**
   * The filter for a check on one source's value: false when the value is missing, else
   * `onValue`. When the source is a plain field, the check is also recorded as a value check, so
   * batch evaluation can run it once per distinct value of a column.
   */
  private checked(src: Source<E>, onValue: (v: FieldValue) => boolean): Filter<E> {
    const ref = src.ref;
    if (ref) this.lastCheck = { field: ref, onValue };
    const g = src.get;
    return (ev) => {
      const v = g(ev);
      return v !== undefined && onValue(v);
    };
  }

  private applyModifier(src: Source<E>, modifier: string, tests: ((x: FieldScalar) => boolean)[]): Filter<E> {
    const one = (x: FieldScalar): boolean => {
      switch (modifier) {
        case 'oneof': {
          let n = 0;
          for (const t of tests) if (t(x) && ++n > 1) return false;
          return n === 1;
        }
        case 'anyof':
          return tests.some((t) => t(x));
        default:
          return tests.length > 0 && tests.every((t) => t(x));
      }
    };
    return this.checked(src, (v) => (isList(v) ? v.some(one) : one(v)));
  }

  private listTest(src: Source<E>, op: string, values: readonly ValueExpr[], where: ListExpr | ValueExpr): (x: FieldScalar) => boolean {
    const cls = classOf(src.type);
    if (op === 'pmatch') {
      for (const v of values) this.noNul(src, v);
      const m = pathMatcher(values.map((v) => v.value));
      return (x) => m(typeof x === 'string' ? x : toStr(x));
    }
    switch (cls) {
      case 'num': {
        const set = new Set(values.map((v) => this.num(src, v)));
        return (x) => set.has(toNum(x));
      }
      case 'bool': {
        const set = new Set(values.map((v) => this.bool(v)));
        return (x) => set.has(toBool(x));
      }
      case 'ip':
      case 'net': {
        const nets = values.map((v) => this.net(v));
        return ipTester(nets);
      }
      default: {
        for (const v of values) this.noNul(src, v);
        const set = new Set(values.map((v) => v.value));
        void where;
        return (x) => set.has(typeof x === 'string' ? x : toStr(x));
      }
    }
  }

  private scalarTest(src: Source<E>, op: string, v: ValueExpr): (x: FieldScalar) => boolean {
    const cls = classOf(src.type);
    switch (cls) {
      case 'num':
        return numTest(op, this.num(src, v));
      case 'bool': {
        const b = this.bool(v);
        return op === '!=' ? (x) => toBool(x) !== b : (x) => toBool(x) === b;
      }
      case 'ip':
      case 'net': {
        const t = ipTester([this.net(v)]);
        return op === '!=' ? (x) => !t(x) : t;
      }
      case 'bytes':
        return this.bytesTest(op, v);
      case 'dyn': {
        const n = parseNumber(v.value, 'DYNAMIC');
        const s = strTest(op, v.value, v.pos);
        if (n === undefined || !['=', '==', '!=', '<', '<=', '>', '>='].includes(op)) return (x) => s(toStr(x));
        const nt = numTest(op, n);
        return (x) => (typeof x === 'number' || typeof x === 'bigint' ? nt(x) : s(toStr(x)));
      }
      default: {
        this.noNul(src, v);
        const t = strTest(op, v.value, v.pos);
        return (x) => t(typeof x === 'string' ? x : toStr(x));
      }
    }
  }

  private bytesTest(op: string, v: ValueExpr): (x: FieldScalar) => boolean {
    let needle = v.value;
    if (op === 'bcontains' || op === 'bstartswith') {
      const b = parseHexBytes(v.value);
      if (b === undefined) throw new CompileFailure(`'${op}' takes bytes written as an even number of hexadecimal digits, e.g. 68656c6c6f; got '${v.value}'`, v.pos);
      needle = b;
    }
    switch (op) {
      case 'contains':
      case 'bcontains':
        return (x) => toStr(x).includes(needle);
      case 'startswith':
      case 'bstartswith':
        return (x) => toStr(x).startsWith(needle);
      case 'endswith':
        return (x) => toStr(x).endsWith(needle);
      case '!=':
        return (x) => toStr(x) !== needle;
      default:
        return (x) => toStr(x) === needle;
    }
  }

  private fieldToField(left: Source<E>, op: string, right: Source<E>, pos: Pos): Filter<E> {
    if (op === 'regex' || op === 'glob' || op === 'iglob') throw new CompileFailure(`operator '${op}' takes a literal pattern, not a field`, pos);
    const lc = classOf(left.type);
    const rc = classOf(right.type);
    if (lc !== rc && lc !== 'dyn' && rc !== 'dyn') {
      throw new CompileFailure(`cannot compare field '${left.text}' of type ${left.type} with '${right.text}' of type ${right.type}`, pos);
    }
    if (op === 'in' || op === 'intersects' || op === 'pmatch') {
      const lg = left.get;
      const rg = right.get;
      return (ev) => {
        const l = lg(ev);
        const r = rg(ev);
        if (l === undefined || r === undefined) return false;
        const rs = (isList(r) ? r : [r]).map(toStr);
        const ls = (isList(l) ? l : [l]).map(toStr);
        if (op === 'pmatch') return ls.some((x) => pathMatcher(rs)(x));
        const set = new Set(rs);
        return op === 'in' ? ls.every((x) => set.has(x)) : ls.some((x) => set.has(x));
      };
    }
    const lg = left.get;
    const rg = right.get;
    const numeric = lc === 'num';
    return (ev) => {
      const l = lg(ev);
      const r = rg(ev);
      if (l === undefined || r === undefined || isList(l) || isList(r)) return false;
      if (numeric) return numTest(op, toNum(r))(l);
      return strTest(op, toStr(r), pos)(toStr(l));
    };
  }

  private num(src: Source<E>, v: ValueExpr): number {
    const n = parseNumber(v.value, src.type);
    if (n === undefined) throw new CompileFailure(`'${v.value}' is not a valid number for field '${src.text}' of type ${src.type}`, v.pos);
    return n;
  }

  private bool(v: ValueExpr): boolean {
    const b = parseBool(v.value);
    if (b === undefined) throw new CompileFailure(`'${v.value}' is not a boolean: write true or false`, v.pos);
    return b;
  }

  private net(v: ValueExpr): IpNet {
    const n = parseNet(v.value);
    if (!n) throw new CompileFailure(`'${v.value}' is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8, ::1)`, v.pos);
    return n;
  }

  private noNul(src: Source<E>, v: ValueExpr): void {
    if (v.value.includes('\0')) throw new CompileFailure(`a NUL byte cannot appear in a value compared with text field '${src.text}'`, v.pos);
  }
}

const STRING_FNS: Record<string, (s: string) => string> = {
  tolower: (s) => s.toLowerCase(),
  toupper: (s) => s.toUpperCase(),
  basename: (s) => {
    const i = s.lastIndexOf('/');
    return i < 0 ? s : s.slice(i + 1);
  },
  b64: (s) => Buffer.from(s, 'base64').toString('latin1'),
};

function numTest(op: string, n: number): (x: FieldScalar) => boolean {
  switch (op) {
    case '!=':
      return (x) => toNum(x) !== n;
    case '<':
      return (x) => toNum(x) < n;
    case '<=':
      return (x) => toNum(x) <= n;
    case '>':
      return (x) => toNum(x) > n;
    case '>=':
      return (x) => toNum(x) >= n;
    default:
      return (x) => (typeof x === 'number' ? x : toNum(x)) === n;
  }
}

function strTest(op: string, s: string, pos: Pos): (x: string) => boolean {
  switch (op) {
    case '=':
    case '==':
      return (x) => x === s;
    case '!=':
      return (x) => x !== s;
    case '<':
      return (x) => x < s;
    case '<=':
      return (x) => x <= s;
    case '>':
      return (x) => x > s;
    case '>=':
      return (x) => x >= s;
    case 'contains':
      return (x) => x.includes(s);
    case 'icontains': {
      const l = s.toLowerCase();
      return (x) => x.toLowerCase().includes(l);
    }
    case 'startswith':
      return (x) => x.startsWith(s);
    case 'endswith':
      return (x) => x.endsWith(s);
    case 'glob': {
      const re = globToRegExp(s, false);
      return (x) => re.test(x);
    }
    case 'iglob': {
      const re = globToRegExp(s, true);
      return (x) => re.test(x);
    }
    case 'regex': {
      let re: RegExp;
      try {
        // libs matches the whole value (RE2 full match).
        re = new RegExp(`^(?:${s})$`);
      } catch (err) {
        throw new CompileFailure(`invalid regular expression '${s}': ${(err as Error).message}`, pos);
      }
      return (x) => re.test(x);
    }
    default:
      throw new CompileFailure(`operator '${op}' cannot compare text`, pos);
  }
}

/** Answers per address text, memoised: events repeat the same few addresses. */
function ipTester(nets: readonly IpNet[]): (x: FieldScalar) => boolean {
  const exact = new Set(nets.filter((n) => n.bits === 128).map((n) => ipKey(n.addr)));
  const ranges = nets.filter((n) => n.bits < 128);
  const memo = new Map<string, boolean>();
  return (x) => {
    const s = typeof x === 'string' ? x : toStr(x);
    const hit = memo.get(s);
    if (hit !== undefined) return hit;
    const ip = parseIp(s);
    const r = ip !== undefined && (exact.has(ipKey(ip)) || ranges.some((n) => inNet(ip, n)));
    if (memo.size >= 4096) memo.clear();
    memo.set(s, r);
    return r;
  };
}

/**
 * Matches a path against prefixes: true when it equals one or lies below one, by path component.
 * Plain prefixes go in a set probed once per ancestor of the path; a prefix with glob characters in
 * a component (`/opt/*\/subdir`) is matched component by component.
 */
export function pathMatcher(prefixes: readonly string[]): (path: string) => boolean {
  const plain = new Set<string>();
  const globs: RegExp[][] = [];
  for (const p of prefixes) {
    if (/[*?[]/.test(p)) globs.push(p.split('/').filter((x, i) => i === 0 || x !== '').map((c) => globToRegExp(c, false)));
    else plain.add(p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  }
  return (path) => {
    if (plain.size > 0) {
      let cur = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      for (;;) {
        if (plain.has(cur)) return true;
        const cut = cur.lastIndexOf('/');
        if (cut <= 0) {
          if (cut === 0 && cur !== '/' && plain.has('/')) return true;
          break;
        }
        cur = cur.slice(0, cut);
      }
    }
    if (globs.length === 0) return false;
    const have = path.split('/');
    return globs.some((want) => want.length <= have.length && want.every((re, i) => re.test(have[i]!)));
  };
}

/** One-off form of pathMatcher. */
export function pathMatch(path: string, prefixes: readonly string[]): boolean {
  return pathMatcher(prefixes)(path);
}

function splitArgs(s: string): string[] {
  return s.split(' ').filter((x) => x.length > 0);
}

/**
 * POSIX getopt over argv: scanning stops at the first argument that is not an option (or at `-`,
 * `--`); long options are skipped. The flat result lists a flag's letter, or the value of an
 * option that takes one (empty when missing); indexing by letter gives the same.
 */
function getopt(argv: readonly string[], optstring: string): { flat: string[]; values: Map<string, string> } {
  const flat: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || a.length < 2 || a[0] !== '-') break;
    if (a[1] === '-') continue; // long options are not getopt's: skipped
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = optstring.indexOf(c);
      if (at < 0 || c === ':') continue;
      if (optstring[at + 1] === ':') {
        // The value is the rest of this argument or the next one; a missing value reads as "".
        let val: string | undefined = a.slice(j + 1);
        if (val === '') val = argv[++i] ?? '';
        flat.push(val);
        values.set(c, val);
        break;
      }
      flat.push(c);
      values.set(c, c);
    }
  }
  return { flat, values };
}

export type ValueSourceResult<E> =
  | { readonly ok: true; readonly get: (event: E) => FieldValue | undefined; readonly type: FieldType; readonly fields: readonly FieldRef[] }
  | { readonly ok: false; readonly message: string };

/**
 * Compiles a field or transformer expression into a value reader, with the same resolution, type
 * checks and transformer semantics conditions use (outputs read `%tolower(proc.name)` through it).
 */
export function compileValueSource<E>(x: FieldLike, accessor: FieldAccessor<E>, opts: CompileOptions = {}): ValueSourceResult<E> {
  const c = new Compiler(accessor, opts);
  try {
    const src = c.valueSource(x);
    return { ok: true, get: src.get, type: src.type, fields: c.fields };
  } catch (err) {
    if (err instanceof CompileFailure) return { ok: false, message: err.message };
    throw err;
  }
}

/**
 * Compiles checks one at a time, for evaluators that build their own and/or/not structure (batch
 * evaluation). The conditions must already have compiled with compileFilter: errors throw.
 */
export function checkCompiler<E>(accessor: FieldAccessor<E>, opts: CompileOptions = {}): (e: UnaryCheck | BinaryCheck) => { readonly filter: Filter<E>; readonly value: ValueCheck | undefined } {
  const c = new Compiler(accessor, { ...opts, sharing: undefined });
  return (e) => {
    try {
      return c.check(e);
    } catch (err) {
      if (err instanceof CompileFailure) throw new Error(`condition does not compile: ${err.message}`);
      throw err;
    }
  };
}

/** Compiles a condition whose macros and lists are already expanded. Errors are values. */
export function compileFilter<E>(ast: Expr, accessor: FieldAccessor<E>, opts: CompileOptions = {}): CompileResult<E> {
  const c = new Compiler(accessor, opts);
  try {
    const filter = (opts.generate !== false ? c.generated(ast) : undefined) ?? c.expr(ast);
    return { ok: true, filter, fields: c.fields, warnings: c.warnings };
  } catch (err) {
    if (err instanceof CompileFailure) return { ok: false, errors: [{ message: err.message, pos: err.pos }] };
    throw err;
  }
}

export type { FieldInfo };
