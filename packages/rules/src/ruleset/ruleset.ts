// A loaded ruleset compiled against one event representation: rules indexed by event type, so an
// event is checked only against rules that can match its type; enable/disable by name, wildcard
// and tag; minimum priority; Falco's rule_matching first|all.

import type { FieldAccessor } from '../accessor.js';
import { compileFilter, type Filter, type SharedCompilation } from '../compiler/compile.js';
import type { Expr } from '../ast.js';
import { hasType } from '../compiler/evttypes.js';
import { globToRegExp } from '../compiler/values.js';
import type { LoadedRule } from '../loader/load.js';
import { compileOutput, priorityRank, type CompiledOutput, type Priority } from '../output/format.js';

export interface RuleSelector {
  /** Rule name; `*` matches any run of characters. */
  readonly rule?: string;
  readonly tag?: string;
}

export interface RulesetOptions {
  /** Rules less severe than this never match (Falco's `priority`). */
  readonly minPriority?: Priority;
  /** `first`: stop at the first matching rule per event (Falco's default); `all`: every match. */
  readonly ruleMatching?: 'first' | 'all';
  /** Applied in order after each rule's own `enabled`: Falco's `rules:` config entries, -D, -T, -t. */
  readonly selections?: readonly { readonly enable: boolean; readonly selector: RuleSelector }[];
  /** Extra text appended to every output (Falco's `append_output` / -p). */
  readonly appendOutput?: string;
  /** Source of events evaluated (rules for other sources are left out). Default: every source. */
  readonly source?: string;
}

export interface CompiledRule<E> {
  readonly rule: LoadedRule;
  readonly filter: Filter<E>;
  readonly output: CompiledOutput<E>;
  readonly index: number;
}

export class Ruleset<E> {
  readonly rules: readonly CompiledRule<E>[];
  private readonly byType = new Map<string, CompiledRule<E>[]>();
  private readonly first: boolean;
  private readonly sharing: SharedCompilation<E>;

  constructor(
    loaded: readonly LoadedRule[],
    private readonly accessor: FieldAccessor<E>,
    opts: RulesetOptions = {},
  ) {
    this.first = (opts.ruleMatching ?? 'first') === 'first';
    const minRank = opts.minPriority ? priorityRank(opts.minPriority) : 7;
    const active = loaded.filter((r) => {
      if (opts.source !== undefined && r.source !== opts.source) return false;
      if (priorityRank(r.priority) > minRank) return false;
      let on = r.enabled;
      for (const s of opts.selections ?? []) if (matches(r, s.selector)) on = s.enable;
      return on;
    });
    this.sharing = { epoch: { n: 0 }, cache: new Map(), shared: sharedSubtrees(active.map((r) => r.ast)) };
    this.rules = active.map((r, index) => {
      const f = compileFilter(r.ast, accessor, { sharing: this.sharing as SharedCompilation<unknown> });
      if (!f.ok) throw new Error(`rule '${r.name}' compiled at load time but not against this event representation: ${f.errors[0]!.message}`);
      const fmt = opts.appendOutput ? `${r.output} ${opts.appendOutput}` : r.output;
      const o = compileOutput(fmt, accessor);
      if (!o.ok) throw new Error(`rule '${r.name}': ${o.message}`);
      return { rule: r, filter: f.filter, output: o.output, index };
    });
  }

  /** Rules that can match events of this type, in load order. */
  rulesFor(type: string): readonly CompiledRule<E>[] {
    let list = this.byType.get(type);
    if (!list) {
      list = this.rules.filter((r) => hasType(r.rule.eventTypes, type));
      this.byType.set(type, list);
    }
    return list;
  }

  /**
   * Evaluates one event, calling `onMatch` for each matching rule (only the first with
   * rule_matching=first). Returns the number of matches. Allocates nothing per event.
   */
  evaluate(event: E, onMatch?: (rule: CompiledRule<E>, event: E) => void): number {
    const list = this.rulesFor(this.accessor.eventType(event));
    this.sharing.epoch.n++;
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (r.filter(event)) {
        n++;
        onMatch?.(r, event);
        if (this.first) break;
      }
    }
    return n;
  }
}

/** Condition subtrees (by identity) that occur more than once across the rules: expanded macros. */
function sharedSubtrees(asts: readonly Expr[]): Set<Expr> {
  const seen = new Set<Expr>();
  const shared = new Set<Expr>();
  const walk = (e: Expr): void => {
    if (e.kind !== 'and' && e.kind !== 'or' && e.kind !== 'not' && e.kind !== 'binary' && e.kind !== 'unary') return;
    if (seen.has(e)) {
      shared.add(e);
      return;
    }
    seen.add(e);
    if (e.kind === 'and' || e.kind === 'or') e.children.forEach(walk);
    else if (e.kind === 'not') walk(e.child);
  };
  asts.forEach(walk);
  return shared;
}

function matches(r: LoadedRule, s: RuleSelector): boolean {
  if (s.tag !== undefined && !r.tags.includes(s.tag)) return false;
  if (s.rule !== undefined) {
    if (s.rule.includes('*')) return globToRegExp(s.rule, false).test(r.name);
    return r.name === s.rule;
  }
  return true;
}

/** Falco's -D: disables rules whose name contains the text (or matches it as a wildcard). */
export function substringSelector(text: string): RuleSelector {
  return { rule: text.includes('*') ? text : `*${text}*` };
}
