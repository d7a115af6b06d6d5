// Batch evaluation must give exactly the matches per-event evaluation gives, in the same order:
// over hand-written events that reach every kind of batch node, and over many generated and
// scrambled events with Harrier's own rules and (when the corpus is present) the upstream rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldValue } from '../accessor.js';
import type { Expr } from '../ast.js';
import { fieldKey, fieldMapAccessor } from '../compiler/fieldmap.js';
import { classOf } from '../compiler/values.js';
import { resolveField } from '../fields/registry.js';
import { loadRules, type LoadResult } from '../loader/load.js';
import { corpusPath, corpusSkip, repoDir } from '../testing/corpus.js';
import { ColumnBatch, ColumnSchema, columnAccessor } from '../testing/columns.js';
import { generateEvents } from '../testing/events.js';
import { Ruleset, RulesetError } from './ruleset.js';

type Ev = Record<string, FieldValue>;

/** Every (row, rule) match, per event through `evaluate` and per batch through `evaluateBatch`. */
function bothWays(loaded: LoadResult, events: readonly Ev[], batchSize: number, matching: 'first' | 'all', repeat = 1): { perEvent: string[]; batch: string[] } {
  const schema = new ColumnSchema();
  const acc = columnAccessor(schema);
  const rs = new Ruleset(loaded, acc, { source: 'syscall', ruleMatching: matching });
  const byMap = new Ruleset(loaded, fieldMapAccessor, { source: 'syscall', ruleMatching: matching });
  const batches: ColumnBatch[] = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(new ColumnBatch(schema, events.slice(i, i + batchSize)));
  const perEvent: string[] = [];
  const viaMap: string[] = [];
  let base = 0;
  for (const b of batches) {
    for (let row = 0; row < b.length; row++) {
      rs.evaluate(acc.at(b, row), (r) => perEvent.push(`${base + row}:${r.rule.name}`));
      byMap.evaluate(events[base + row]!, (r) => viaMap.push(`${base + row}:${r.rule.name}`));
    }
    base += b.length;
  }
  assert.deepEqual(perEvent, viaMap, 'the column accessor and the field-map accessor disagree');
  let batch: string[] = [];
  for (let k = 0; k < repeat; k++) {
    batch = [];
    base = 0;
    for (const b of batches) {
      const n = rs.evaluateBatch(b, (r, row) => batch.push(`${base + row}:${r.rule.name}`));
      assert.equal(n, batch.filter((m) => Number(m.split(':')[0]) >= base).length);
      base += b.length;
    }
    assert.deepEqual(batch, perEvent, `pass ${k + 1}`);
  }
  return { perEvent, batch };
}

/** Generated events with fields dropped and values swapped between events at random. */
function scrambled(count: number, seed: number): Ev[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const events = generateEvents({ count, suspiciousRate: 0.3, seed });
  const pool = new Map<string, FieldValue[]>();
  for (const e of events) for (const [k, v] of Object.entries(e)) (pool.get(k) ?? pool.set(k, []).get(k)!).push(v);
  for (const e of events) {
    for (const k of Object.keys(e)) {
      if (k === 'evt.type') continue;
      const r = rnd();
      if (r < 0.1) delete e[k];
      else if (r < 0.25) {
        const vals = pool.get(k)!;
        e[k] = vals[Math.floor(rnd() * vals.length)]!;
      }
    }
  }
  return events;
}

/**
 * Events built from the rules' own literals: each field a rule compares gets, at random, one of
 * the values the rules compare it with (made to fit startswith/endswith/contains/pmatch), another
 * value, or nothing. This reaches branches of every rule that benign-looking events never do.
 */
