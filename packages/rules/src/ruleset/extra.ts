// Extra output text and extra output fields added to rules' outputs (Falco's append_output,
// add_extra_output_format, add_extra_output_formatted_field), each scoped by source, tags and rule.

/** Which rules an extra output applies to; an empty or absent criterion matches every rule. */
export interface ExtraOutputScope {
  /** Only rules of this source (`syscall`, `k8s_audit`). */
  readonly source?: string | undefined;
  /** Only rules that carry every one of these tags. */
  readonly tags?: readonly string[] | undefined;
  /** Only the rule with exactly this name. */
  readonly rule?: string | undefined;
}

/** Text appended, after a blank, to the output of every rule in scope. */
export interface ExtraOutputFormat extends ExtraOutputScope {
  readonly format: string;
}

/** A named field added to the alert's output fields of every rule in scope. */
export interface ExtraOutputField extends ExtraOutputScope {
  readonly key: string;
  readonly format: string;
  /** Keep the text as written instead of resolving %fields (Falco's raw extra fields). */
  readonly raw?: boolean | undefined;
}

interface ScopedRule {
  readonly name: string;
  readonly source: string;
  readonly tags: readonly string[];
}

export function inScope(rule: ScopedRule, scope: ExtraOutputScope): boolean {
  if (scope.source && scope.source !== rule.source) return false;
  if (scope.rule && scope.rule !== rule.name) return false;
  // Falco requires the rule to carry all of the listed tags (std::includes), not just one.
  return (scope.tags ?? []).every((t) => rule.tags.includes(t));
}

/** The rule's output with every extra format in scope appended, in the order they were given. */
export function outputWithExtras(rule: ScopedRule & { readonly output: string }, extras: readonly ExtraOutputFormat[]): string {
  let out = rule.output;
  for (const e of extras) if (inScope(rule, e)) out = `${out} ${e.format}`;
  return out;
}

/** The extra fields that apply to the rule, by key; a later definition of a key wins. */
export function extraFieldsFor(rule: ScopedRule, extras: readonly ExtraOutputField[]): Map<string, ExtraOutputField> {
  const out = new Map<string, ExtraOutputField>();
  for (const e of extras) if (inScope(rule, e)) out.set(e.key, e);
  return out;
}
