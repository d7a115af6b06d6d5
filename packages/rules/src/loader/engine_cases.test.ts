// Falco's rule-loader unit cases (engine_unit_cases.json), each a list of steps: load YAML, then
// check success, diagnostics, compiled conditions and outputs, descriptions and rule counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import AjvModule from 'ajv';
import { corpusPath, corpusSkip, readCorpusJson } from '../testing/corpus.js';
import { checkPluginRequirements, loadRules, type LoadResult } from './load.js';
import { fieldMapAccessor, type FieldMapEvent } from '../compiler/fieldmap.js';
import { Ruleset } from '../ruleset/ruleset.js';
import { DEFAULT_RULESET } from '../ruleset/selection.js';
import type { ExtraOutputField, ExtraOutputFormat } from '../ruleset/extra.js';
import type { Diagnostic } from '../diagnostics.js';

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

/**
 * A fresh "engine" per case: Falco's falco_engine calls map onto loadRules and Ruleset. Extra
 * outputs are given before loading (as Falco requires), the ruleset is built at load time.
 */
class Harness {
  result: LoadResult | undefined;
  ruleset: Ruleset<FieldMapEvent> | undefined;
  yaml = '';
  extraOutputs: ExtraOutputFormat[] = [];
  extraFields: ExtraOutputField[] = [];
  /** C++ variables declared by raw steps: tag sets, ruleset ids, maps. */
  vars = new Map<string, unknown>();

  load(yaml: string, name: string): LoadResult {
    this.yaml = yaml;
    this.result = loadRules([{ name, content: yaml }]);
    this.ruleset = new Ruleset(this.result, fieldMapAccessor, { extraOutputs: this.extraOutputs, extraFields: this.extraFields });
    if (this.result.ok) this.ruleset.enable('', true, 'sample-ruleset');
    return this.result;
  }

  rs(): Ruleset<FieldMapEvent> {
    assert.ok(this.ruleset, 'no rules loaded yet');
    return this.ruleset;
  }

  rulesetName(arg: unknown): string {
    if (arg === undefined) return DEFAULT_RULESET;
    const key = typeof arg === 'string' || typeof arg === 'number' ? String(arg) : JSON.stringify(arg);
    const v = this.vars.get(key);
    return typeof v === 'string' ? v : key;
  }

  /** The source line a diagnostic points at: what Falco's context snippet shows. */
  snippet(d: Diagnostic): string {
    assert.ok(d.pos, `diagnostic without position: ${d.message}`);
    return this.yaml.split('\n')[d.pos.line - 1] ?? '';
  }

