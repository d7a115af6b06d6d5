// Which event types a condition can match, so rules are indexed by evt.type. For every node we
// keep the types on which it may be true and those on which it may be false; `not` swaps them,
// which handles negations, `!=` and De Morgan forms exactly as libs does.

import type { Expr, FieldLike, TransformerArg } from '../ast.js';

/** A set of event types, or its complement when `negated`. */
export interface TypeSet {
  readonly negated: boolean;
  readonly names: ReadonlySet<string>;
}

export const ALL: TypeSet = { negated: true, names: new Set() };
export const NONE: TypeSet = { negated: false, names: new Set() };

function union(a: TypeSet, b: TypeSet): TypeSet {
  if (!a.negated && !b.negated) return { negated: false, names: new Set([...a.names, ...b.names]) };
  if (a.negated && b.negated) return { negated: true, names: new Set([...a.names].filter((n) => b.names.has(n))) };
  const [neg, pos] = a.negated ? [a, b] : [b, a];
  return { negated: true, names: new Set([...neg.names].filter((n) => !pos.names.has(n))) };
}

function intersect(a: TypeSet, b: TypeSet): TypeSet {
  if (!a.negated && !b.negated) return { negated: false, names: new Set([...a.names].filter((n) => b.names.has(n))) };
  if (a.negated && b.negated) return { negated: true, names: new Set([...a.names, ...b.names]) };
  const [neg, pos] = a.negated ? [a, b] : [b, a];
  return { negated: false, names: new Set([...pos.names].filter((n) => !neg.names.has(n))) };
}

function complement(a: TypeSet): TypeSet {
  return { negated: !a.negated, names: a.names };
}

export class EventTypeError extends Error {
  override readonly name = 'EventTypeError';
}

function mentionsEvtType(x: FieldLike | TransformerArg): boolean {
  if (x.kind === 'field') return x.name === 'evt.type';
  if (x.kind === 'transformer' || x.kind === 'transformer_list') return x.values.some(mentionsEvtType);
  return false;
}

/** [types where it may be true, types where it may be false] */
function walk(e: Expr): [TypeSet, TypeSet] {
  switch (e.kind) {
    case 'and': {
      let t = ALL;
      let f = NONE;
      for (const c of e.children) {
        const [ct, cf] = walk(c);
        t = intersect(t, ct);
        f = union(f, cf);
      }
      return [t, f];
    }
    case 'or': {
      let t = NONE;
      let f = ALL;
      for (const c of e.children) {
        const [ct, cf] = walk(c);
        t = union(t, ct);
        f = intersect(f, cf);
      }
      return [t, f];
    }
    case 'not': {
      const [t, f] = walk(e.child);
      return [f, t];
    }
    case 'unary':
      if (e.left.kind === 'field' && e.left.name === 'evt.type') return [ALL, NONE];
      if (e.left.kind === 'transformer' && mentionsEvtType(e.left)) throw new EventTypeError('evt.type cannot be used inside a transformer when computing event types');
      return [ALL, ALL];
    case 'binary': {
      if (e.left.kind === 'transformer' && mentionsEvtType(e.left)) throw new EventTypeError('evt.type cannot be used inside a transformer when computing event types');
      if (e.left.kind !== 'field' || e.left.name !== 'evt.type' || e.left.arg !== undefined) return [ALL, ALL];
      if (e.right.kind === 'transformer' || e.right.kind === 'field') {
        throw new EventTypeError('evt.type must be compared with literal event type names, not with a field or transformer');
      }
      const values = e.right.kind === 'list' ? e.right.values.map((v) => v.value) : e.right.kind === 'value' ? [e.right.value] : [];
      const set: TypeSet = { negated: false, names: new Set(values) };
      switch (e.op) {
        case '=':
        case '==':
        case 'in':
        case 'intersects':
          return [set, complement(set)];
        case '!=':
          return [complement(set), set];
        default:
          return [ALL, ALL];
      }
    }
    default:
      return [ALL, ALL];
  }
}

/** The event types on which `e` may be true. Throws EventTypeError where libs does. */
export function eventTypesOf(e: Expr): TypeSet {
  return walk(e)[0];
}

export function isAll(s: TypeSet): boolean {
  return s.negated && s.names.size === 0;
}

/** True when the set contains the event type. */
export function hasType(s: TypeSet, name: string): boolean {
  return s.negated ? !s.names.has(name) : s.names.has(name);
}
