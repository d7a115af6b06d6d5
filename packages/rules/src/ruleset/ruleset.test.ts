// The ruleset: event-type index, named rulesets and Falco's selection, priorities, rule_matching,
// extra outputs and fields, describe data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldAccessor, FieldRef } from '../accessor.js';
import { fieldMapAccessor, type FieldMapEvent } from '../compiler/fieldmap.js';
import { loadRules } from '../loader/load.js';
import { Ruleset } from './ruleset.js';

const RULES = `
- list: shells
  items: [bash, sh]
- list: more_shells
  items: [shells, zsh]
- macro: spawned
  condition: evt.type = execve
- rule: shell spawned
  desc: a shell ran
  condition: spawned and proc.name in (more_shells)
  output: shell %proc.name
  priority: WARNING
  tags: [process, shell]
- rule: any exec
  desc: anything ran
  condition: spawned
  output: exec %proc.name
  priority: INFO
  tags: [process]
- rule: open etc
  desc: opened /etc
  condition: evt.type in (open, openat) and fd.name startswith /etc
  output: open %fd.name
  priority: ERROR
  tags: [file]
- rule: debug noise
  desc: off by default
  condition: evt.type = open
  output: noise
  priority: DEBUG
  enabled: false
`;

function load() {
  const r = loadRules([{ name: 'rules.yaml', content: RULES }]);
  assert.deepEqual(r.errors, []);
  return r;
}

const execBash: FieldMapEvent = { 'evt.type': 'execve', 'proc.name': 'bash' };
const execLs: FieldMapEvent = { 'evt.type': 'execve', 'proc.name': 'ls' };
const openEtc: FieldMapEvent = { 'evt.type': 'openat', 'fd.name': '/etc/shadow' };
const names = (rs: Ruleset<FieldMapEvent>, e: FieldMapEvent, ruleset?: string) => rs.matches(e, ruleset).map((m) => m.rule.name);

test('rule_matching first stops at the first match in load order; all reports every match', () => {
  const first = new Ruleset(load(), fieldMapAccessor);
  assert.deepEqual(names(first, execBash), ['shell spawned']);
  const all = new Ruleset(load(), fieldMapAccessor, { ruleMatching: 'all' });
  assert.deepEqual(names(all, execBash), ['shell spawned', 'any exec']);
  assert.deepEqual(names(all, execLs), ['any exec']);
  assert.deepEqual(names(all, openEtc), ['open etc']);
  assert.deepEqual(names(all, { 'evt.type': 'close' }), []);
});

test('an event is checked only against rules whose event types include its type', () => {
  const reads: string[] = [];
  const counting: FieldAccessor<FieldMapEvent> = {
    eventType: (e) => fieldMapAccessor.eventType(e),
    reader(ref: FieldRef) {
      const inner = fieldMapAccessor.reader(ref)!;
      return (e) => {
        reads.push(ref.name);
        return inner(e);
      };
    },
  };
  const rs = new Ruleset(load(), counting, { ruleMatching: 'all' });
  assert.deepEqual(rs.rulesFor('openat').map((r) => r.rule.name), ['open etc']);
  rs.matches(openEtc);
  assert.ok(!reads.includes('proc.name'), `exec rules were evaluated for an openat event: ${reads.join(',')}`);
  assert.ok(reads.includes('fd.name'));
});

test('named rulesets start empty; the default one holds the enabled rules', () => {
  const rs = new Ruleset(load(), fieldMapAccessor);
  assert.equal(rs.enabledCount(), 3);
  assert.equal(rs.enabledCount('mine'), 0);
  assert.deepEqual(names(rs, execBash, 'mine'), []);
  rs.enableTags(['shell', 'file'], true, 'mine');
  assert.equal(rs.enabledCount('mine'), 2);
  assert.deepEqual(names(rs, execLs, 'mine'), []);
  assert.deepEqual(names(rs, execBash, 'mine'), ['shell spawned']);
  rs.enable('exec', true, 'mine');
  assert.deepEqual(names(rs, execLs, 'mine'), ['any exec']);
  rs.enableWildcard('*e*c*', false, 'mine');
  assert.deepEqual(rs.enabledRules('mine').map((r) => r.rule.name), ['shell spawned']);
  rs.enableExact('debug noise', true);
  assert.equal(rs.isEnabled('debug noise'), true);
  assert.equal(rs.isEnabled('debug noise', 'mine'), false);
  rs.enable('', false);
  assert.equal(rs.enabledCount(), 0);
  assert.equal(rs.enabledCount('mine'), 1);
});

