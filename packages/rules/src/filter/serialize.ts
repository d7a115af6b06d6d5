// Prints a condition AST back as text the way libsinsp does (Falco shows it as a rule's compiled
// condition): and/or groups in parentheses, values escaped, lists as `(a, b)`.

import type { Expr, FieldLike, Operand, TransformerArg } from '../ast.js';
import { escapeString } from './escape.js';

function argText(arg: string | undefined): string {
  if (arg === undefined) return '';
  return `[${escapeString(arg)}]`;
}

function fieldText(f: FieldLike | TransformerArg): string {
  switch (f.kind) {
    case 'field':
      return f.name + argText(f.arg);
    case 'transformer':
      return `${f.name}(${f.values.map(fieldText).join(',')})${argText(f.arg)}`;
    case 'transformer_list':
      return `(${f.values.map(fieldText).join(',')})`;
    case 'value':
      return escapeString(f.value);
  }
}

function operandText(o: Operand): string {
  switch (o.kind) {
    case 'list':
      return `(${o.values.map((v) => escapeString(v.value)).join(', ')})`;
    case 'value':
      return escapeString(o.value);
    case 'identifier':
      return o.name;
    default:
      return fieldText(o);
  }
}

export function conditionToString(e: Expr): string {
  switch (e.kind) {
    case 'and':
    case 'or':
      return `(${e.children.map(conditionToString).join(` ${e.kind} `)})`;
    case 'not':
      return `not ${conditionToString(e.child)}`;
    case 'identifier':
      return e.name;
    case 'unary':
      return `${fieldText(e.left)} ${e.op}`;
    case 'binary':
      return `${fieldText(e.left)} ${e.op} ${operandText(e.right)}`;
    case 'value':
      return escapeString(e.value);
    case 'list':
      return operandText(e);
  }
}
