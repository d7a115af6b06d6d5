// Reads rules files and directories from disk in Falco's order: paths as given, a directory's
// *.yaml / *.yml files sorted by name. Unreadable paths become diagnostics, not exceptions.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import type { RulesSource } from './load.js';

export interface ReadPathsResult {
  readonly sources: RulesSource[];
  readonly errors: Diagnostic[];
}

export function readRulesPaths(paths: readonly string[]): ReadPathsResult {
  const sources: RulesSource[] = [];
  const errors: Diagnostic[] = [];
  const readOne = (p: string): void => {
    try {
      sources.push({ name: p, content: readFileSync(p, 'utf8') });
    } catch (err) {
      errors.push({ severity: 'error', code: 'LOAD_ERR_FILE_READ', message: `cannot read rules file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, pos: { file: p, line: 1, col: 1, offset: 0 } });
    }
  };
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      /* reported by readOne */
    }
    if (!isDir) {
      readOne(p);
      continue;
    }
    const names = readdirSync(p).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
    for (const n of names) readOne(join(p, n));
  }
  return { sources, errors };
}
