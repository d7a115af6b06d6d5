// Locates the shared conformance corpus (../shared/corpus beside the repository) for tests.
// Tests that need it skip with a clear message when it is absent.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');

/** Absolute path of the corpus folder (HARRIER_CORPUS overrides the default `<repo>/../shared/corpus`). */
export const corpusDir: string = process.env['HARRIER_CORPUS'] ?? resolve(repoRoot, '..', 'shared', 'corpus');

/** True when the corpus folder is present. */
export const hasCorpus: boolean = existsSync(join(corpusDir, 'README.md'));

/** The reason to give `test(..., { skip })` when the corpus is absent, or false when present. */
export const corpusSkip: string | false = hasCorpus ? false : `conformance corpus not found at ${corpusDir}`;

export function corpusPath(rel: string): string {
  return join(corpusDir, rel);
}

export function readCorpusJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(corpusPath(rel), 'utf8')) as T;
}

/** Absolute path of the repository root. */
export const repoDir: string = repoRoot;
