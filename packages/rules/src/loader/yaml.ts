// Reads rules files as YAML with node positions, so every diagnostic can point at file:line:col.

import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, type Node, type YAMLMap, type Pair, Scalar } from 'yaml';
import type { SourcePos } from '../diagnostics.js';

export interface YamlItem {
  readonly node: YAMLMap;
  readonly pos: SourcePos;
}

export interface ReadResult {
  readonly items: YamlItem[];
  readonly errors: { message: string; pos: SourcePos; code: 'LOAD_ERR_YAML_PARSE' | 'LOAD_ERR_YAML_VALIDATE' }[];
}

export class Positions {
  private readonly lc = new LineCounter();
  constructor(
    readonly file: string,
    private readonly source: string = '',
  ) {}
  get counter(): LineCounter {
    return this.lc;
  }
  at(offset: number): SourcePos {
    const p = this.lc.linePos(offset);
    return { file: this.file, line: p.line, col: p.col, offset };
  }
  of(node: Node | Pair | null | undefined): SourcePos {
    const range = node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined;
    return this.at(range?.[0] ?? 0);
  }

  /**
   * Maps an offset in a scalar's value to its place in the file. The value differs from the text
   * (block headers, quotes, escapes, folded line breaks), so whitespace runs are matched as runs
   * and characters the value lacks are skipped: exact for plain text, close for the rest.
   */
  valueMap(node: Node | null | undefined): (idx: number) => SourcePos {
    if (!node || !isScalar(node) || !node.range) {
      const p = this.of(node);
      return () => p;
    }
    const [from, end] = node.range;
    let start = from;
    if (node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') {
      const nl = this.source.indexOf('\n', from);
      start = nl < 0 || nl >= end ? from : nl + 1;
      while (start < end && (this.source[start] === ' ' || this.source[start] === '\t')) start++;
    } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') start = from + 1;
    const value = String(node.value);
    const ws = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
    return (idx: number): SourcePos => {
      let s = start;
      let v = 0;
      while (v < idx && s < end) {
        if (ws(value[v])) {
          while (v < idx && ws(value[v])) v++;
          while (s < end && ws(this.source[s])) s++;
        } else if (value[v] === this.source[s]) {
          v++;
          s++;
        } else s++;
      }
      // Past the text (an error at its very end): point after its last character, not at the next line.
      let last = end;
      while (last > start && ws(this.source[last - 1])) last--;
      return this.at(Math.min(s, last));
    };
  }
}

/** Parses a rules file: a YAML sequence of maps per document. Bad documents are reported, not thrown. */
export function readRulesYaml(file: string, content: string): { result: ReadResult; positions: Positions } {
  const positions = new Positions(file, content);
  const items: YamlItem[] = [];
  const errors: ReadResult['errors'][number][] = [];
  const docs = parseAllDocuments(content, { lineCounter: positions.counter, uniqueKeys: false, prettyErrors: false, strict: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push({ code: 'LOAD_ERR_YAML_PARSE', message: `YAML parse error: ${e.message.split('\n')[0]}`, pos: positions.at(e.pos[0]) });
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) continue;
    if (!isSeq(root)) {
      errors.push({ code: 'LOAD_ERR_YAML_VALIDATE', message: 'rules content must be a YAML list of items (- rule: ..., - macro: ..., - list: ...)', pos: positions.of(root) });
      continue;
    }
    for (const it of root.items) {
      if (!isMap(it)) {
        errors.push({ code: 'LOAD_ERR_YAML_VALIDATE', message: 'unexpected element type: each list element must be a map such as "- rule: name"', pos: positions.of(it) });
        continue;
      }
      items.push({ node: it, pos: positions.of(it) });
    }
  }
  return { result: { items, errors }, positions };
}

export function scalarKey(p: Pair): string | undefined {
  const k = p.key;
  if (isScalar(k)) return String(k.value);
  return undefined;
}

export { isMap, isSeq, isScalar, Scalar };
