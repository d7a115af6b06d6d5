// A loaded ruleset compiled against one event representation. Rules are indexed by event type per
// named ruleset, so an event is checked only against enabled rules that can match its type.
// Selection (substring, exact, wildcard, tags), minimum priority, rule_matching first|all and extra
// outputs follow Falco's engine.

import type { BatchAccessor, FieldAccessor } from '../accessor.js';
import { checkCompiler, compileFilter, type Filter, type SharedCompilation } from '../compiler/compile.js';
import { BatchContext, minus, VectorCompiler, type VNode } from '../compiler/vector.js';
import type { Expr } from '../ast.js';
import { hasType, isAll } from '../compiler/evttypes.js';
import type { LoadedRule, LoadResult } from '../loader/load.js';
import { compileOutput, priorityRank, type CompiledOutput, type Priority } from '../output/format.js';
import { extraFieldsFor, outputWithExtras, type ExtraOutputField, type ExtraOutputFormat } from './extra.js';
import { DEFAULT_RULESET, nameMatches, RuleSelection, type NameMatch } from './selection.js';
import { describeAll, describeOne, type RuleSummary } from './describe.js';

export interface RuleSelector {
  /** Rule name; `*` matches any run of characters. */
  readonly rule?: string;
  readonly tag?: string;
}

export interface RulesetOptions {
  /** Rules less severe than this are left out entirely (Falco's `priority`). */
  readonly minPriority?: Priority | undefined;
  /** `first`: stop at the first matching rule per event (Falco's default); `all`: every match. */
  readonly ruleMatching?: 'first' | 'all' | undefined;
  /** Applied in order to the default ruleset after each rule's own `enabled`: Falco's `rules:` config entries, -D, -T, -t. */
  readonly selections?: readonly { readonly enable: boolean; readonly selector: RuleSelector }[] | undefined;
  /** Extra text appended to every output (Falco's `append_output` / -p). */
  readonly appendOutput?: string | undefined;
  /** Extra text appended to the outputs of the rules in each format's scope, after appendOutput. */
  readonly extraOutputs?: readonly ExtraOutputFormat[] | undefined;
  /** Extra named output fields for the rules in each field's scope. */
  readonly extraFields?: readonly ExtraOutputField[] | undefined;
  /** Source of events evaluated (rules for other sources are left out). Default: every source. */
  readonly source?: string | undefined;
}

export interface CompiledRule<E> {
  readonly rule: LoadedRule;
  readonly filter: Filter<E>;
  /** The output with extra formats applied (describe_rule's output_compiled). */
  readonly outputFormat: string;
  readonly output: CompiledOutput<E>;
  /** Extra output fields by key; raw ones keep their text. */
  readonly extraFields: ReadonlyMap<string, CompiledOutput<E> | string>;
  readonly index: number;
}

/** A rule's condition or output does not compile against the event representation given. */
export class RulesetError extends Error {
  override readonly name = 'RulesetError';
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
  }
}

interface TypeIndex<E> {
  readonly generation: number;
  readonly byType: Map<string, readonly CompiledRule<E>[]>;
  /** Enabled rules that can match events of any type: run after the type-specific ones, as Falco does. */
  readonly anyType: readonly CompiledRule<E>[];
  readonly specific: readonly CompiledRule<E>[];
}

interface BatchState<E> {
  readonly ctx: BatchContext<unknown, E>;
  readonly compiler: VectorCompiler<unknown, E>;
  /** Batch programs by rule index, compiled on first use. */
  readonly programs: (VNode<unknown, E> | undefined)[];
  counts: Int32Array;
  next: Int32Array;
}

export class Ruleset<E> {
  /** Every rule compiled for this ruleset (of the chosen source, at or above the minimum priority). */
  readonly rules: readonly CompiledRule<E>[];
  private readonly selection: RuleSelection;
  private readonly indexes = new Map<string, TypeIndex<E>>();
  private readonly first: boolean;
  private readonly sharing: SharedCompilation<E>;
  private readonly loadResult: LoadResult | undefined;
  private readonly extraOutputs: readonly ExtraOutputFormat[];
  private batchState: BatchState<E> | undefined;

