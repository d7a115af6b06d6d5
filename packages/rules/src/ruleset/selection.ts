// Which rules are enabled in each named ruleset, with Falco's selection semantics: by substring
// (enable_rule), exact name, `*` wildcard, or any shared tag. Rulesets other than the default
// start empty; the default one starts with the rules whose `enabled` is true.

/** Falco's default ruleset name: the one rule loading fills and events are checked against. */
export const DEFAULT_RULESET = 'falco-default-ruleset';

export type NameMatch = 'substring' | 'exact' | 'wildcard';

interface Selectable {
  readonly name: string;
  readonly tags: readonly string[];
  readonly enabled: boolean;
}

export function nameMatches(name: string, pattern: string, how: NameMatch): boolean {
  // An empty pattern selects every rule for substring and exact matching, as in Falco.
  if (how === 'substring') return pattern === '' || name.includes(pattern);
  if (how === 'exact') return pattern === '' || name === pattern;
  return wildcardRegExp(pattern).test(name);
}

/** Falco's rule-name wildcards: only `*` is special (any run of characters, possibly empty). */
function wildcardRegExp(pattern: string): RegExp {
  const body = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}

export class RuleSelection {
  /** Per ruleset, enabled rule indices in the order they were enabled (Falco evaluates in that order). */
  private readonly sets = new Map<string, Set<number>>();
  private version = 0;

  constructor(private readonly rules: readonly Selectable[]) {
    const def = this.set(DEFAULT_RULESET);
    rules.forEach((r, i) => {
      if (r.enabled) def.add(i);
    });
  }

  /** Bumped on every change, so that callers can cache per-ruleset indexes. */
  get generation(): number {
    return this.version;
  }

  private set(ruleset: string): Set<number> {
    let s = this.sets.get(ruleset);
    if (!s) {
      s = new Set();
      this.sets.set(ruleset, s);
    }
    return s;
  }

  private apply(ruleset: string, enabled: boolean, pick: (r: Selectable) => boolean): void {
    const s = this.set(ruleset);
    this.rules.forEach((r, i) => {
      if (!pick(r)) return;
      if (enabled) s.add(i);
      else s.delete(i);
    });
    this.version++;
  }

  byName(pattern: string, how: NameMatch, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    this.apply(ruleset, enabled, (r) => nameMatches(r.name, pattern, how));
  }

  /** Rules that carry at least one of the tags. */
  byTags(tags: Iterable<string>, enabled: boolean, ruleset: string = DEFAULT_RULESET): void {
    const want = new Set(tags);
    this.apply(ruleset, enabled, (r) => r.tags.some((t) => want.has(t)));
  }

  /** Enabled rule indices of a ruleset, in enabling order. */
  enabled(ruleset: string = DEFAULT_RULESET): readonly number[] {
    return [...(this.sets.get(ruleset) ?? [])];
  }

  isEnabled(index: number, ruleset: string = DEFAULT_RULESET): boolean {
    return this.sets.get(ruleset)?.has(index) ?? false;
  }

  count(ruleset: string = DEFAULT_RULESET): number {
    return this.sets.get(ruleset)?.size ?? 0;
  }
}
