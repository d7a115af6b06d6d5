// BatchEvaluator: each match becomes an alert of the contract, its output starting with the event
// time in the form time_format_iso_8601 asks for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchAccessor } from '@harrier/batch';
import { loadRules, Ruleset } from '@harrier/rules';
import { BatchEvaluator } from './evaluate.js';
import { LOAD_RULES, LoadGenerator } from './testing/load.js';

test('alerts follow time_format_iso_8601 in their output, and keep time and fields either way', () => {
  const ruleset = new Ruleset(loadRules([{ name: 'load.yaml', content: LOAD_RULES }]), batchAccessor(), { source: 'syscall' });
  const lookup = { rulesetFor: (s: string) => (s === 'syscall' ? ruleset : undefined) };
  const gen = new LoadGenerator({ collectorId: 'c', partitions: 4, containers: 1, eventsPerBatch: 20, hitEvery: 10 });
  const bytes = gen.next().bytes;
  const plain = new BatchEvaluator(lookup).evaluate(bytes).alerts;
  const iso = new BatchEvaluator(lookup, { timeIso8601: true }).evaluate(bytes).alerts;
  assert.equal(plain.length, 2);
  assert.equal(iso.length, 2);
  // The load's events are 1.7e18 ns + num us: 2023-11-14T22:13:20.000010000Z for num 10.
  assert.equal(plain[0]!.json.time, '2023-11-14T22:13:20.000010000Z');
  assert.match(plain[0]!.json.output, /^22:13:20\.000010000: Warning marker opened \(file=/);
  assert.match(iso[0]!.json.output, /^2023-11-14T22:13:20\.000010000\+0000: Warning marker opened \(file=/);
  assert.equal(iso[0]!.json.time, plain[0]!.json.time);
  assert.deepEqual(iso[0]!.json.output_fields, plain[0]!.json.output_fields);
});