  /** Throws RulesetError when a rule or an extra output does not compile for this accessor. */
  constructor(
    loaded: LoadResult | readonly LoadedRule[],
    private readonly accessor: FieldAccessor<E>,
    opts: RulesetOptions = {},
  ) {
    const all = isLoadResult(loaded) ? loaded.rules : loaded;
    this.loadResult = isLoadResult(loaded) ? loaded : undefined;
    this.first = (opts.ruleMatching ?? 'first') === 'first';
    this.extraOutputs = [...(opts.appendOutput ? [{ format: opts.appendOutput }] : []), ...(opts.extraOutputs ?? [])];
    const minRank = opts.minPriority ? priorityRank(opts.minPriority) : 7;
    const kept = all.filter((r) => (opts.source === undefined || r.source === opts.source) && priorityRank(r.priority) <= minRank);
    this.sharing = { epoch: { n: 0 }, cache: new Map(), shared: sharedSubtrees(kept.map((r) => r.ast)) };
    this.rules = kept.map((r, index) => this.compileRule(r, index, opts.extraFields ?? []));
    this.selection = new RuleSelection(kept);
    for (const s of opts.selections ?? []) this.select(s.selector, s.enable);
  }

  private compileRule(r: LoadedRule, index: number, extraFields: readonly ExtraOutputField[]): CompiledRule<E> {
    const f = compileFilter(r.ast, this.accessor, { sharing: this.sharing as SharedCompilation<unknown> });
    if (!f.ok) throw new RulesetError(`rule '${r.name}' compiled at load time but not against this event representation: ${f.errors[0]!.message}`, r.name);
    const outputFormat = outputWithExtras(r, this.extraOutputs);
    const o = compileOutput(outputFormat, this.accessor);
    if (!o.ok) throw new RulesetError(`rule '${r.name}': output "${outputFormat}" does not compile: ${o.message}. Check the extra output formats`, r.name);
    const fields = new Map<string, CompiledOutput<E> | string>();
    for (const [key, x] of extraFieldsFor(r, extraFields)) {
      if (x.raw) {
        fields.set(key, x.format);
        continue;
      }
      const c = compileOutput(x.format, this.accessor);
      if (!c.ok) throw new RulesetError(`extra output field '${key}' ("${x.format}") does not compile: ${c.message}`, r.name);
      fields.set(key, c.output);
    }
    return { rule: r, filter: f.filter, outputFormat, output: o.output, extraFields: fields, index };
  }

  /** Falco's enable_rule: every rule whose name contains the text ("" selects all). */
  enable(substring: string, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    this.selection.byName(substring, 'substring', enabled, ruleset);
  }

  /** Falco's enable_rule_exact ("" selects all). */
  enableExact(name: string, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    this.selection.byName(name, 'exact', enabled, ruleset);
  }

  /** Falco's enable_rule_wildcard: `*` matches any run of characters. */
  enableWildcard(pattern: string, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    this.selection.byName(pattern, 'wildcard', enabled, ruleset);
  }

  /** Falco's enable_rule_by_tag: every rule carrying at least one of the tags. */
  enableTags(tags: Iterable<string>, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    this.selection.byTags(tags, enabled, ruleset);
  }

  /**
   * A config-style selection: a rule name (exact, or wildcard with `*`), a tag, both (rules
   * matching both), or neither (every rule).
   */
  select(s: RuleSelector, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    if (s.tag !== undefined && s.rule !== undefined) {
      const how: NameMatch = s.rule.includes('*') ? 'wildcard' : 'exact';
      const pick = this.rules.filter((r) => r.rule.tags.includes(s.tag!) && nameMatches(r.rule.name, s.rule!, how));
      for (const r of pick) this.selection.byName(r.rule.name, 'exact', enabled, ruleset);
    } else if (s.tag !== undefined) this.selection.byTags([s.tag], enabled, ruleset);
    else if (s.rule !== undefined) this.selection.byName(s.rule, s.rule.includes('*') ? 'wildcard' : 'exact', enabled, ruleset);
    else this.selection.byName('', 'substring', enabled, ruleset);
  }

