// Parser for Falco's condition language, following libsinsp's grammar: or < and < not precedence,
// word operators that need a blank after them, fields with arguments, transformers, modifiers.
// Recursion only grows with parentheses and `not` runs, both capped by the depth limit, so any
// input, however long, parses in linear time without exhausting the stack.

import type {
  Expr,
  FieldExpr,
  FieldLike,
  ListExpr,
  Operand,
  Pos,
  TransformerArg,
  TransformerExpr,
  TransformerListExpr,
  ValueExpr,
} from '../ast.js';
import { isBareStringChar, isBlank, readQuoted, UnescapeError } from './escape.js';

export interface ConditionSyntaxError {
  readonly message: string;
  readonly pos: Pos;
}

export type ParseResult = { readonly ok: true; readonly ast: Expr; readonly end: Pos } | { readonly ok: false; readonly error: ConditionSyntaxError };

export const MAX_DEPTH = 100;

/** Transformers allowed on either side; `val` is right-hand-side only. */
export const TRANSFORMERS: ReadonlySet<string> = new Set(['tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt']);

const NUM_OPS = ['<=', '<', '>=', '>'];
/** String operators, longest first where one is a prefix of another. */
const STR_OPS_SYMBOL = ['==', '=', '!='];
const STR_OPS_WORD = ['bstartswith', 'startswith', 'endswith', 'bcontains', 'icontains', 'contains', 'iglob', 'glob', 'regex'];
const LIST_OPS = ['intersects', 'in', 'pmatch'];
const MODIFIERS = ['oneof', 'anyof', 'allof'];

class ParseFailure extends Error {
  constructor(
    message: string,
    readonly idx: number,
  ) {
    super(message);
  }
}

const IDENT_START = /[a-zA-Z]/;
const IDENT_CHAR = /[a-zA-Z0-9_]/;

class Parser {
  private i = 0;
  private depth = 0;
  private lineStarts: number[] | undefined;

  constructor(private readonly s: string) {}