function ruleAwareEvents(loaded: LoadResult, count: number, seed: number): Ev[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const literals = new Map<string, { cls: string; values: string[] }>();
  const walk = (e: Expr): void => {
    if (e.kind === 'and' || e.kind === 'or') e.children.forEach(walk);
    else if (e.kind === 'not') walk(e.child);
    else if (e.kind === 'binary' && e.left.kind === 'field' && (e.right.kind === 'value' || e.right.kind === 'list')) {
      const r = resolveField(e.left.name, e.left.arg);
      if (!r.ok || r.info.list || (r.info.arg === 'optional' && r.arg === undefined && e.left.name.startsWith('proc.a'))) return;
      const key = fieldKey(r.info.name, r.arg);
      const entry = literals.get(key) ?? { cls: classOf(r.info.type), values: [] };
      literals.set(key, entry);
      const vals = e.right.kind === 'list' ? e.right.values.map((v) => v.value) : [e.right.value];
      const op = e.op.split(' ')[0]!;
      for (const v of vals) {
        if (op === 'startswith' || op === 'pmatch') entry.values.push(v, `${v}/x`, `${v}x`);
        else if (op === 'endswith') entry.values.push(v, `/x/${v}`);
        else if (op === 'contains' || op === 'icontains') entry.values.push(v, `a ${v} b`);
        else entry.values.push(v);
      }
    }
  };
  for (const r of loaded.rules) walk(r.ast);
  const types = [...new Set(loaded.rules.flatMap((r) => [...r.eventTypes.names]))];
  const keys = [...literals.keys()];
  const events: Ev[] = [];
  for (let i = 0; i < count; i++) {
    const e: Ev = { 'evt.type': pick(types) };
    for (const key of keys) {
      const r = rnd();
      if (r < 0.5) continue;
      const { cls, values } = literals.get(key)!;
      const text = r < 0.85 ? pick(values) : pick(literals.get(pick(keys))!.values);
      if (cls === 'num') {
        const n = Number(text);
        e[key] = Number.isFinite(n) ? n : Math.floor(rnd() * 70000);
      } else if (cls === 'bool') e[key] = text === 'true' || (text !== 'false' && rnd() < 0.5);
      else e[key] = text;
    }
    if (e['evt.type'] === 'execve' || rnd() < 0.2) e['proc.aname'] = [pick(literals.get('proc.pname')?.values ?? ['x']), 'systemd'];
    events.push(e);
  }
  return events;
}

const HAND = `
- list: shells
  items: [bash, sh, zsh]
- macro: spawned
  condition: evt.type = execve and evt.dir = <
- macro: net
  condition: evt.type in (connect, accept4) and fd.typechar = 4
- rule: shell
  desc: a shell
  condition: spawned and proc.name in (shells) and not proc.pname in (make, sshd)
  output: shell %proc.name
  priority: WARNING
- rule: shell grandchild
  desc: any-ancestor and indexed-ancestor fields, row by row
  condition: spawned and (proc.aname = sshd or proc.aname[2] = sshd) and not proc.name exists
  output: x
  priority: NOTICE
- rule: outbound
  desc: either-end fields and networks
  condition: net and not fd.ip = 127.0.0.1 and (fd.sport >= 443 or fd.snet in (10.0.0.0/8)) and fd.num > 2
  output: x
  priority: NOTICE
- rule: upper name
  desc: a transformer
  condition: spawned and toupper(proc.name) = BASH and proc.tty != 0
  output: x
  priority: NOTICE
- rule: field compare
  desc: field-to-field
  condition: spawned and proc.name = val(proc.pname)
  output: x
  priority: NOTICE
- rule: read etc
  desc: open of /etc under a modifier and pmatch
  condition: evt.type in (open, openat) and fd.name startswith /etc and (fd.name pmatch (/etc/shadow, /etc/sudoers) or fd.name contains anyof (passwd, group))
  output: x
  priority: ERROR
- rule: anything
  desc: matches every event type it is given
  condition: evt.num > 0 and not evt.num = 3
  output: x
  priority: DEBUG
`;