  /** Number of enabled rules in a ruleset (Falco's num_rules_for_ruleset). */
  enabledCount(ruleset: string = DEFAULT_RULESET): number {
    return this.selection.count(ruleset);
  }

  /** Enabled rules, in the order they are evaluated for events of any type. */
  enabledRules(ruleset: string = DEFAULT_RULESET): readonly CompiledRule<E>[] {
    const ix = this.index(ruleset);
    return [...ix.specific, ...ix.anyType];
  }

  isEnabled(name: string, ruleset: string = DEFAULT_RULESET): boolean {
    const r = this.rules.find((x) => x.rule.name === name);
    return r !== undefined && this.selection.isEnabled(r.index, ruleset);
  }

  /** Event types the enabled rules can match, or 'all' when some rule matches every type. */
  eventTypes(ruleset: string = DEFAULT_RULESET): ReadonlySet<string> | 'all' {
    const ix = this.index(ruleset);
    if (ix.anyType.length > 0 || ix.specific.some((r) => r.rule.eventTypes.negated)) return 'all';
    return new Set(ix.specific.flatMap((r) => [...r.rule.eventTypes.names]));
  }

  private index(ruleset: string): TypeIndex<E> {
    const cur = this.indexes.get(ruleset);
    if (cur && cur.generation === this.selection.generation) return cur;
    const enabled = this.selection.enabled(ruleset).map((i) => this.rules[i]!);
    const ix: TypeIndex<E> = {
      generation: this.selection.generation,
      byType: new Map(),
      anyType: enabled.filter((r) => isAll(r.rule.eventTypes)),
      specific: enabled.filter((r) => !isAll(r.rule.eventTypes)),
    };
    this.indexes.set(ruleset, ix);
    return ix;
  }

  /** Enabled rules that can match events of this type, in evaluation order. */
  rulesFor(type: string, ruleset: string = DEFAULT_RULESET): readonly CompiledRule<E>[] {
    const ix = this.index(ruleset);
    let list = ix.byType.get(type);
    if (!list) {
      list = [...ix.specific.filter((r) => hasType(r.rule.eventTypes, type)), ...ix.anyType];
      ix.byType.set(type, list);
    }
    return list;
  }

