// The condition language's syntax tree, shaped like libsinsp's filter AST so that libs' own
// AST, position and as-string test cases apply unchanged.

/** Where a node starts in the condition text: 0-based offset, 1-based line and column. */
export interface Pos {
  readonly idx: number;
  readonly line: number;
  readonly col: number;
}

/** A boolean expression. */
export type Expr = AndExpr | OrExpr | NotExpr | IdentifierExpr | UnaryCheck | BinaryCheck | ValueExpr | ListExpr;

export interface AndExpr {
  readonly kind: 'and';
  readonly children: readonly Expr[];
  readonly pos: Pos;
}

export interface OrExpr {
  readonly kind: 'or';
  readonly children: readonly Expr[];
  readonly pos: Pos;
}

export interface NotExpr {
  readonly kind: 'not';
  readonly child: Expr;
  readonly pos: Pos;
}

/** A bare name in boolean position: a macro reference (resolved by the rule loader). */
export interface IdentifierExpr {
  readonly kind: 'identifier';
  readonly name: string;
  readonly pos: Pos;
}

/** `field exists` (the only unary operator). */
export interface UnaryCheck {
  readonly kind: 'unary';
  readonly left: FieldLike;
  readonly op: 'exists';
  readonly pos: Pos;
}

/**
 * `left op right`. `op` is the operator text as written in canonical form (`=`, `==`, `contains`, ...);
 * an operator with a modifier is one string, e.g. `"== oneof"`, as libs stores it.
 */
export interface BinaryCheck {
  readonly kind: 'binary';
  readonly left: FieldLike;
  readonly op: string;
  readonly right: Operand;
  readonly pos: Pos;
}

/** A field, optionally with an argument: `proc.aname[2]`, `evt.arg.path`, `json.value[/user/name]`. */
export interface FieldExpr {
  readonly kind: 'field';
  readonly name: string;
  /** The argument inside `[...]`, unquoted; undefined when there is none. */
  readonly arg?: string | undefined;
  readonly pos: Pos;
}

/** `tolower(proc.name)`, `concat(a, b)`, `val(proc.pname)` (right-hand side only), possibly nested. */
export interface TransformerExpr {
  readonly kind: 'transformer';
  readonly name: string;
  readonly values: readonly TransformerArg[];
  /** An argument written after the closing parenthesis: `getopt(proc.args)[-c]`. */
  readonly arg?: string | undefined;
  readonly pos: Pos;
}

export type FieldLike = FieldExpr | TransformerExpr;

/** Transformer arguments: fields, nested transformers, literal values, or a parenthesised list. */
export type TransformerArg = FieldLike | ValueExpr | TransformerListExpr;

/** A parenthesised list of transformer arguments: `join("-", (fd.name, fd.directory))`. */
export interface TransformerListExpr {
  readonly kind: 'transformer_list';
  readonly values: readonly (FieldLike | ValueExpr)[];
  readonly pos: Pos;
}

/** A literal value (already unquoted and unescaped). */
export interface ValueExpr {
  readonly kind: 'value';
  readonly value: string;
  readonly pos: Pos;
}

/**
 * A list of literal values: `(a, b, "c d")`. A list written as a bare name (`proc.name in shell_binaries`)
 * or an item of a list that names another list is kept as a value; the rule loader expands list names.
 */
export interface ListExpr {
  readonly kind: 'list';
  readonly values: readonly ValueExpr[];
  readonly pos: Pos;
}

/** What may stand on the right of a binary operator. */
export type Operand = ValueExpr | ListExpr | FieldLike | IdentifierExpr;
