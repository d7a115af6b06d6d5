// Falco's capture-based regression suites (../shared/corpus/scap/EXPECTATIONS.json): each row
// replays a capture with rules files and options and checks the alerts per rule or priority.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules, parsePriority, readRulesPaths, substringSelector, type RulesetOptions } from '@harrier/rules';
import { readScap, type ScapCapture } from '../scap/reader.js';
import { replayCapture } from './capture.js';
import { casesFrom, replayKey, type AlertSummary, type ReplayCase } from './expectations.js';
import { ReplayPipeline } from './pipeline.js';

const corpus = process.env['HARRIER_CORPUS'] ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../../shared/corpus');
const expectationsFile = join(corpus, 'scap', 'EXPECTATIONS.json');
const skip = existsSync(expectationsFile) ? false : `conformance corpus not found at ${corpus}`;

const PRIORITY_TEXT: Record<string, string> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};

const captures = new Map<string, ScapCapture>();
const replays = new Map<string, AlertSummary[]>();

function run(c: ReplayCase): AlertSummary[] {
  const key = replayKey(c);
  const done = replays.get(key);
  if (done) return done;
  let cap = captures.get(c.capture);
  if (!cap) {
    cap = readScap(readFileSync(join(corpus, 'scap', c.capture)));
    captures.set(c.capture, cap);
  }
  const read = readRulesPaths(c.rulesFiles.map((f) => join(corpus, f)));
  assert.deepEqual(read.errors, [], 'rules files read');
  const loaded = loadRules(read.sources);
  assert.deepEqual(loaded.errors.map((e) => e.message), [], 'rules load');
  const selections: NonNullable<RulesetOptions['selections']>[number][] = [];
  for (const d of c.disabledRules) selections.push({ enable: false, selector: substringSelector(d) });
  for (const t of c.disabledTags) selections.push({ enable: false, selector: { tag: t } });
  if (c.enabledTags.length > 0) {
    selections.push({ enable: false, selector: {} });
    for (const t of c.enabledTags) selections.push({ enable: true, selector: { tag: t } });
  }
  const alerts: AlertSummary[] = [];
  const p = new ReplayPipeline(loaded, (m) => alerts.push({ rule: m.rule.rule.name, priority: PRIORITY_TEXT[m.rule.rule.priority] ?? m.rule.rule.priority }), {
    ruleset: { selections, minPriority: c.minPriority === undefined ? undefined : parsePriority(c.minPriority) },
  });
  replayCapture(p, cap);
  replays.set(key, alerts);
  return alerts;
}

const cases = skip ? [] : casesFrom(JSON.parse(readFileSync(expectationsFile, 'utf8')) as { rows: unknown[] });

test('EXPECTATIONS.json rows', { skip }, async (t) => {
  assert.ok(cases.length >= 400, `only ${cases.length} rows`);
  for (const c of cases) {
    await t.test(c.name, { skip: c.skip ?? false }, () => {
      const alerts = run(c);
      const problems = c.checks.map((check) => check(alerts)).filter((x): x is string => x !== undefined);
      assert.deepEqual(problems, []);
    });
  }
});