  /**
   * Evaluates one event, calling `onMatch` for each matching rule (only the first with
   * rule_matching=first). Returns the number of matches. Allocates nothing per event.
   */
  evaluate(event: E, onMatch?: (rule: CompiledRule<E>, event: E) => void, ruleset: string = DEFAULT_RULESET): number {
    const list = this.rulesFor(this.accessor.eventType(event), ruleset);
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

  /**
   * Evaluates every event of a batch (the accessor must be a BatchAccessor), calling `onMatch` per
   * match in row order, and in rule order within a row; the same matches, in the same order, as
   * evaluating each row with `evaluate`. Returns the number of matches. Not re-entrant: `onMatch`
   * must not evaluate another batch on this ruleset.
   */
  evaluateBatch<B>(batch: B, onMatch?: (rule: CompiledRule<E>, row: number) => void, ruleset: string = DEFAULT_RULESET): number {
    const st = this.batchState ?? (this.batchState = this.newBatchState());
    const ctx = st.ctx as BatchContext<B, E>;
    ctx.begin(batch);
    const rows = ctx.rows;
    if (rows === 0) return 0;
    const { ids, names } = (ctx.accessor).types(batch);
    // Rows grouped by event type (counting sort, rows ascending within a type).
    const ntypes = names.length + 1;
    if (st.counts.length < ntypes + 1) {
      st.counts = new Int32Array(ntypes + 1);
      st.next = new Int32Array(ntypes + 1);
    }
    const counts = st.counts.fill(0, 0, ntypes + 1);
    for (let r = 0; r < rows; r++) counts[(ids[r]! < 0 ? names.length : ids[r]!) + 1]!++;
    for (let t = 1; t <= ntypes; t++) counts[t]! += counts[t - 1]!;
    const order = ctx.pool.take();
    const next = st.next;
    next.set(counts.subarray(0, ntypes));
    for (let r = 0; r < rows; r++) order[next[ids[r]! < 0 ? names.length : ids[r]!]!++] = r;

    const mRows: number[] = [];
    const mRules: CompiledRule<E>[] = [];
    const mRank: number[] = [];
    let sel = ctx.pool.take();
    let spare = ctx.pool.take();
    const out = ctx.pool.take();
    for (let t = 0; t < ntypes; t++) {
      let n = counts[t + 1]! - counts[t]!;
      if (n === 0) continue;
      const list = this.rulesFor(t < names.length ? names[t]! : '', ruleset);
      if (list.length === 0) continue;
      sel.set(order.subarray(counts[t], counts[t + 1]));
      for (let i = 0; i < list.length && n > 0; i++) {
        const rule = list[i]!;
        const prog = (st.programs[rule.index] ??= st.compiler.compile(rule.rule.ast));
        const m = prog.run(ctx, sel, n, out);
        if (m === 0) continue;
        for (let j = 0; j < m; j++) {
          mRows.push(out[j]!);
          mRules.push(rule);
          mRank.push(i);
        }
        if (this.first) {
          n = minus(sel, n, out, m, spare);
          [sel, spare] = [spare, sel];
        }
      }
    }
    ctx.pool.give(order);
    ctx.pool.give(sel);
    ctx.pool.give(spare);
    ctx.pool.give(out);
    const total = mRows.length;
    if (onMatch && total > 0) {
      const idx = Array.from({ length: total }, (_, i) => i);
      idx.sort((a, b) => mRows[a]! - mRows[b]! || mRank[a]! - mRank[b]!);
      for (const i of idx) onMatch(mRules[i]!, mRows[i]!);
    }
    return total;
  }

  private newBatchState(): BatchState<E> {
    const acc = this.accessor as Partial<BatchAccessor<unknown, E>>;
    if (typeof acc.rows !== 'function' || typeof acc.types !== 'function' || typeof acc.at !== 'function' || typeof acc.column !== 'function') {
      throw new RulesetError('evaluateBatch needs a batch accessor (rows, types, at, column); this ruleset was built over a per-event accessor', '');
    }
    const ctx = new BatchContext<unknown, E>(acc as BatchAccessor<unknown, E>);
    const compiler = new VectorCompiler<unknown, E>({ shared: this.sharing.shared, check: checkCompiler(this.accessor) });
    return { ctx, compiler, programs: [], counts: new Int32Array(0), next: new Int32Array(0) };
  }

  /** The rules matching the event (at most one with rule_matching=first). */
  matches(event: E, ruleset: string = DEFAULT_RULESET): CompiledRule<E>[] {
    const out: CompiledRule<E>[] = [];
    this.evaluate(event, (r) => out.push(r), ruleset);
    return out;
  }

  /** Rule names and descriptions (`-L`). */
  list(): RuleSummary[] {
    return this.rules.map((r) => ({ name: r.rule.name, description: r.rule.desc }));
  }

  /**
   * describe_rule JSON: one rule (`{rules: [..]}`, undefined when unknown) or, without a name,
   * everything loaded including macros and lists (those only when built from a LoadResult).
   */
  describe(name?: string): Record<string, unknown> | undefined {
    const result: LoadResult = this.loadResult ?? fakeResult(this.rules.map((r) => r.rule));
    const opts = { extraOutputs: this.extraOutputs };
    return name === undefined ? describeAll(result, opts) : describeOne(result, name, opts);
  }
}

function isLoadResult(x: LoadResult | readonly LoadedRule[]): x is LoadResult {
  return !Array.isArray(x);
}

function fakeResult(rules: readonly LoadedRule[]): LoadResult {
  return {
    ok: true,
    diagnostics: [],
    errors: [],
    warnings: [],
    counts: { rules: rules.length, macros: 0, lists: 0 },
    rules,
    macros: new Map(),
    lists: new Map(),
    requiredPlugins: [],
  };
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

/** Falco's -D: disables rules whose name contains the text (or matches it as a wildcard). */
export function substringSelector(text: string): RuleSelector {
  return { rule: text.includes('*') ? text : `*${text}*` };
}
