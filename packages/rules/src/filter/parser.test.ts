// The libs filter-parser conformance cases (accept/reject, AST shape, positions, printing).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from './parser.js';
import { conditionToString } from './serialize.js';
import { escapeString, unescapeString } from './escape.js';
import type { Expr, Operand, TransformerArg } from '../ast.js';
import { corpusSkip, readCorpusJson } from '../testing/corpus.js';

interface Case {
  kind: string;
  test: string;
  line?: number;
  input?: string;
  input_generator?: { repeat: string; times: number };
  expect?: unknown;
  error?: string;
  features?: string[];
  note?: string;
}
interface Cases {
  cases: Case[];
  ast_cases: { input: string; ast: unknown }[];
  as_string_cases: { input: string; as_string?: string; roundtrip?: string }[];
  field_arg_cases: { input: string; field_arg?: string | null; transformer_arg?: string | null }[];
  position_cases: { input: string; visit?: string; visit_contains?: string[] }[];
  end_position_cases: { input: string; idx: number; line: number; col: number }[];
  escaping: {
    escape_str: { in?: string; out?: string; in_bytes_hex?: string; out_bytes_hex?: string }[];
    roundtrip_unescape_of_escape_is_identity: (string | { bytes_hex: string })[];
    unescape_str_hex: { in: string; out?: string; out_bytes_hex?: string; throws?: boolean }[];
  };
}

const data = corpusSkip ? undefined : readCorpusJson<Cases>('libs/filter_cases.json');
const bytes = (hex: string): string => String.fromCharCode(...(hex.match(/../g) ?? []).map((h) => parseInt(h, 16)));

/** Cases only libs master has (newer than the libs 0.25 Harrier implements). */
function masterOnly(c: Case): string | undefined {
  if (c.features?.includes('invalid_utf8_tests_master_only')) return 'libs master only (invalid UTF-8 handling after 0.25)';
  return undefined;
}

function inputOf(c: Case): string {
  if (c.input_generator) return c.input_generator.repeat.repeat(c.input_generator.times);
  return c.input ?? '';
}

