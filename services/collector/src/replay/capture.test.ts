// Every corpus capture replays through the whole pipeline (reader, state engine, batches, the
// upstream rules) without an error, every event accounted for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '@harrier/rules';
import { readScap } from '../scap/reader.js';
import { replayCapture } from './capture.js';
import { ReplayPipeline } from './pipeline.js';

const corpus = process.env['HARRIER_CORPUS'] ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../../shared/corpus');
const skip = existsSync(join(corpus, 'scap')) ? false : `conformance corpus not found at ${corpus}`;

test('every corpus capture replays with the upstream rules', { skip }, () => {
  const files = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'];
  const loaded = loadRules(files.map((f) => ({ name: f, content: readFileSync(join(corpus, 'rules', 'falcosecurity-rules@main', f), 'utf8') })));
  assert.deepEqual(loaded.errors, []);
  const captures = ['falco', 'libs'].flatMap((d) => readdirSync(join(corpus, 'scap', d)).filter((f) => f.endsWith('.scap')).map((f) => join(corpus, 'scap', d, f)));
  assert.ok(captures.length >= 16, `${captures.length} captures`);
  const summary: string[] = [];
  for (const file of captures) {
    const cap = readScap(readFileSync(file));
    let alerts = 0;
    const p = new ReplayPipeline(loaded, () => alerts++);
    replayCapture(p, cap);
    const known = [...cap.events].filter((e) => e.info !== undefined).length;
    assert.equal(p.counts.events, known, `${file}: every event reached the state engine`);
    summary.push(`${file.split('/').slice(-2).join('/')}: ${p.counts.events} events, ${p.counts.evaluated} evaluated, ${alerts} alerts`);
  }
  console.log(summary.join('\n'));
});