test('selections from configuration: tags, wildcards, both', () => {
  const rs = new Ruleset(load(), fieldMapAccessor, {
    selections: [
      { enable: false, selector: {} },
      { enable: true, selector: { tag: 'process' } },
      { enable: false, selector: { rule: 'shell*', tag: 'shell' } },
    ],
  });
  assert.deepEqual(rs.enabledRules().map((r) => r.rule.name), ['any exec']);
});

test('minimum priority leaves less severe rules out entirely', () => {
  const rs = new Ruleset(load(), fieldMapAccessor, { minPriority: 'Warning' });
  assert.deepEqual(rs.rules.map((r) => r.rule.name), ['shell spawned', 'open etc']);
  assert.deepEqual(names(rs, execLs), []);
});

test('event types of a ruleset', () => {
  const rs = new Ruleset(load(), fieldMapAccessor);
  assert.deepEqual([...(rs.eventTypes() as Set<string>)].sort(), ['execve', 'open', 'openat']);
  rs.enableTags(['file'], true, 'files');
  assert.deepEqual([...(rs.eventTypes('files') as Set<string>)].sort(), ['open', 'openat']);
});

test('extra outputs and fields apply by source, tags (all of them) and rule, after append_output', () => {
  const rs = new Ruleset(load(), fieldMapAccessor, {
    appendOutput: 'pid=%proc.pid',
    extraOutputs: [
      { format: 'for-process', tags: ['process'] },
      { format: 'for-both-tags', tags: ['process', 'shell'] },
      { format: 'k8s-only', source: 'k8s_audit' },
      { format: 'just-open', rule: 'open etc' },
    ],
    extraFields: [{ key: 'who', format: '%user.name', tags: ['file'] }, { key: 'fixed', format: '%not.a.field', raw: true }],
  });
  const out = (n: string) => rs.rules.find((r) => r.rule.name === n)!;
  assert.equal(out('shell spawned').outputFormat, 'shell %proc.name pid=%proc.pid for-process for-both-tags');
  assert.equal(out('any exec').outputFormat, 'exec %proc.name pid=%proc.pid for-process');
  assert.equal(out('open etc').outputFormat, 'open %fd.name pid=%proc.pid just-open');
  assert.deepEqual([...out('open etc').extraFields.keys()], ['who', 'fixed']);
  assert.equal(out('open etc').extraFields.get('fixed'), '%not.a.field');
  assert.deepEqual([...out('any exec').extraFields.keys()], ['fixed']);
  const d = rs.describe('open etc') as { rules: { details: { output_compiled: string } }[] };
  assert.equal(d.rules[0]!.details.output_compiled, 'open %fd.name pid=%proc.pid just-open');
});

test('an extra output that does not compile is reported naming the rule, not ignored', () => {
  assert.throws(() => new Ruleset(load(), fieldMapAccessor, { extraOutputs: [{ format: '%proc.nope' }] }), /output .* does not compile/);
});

test('describe and list data: merged condition, compiled condition, lists with nested lists expanded', () => {
  const rs = new Ruleset(load(), fieldMapAccessor);
  assert.deepEqual(rs.list()[0], { name: 'shell spawned', description: 'a shell ran' });
  const one = rs.describe('shell spawned') as { rules: { info: Record<string, unknown>; details: Record<string, unknown> }[] };
  assert.equal(one.rules[0]!.info['condition'], 'spawned and proc.name in (more_shells)');
  assert.equal(one.rules[0]!.details['condition_compiled'], '(evt.type = execve and proc.name in (bash, sh, zsh))'); // libs wraps and/or in parentheses
  assert.equal(rs.describe('no such rule'), undefined);
  const all = rs.describe() as { rules: unknown[]; macros: unknown[]; lists: { info: { name: string }; details: { lists: string[]; items_compiled: string[] } }[] };
  assert.equal(all.rules.length, 4);
  assert.equal(all.macros.length, 1);
  const more = all.lists.find((l) => l.info.name === 'more_shells')!;
  assert.deepEqual(more.details, { lists: ['shells'], items_compiled: ['bash', 'sh', 'zsh'] });
});
