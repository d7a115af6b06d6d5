// The libs filter-compiler conformance cases: operator × type compile checks, mock evaluation,
// transformers, event-type sets, and evaluation over events that can be written as field values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from '../filter/parser.js';
import { resolveField, type FieldLookup } from '../fields/registry.js';
import type { FieldInfo } from '../fields/types.js';
import { corpusSkip, readCorpusJson } from '../testing/corpus.js';
import { compileFilter, compileValueSource } from './compile.js';
import type { FieldLike } from '../ast.js';
import { eventTypesOf, EventTypeError, type TypeSet } from './evttypes.js';
import { fieldMapAccessor, type FieldMapEvent } from './fieldmap.js';
import { compileOutput } from '../output/format.js';

interface Case {
  kind: string;
  test: string;
  line?: number;
  input?: string;
  field?: string;
  expect?: unknown;
  error?: string;
  factory?: string;
  event_context?: string;
  features?: string[];
}
interface Data {
  cases: Case[];
  evttype_sets: { cases: { filter: string; expect_set?: string; same_set_as?: string; expect?: string; features?: string[] }[] };
  transformer_unit: Record<string, { cases?: unknown[]; supported_types?: string[] } | string>;
}
const data = corpusSkip ? undefined : readCorpusJson<Data>('libs/filter_cases.json');

const mockInfo = (name: string, type: FieldInfo['type']): FieldInfo => ({ name, type, source: 'syscall', arg: 'none', desc: 'test field' });
const MOCK: Record<string, FieldInfo> = {
  'c.true': mockInfo('c.true', 'CHARBUF'),
  'c.false': mockInfo('c.false', 'CHARBUF'),
  'c.buffer': mockInfo('c.buffer', 'BYTEBUF'),
  'c.doublequote': mockInfo('c.doublequote', 'CHARBUF'),
  'c.singlequote': mockInfo('c.singlequote', 'CHARBUF'),
};
const mockResolve = (name: string, arg: string | undefined): FieldLookup => {
  const m = MOCK[name];
  return m ? { ok: true, info: m, arg } : resolveField(name, arg);
};
const constantCheck = (f: string): boolean | undefined => (f === 'c.true' ? true : f === 'c.false' ? false : undefined);

function compiles(input: string, mock: boolean): { ok: boolean; message?: string } {
  const p = parseCondition(input);
  if (!p.ok) return { ok: false, message: p.error.message };
  const c = compileFilter(p.ast, fieldMapAccessor, mock ? { resolve: mockResolve, constantCheck } : {});
  return c.ok ? { ok: true } : { ok: false, message: c.errors[0]!.message };
}

