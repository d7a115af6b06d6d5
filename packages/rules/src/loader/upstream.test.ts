// Every upstream rules file in the corpus loads with zero errors, the way Falco loads it, and the
// rule/macro/list counts match the distinct names counted directly from the YAML.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { corpusPath, corpusSkip } from '../testing/corpus.js';
import { loadRules } from './load.js';
import { Ruleset } from '../ruleset/ruleset.js';
import { fieldMapAccessor } from '../compiler/fieldmap.js';

/** Distinct names per item kind, counted straight from the YAML, independent of the loader. */
function countNames(files: readonly string[]): { rules: number; macros: number; lists: number } {
  const names = { rule: new Set<string>(), macro: new Set<string>(), list: new Set<string>() };
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(corpusPath(f), 'utf8'))) {
      const items = doc.toJSON() as Record<string, unknown>[] | null;
      for (const it of items ?? []) {
        for (const k of ['rule', 'macro', 'list'] as const) if (typeof it[k] === 'string') names[k].add(it[k]);
      }
    }
  }
  return { rules: names.rule.size, macros: names.macro.size, lists: names.list.size };
}

const MAIN = 'rules/falcosecurity-rules@main/';
const R320 = 'rules/falcosecurity-rules@falco-rules-3.2.0/';
const R331 = 'rules/falco-repo@0.33.1/';
const SETS: { files: string[]; expect: { rules: number; macros: number; lists: number } }[] = [
  { files: [MAIN + 'falco_rules.yaml'], expect: { rules: 25, macros: 87, lists: 49 } },
  { files: [MAIN + 'falco_rules.yaml', MAIN + 'falco-incubating_rules.yaml'], expect: { rules: 56, macros: 157, lists: 83 } },
  { files: [MAIN + 'falco_rules.yaml', MAIN + 'falco-sandbox_rules.yaml'], expect: { rules: 62, macros: 258, lists: 95 } },
  { files: [MAIN + 'falco_rules.yaml', MAIN + 'falco-incubating_rules.yaml', MAIN + 'falco-sandbox_rules.yaml'], expect: { rules: 93, macros: 315, lists: 118 } },
  { files: [MAIN + 'falco_rules.yaml', MAIN + 'falco-deprecated_rules.yaml'], expect: { rules: 29, macros: 90, lists: 57 } },
  { files: [MAIN + 'falco_rules.yaml', MAIN + 'application_rules.yaml'], expect: { rules: 25, macros: 108, lists: 49 } },
  { files: ['rules/falcosecurity-rules@falco-rules-1.0.1/falco_rules.yaml'], expect: { rules: 80, macros: 297, lists: 117 } },
  { files: [R320 + 'falco_rules.yaml'], expect: { rules: 25, macros: 86, lists: 49 } },
  { files: [R320 + 'falco_rules.yaml', R320 + 'falco-incubating_rules.yaml'], expect: { rules: 56, macros: 155, lists: 83 } },
  { files: [R320 + 'falco_rules.yaml', R320 + 'falco-sandbox_rules.yaml'], expect: { rules: 54, macros: 247, lists: 90 } },
  { files: [R320 + 'falco_rules.yaml', R320 + 'falco-incubating_rules.yaml', R320 + 'falco-sandbox_rules.yaml'], expect: { rules: 85, macros: 304, lists: 114 } },
  { files: ['rules/falcosecurity-rules@falco-rules-4.0.0/falco_rules.yaml'], expect: { rules: 25, macros: 86, lists: 49 } },
  { files: ['rules/falco-repo@0.31.1/falco_rules.yaml'], expect: { rules: 69, macros: 296, lists: 108 } },
  { files: ['rules/falco-repo@0.31.1/k8s_audit_rules.yaml'], expect: { rules: 39, macros: 39, lists: 13 } },
  { files: [R331 + 'falco_rules.yaml'], expect: { rules: 75, macros: 292, lists: 110 } },
  { files: [R331 + 'falco_rules.yaml', R331 + 'application_rules.yaml'], expect: { rules: 75, macros: 313, lists: 110 } },
  { files: [R331 + 'falco_rules.yaml', R331 + 'falco_rules.local.yaml'], expect: { rules: 75, macros: 292, lists: 110 } },
  {
    files: [R331 + 'falco_rules.yaml', R331 + 'application_rules.yaml', R331 + 'falco_rules.local.yaml'],
    expect: { rules: 75, macros: 313, lists: 110 },
  },
  { files: ['rules/falcosecurity-plugins@main/k8s_audit_rules.yaml'], expect: { rules: 48, macros: 45, lists: 18 } },
];

for (const set of SETS) {
  test(`loads ${set.files.map((f) => f.replace('rules/', '')).join(' + ')}`, { skip: corpusSkip }, () => {
    const r = loadRules(set.files.map((f) => ({ name: f, content: readFileSync(corpusPath(f), 'utf8') })));
    assert.deepEqual(r.errors.map((e) => `${e.pos?.line}: ${e.message}`), []);
    assert.deepEqual(r.counts, set.expect);
    assert.deepEqual(r.counts, countNames(set.files));
    // Every rule of a source Harrier evaluates compiled.
    assert.equal(r.rules.length, set.expect.rules);
    // ...and against an event representation, with the default ruleset holding the enabled ones.
    const rs = new Ruleset(r, fieldMapAccessor);
    assert.equal(rs.enabledCount(), r.rules.filter((x) => x.enabled).length);
  });
}

test('the cloudtrail rules need a plugin Harrier does not provide: one clear diagnostic, rules skipped', { skip: corpusSkip }, () => {
  const f = 'rules/falco-repo@0.31.1/aws_cloudtrail_rules.yaml';
  const r = loadRules([{ name: f, content: readFileSync(corpusPath(f), 'utf8') }]);
  assert.deepEqual(r.errors, []);
  const plugin = r.warnings.filter((w) => w.message.includes("Plugin 'cloudtrail' is required but Harrier does not provide it"));
  assert.equal(plugin.length, 1);
  assert.equal(plugin[0]!.pos?.file, f);
  assert.equal(r.rules.length, 0);
  assert.equal(r.counts.rules, countNames([f]).rules);
  assert.equal(r.counts.rules, 22);
});