  compiledOutput(rule: string): string | undefined {
    return this.ruleset?.rules.find((x) => x.rule.name === rule)?.outputFormat;
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

function at(obj: unknown, path: (string | number)[]): unknown {
  let cur = obj;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

const unsupported = (c: Case): string | undefined => {
  const rel = (c as unknown as { first_falco_release_with_this_test?: string }).first_falco_release_with_this_test ?? '';
  if (rel.startsWith('unreleased')) return `unreleased: ${rel}`;
  return undefined;
};

/** Cases that currently fail, with why; reported as todo so they stay visible. */
const KNOWN_GAPS: Record<string, string> = {};

/** Strings of a C++ brace list: {"a", "b"}. */
function cppStrings(s: string): string[] {
  return [...s.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

/**
 * The raw C++ statements the cases contain, each translated by hand. Returns 'return' when the
 * statement ends the test (a `return` inside the C++ loop). An unknown statement fails the case.
 */
function runRaw(h: Harness, text: string, where: string): 'return' | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^std::set<std::string> (\w+) = (\{.*\})$/.exec(text))) {
    h.vars.set(m[1]!, cppStrings(m[2]!));
    return undefined;
  }
  if (/^(uint16_t \w+|std::string error)$/.test(text)) return undefined;
  if ((m = /^(\w+) = m_engine->find_ruleset_id\((\w+)\)$/.exec(text))) {
    // The fixture's ruleset_N constants are the names "ruleset-N" used by the num_rules steps.
    h.vars.set(m[1]!, m[2]!.replace(/_/g, '-'));
    return undefined;
  }
  if ((m = /^std::unordered_map<std::string, std::string> (\w+) = \{(.*)\}$/.exec(text))) {
    const strs = cppStrings(m[2]!);
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < strs.length; i += 2) map.set(strs[i]!, strs[i + 1]!);
    h.vars.set(m[1]!, map);
    return undefined;
  }
  if ((m = /^for\(auto const& f : (\w+)\) \{ m_engine->add_extra_output_formatted_field\(f.first, f.second, "", \{\}, ""\); \}$/.exec(text))) {
    for (const [key, format] of h.vars.get(m[1]!) as Map<string, string>) h.extraFields.push({ key, format });
    return undefined;
  }
  if ((m = /^EXPECT_EQ\(get_compiled_rule_formatted_fields\("(\w+)"\), (\w+)\)$/.exec(text))) {
    const r = h.rs().rules.find((x) => x.rule.name === m![1]);
    assert.ok(r, `${where}: rule ${m[1]} not loaded`);
    const got = new Map([...r.extraFields].map(([k, v]) => [k, typeof v === 'string' ? v : v.format]));
    assert.deepEqual(got, h.vars.get(m[2]!), where);
    return undefined;
  }
  if ((m = /^auto output = get_compiled_rule_output\("(\w+)"\)$/.exec(text))) {
    h.vars.set('output', h.compiledOutput(m[1]!));
    return undefined;
  }
  if ((m = /^EXPECT_TRUE\(output.find\("([^"]+)"\) == output.npos\)$/.exec(text))) {
    const out = h.vars.get('output');
    assert.equal(typeof out, 'string', `${where}: no compiled output`);
    assert.ok(!(out as string).includes(m[1]!), `${where}: ${String(out)}`);
    return undefined;
  }
  if ((m = /^ASSERT_TRUE\(std::string\(m_load_result_json\["errors"\]\[0\]\["context"\]\["snippet"\]\) .find\("([^"]+)"\) != std::string::npos\)$/.exec(text))) {
    const e = h.result?.errors[0];
    assert.ok(e, `${where}: no error`);
    assert.ok(h.snippet(e).includes(m[1]!), `${where}: snippet ${JSON.stringify(h.snippet(e))}`);
    return undefined;
  }
  if (text.startsWith('for(const auto& warn : m_load_result_json["warnings"])')) {
    const onlyCode = /if\(warn\["code"\] != "(\w+)"\) \{ continue; \}/.exec(text)?.[1];
    const needle = /if\(snippet.find\("([^"]+)"\) != std::string::npos\)/.exec(text)?.[1];
    const absent = [...text.matchAll(/ASSERT_EQ\(snippet.find\("([^"]+)"\), std::string::npos\)/g)].map((x) => x[1]!);
    const present = [...text.matchAll(/ASSERT_NE\(snippet.find\("([^"]+)"\), std::string::npos\)/g)].map((x) => x[1]!);
    assert.ok(absent.length + present.length > 0, `${where}: raw loop not understood: ${text}`);
    for (const w of h.result?.warnings ?? []) {
      if (onlyCode !== undefined && w.code !== onlyCode) continue;
      const snip = h.snippet(w);
      if (needle !== undefined && !snip.includes(needle)) continue;
      for (const a of absent) assert.ok(!snip.includes(a), `${where}: snippet ${JSON.stringify(snip)} contains '${a}'`);
      for (const p of present) assert.ok(snip.includes(p), `${where}: snippet ${JSON.stringify(snip)} lacks '${p}'`);
      return 'return';
    }
    return undefined;
  }
  if (text.startsWith('FAIL()')) assert.fail(`${where}: ${text}; warnings ${JSON.stringify(h.result?.warnings.map((w) => `${w.code} ${w.message}`))}`);
  assert.fail(`${where}: raw C++ step not translated: ${text}`);
}

function runCase(c: Case): void {
  const h = new Harness();
  let lastVar: Record<string, unknown> | undefined;
  const all = (which: 'errors' | 'warnings'): string[] => (h.result?.[which] ?? []).map((d) => d.message);
  for (const s of c.steps) {
    const where = `${c.test} step ${s.op}`;
    switch (s.op) {
      case 'raw':
        if (runRaw(h, s['text'] as string, where) === 'return') return;
        break;
      case 'load': {
        const r = h.load(s['yaml'] as string, (s['filename'] as string) ?? 'rules.yaml');
        if (s['expect_success'] !== undefined) assert.equal(r.ok, s['expect_success'], `${where}: errors ${JSON.stringify(all('errors'))}`);
        break;
      }
      case 'load_successful':
        assert.equal(h.result?.ok, s['expect'], where);
        break;
      case 'schema':
        if (s['value'] !== 'none') assert.equal(schemaStatus(h.yaml), s['value'], where);
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
        assert.equal(h.rs().enabledCount(s['ruleset'] as string), s['value'], where);
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
          case 'describe_rule':
            // describe_rule(nullptr) describes everything; &rule_name is the case's first rule.
            lastVar = a[0] === 'nullptr' ? h.rs().describe() : h.rs().describe(h.result?.rules[0]?.name ?? '');
            break;
          case 'enable_rule':
            h.rs().enable(a[0] as string, a[1] as boolean, h.rulesetName(a[2]));
            break;
          case 'enable_rule_exact':
            h.rs().enableExact(a[0] as string, a[1] as boolean, h.rulesetName(a[2]));
            break;
          case 'enable_rule_wildcard':
            h.rs().enableWildcard(a[0] as string, a[1] as boolean, h.rulesetName(a[2]));
            break;
          case 'enable_rule_by_tag': {
            const tags = h.vars.get(a[0] as string);
            assert.ok(Array.isArray(tags), `${where}: unknown tag set ${String(a[0])}`);
            h.rs().enableTags(tags as string[], a[1] as boolean, h.rulesetName(a[2]));
            break;
          }
          case 'add_extra_output_format':
            h.extraOutputs.push({ format: a[0] as string, source: a[1] as string, tags: cppStrings(a[2] as string), rule: a[3] as string });
            break;
          case 'add_extra_output_formatted_field':
            h.extraFields.push({ key: a[0] as string, format: a[1] as string, source: a[2] as string, tags: cppStrings(a[3] as string), rule: a[4] as string });
            break;
          default:
            assert.fail(`${where}: unknown engine call ${String(s['method'])}`);
        }
        break;
      }
      case 'plugin_requirements': {
        const loaded = Object.fromEntries(s['loaded_plugins'] as [string, string][]);
        const r = loadRules([{ name: 'plugins.yaml', content: s['yaml'] as string }], { plugins: loaded });
        const check = checkPluginRequirements(r.requiredPlugins, loaded);
        const satisfied = r.ok && check.ok;
        assert.equal(satisfied, s['expect_satisfied'], `${where}: ${JSON.stringify(s['loaded_plugins'])} ${JSON.stringify(r.errors.map((e) => e.message))} ${check.ok ? '' : check.message}`);
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