test('compile cases: operator and field type compatibility', { skip: corpusSkip }, () => {
  const failures: string[] = [];
  let n = 0;
  for (const c of data!.cases.filter((x) => x.kind === 'compile')) {
    const r = compiles(c.input!, (c.factory ?? '').startsWith('mock'));
    const want = c.expect === 'ok';
    n++;
    if (r.ok !== want || (c.error !== undefined && !r.ok && r.message !== c.error)) failures.push(`${c.line}: ${c.input} expected ${c.expect}${c.error ? ` (${c.error})` : ''}, got ${r.ok ? 'ok' : r.message}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${n} failed`);
});

test('mock_eval cases: boolean structure', { skip: corpusSkip }, () => {
  for (const c of data!.cases.filter((x) => x.kind === 'mock_eval')) {
    const p = parseCondition(c.input!);
    assert.ok(p.ok, c.input);
    const f = compileFilter(p.ast, fieldMapAccessor, { resolve: mockResolve, constantCheck });
    assert.ok(f.ok, c.input);
    // libs' mock fields c.doublequote and c.singlequote hold these texts.
    assert.equal(f.filter({ 'evt.type': 'open', 'c.doublequote': 'hello "quoted"', 'c.singlequote': "hello 'quoted'" }), c.expect, c.input);
  }
});

const SETS: Record<string, TypeSet> = {
  openat_only: { negated: false, names: new Set(['openat']) },
  not_openat: { negated: true, names: new Set(['openat']) },
  openat_close_only: { negated: false, names: new Set(['openat', 'close']) },
  not_openat_close: { negated: true, names: new Set(['openat', 'close']) },
  all_events: { negated: true, names: new Set() },
  no_events: { negated: false, names: new Set() },
};
const norm = (s: TypeSet): string => `${s.negated ? 'all but ' : ''}${[...s.names].sort().join(',')}`;

test('evttype_sets cases: which event types a condition can match', { skip: corpusSkip }, () => {
  for (const c of data!.evttype_sets.cases) {
    if (c.features?.includes('evt_num_static_sets')) continue; // libs master only: see the skip below
    const p = parseCondition(c.filter);
    assert.ok(p.ok, c.filter);
    if (c.expect === 'throw') {
      assert.throws(() => eventTypesOf(p.ast), EventTypeError, c.filter);
      continue;
    }
    const got = eventTypesOf(p.ast);
    if (c.expect_set) assert.equal(norm(got), norm(SETS[c.expect_set]!), c.filter);
    if (c.same_set_as) {
      const q = parseCondition(c.same_set_as);
      assert.ok(q.ok);
      assert.equal(norm(got), norm(eventTypesOf(q.ast)), `${c.filter} vs ${c.same_set_as}`);
    }
  }
});

test('skipped: evttype_sets cases tagged evt_num_static_sets', { skip: 'libs master only (after 0.25): evt.num = 0 giving an empty event-type set is not in Falco 0.44' }, () => {});

test('transformer_unit cases: every listed input through the compiler', { skip: corpusSkip }, () => {
  let checked = 0;
  for (const [name, spec] of Object.entries(data!.transformer_unit)) {
    if (typeof spec === 'string' || !spec.cases) continue;
    for (const c of spec.cases as { in: (string | number)[]; out: (string | number)[]; list?: boolean; type?: string }[]) {
      const list = c.list === true || c.in.length !== 1;
      const type = (c.type ?? 'PT_CHARBUF').replace(/^PT_/, '') as FieldInfo['type'];
      const info: FieldInfo = { name: 't.value', type, source: 'syscall', arg: 'none', list: list || undefined, desc: 'test input' };
      const resolve = (n: string, a: string | undefined): FieldLookup => (n === 't.value' ? { ok: true, info, arg: a } : resolveField(n, a));
      const event: FieldMapEvent = { 'evt.type': 'open', 't.value': list ? c.in : c.in[0]! };
      const src = compileValueSource(parseLeft(`${name}(t.value)`), fieldMapAccessor, { resolve });
      assert.ok(src.ok, `${name}: ${src.ok ? '' : src.message}`);
      const got = src.get(event);
      const want = name === 'len' || !list ? c.out[0] : c.out;
      assert.deepEqual(got, want, `${name}(${JSON.stringify(c.in)})`);
      checked++;
    }
    // Types a transformer does not accept are compile errors.
    if (spec.supported_types && name !== 'len') {
      const info: FieldInfo = { name: 't.num', type: 'UINT64', source: 'syscall', arg: 'none', desc: 'test input' };
      const resolve = (n: string, a: string | undefined): FieldLookup => (n === 't.num' ? { ok: true, info, arg: a } : resolveField(n, a));
      assert.equal(compileValueSource(parseLeft(`${name}(t.num)`), fieldMapAccessor, { resolve }).ok, false, `${name} on a number`);
    }
  }
  assert.equal(checked, 24);
});

function parseLeft(text: string): FieldLike {
  const p = parseCondition(`${text} exists`);
  if (!p.ok || p.ast.kind !== 'unary') throw new Error(`cannot parse ${text}`);
  return p.ast.left;
}

// --- eval / field_value over field-map events built from the libs test setup notes ---

const CONNECT4: FieldMapEvent = {
  'evt.type': 'connect', 'fd.cip': '172.40.111.222', 'fd.sip': '142.251.111.147', 'fd.cport': 54321, 'fd.sport': 443,
  // libs' test harness writes the tuple so that the local end is the server address.
  'fd.lip': '142.251.111.147', 'fd.rip': '172.40.111.222', 'fd.lport': 443, 'fd.rport': 54321,
};
const CONNECT6: FieldMapEvent = {
  'evt.type': 'connect', 'fd.cip': '::1', 'fd.sip': '2001:4860:4860::8888', 'fd.cport': 54321, 'fd.sport': 443,
  'fd.lip': '2001:4860:4860::8888', 'fd.rip': '::1', 'fd.lport': 443, 'fd.rport': 54321,
};
const OPEN_FILE: FieldMapEvent = { 'evt.type': 'open', 'evt.num': 1, 'fd.name': '/tmp/file_to_run', 'fd.directory': '/tmp', 'fd.filename': 'file_to_run', 'fd.types': ['file'], 'fd.num': 3 };
const GETCWD: FieldMapEvent = { 'evt.type': 'getcwd', 'syscall.type': 'getcwd', 'evt.source': 'syscall', 'evt.res': 'EPERM', 'evt.rawres': -1, 'evt.arg.res': 'EPERM', 'evt.args': 'res=-1(EPERM) path=/test/dir', 'evt.arg.path': '/test/dir' };
const MYEXE: FieldMapEvent = { 'evt.type': 'execve', 'proc.name': 'myexe', 'proc.exe': '/myexe', 'proc.exepath': '/myexe' };

const EVENTS: Record<string, FieldMapEvent> = {
  net_ipv4_compare: CONNECT4,
  net_modifier_ip_compare: CONNECT4,
  net_ipv6_compare: CONNECT6,
  pmatch: { 'evt.type': 'open', 'fd.name': '/opt/dir/subdir/file.txt' },
  contains_icontains: { 'evt.type': 'open', 'fd.name': '/opt/dir/SUBDIR/file.txt', 'evt.arg.flags': 'O_RDWR|O_CREAT' },
  bytebuf_bcontains_bstartswith: { 'evt.type': 'read', 'evt.buffer': 'hello' },
  bytebuf_matches_nul: { 'evt.type': 'read', 'evt.buffer': 'a\u0000b' },
  multivalue_transformer_getopt: OPEN_FILE,
  multivalue_transformer_join: OPEN_FILE,
  multivalue_transformer_concat: OPEN_FILE,
  multivalue_transformer_with_outer_transformer: OPEN_FILE,
  basename_transformer: OPEN_FILE,
  filter_simple_evaluation: GETCWD,
  filter_val_transformer: GETCWD,
  filter_regex_operator_evaluation: GETCWD,
  filter_transformers_combination: GETCWD,
  filter_str_op_modifier_evaluation: GETCWD,
};
for (const m of ['eq', 'ne', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'transformer_lhs', 'empty_rhs', 'compound']) EVENTS[`FILTERCHECK_MOD_${m}`] = MYEXE;

function eventFor(c: Case): FieldMapEvent | undefined {
  return EVENTS[c.test.replace(/^sinsp_with_test_input\./, '')];
}

test('eval and field_value cases over field-value events', { skip: corpusSkip }, () => {
  const failures: string[] = [];
  let passed = 0;
  for (const c of data!.cases.filter((x) => x.kind === 'eval' || x.kind === 'field_value')) {
    const ev = eventFor(c);
    if (!ev) continue;
    if (c.kind === 'field_value') {
      const out = compileOutput(`%${c.field}`, fieldMapAccessor);
      const got = out.ok ? out.output.render(ev).text : `compile error: ${out.message}`;
      if (got === String(c.expect)) passed++;
      else failures.push(`${c.test}:${c.line} %${c.field} = ${got}, expected ${JSON.stringify(c.expect)}`);
      continue;
    }
    const p = parseCondition(c.input!);
    let got: string;
    if (!p.ok) got = 'throw';
    else {
      const f = compileFilter(p.ast, fieldMapAccessor);
      got = f.ok ? String(f.filter(ev)) : 'throw';
    }
    const want = c.expect === 'no_throw' ? (got !== 'throw' ? got : 'no_throw') : String(c.expect);
    if (got === want) passed++;
    else failures.push(`${c.test}:${c.line} ${c.input} -> ${got}, expected ${want}`);
  }
  assert.deepEqual(failures, [], `${failures.length} failed, ${passed} passed`);
});
