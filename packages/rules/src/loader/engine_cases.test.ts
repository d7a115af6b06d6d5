// Falco's rule-loader unit cases (engine_unit_cases.json), each a list of steps: load YAML, then
// check success, diagnostics, compiled conditions and outputs, descriptions and rule counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import AjvModule from 'ajv';
import { corpusPath, corpusSkip, readCorpusJson } from '../testing/corpus.js';
import { loadRules, PROVIDED_PLUGINS, type LoadResult } from './load.js';
import { globToRegExp } from '../compiler/values.js';
import { describeRule } from './describe.js';

interface Step {
  op: string;
  [k: string]: unknown;
}
interface Case {
  test: string;
  suite: string;
  line: number;
  steps: Step[];
}
const data = corpusSkip ? undefined : readCorpusJson<{ tests: Case[] }>('falco/engine_unit_cases.json');

type Toggle = { how: 'substring' | 'exact' | 'wildcard' | 'tags'; what: string | string[]; enabled: boolean };

/** A fresh "engine" per case: the last load result, rulesets built from toggles, extra outputs. */
class Harness {
  result: LoadResult | undefined;
  toggles = new Map<string, Toggle[]>();
  extraOutputs: { format: string; tags: string[]; rule: string }[] = [];

  load(yaml: string, name: string): LoadResult {
    this.result = loadRules([{ name, content: yaml }]);
    if (this.result.ok) this.toggle('sample-ruleset', { how: 'substring', what: '', enabled: true });
    return this.result;
  }

  toggle(ruleset: string, t: Toggle): void {
    const list = this.toggles.get(ruleset) ?? [];
    list.push(t);
    this.toggles.set(ruleset, list);
  }

  numRules(ruleset: string): number {
    const rules = this.result?.rules ?? [];
    const toggles = this.toggles.get(ruleset) ?? [];
    return rules.filter((r) => {
      let on = ruleset === 'falco-default-ruleset' ? r.enabled : false;
      for (const t of toggles) {
        const hit =
          t.how === 'substring' ? r.name.includes(t.what as string)
          : t.how === 'exact' ? t.what === '' || r.name === t.what
          : t.how === 'wildcard' ? globToRegExp(t.what as string, false).test(r.name)
          : (t.what as string[]).some((tag) => r.tags.includes(tag));
        if (hit) on = t.enabled;
      }
      return on;
    }).length;
  }

  compiledOutput(rule: string): string | undefined {
    const r = this.result?.rules.find((x) => x.name === rule);
    if (!r) return undefined;
    let out = r.output;
    for (const e of this.extraOutputs) {
      if (e.rule && e.rule !== rule) continue;
      if (e.tags.length && !e.tags.every((t) => r.tags.includes(t))) continue;
      out = `${out} ${e.format}`;
    }
    return out;
  }

  describeAll(): Record<string, unknown> {
    const r = this.result!;
    return {
      rules: r.rules.map((x) => describeRule(x, this.compiledOutput(x.name))),
      macros: [...r.macros].map(([name, m]) => ({ info: { name, condition: m.condition } })),
      lists: [...r.lists].map(([name, l]) => ({
        info: { name, items: l.items },
        details: { lists: l.items.filter((i) => r.lists.has(i)), items_compiled: l.items.map((i) => i.replace(/^"(.*)"$/, '$1')) },
      })),
    };
  }

  describe(rule: string): Record<string, unknown> | undefined {
    const r = this.result?.rules.find((x) => x.name === rule);
    if (!r) return undefined;
    return { rules: [describeRule(r, this.compiledOutput(rule))] };
  }
}

const schema = corpusSkip ? undefined : (JSON.parse(readFileSync(corpusPath('falco/rule_json_schema@falco-master.json'), 'utf8')) as object);
const validate = schema ? new AjvModule.default({ strict: false, allErrors: true, validateSchema: false, coerceTypes: true }).compile(schema) : undefined;

function schemaStatus(yaml: string): string {
  try {
    const docs = parseAllDocuments(yaml);
    for (const d of docs) {
      if (d.errors.length) return 'failed';
      if (!validate!(d.toJSON() ?? [])) return 'failed';
    }
    return 'ok';
  } catch {
    return 'failed';
  }
}

function parseTags(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
}

