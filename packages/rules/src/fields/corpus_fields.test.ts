// Every field and event type the conformance corpus names must be known to the registry: the
// rules files (conditions, outputs, exception fields), libs' filter cases and Falco's loader cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseCondition } from '../filter/parser.js';
import type { Expr, FieldLike, Operand, TransformerArg } from '../ast.js';
import { corpusPath, corpusSkip, readCorpusJson } from '../testing/corpus.js';
import { resolveField } from './registry.js';
import { isKnownEventType } from './events.js';

type Ref = readonly [name: string, arg: string | undefined];

/** Plugins Harrier does not provide (cloudtrail) and libs' test-only plugins: their fields are expected to be unknown. */
const FOREIGN = /^(ct|s3|sample|static)\./;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return p.endsWith('.yaml') || p.endsWith('.yml') ? [p] : [];
  });
}

function fieldsOf(x: FieldLike | TransformerArg | Operand, out: Ref[]): void {
  if (x.kind === 'field') out.push([x.name, x.arg]);
  else if (x.kind === 'transformer' || x.kind === 'transformer_list') for (const v of x.values) fieldsOf(v, out);
}

/** Collects field references, and the values `evt.type` is compared with. */
function walk(e: Expr, out: Ref[], evtTypes: string[]): void {
  switch (e.kind) {
    case 'and':
    case 'or':
      for (const c of e.children) walk(c, out, evtTypes);
      return;
    case 'not':
      walk(e.child, out, evtTypes);
      return;
    case 'unary':
      fieldsOf(e.left, out);
      return;
    case 'binary':
      fieldsOf(e.left, out);
      fieldsOf(e.right, out);
      if (e.left.kind === 'field' && e.left.name === 'evt.type') {
        if (e.right.kind === 'value') evtTypes.push(e.right.value);
        else if (e.right.kind === 'list') evtTypes.push(...e.right.values.map((v) => v.value));
      }
      return;
    default:
      return;
  }
}

/** `%field`, `%field[arg]` and `%evt.arg.name` references in an output format. */
function outputRefs(format: string): Ref[] {
  return [...format.matchAll(/%([a-zA-Z_]\w*(?:\.\w+)+)(?:\[([^\]]*)\])?/g)].map((m) => [m[1]!, m[2]] as const);
}

/** Exception `fields:` entries are field names, possibly with an argument; transformers are skipped. */
function exceptionRefs(fields: unknown): Ref[] {
  const list = Array.isArray(fields) ? fields : fields === undefined || fields === null ? [] : [fields];
  const out: Ref[] = [];
  for (const f of list) {
    const m = /^([a-zA-Z_][\w.]*)(?:\[(.*)\])?$/.exec(String(f).trim());
    if (m) out.push([m[1]!, m[2]]);
  }
  return out;
}

interface Item {
  readonly list?: string;
  readonly items?: unknown[];
  readonly condition?: unknown;
  readonly output?: unknown;
  readonly exceptions?: unknown;
}

function itemsOf(text: string): Item[] {
  return parseAllDocuments(text).flatMap((d) => {
    const v: unknown = d.toJSON();
    return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Item[]) : [];
  });
}

interface Scan {
  readonly refs: { ref: Ref; where: string }[];
  readonly evtTypes: { name: string; where: string }[];
  readonly parseFailures: string[];
}

function scanItems(items: readonly Item[], where: string, scan: Scan): void {
  const lists = new Map<string, string[]>();
  for (const it of items) if (typeof it.list === 'string') lists.set(it.list, [...(lists.get(it.list) ?? []), ...(it.items ?? []).map(String)]);
  const expand = (v: string, seen: Set<string>): string[] => {
    const l = lists.get(v);
    if (!l || seen.has(v)) return [v];
    seen.add(v);
    return l.flatMap((x) => expand(x, seen));
  };
  for (const it of items) {
    if (typeof it.condition === 'string') {
      const r = parseCondition(it.condition);
      if (!r.ok) {
        scan.parseFailures.push(`${where}: ${it.condition.slice(0, 60)}`);
      } else {
        const refs: Ref[] = [];
        const types: string[] = [];
        walk(r.ast, refs, types);
        for (const ref of refs) scan.refs.push({ ref, where });
        for (const t of types) for (const name of expand(t, new Set())) scan.evtTypes.push({ name, where });
      }
    }
    if (typeof it.output === 'string') for (const ref of outputRefs(it.output)) scan.refs.push({ ref, where });
    if (Array.isArray(it.exceptions)) {
      for (const ex of it.exceptions as { fields?: unknown }[]) for (const ref of exceptionRefs(ex?.fields)) scan.refs.push({ ref, where });
    }
  }
}

