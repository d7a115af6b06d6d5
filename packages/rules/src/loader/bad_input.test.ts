// Bad rules files get diagnostics with positions, never a crash or a hang, and one bad item does
// not hide the others' diagnostics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from './load.js';

const load = (content: string, name = 'bad.yaml') => loadRules([{ name, content }]);

test('not YAML: parse error with a position', () => {
  const r = load('- rule: x\n  desc: [unclosed\n  condition: evt.type=open\n');
  assert.equal(r.ok, false);
  const e = r.errors[0]!;
  assert.equal(e.code, 'LOAD_ERR_YAML_PARSE');
  assert.equal(e.pos?.file, 'bad.yaml');
  assert.ok((e.pos?.line ?? 0) >= 2, JSON.stringify(e.pos));
});

test('top level that is not a list, and list elements that are not maps', () => {
  const r = load('rule: x\n');
  assert.equal(r.errors[0]?.code, 'LOAD_ERR_YAML_VALIDATE');
  const r2 = load('- just a string\n- 42\n');
  assert.equal(r2.errors.length, 2);
  assert.deepEqual(r2.errors.map((e) => e.pos?.line), [1, 2]);
});

test('wrong types are reported per key, with the item named', () => {
  const r = load(`
- rule: typed wrong
  desc: x
  condition: evt.type = open
  output: o
  priority: INFO
  tags: notalist
  enabled: maybe
`);
  const msgs = r.errors.map((e) => e.message);
  assert.ok(msgs.some((m) => m.includes("'tags' must be a list of strings")), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.includes("'enabled' must be true or false")), msgs.join('\n'));
  assert.ok(r.errors.every((e) => e.item?.name === 'typed wrong'));
  assert.equal(r.errors.find((e) => e.message.includes('tags'))?.pos?.line, 7);
});

test('unknown keys warn and the rule still loads', () => {
  const r = load('- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  typo_field: 1\n');
  assert.equal(r.ok, true);
  const w = r.warnings.find((x) => x.code === 'LOAD_UNKNOWN_KEY');
  assert.ok(w);
  assert.equal(w.pos?.line, 6);
});

test('macro cycles are errors, not hangs', () => {
  const r = load(`
- macro: a
  condition: b and proc.name = x
- macro: b
  condition: a or proc.name = y
- rule: r
  desc: d
  condition: evt.type = open and a
  output: o
  priority: INFO
`);
  assert.equal(r.ok, false);
  assert.ok(r.errors.some((e) => e.message.includes('refers to itself')), r.errors.map((e) => e.message).join('\n'));
});

test('list cycles are errors, not hangs', () => {
  const r = load(`
- list: l1
  items: [l2, a]
- list: l2
  items: [l1, b]
- rule: r
  desc: d
  condition: evt.type = open and proc.name in (l1)
  output: o
  priority: INFO
`);
  assert.equal(r.ok, false);
  assert.ok(r.errors.some((e) => e.message.includes('refers to itself')));
});

test('an undefined macro is an error naming it; other rules still load and report', () => {
  const r = load(`
- rule: uses missing macro
  desc: d
  condition: evt.type = open and not_defined_anywhere
  output: o
  priority: INFO
- rule: bad field
  desc: d
  condition: evt.type = open and proc.nmae = x
  output: o
  priority: INFO
- rule: fine
  desc: d
  condition: evt.type = open and proc.name in (undefined_list_is_a_value)
  output: o
  priority: INFO
`);
  assert.equal(r.errors.length, 2);
  assert.ok(r.errors[0]!.message.includes("Undefined macro 'not_defined_anywhere'"));
  assert.equal(r.errors[0]!.item?.name, 'uses missing macro');
  assert.ok(r.errors[1]!.message.includes("unknown field 'proc.nmae'"));
  assert.ok(r.errors[1]!.message.includes("did you mean 'proc.name'"));
  assert.deepEqual(r.rules.map((x) => x.name), ['fine']);
});

test('a syntax error points into the condition', () => {
  const r = load('- rule: r\n  desc: d\n  condition: evt.type = open and (proc.name = x\n  output: o\n  priority: INFO\n');
  const e = r.errors[0]!;
  assert.equal(e.code, 'LOAD_ERR_COMPILE_CONDITION');
  assert.equal(e.pos?.line, 3);
  assert.ok((e.pos?.col ?? 0) > 14, JSON.stringify(e.pos));
});

test('a 10 MB condition loads or fails cleanly and promptly', () => {
  const cond = 'evt.type = open and (' + Array.from({ length: 330_000 }, (_, i) => `proc.name = p${i}`).join(' or ') + ')';
  assert.ok(cond.length > 7_000_000);
  const t0 = performance.now();
  const r = load(`- rule: huge\n  desc: d\n  condition: ${cond}\n  output: o\n  priority: INFO\n`);
  assert.ok(performance.now() - t0 < 60_000);
  assert.equal(r.ok, true, r.errors.map((e) => e.message).join('\n'));
  assert.equal(r.rules.length, 1);
  const deep = load(`- rule: deep\n  desc: d\n  condition: ${'('.repeat(200_000)}evt.type = open${')'.repeat(200_000)}\n  output: o\n  priority: INFO\n`);
  assert.equal(deep.ok, false);
  assert.ok(deep.errors[0]!.message.includes('exceeded max depth limit of 100'));
});

test('invalid priority and output are reported with their codes', () => {
  const r = load('- rule: r\n  desc: d\n  condition: evt.type = open\n  output: "%proc.nope"\n  priority: SEVERE\n- rule: r2\n  desc: d\n  condition: evt.type = open\n  output: "%proc.nope"\n  priority: INFO\n');
  assert.ok(r.errors.some((e) => e.code === 'LOAD_ERR_VALIDATE' && e.message.includes("Invalid priority 'SEVERE'")));
  assert.ok(r.errors.some((e) => e.code === 'LOAD_ERR_COMPILE_OUTPUT' && e.item?.name === 'r2'));
});