test('batch evaluation reaches every node kind and agrees with per-event evaluation', () => {
  const loaded = loadRules([{ name: 'hand.yaml', content: HAND }]);
  assert.deepEqual(loaded.errors, []);
  const events: Ev[] = [
    { 'evt.num': 1, 'evt.type': 'execve', 'evt.dir': '<', 'proc.name': 'bash', 'proc.pname': 'nginx', 'proc.tty': 34816 },
    { 'evt.num': 2, 'evt.type': 'execve', 'evt.dir': '<', 'proc.aname': ['sh', 'sshd', 'systemd'], 'proc.aname[2]': 'sshd' },
    { 'evt.num': 3, 'evt.type': 'connect', 'fd.typechar': '4', 'fd.cip': '10.1.1.1', 'fd.sip': '10.0.0.9', 'fd.sport': 80, 'fd.num': 5 },
    { 'evt.num': 4, 'evt.type': 'connect', 'fd.typechar': '4', 'fd.cip': '127.0.0.1', 'fd.sip': '8.8.8.8', 'fd.sport': 443, 'fd.num': 5 },
    { 'evt.num': 5, 'evt.type': 'accept4', 'fd.typechar': '4', 'fd.cip': '192.168.1.2', 'fd.sip': '8.8.4.4', 'fd.sport': 8443, 'fd.num': 1 },
    { 'evt.num': 6, 'evt.type': 'openat', 'fd.name': '/etc/shadow' },
    { 'evt.num': 7, 'evt.type': 'open', 'fd.name': '/etc/passwd-' },
    { 'evt.num': 8, 'evt.type': 'open', 'fd.name': '/etc/hosts' },
    { 'evt.num': 9, 'evt.type': 'execve', 'evt.dir': '<', 'proc.name': 'sh', 'proc.pname': 'sh' },
    { 'evt.num': 10, 'evt.type': 'execve', 'evt.dir': '<', 'proc.name': 'zsh', 'proc.pname': 'make' },
    { 'evt.num': 11, 'evt.type': 'mkdir' },
  ];
  for (const matching of ['first', 'all'] as const) {
    for (const size of [1, 3, 11]) {
      const { batch } = bothWays(loaded, events, size, matching, 12);
      if (matching === 'all' && size === 11) {
        assert.deepEqual(batch, [
          '0:shell',
          '0:upper name',
          '0:anything',
          '1:shell grandchild',
          '1:anything',
          '2:outbound',
          '3:anything',
          '4:anything',
          '5:read etc',
          '5:anything',
          '6:read etc',
          '6:anything',
          '7:anything',
          '8:shell',
          '8:field compare',
          '8:anything',
          '9:anything',
          '10:anything',
        ]);
      }
    }
  }
});

test("batch evaluation agrees with per-event evaluation over Harrier's rules and scrambled events", () => {
  const loaded = loadRules([{ name: 'harrier_rules.yaml', content: readFileSync(join(repoDir, 'rules', 'harrier_rules.yaml'), 'utf8') }]);
  assert.deepEqual(loaded.errors, []);
  const events = scrambled(6000, 7);
  for (const matching of ['first', 'all'] as const) {
    const { batch } = bothWays(loaded, events, 1000, matching, 10);
    assert.ok(batch.length > 100, `only ${batch.length} matches: the events do not exercise the rules`);
  }
});

test('batch evaluation agrees with per-event evaluation over the upstream rules', { skip: corpusSkip }, () => {
  const files = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'];
  const loaded = loadRules(files.map((f) => ({ name: f, content: readFileSync(corpusPath(`rules/falcosecurity-rules@main/${f}`), 'utf8') })));
  assert.deepEqual(loaded.errors, []);
  for (const [events, size, want] of [
    [ruleAwareEvents(loaded, 20000, 3), 4096, 12],
    [scrambled(8000, 11), 4096, 1],
    [generateEvents({ count: 5000, suspiciousRate: 0.2, seed: 5 }), 777, 1],
  ] as const) {
    for (const matching of ['first', 'all'] as const) {
      const { batch } = bothWays(loaded, events, size, matching, 10);
      const rules = new Set(batch.map((m) => m.slice(m.indexOf(':') + 1)));
      assert.ok(rules.size >= want, `only ${rules.size} rules matched: ${[...rules].join(', ')}`);
    }
  }
});

test('evaluateBatch over a per-event accessor is refused with a clear error', () => {
  const loaded = loadRules([{ name: 'hand.yaml', content: HAND }]);
  const rs = new Ruleset(loaded, fieldMapAccessor, { source: 'syscall' });
  assert.throws(() => rs.evaluateBatch([]), (e: unknown) => e instanceof RulesetError && /batch accessor/.test(e.message));
});