  pos(idx: number): Pos {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let k = 0; k < this.s.length; k++) if (this.s.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= idx) lo = mid;
      else hi = mid - 1;
    }
    return { idx, line: lo + 1, col: idx - this.lineStarts[lo]! + 1 };
  }

  fail(message: string, idx = this.i): never {
    throw new ParseFailure(message, idx);
  }

  parse(): Expr {
    if (this.s.length === 0) this.fail('unexpected end of input: expected a condition');
    const e = this.parseOr();
    this.blank();
    if (this.i < this.s.length) this.fail(`unexpected token '${this.s[this.i]}' after a complete condition: expected 'and', 'or' or the end of the condition`);
    return e;
  }

  private blank(): boolean {
    const start = this.i;
    while (this.i < this.s.length && isBlank(this.s[this.i]!)) this.i++;
    return this.i > start;
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  /** Matches a keyword at the cursor without consuming it. */
  private at(word: string): boolean {
    return this.s.startsWith(word, this.i);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`exceeded max depth limit of ${MAX_DEPTH}`);
  }

  private leave(): void {
    this.depth--;
  }

  private parseOr(): Expr {
    const start = this.i;
    this.enter();
    const first = this.parseAnd();
    const children: Expr[] = [first];
    for (;;) {
      const save = this.i;
      this.blank();
      if (!this.at('or')) {
        this.i = save;
        break;
      }
      this.i += 2;
      if (!this.blank() && this.peek() !== '(') this.fail("expected blank or '(' after 'or'");
      children.push(this.parseAnd());
    }
    this.leave();
    return children.length === 1 ? first : { kind: 'or', children, pos: this.pos(start) };
  }

  private parseAnd(): Expr {
    const start = this.i;
    const first = this.parseNot();
    const children: Expr[] = [first];
    for (;;) {
      const save = this.i;
      this.blank();
      if (!this.at('and')) {
        this.i = save;
        break;
      }
      this.i += 3;
      if (!this.blank() && this.peek() !== '(') this.fail("expected blank or '(' after 'and'");
      children.push(this.parseNot());
    }
    return children.length === 1 ? first : { kind: 'and', children, pos: this.pos(start) };
  }

  private parseNot(): Expr {
    this.blank();
    const start = this.i;
    let negate = false;
    for (;;) {
      if (!this.at('not')) break;
      const save = this.i;
      this.i += 3;
      if (this.blank() || this.peek() === '(') {
        negate = !negate;
        continue;
      }
      this.i = save;
      break;
    }
    const child = this.parseCheck();
    return negate ? { kind: 'not', child, pos: this.pos(start) } : child;
  }

  private parseCheck(): Expr {
    this.blank();
    const start = this.i;
    if (this.peek() === '(') {
      this.i++;
      const e = this.parseOr();
      this.blank();
      if (this.peek() !== ')') this.fail("expected a ')' token");
      this.i++;
      return e;
    }
    const name = this.readName();
    if (name === undefined) this.fail('expected a field, a macro name or a parenthesised expression');
    if (this.peek() === '(' && !name.includes('.')) {
      if (!TRANSFORMERS.has(name)) this.fail(`unknown field transformer '${name}'`, start);
      const left = this.parseTransformer(name, start);
      return this.parseCondition(left, start);
    }
    if (!name.includes('.')) return { kind: 'identifier', name, pos: this.pos(start) };
    const field = this.finishField(name, start);
    return this.parseCondition(field, start);
  }

  /** Reads `[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)*`; undefined when none starts here. */
  private readName(): string | undefined {
    const start = this.i;
    if (!IDENT_START.test(this.s[this.i] ?? '')) return undefined;
    for (;;) {
      this.i++;
      while (this.i < this.s.length && IDENT_CHAR.test(this.s[this.i]!)) this.i++;
      if (this.s[this.i] === '.' && IDENT_START.test(this.s[this.i + 1] ?? '')) {
        this.i++;
        continue;
      }
      break;
    }
    return this.s.slice(start, this.i);
  }

  private finishField(name: string, start: number): FieldExpr {
    const arg = this.readFieldArg();
    return arg === undefined ? { kind: 'field', name, pos: this.pos(start) } : { kind: 'field', name, arg, pos: this.pos(start) };
  }

  private readFieldArg(): string | undefined {
    if (this.peek() !== '[') return undefined;
    this.i++;
    let arg: string;
    const c = this.peek();
    if (c === '"' || c === "'") {
      arg = this.readQuotedValue();
    } else {
      const begin = this.i;
      while (this.i < this.s.length) {
        const ch = this.s[this.i]!;
        if (ch === ']' || ch === '[' || ch === '"' || ch === "'" || isBlank(ch)) break;
        this.i++;
      }
      if (this.i === begin) this.fail('expected a valid field argument: a quoted string or a bare string');
      arg = this.s.slice(begin, this.i);
    }
    if (this.peek() !== ']') this.fail("expected a ']' token");
    this.i++;
    return arg;
  }

  private readQuotedValue(): string {
    try {
      const { value, end } = readQuoted(this.s, this.i);
      this.i = end;
      return value;
    } catch (err) {
      if (err instanceof UnescapeError) this.fail(err.message, err.offset);
      throw err;
    }
  }

  /** After `name(`: arguments, `)`, and an optional `[arg]`. */
  private parseTransformer(name: string, start: number): TransformerExpr {
    this.enter();
    this.i++; // (
    const values: TransformerArg[] = [];
    for (;;) {
      this.blank();
      values.push(this.parseTransformerArg(name === 'val'));
      this.blank();
      if (this.peek() === ',') {
        if (name === 'val') this.fail("val() takes exactly one field");
        this.i++;
        continue;
      }
      if (this.peek() === ')') {
        this.i++;
        break;
      }
      this.fail(`expected ',' or ')' in the arguments of '${name}'`);
    }
    this.leave();
    const arg = this.readFieldArg();
    const t: TransformerExpr = { kind: 'transformer', name, values, pos: this.pos(start) };
    return arg === undefined ? t : { ...t, arg };
  }

  private parseTransformerArg(fieldOnly: boolean): TransformerArg {
    const start = this.i;
    const c = this.peek();
    if (!fieldOnly && c === '(') {
      this.i++;
      const values: (FieldLike | ValueExpr)[] = [];
      this.blank();
      if (this.peek() !== ')') {
        for (;;) {
          this.blank();
          values.push(this.parseTransformerScalar());
          this.blank();
          if (this.peek() === ',') {
            this.i++;
            continue;
          }
          break;
        }
      }
      if (this.peek() !== ')') this.fail("expected a ')' token");
      this.i++;
      const list: TransformerListExpr = { kind: 'transformer_list', values, pos: this.pos(start) };
      return list;
    }
    if (fieldOnly) {
      const name = this.readName();
      if (name === undefined || !name.includes('.')) this.fail('val() takes one plain field, e.g. val(proc.pname)', start);
      if (this.peek() === '(') this.fail('val() takes one plain field, not a transformer', start);
      return this.finishField(name, start);
    }
    return this.parseTransformerScalar();
  }

  /** A field, a transformer, a quoted string or a number. */
  private parseTransformerScalar(): FieldLike | ValueExpr {
    const start = this.i;
    const c = this.peek();
    if (c === '"' || c === "'") return { kind: 'value', value: this.readQuotedValue(), pos: this.pos(start) };
    const num = this.readNumber();
    if (num !== undefined) return { kind: 'value', value: num, pos: this.pos(start) };
    const name = this.readName();
    if (name === undefined) this.fail('expected a field, a transformer, a quoted string or a number');
    if (this.peek() === '(' && !name.includes('.')) {
      if (!TRANSFORMERS.has(name)) this.fail(`unknown field transformer '${name}'`, start);
      return this.parseTransformer(name, start);
    }
    if (!name.includes('.')) this.fail(`expected a field name, got '${name}'`, start);
    return this.finishField(name, start);
  }

  /** Reads a number or hex number at the cursor if one is there and is not followed by name characters. */
  private readNumber(): string | undefined {
    const rest = this.s.slice(this.i, this.i + 64);
    const m = /^(0[xX][0-9a-fA-F]+|[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?)/.exec(rest);
    if (!m) return undefined;
    const after = this.s[this.i + m[0].length];
    if (after !== undefined && (IDENT_CHAR.test(after) || after === '.')) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  private parseCondition(left: FieldLike, start: number): Expr {
    this.blank();
        if (this.at('exists')) {
      this.i += 6;
      return { kind: 'unary', left, op: 'exists', pos: this.pos(start) };
    }
    for (const op of NUM_OPS) {
      if (!this.at(op)) continue;
      this.i += op.length;
      this.blank();
      const right = this.parseNumOperand();
      return { kind: 'binary', left, op, right, pos: this.pos(start) };
    }
    for (const op of STR_OPS_SYMBOL) {
      if (!this.at(op)) continue;
      this.i += op.length;
      return this.parseStringOpRest(left, op, start);
    }
    for (const op of STR_OPS_WORD) {
      if (!this.at(op)) continue;
      this.i += op.length;
      if (!isBlank(this.peek() ?? '')) this.fail(`expected a blank after '${op}'`);
      return this.parseStringOpRest(left, op, start);
    }
    for (const op of LIST_OPS) {
      if (!this.at(op)) continue;
      const save = this.i;
      this.i += op.length;
      const after = this.peek();
      if (after !== '(' && !isBlank(after ?? '')) {
        this.i = save;
        continue;
      }
      this.blank();
      const right = this.parseListOperand();
      return { kind: 'binary', left, op, right, pos: this.pos(start) };
    }
    this.fail('expected a valid operator: exists, =, ==, !=, <, <=, >, >=, contains, icontains, bcontains, startswith, bstartswith, endswith, glob, iglob, regex, in, intersects or pmatch');
  }

  private parseStringOpRest(left: FieldLike, op: string, start: number): Expr {
    const hadBlank = this.blank();
    if (hadBlank) {
      for (const mod of MODIFIERS) {
        if (!this.at(mod)) continue;
        const after = this.s[this.i + mod.length];
        if (after === undefined || !isBlank(after)) continue;
        const modStart = this.i;
        this.i += mod.length;
        this.blank();
        if (this.peek() === '(' || this.atListName()) {
          const right = this.parseListValue(true);
          return { kind: 'binary', left, op: `${op} ${mod}`, right, pos: this.pos(start) };
        }
        // Not followed by a list: the word is an ordinary value (`proc.name == anyof and ...`).
        this.i = modStart;
        break;
      }
    }
    const right = this.parseStringOperand();
    return { kind: 'binary', left, op, right, pos: this.pos(start) };
  }

  /** An RHS transformer (`tolower(x)`, `val(x)`), if one starts at the cursor. */
  private tryRhsTransformer(): TransformerExpr | undefined {
    const start = this.i;
    const m = /^[a-zA-Z][a-zA-Z0-9_]*\(/.exec(this.s.slice(this.i, this.i + 32));
    if (!m) return undefined;
    const name = m[0].slice(0, -1);
    if (name !== 'val' && !TRANSFORMERS.has(name)) return undefined;
    this.i += name.length;
    return this.parseTransformer(name, start);
  }

  private parseNumOperand(): Operand {
    const t = this.tryRhsTransformer();
    if (t) return t;
    const start = this.i;
    const num = this.readNumber();
    if (num === undefined) this.fail('expected a number');
    return { kind: 'value', value: num, pos: this.pos(start) };
  }

  private parseStringOperand(): Operand {
    const t = this.tryRhsTransformer();
    if (t) return t;
    return this.parseStringValue();
  }

  private parseStringValue(): ValueExpr {
    const start = this.i;
    const c = this.peek();
    if (c === '"' || c === "'") return { kind: 'value', value: this.readQuotedValue(), pos: this.pos(start) };
    while (this.i < this.s.length && isBareStringChar(this.s[this.i]!)) this.i++;
    if (this.i === start) this.fail('expected a string value: a quoted string or a bare string');
    return { kind: 'value', value: this.s.slice(start, this.i), pos: this.pos(start) };
  }

  private parseListOperand(): Operand {
    const t = this.tryRhsTransformer();
    if (t) return t;
    return this.parseListValue(false);
  }

  /** True when a list name (an identifier that is not a keyword) starts at the cursor. */
  private atListName(): boolean {
    const m = /^[a-zA-Z][a-zA-Z0-9_]*/.exec(this.s.slice(this.i, this.i + 256));
    if (!m) return false;
    const after = this.s[this.i + m[0].length];
    if (after === '.') return false;
    return m[0] !== 'and' && m[0] !== 'or' && m[0] !== 'not';
  }

  /** `(a, b, "c")` or a list name (kept as a value; the rule loader expands list names). */
  private parseListValue(_afterModifier: boolean): ListExpr | ValueExpr {
    const start = this.i;
    if (this.peek() !== '(') {
      const name = this.readName();
      if (name === undefined || name.includes('.')) this.fail("expected a list: '(' or a list name", start);
      return { kind: 'value', value: name, pos: this.pos(start) };
    }
    this.i++;
    const values: ValueExpr[] = [];
    this.blank();
    if (this.peek() === ')') {
      this.i++;
      return { kind: 'list', values, pos: this.pos(start) };
    }
    for (;;) {
      this.blank();
      values.push(this.parseStringValue());
      this.blank();
      const c = this.peek();
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ')') {
        this.i++;
        return { kind: 'list', values, pos: this.pos(start) };
      }
      this.fail("expected ',' or ')' in a list");
    }
  }
}

/** Parses a condition. Never throws for bad input: errors come back as values with a position. */
export function parseCondition(text: string): ParseResult {
  const p = new Parser(text);
  try {
    const ast = p.parse();
    return { ok: true, ast, end: p.pos(text.length) };
  } catch (err) {
    if (err instanceof ParseFailure) return { ok: false, error: { message: err.message, pos: p.pos(Math.min(err.idx, text.length)) } };
    throw err;
  }
}
