// Loader behaviours beyond Falco's own unit cases: reading files and directories in order, YAML
// that yaml-cpp accepts, engine and plugin requirements, positions inside block scalars.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRules } from './load.js';
import { readRulesPaths } from './files.js';
import { Ruleset } from '../ruleset/ruleset.js';
import { fieldMapAccessor } from '../compiler/fieldmap.js';

const load = (content: string, opts = {}) => loadRules([{ name: 'r.yaml', content }], opts);
const rule = (name: string, cond = 'evt.type = open', extra = '') => `- rule: ${name}\n  desc: d\n  condition: ${cond}\n  output: o\n  priority: INFO\n${extra}`;

test('a directory is read as its .yaml/.yml files sorted by name, after the paths before it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-'));
  try {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'first.yaml'), '- list: l\n  items: [a]\n');
    writeFileSync(join(dir, 'd', 'b.yml'), '- list: l\n  items: [c]\n  override:\n    items: append\n');
    writeFileSync(join(dir, 'd', 'a.yaml'), '- list: l\n  items: [b]\n  override:\n    items: append\n');
    writeFileSync(join(dir, 'd', 'notes.txt'), 'not rules');
    const read = readRulesPaths([join(dir, 'first.yaml'), join(dir, 'd'), join(dir, 'missing.yaml')]);
    assert.deepEqual(read.sources.map((s) => s.name.slice(dir.length + 1)), ['first.yaml', 'd/a.yaml', 'd/b.yml']);
    assert.equal(read.errors.length, 1);
    assert.equal(read.errors[0]!.code, 'LOAD_ERR_FILE_READ');
    assert.equal(read.errors[0]!.pos?.file, join(dir, 'missing.yaml'));
    const r = loadRules(read.sources, { warnUnused: false });
    assert.deepEqual(r.lists.get('l')?.items, ['a', 'b', 'c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multi-document files and a bare = inside a flow list load as yaml-cpp reads them', () => {
  const r = load(`- list: ops\n  items: [=, "!="]\n${rule('one')}---\n${rule('two', 'evt.type = open and proc.name in (ops)')}`);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.rules.map((x) => x.name), ['one', 'two']);
  assert.deepEqual(r.lists.get('ops')?.items, ['=', '!=']);
  const rs = new Ruleset(r, fieldMapAccessor, { ruleMatching: 'all' });
  assert.deepEqual(rs.matches({ 'evt.type': 'open', 'proc.name': '=' }).map((m) => m.rule.name), ['one', 'two']);
  assert.deepEqual(rs.matches({ 'evt.type': 'open', 'proc.name': 'cat' }).map((m) => m.rule.name), ['one']);
});

test('required_engine_version: semver or legacy integer, checked against 0.63.0', () => {
  assert.deepEqual(load('- required_engine_version: 0.63.0\n').errors, []);
  assert.deepEqual(load('- required_engine_version: 17\n').errors, []);
  const newer = load('- required_engine_version: 0.64.0\n');
  assert.equal(newer.errors.length, 1);
  assert.equal(newer.errors[0]!.pos?.line, 1);
  assert.ok(newer.errors[0]!.message.includes('0.63.0'), newer.errors[0]!.message);
  const legacyNewer = load('- required_engine_version: 64\n');
  assert.equal(legacyNewer.errors.length, 1);
  assert.equal(load('- required_engine_version: banana\n').errors.length, 1);
});

test('required plugins: provided ones satisfied (with alternatives), others skip their rules with one diagnostic', () => {
  const ok = load(`
- required_plugin_versions:
  - name: k8saudit
    version: 0.7.0
  - name: json
    version: 0.7.0
  - name: k8saudit-eks
    version: 0.2.0
    alternatives:
      - name: k8saudit
        version: 0.11.0
  - name: container
    version: 0.2.0
`);
  assert.deepEqual(ok.diagnostics, []);
  assert.equal(ok.requiredPlugins.length, 4);

  const tooNew = load('- required_plugin_versions:\n  - name: k8saudit\n    version: 0.19.0\n');
  assert.equal(tooNew.errors.length, 1);
  assert.match(tooNew.errors[0]!.message, /k8saudit.*not compatible.*0\.19\.0/);

  const other = load(`
- required_plugin_versions:
  - name: okta
    version: 0.1.0
${rule('okta rule', 'okta.app = x', '  source: okta\n')}${rule('uses okta fields in syscall', 'evt.type = open and okta.org = x')}${rule('fine')}`);
  assert.deepEqual(other.errors, []);
  const plugin = other.warnings.filter((w) => w.message.includes("Plugin 'okta' is required but Harrier does not provide it"));
  assert.equal(plugin.length, 1);
  assert.equal(plugin[0]!.pos?.line, 3);
  assert.deepEqual(other.rules.map((r) => r.name), ['fine']);
  assert.ok(other.warnings.some((w) => w.code === 'LOAD_UNKNOWN_FILTER' && w.item?.name === 'uses okta fields in syscall'));
});

test('without a missing plugin, an unknown field stays an error', () => {
  const r = load(rule('typo', 'evt.type = open and okta.org = x'));
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.code, 'LOAD_ERR_COMPILE_CONDITION');
});

test('errors inside folded and literal conditions point at the text, not the block header', () => {
  const r = load(`- rule: folded
  desc: d
  condition: >
    evt.type = open and
    (proc.name = x or
  output: o
  priority: INFO
- rule: literal
  desc: d
  condition: |
    evt.type = open
    and proc.name = = x
  output: o
  priority: INFO
`);
  const [folded, literal] = r.errors;
  assert.equal(folded?.pos?.line, 5);
  assert.equal(folded?.pos?.col, 22);
  // The second '=' of 'and proc.name = = x'.
  assert.equal(literal?.pos?.line, 12);
  assert.equal(literal?.pos?.col, 21);
});

test('override errors point at the offending override entry', () => {
  const r = load(`${rule('r')}- rule: r\n  priority: WARNING\n  override:\n    priority: append\n`);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.message, /Key 'priority' cannot be appended to/);
  assert.equal(r.errors[0]!.pos?.line, 9);
});

test('%container.info is spelled out with a deprecation warning', () => {
  const r = load('- rule: c\n  desc: d\n  condition: evt.type = open\n  output: hit (%container.info)\n  priority: INFO\n');
  assert.equal(r.rules[0]?.output, 'hit (container_id=%container.id container_name=%container.name)');
  assert.ok(r.warnings.some((w) => w.code === 'LOAD_DEPRECATED_ITEM' && w.message.includes('%container.info')));
});