function unresolved(scan: Scan): string[] {
  const bad = new Set<string>();
  for (const { ref, where } of scan.refs) {
    const [name, arg] = ref;
    // %container.info is an output alias the formatter expands, not a field.
    if (FOREIGN.test(name) || name === 'container.info') continue;
    const r = resolveField(name, arg);
    if (!r.ok) bad.add(`${where}: ${name}${arg === undefined ? '' : `[${arg}]`}: ${r.message}`);
  }
  return [...bad];
}

test('every field in the corpus rules files resolves, and every evt.type value is a known event type', { skip: corpusSkip }, () => {
  const scan: Scan = { refs: [], evtTypes: [], parseFailures: [] };
  const files = yamlFiles(corpusPath('rules'));
  assert.ok(files.length >= 10, `expected the corpus rules files, found ${files.length}`);
  for (const f of files) scanItems(itemsOf(readFileSync(f, 'utf8')), f.slice(corpusPath('rules').length + 1), scan);
  assert.deepEqual(scan.parseFailures, []);
  // Guards against a scan that silently finds nothing.
  assert.ok(scan.refs.length > 2000, `only ${scan.refs.length} field references found`);
  assert.ok(scan.evtTypes.length > 100, `only ${scan.evtTypes.length} evt.type values found`);
  assert.deepEqual(unresolved(scan), []);
  const unknownTypes = [...new Set(scan.evtTypes.filter((t) => !isKnownEventType(t.name)).map((t) => `${t.where}: ${t.name}`))];
  assert.deepEqual(unknownTypes, []);
});

interface FilterCase {
  readonly kind: string;
  readonly input?: string;
  readonly field?: string;
  readonly expect?: unknown;
}

test("every field in libs' filter cases resolves (mock and test-plugin fields aside)", { skip: corpusSkip }, () => {
  const { cases } = readCorpusJson<{ cases: FilterCase[] }>('libs/filter_cases.json');
  const scan: Scan = { refs: [], evtTypes: [], parseFailures: [] };
  for (const c of cases) {
    if (c.kind === 'parse' || c.kind === 'mock_eval' || typeof c.input !== 'string') continue;
    const r = parseCondition(c.input);
    if (!r.ok) continue;
    const refs: Ref[] = [];
    walk(r.ast, refs, []);
    for (const ref of refs) if (!/^(c|test)\./.test(ref[0])) scan.refs.push({ ref, where: `${c.kind} '${c.input}'` });
  }
  for (const c of cases) {
    if (!c.kind.startsWith('field_') || typeof c.field !== 'string') continue;
    const m = /^([^[]+)(?:\[(.*)\])?$/.exec(c.field);
    if (m) scan.refs.push({ ref: [m[1]!, m[2]], where: `${c.kind} ${c.field}` });
  }
  assert.ok(scan.refs.length > 300, `only ${scan.refs.length} field references found`);
  assert.deepEqual(unresolved(scan), []);
});

interface LoaderTest {
  readonly test: string;
  readonly steps: readonly { op: string; yaml?: string; expect_success?: boolean }[];
}

test("every field in Falco's loader cases that load successfully resolves", { skip: corpusSkip }, () => {
  const { tests } = readCorpusJson<{ tests: LoaderTest[] }>('falco/engine_unit_cases.json');
  const scan: Scan = { refs: [], evtTypes: [], parseFailures: [] };
  for (const t of tests) {
    for (const s of t.steps) {
      if (s.op !== 'load' || typeof s.yaml !== 'string' || s.expect_success !== true) continue;
      let items: Item[];
      try {
        items = itemsOf(s.yaml);
      } catch {
        continue;
      }
      scanItems(items, t.test, scan);
    }
  }
  assert.ok(scan.refs.length > 100, `only ${scan.refs.length} field references found`);
  assert.deepEqual(unresolved(scan), []);
  assert.deepEqual([...new Set(scan.evtTypes.filter((t) => !isKnownEventType(t.name)).map((t) => `${t.where}: ${t.name}`))], []);
});
