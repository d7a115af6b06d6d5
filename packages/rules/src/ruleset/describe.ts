// The data behind Falco's `-L` (names and descriptions) and `--list`/describe_rule JSON: loaded
// rules with their merged and compiled conditions and outputs, macros, and lists with nested
// lists expanded.

import type { LoadResult } from '../loader/load.js';
import { describeRule } from '../loader/describe.js';
import { outputWithExtras, type ExtraOutputFormat } from './extra.js';

export interface DescribeOptions {
  /** Extra output formats, so that `details.output_compiled` shows what alerts will print. */
  readonly extraOutputs?: readonly ExtraOutputFormat[];
}

export interface RuleSummary {
  readonly name: string;
  readonly description: string;
}

/** Rule names and descriptions in load order (`-L`). */
export function listRules(result: LoadResult): RuleSummary[] {
  return result.rules.map((r) => ({ name: r.name, description: r.desc }));
}

/** Describe JSON for one rule (`{rules: [..]}`), or undefined when no loaded rule has that name. */
export function describeOne(result: LoadResult, name: string, opts: DescribeOptions = {}): Record<string, unknown> | undefined {
  const r = result.rules.find((x) => x.name === name);
  if (!r) return undefined;
  return { rules: [describeRule(r, outputWithExtras(r, opts.extraOutputs ?? []))] };
}

/** Describe JSON for everything loaded: rules, macros and lists. */
export function describeAll(result: LoadResult, opts: DescribeOptions = {}): Record<string, unknown> {
  const listNames = [...result.lists.keys()];
  return {
    rules: result.rules.map((r) => describeRule(r, outputWithExtras(r, opts.extraOutputs ?? []))),
    macros: [...result.macros].map(([name, m]) => ({ info: { name, condition: m.condition } })),
    lists: [...result.lists].map(([name, l], i) => {
      // A list may only name lists defined before it; later names stay plain values, as in Falco.
      const earlier = new Set(listNames.slice(0, i));
      return {
        info: { name, items: l.items },
        details: { lists: l.items.filter((it) => earlier.has(it)), items_compiled: expandItems(result, l.items, earlier) },
      };
    }),
  };
}

function unquote(s: string): string {
  const q = s[0];
  return (q === '"' || q === "'") && s.length >= 2 && s.endsWith(q) ? s.slice(1, -1) : s;
}

function expandItems(result: LoadResult, items: readonly string[], lists: ReadonlySet<string>, seen: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const it of items) {
    const ref = lists.has(it) && !seen.has(it) ? result.lists.get(it) : undefined;
    if (ref) out.push(...expandItems(result, ref.items, lists, new Set([...seen, it])));
    else out.push(unquote(it));
  }
  return out;
}