function at(obj: unknown, path: (string | number)[]): unknown {
  let cur = obj;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

const unsupported = (c: Case): string | undefined => {
  if (c.steps.some((s) => s.op === 'raw')) return 'made of raw C++ steps';
  const rel = (c as unknown as { first_falco_release_with_this_test?: string }).first_falco_release_with_this_test ?? '';
  if (rel.startsWith('unreleased')) return `unreleased: ${rel}`;
  return undefined;
};

/** Cases that currently fail, with why; reported as todo so they stay visible. */
const KNOWN_GAPS: Record<string, string> = {};

function runCase(c: Case): void {
  const h = new Harness();
  let yaml = '';
  let lastVar: Record<string, unknown> | undefined;
  const all = (which: 'errors' | 'warnings'): string[] => (h.result?.[which] ?? []).map((d) => d.message);
  for (const s of c.steps) {
    const where = `${c.test} step ${s.op}`;
    switch (s.op) {
      case 'load': {
        yaml = s['yaml'] as string;
        const r = h.load(yaml, (s['filename'] as string) ?? 'rules.yaml');
        if (s['expect_success'] !== undefined) assert.equal(r.ok, s['expect_success'], `${where}: errors ${JSON.stringify(all('errors'))}`);
        break;
      }
      case 'load_successful':
        assert.equal(h.result?.ok, s['expect'], where);
        break;
      case 'schema':
        if (s['value'] !== 'none') assert.equal(schemaStatus(yaml), s['value'], where);
        break;
      case 'warning':
      case 'error': {
        const msgs = all(s.op === 'error' ? 'errors' : 'warnings');
        const has = msgs.some((m) => m.includes(s['contains'] as string));
        assert.equal(has, s['expect'] !== false, `${where}: '${s['contains']}' in ${JSON.stringify(msgs)}`);
        break;
      }
      case 'has_warnings':
        assert.equal(all('warnings').length > 0, s['expect'], `${where}: ${JSON.stringify(all('warnings'))}`);
        break;
      case 'compiled_condition': {
        const r = h.result?.rules.find((x) => x.name === s['rule']);
        assert.ok(r, `${where}: rule ${s['rule']} not loaded; errors ${JSON.stringify(all('errors'))}`);
        assert.equal(r.compiledCondition === s['value'], s['expect'] !== false, `${where}: ${r.compiledCondition} vs ${s['value']}`);
        break;
      }
      case 'compiled_output':
        assert.equal(h.compiledOutput(s['rule'] as string) === s['value'], s['expect'] !== false, `${where}: ${h.compiledOutput(s['rule'] as string)}`);
        break;
      case 'num_rules':
        assert.equal(h.numRules(s['ruleset'] as string), s['value'], where);
        break;
      case 'describe': {
        const got = at(lastVar, s['path'] as (string | number)[]);
        const value = s['accessor'] === '.size()' && Array.isArray(got) ? got.length : got;
        assert.equal(JSON.stringify(value) === JSON.stringify(s['value']), s['expect'] !== false, `${where}: ${JSON.stringify(got)} vs ${JSON.stringify(s['value'])}`);
        break;
      }
      case 'engine_call': {
        const a = s['args'] as unknown[];
        switch (s['method']) {
          case 'describe_rule': {
            // describe_rule(nullptr) describes everything; with a name, the cases' single rule.
            lastVar = a[0] === 'nullptr' ? h.describeAll() : h.describe(h.result?.rules[0]?.name ?? '');
            break;
          }
          case 'enable_rule':
            h.toggle(a[2] as string, { how: 'substring', what: a[0] as string, enabled: a[1] as boolean });
            break;
          case 'enable_rule_exact':
            h.toggle(a[2] as string, { how: 'exact', what: a[0] as string, enabled: a[1] as boolean });
            break;
          case 'enable_rule_wildcard':
            h.toggle(a[2] as string, { how: 'wildcard', what: a[0] as string, enabled: a[1] as boolean });
            break;
          case 'enable_rule_by_tag':
            h.toggle(a[2] as string, { how: 'tags', what: [a[0] as string], enabled: a[1] as boolean });
            break;
          case 'add_extra_output_format':
            h.extraOutputs.push({ format: a[0] as string, tags: parseTags(a[2] as string), rule: a[3] as string });
            break;
          default:
            assert.fail(`${where}: unknown engine call ${String(s['method'])}`);
        }
        break;
      }
      case 'plugin_requirements': {
        const loaded = s['loaded_plugins'] as [string, string][];
        const r = loadRules([{ name: 'plugins.yaml', content: s['yaml'] as string }], { warnUnused: false });
        void loaded;
        void PROVIDED_PLUGINS;
        assert.equal(r.ok, s['expect_satisfied'], `${where}: ${JSON.stringify(r.errors.map((e) => e.message))}`);
        break;
      }
      default:
        assert.fail(`${where}: unknown step`);
    }
  }
}

if (data) {
  for (const c of data.tests) {
    const reason = unsupported(c);
    const gap = KNOWN_GAPS[c.test];
    test(`${c.suite}.${c.test}`, { skip: reason ?? false, todo: gap ?? false }, () => runCase(c));
  }
} else {
  test('engine unit cases', { skip: corpusSkip }, () => {});
}
