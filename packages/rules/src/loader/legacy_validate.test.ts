// The rules-validation rows of Falco's legacy regression suite (../shared/corpus/scap/
// EXPECTATIONS.json, rows with validate_rules_file): each file set loads with the errors and
// warnings Falco reports, compared by code and item (type and name).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusPath, corpusSkip, readCorpusJson } from '../testing/corpus.js';
import { readRulesPaths } from './files.js';
import { loadRules } from './load.js';

interface Expected {
  readonly item_type: string;
  readonly item_name: string;
  readonly code: string;
  readonly message?: string;
  readonly message_contains?: string;
}

interface Row {
  readonly test: string;
  readonly other_keys?: {
    readonly validate_rules_file?: readonly string[];
    readonly validate_errors?: readonly Expected[];
    readonly validate_warnings?: readonly Expected[];
  };
}

const LEGACY = 'falco/legacy_python_tests@2583ea9b/test';
const rows = corpusSkip ? [] : readCorpusJson<{ rows: Row[] }>('scap/EXPECTATIONS.json').rows.filter((r) => r.other_keys?.validate_rules_file);

/**
 * Falco 0.33-era codes renamed since: LOAD_UNKNOWN_FIELD is LOAD_UNKNOWN_FILTER in Falco 0.44,
 * whose codes Harrier reports.
 */
const RENAMED: Record<string, string> = { LOAD_UNKNOWN_FIELD: 'LOAD_UNKNOWN_FILTER' };

/** Falco's item types for whole-file problems have no item in Harrier's diagnostics. */
function itemOf(e: Expected): { type: string; name: string } | undefined {
  if (e.item_type === 'rules content' || e.item_type === 'rules content item') return undefined;
  return { type: e.item_type, name: e.item_name };
}

test('legacy rules-validation cases', { skip: corpusSkip }, async (t) => {
  assert.ok(rows.length >= 30, `only ${rows.length} validation rows found`);
  for (const row of rows) {
    await t.test(row.test, () => {
      const files = row.other_keys!.validate_rules_file!.map((f) => join(corpusPath(LEGACY), f));
      const read = readRulesPaths(files);
      assert.deepEqual(read.errors, [], 'every file reads');
      const result = loadRules(read.sources);
      const got = (sev: 'error' | 'warning'): string[] =>
        result.diagnostics.filter((d) => d.severity === sev).map((d) => `${d.code} ${d.item ? `${d.item.type}:${d.item.name}` : '-'}`);
      const want = (list: readonly Expected[] | undefined): string[] =>
        (list ?? []).map((e) => {
          const item = itemOf(e);
          return `${RENAMED[e.code] ?? e.code} ${item ? `${item.type}:${item.name}` : '-'}`;
        });
      const errors = got('error');
      for (const w of want(row.other_keys!.validate_errors)) assert.ok(errors.includes(w), `expected error ${w}; got ${JSON.stringify(errors)}`);
      if ((row.other_keys!.validate_errors ?? []).length === 0) assert.deepEqual(errors, []);
      const warnings = got('warning');
      for (const w of want(row.other_keys!.validate_warnings)) assert.ok(warnings.includes(w), `expected warning ${w}; got ${JSON.stringify(warnings)}`);
    });
  }
});