test('parse cases: accept and reject as libs does', { skip: corpusSkip }, () => {
  const failures: string[] = [];
  let passed = 0;
  for (const c of data!.cases.filter((x) => x.kind === 'parse')) {
    if (masterOnly(c)) continue;
    const input = inputOf(c);
    const variants = [input];
    if (c.expect === 'accept' && !c.note?.includes('position')) {
      const padded = ` ${input} `;
      variants.push(padded, padded.replaceAll(' ', '\n'), padded.replaceAll(' ', '\t'));
    }
    for (const v of variants) {
      const r = parseCondition(v);
      const ok = c.expect === 'accept' ? r.ok : !r.ok && (c.error === undefined || r.error.message === c.error);
      if (ok) passed++;
      else failures.push(`${c.test}:${c.line ?? ''} ${JSON.stringify(v.slice(0, 80))} expected ${c.expect}${c.error ? ` (${c.error})` : ''}, got ${r.ok ? 'accept' : `reject: ${r.error.message}`}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} failures, ${passed} passed`);
});

function toNotation(e: Expr | Operand | TransformerArg): unknown {
  switch (e.kind) {
    case 'and':
      return { and: e.children.map(toNotation) };
    case 'or':
      return { or: e.children.map(toNotation) };
    case 'not':
      return { not: toNotation(e.child) };
    case 'identifier':
      return { identifier: e.name };
    case 'unary':
      return { unary: { left: toNotation(e.left), op: e.op } };
    case 'binary':
      return { binary: { left: toNotation(e.left), op: e.op, right: toNotation(e.right) } };
    case 'field':
      return e.arg === undefined ? { field: e.name } : { field: e.name, arg: e.arg };
    case 'transformer':
      return { transformer: e.name, values: e.values.map(toNotation) };
    case 'transformer_list':
      return { list: e.values.map(toNotation) };
    case 'value':
      return { value: e.value };
    case 'list':
      return { list: e.values.map((v) => v.value) };
  }
}

test('AST cases: trees have libs shape', { skip: corpusSkip }, () => {
  for (const c of data!.ast_cases) {
    const r = parseCondition(c.input);
    assert.ok(r.ok, `${c.input}: ${r.ok ? '' : r.error.message}`);
    assert.deepEqual(toNotation(r.ast), c.ast, c.input);
  }
});

test('as-string cases: printing matches libs and round-trips', { skip: corpusSkip }, () => {
  for (const c of data!.as_string_cases) {
    const r = parseCondition(c.input);
    assert.ok(r.ok, c.input);
    const text = conditionToString(r.ast);
    if (c.as_string !== undefined) assert.equal(text, c.as_string, c.input);
    // libs prints transformer arguments unquoted, so only the cases marked for it must round-trip.
    if (c.roundtrip === undefined) continue;
    const again = parseCondition(text);
    assert.ok(again.ok, text);
    assert.equal(conditionToString(again.ast), text);
    assert.deepEqual(toNotation(again.ast), toNotation(r.ast));
  }
});

test('field and transformer argument cases', { skip: corpusSkip }, () => {
  for (const c of data!.field_arg_cases) {
    const r = parseCondition(c.input);
    assert.ok(r.ok && r.ast.kind === 'binary', c.input);
    if (r.ast.kind !== 'binary') continue;
    const left = r.ast.left;
    if ('field_arg' in c) assert.equal(left.arg ?? null, c.field_arg, c.input);
    if ('transformer_arg' in c) assert.equal(left.arg ?? null, c.transformer_arg, c.input);
  }
});

function visit(e: Expr | Operand | TransformerArg, out: string[]): void {
  const p = e.pos;
  out.push(`${e.kind}${p.idx} ${p.line} ${p.col}`);
  switch (e.kind) {
    case 'and':
    case 'or':
      e.children.forEach((c) => visit(c, out));
      break;
    case 'not':
      visit(e.child, out);
      break;
    case 'unary':
      visit(e.left, out);
      break;
    case 'binary':
      visit(e.left, out);
      visit(e.right, out);
      break;
    case 'transformer':
    case 'transformer_list':
      e.values.forEach((c) => visit(c, out));
      break;
    default:
      break;
  }
}

test('position cases: node start positions', { skip: corpusSkip }, () => {
  for (const c of data!.position_cases) {
    const r = parseCondition(c.input);
    assert.ok(r.ok, c.input);
    const out: string[] = [];
    visit(r.ast, out);
    if (c.visit !== undefined) assert.equal(out.join(''), c.visit, c.input);
    for (const piece of c.visit_contains ?? []) assert.ok(out.some((o) => o.startsWith(piece)), `${c.input}: ${piece} in ${out.join(',')}`);
  }
  for (const c of data!.end_position_cases) {
    const r = parseCondition(c.input);
    assert.ok(r.ok, c.input);
    assert.deepEqual(r.end, { idx: c.idx, line: c.line, col: c.col }, JSON.stringify(c.input));
  }
});

test('escaping cases', { skip: corpusSkip }, () => {
  const esc = data!.escaping;
  for (const c of esc.escape_str) {
    const input = c.in ?? bytes(c.in_bytes_hex!);
    const want = c.out ?? bytes(c.out_bytes_hex!);
    assert.equal(escapeString(input), want, JSON.stringify(input));
  }
  for (const r of esc.roundtrip_unescape_of_escape_is_identity) {
    const s = typeof r === 'string' ? r : bytes(r.bytes_hex);
    const e = escapeString(s);
    const back = e.startsWith('"') ? unescapeString(e) : e;
    assert.equal(back, s);
  }
  for (const c of esc.unescape_str_hex) {
    if (c.throws) assert.throws(() => unescapeString(c.in), c.in);
    else assert.equal(unescapeString(c.in), c.out ?? bytes(c.out_bytes_hex!), c.in);
  }
});

test('a 10 MB condition parses in linear time without exhausting the stack', () => {
  const big = Array.from({ length: 400_000 }, (_, i) => `proc.name = p${i}`).join(' and ');
  assert.ok(big.length > 7_000_000);
  const t0 = performance.now();
  const r = parseCondition(big + ' or ' + 'fd.name exists and '.repeat(100_000) + 'x');
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.ok(performance.now() - t0 < 20_000);
  const deep = parseCondition('('.repeat(5_000_000) + 'a' + ')'.repeat(5_000_000));
  assert.ok(!deep.ok && deep.error.message === 'exceeded max depth limit of 100');
  const nots = parseCondition('not '.repeat(1_000_000) + 'a');
  assert.ok(nots.ok && nots.ast.kind === 'identifier');
});

test('errors carry positions', () => {
  const r = parseCondition('proc.name = a and\n  fd.name bogus x');
  assert.ok(!r.ok);
  assert.equal(r.error.pos.line, 2);
  assert.equal(r.error.pos.col, 11);
});
