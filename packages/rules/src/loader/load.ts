// Rule loading, Falco's way, in stages: read every file with positions, collect items with
// append/override applied, then expand macros and lists, build exceptions and compile each rule.
// Every problem becomes a diagnostic; one bad item never hides the others' diagnostics.

import type { Expr, Operand, ValueExpr } from '../ast.js';
import type { FieldAccessor } from '../accessor.js';
import type { Diagnostic, ItemRef, SourcePos } from '../diagnostics.js';
import { parseCondition } from '../filter/parser.js';
import { conditionToString } from '../filter/serialize.js';
import { escapeString, unescapeString } from '../filter/escape.js';
import { compileFilter, type Filter } from '../compiler/compile.js';
import { eventTypesOf, EventTypeError, type TypeSet } from '../compiler/evttypes.js';
import { compileOutput, parsePriority, type CompiledOutput, type Priority } from '../output/format.js';
import { listFieldClasses, resolveField } from '../fields/registry.js';
import { allEventTypes } from '../fields/events.js';
import { readRulesYaml } from './yaml.js';
import { Collector, type ExceptionDef, type PluginRequirement, type RuleDef } from './items.js';

export const ENGINE_VERSION = '0.63.0';

/** Plugins whose fields Harrier provides natively, at these versions. */
export const PROVIDED_PLUGINS: Readonly<Record<string, string>> = { container: '0.4.1', k8saudit: '0.18.0', json: '0.7.3' };
/** Event sources Harrier evaluates. */
export const PROVIDED_SOURCES: ReadonlySet<string> = new Set(['syscall', 'k8s_audit']);

export interface RulesSource {
  /** File name shown in diagnostics. */
  readonly name: string;
  readonly content: string;
}

export interface LoadedRule {
  readonly name: string;
  readonly desc: string;
  readonly priority: Priority;
  readonly tags: readonly string[];
  readonly source: string;
  readonly enabled: boolean;
  /** The condition after macro/list expansion and exceptions, as libs prints it. */
  readonly compiledCondition: string;
  /** The merged condition text, before expansion. */
  readonly condition: string;
  readonly output: string;
  readonly ast: Expr;
  readonly eventTypes: TypeSet;
  readonly capture: boolean;
  readonly captureDuration: number | undefined;
  readonly exceptions: readonly { name: string; fields: string | string[] | undefined; comps: string | string[] | undefined; values: unknown[] }[];
  readonly pos: SourcePos;
}

export interface LoadResult {
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  readonly counts: { readonly rules: number; readonly macros: number; readonly lists: number };
  /** Rules that compiled (skipped ones, e.g. for an unknown source, are left out). */
  readonly rules: readonly LoadedRule[];
  readonly macros: ReadonlyMap<string, { condition: string }>;
  readonly lists: ReadonlyMap<string, { items: readonly string[] }>;
  /** required_plugin_versions of all files, merged by plugin name (highest version wins). */
  readonly requiredPlugins: readonly RequiredPlugin[];
}

export interface RequiredPlugin {
  readonly name: string;
  readonly version: string;
  readonly alternatives: readonly { readonly name: string; readonly version: string }[];
}

export interface LoadOptions {
  /** Also report unused macros and lists (Falco does with -V). Default true. */
  readonly warnUnused?: boolean;
  /**
   * Plugins considered loaded, by name and version, for required_plugin_versions. Default:
   * PROVIDED_PLUGINS, the ones whose fields Harrier implements.
   */
  readonly plugins?: Readonly<Record<string, string>>;
}

const nullAccessor: FieldAccessor<unknown> = { reader: () => () => undefined, eventType: () => '' };

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A required version is met by a provided one of the same major (0.x: same minor) that is not older. */
function versionSatisfies(provided: string, required: string): boolean {
  const p = provided.split('.').map(Number);
  const r = required.split('.').map(Number);
  return p[0] === r[0] && compareVersions(provided, required) >= 0;
}

/** Merges requirements naming the same plugin: the higher version wins, alternatives are merged the same way. */
function mergeRequirements(reqs: readonly PluginRequirement[]): (RequiredPlugin & { pos: SourcePos })[] {
  const out: { name: string; version: string; alternatives: { name: string; version: string }[]; pos: SourcePos }[] = [];
  const newer = (a: string, b: string): string => (compareVersions(a, b) >= 0 ? a : b);
  for (const r of reqs) {
    const cur = out.find((x) => x.name === r.name);
    if (!cur) {
      out.push({ name: r.name, version: r.version, alternatives: r.alternatives.map((a) => ({ ...a })), pos: r.pos });
      continue;
    }
    cur.version = newer(r.version, cur.version);
    for (const a of r.alternatives) {
      const ca = cur.alternatives.find((x) => x.name === a.name);
      if (ca) ca.version = newer(a.version, ca.version);
      else cur.alternatives.push({ ...a });
    }
  }
  return out;
}

/**
 * Falco's plugin requirement check: for each requirement, the first of the plugin and its
 * alternatives that is loaded decides, and its version must be compatible (same major, not older).
 */
export function checkPluginRequirements(required: readonly RequiredPlugin[], loaded: Readonly<Record<string, string>>): { ok: true } | { ok: false; message: string; plugin: string } {
  for (const req of required) {
    const options = [{ name: req.name, version: req.version }, ...req.alternatives];
    const hit = options.find((o) => loaded[o.name] !== undefined);
    if (!hit) {
      return { ok: false, plugin: req.name, message: `Plugin requirement not satisfied, must load one of: ${options.map((o) => `${o.name} (>= ${o.version})`).join(', ')}` };
    }
    const have = loaded[hit.name]!;
    if (!/^\d+\.\d+\.\d+/.test(have)) return { ok: false, plugin: req.name, message: `Plugin '${hit.name}' has invalid version string '${have}'` };
    if (!versionSatisfies(have, hit.version)) {
      return { ok: false, plugin: req.name, message: `Plugin '${hit.name}' version '${have}' is not compatible with required plugin version '${hit.version}'` };
    }
  }
  return { ok: true };
}

/** Top-level names of every field Harrier knows (`proc`, `ka`, `json`, ...). */
let knownPrefixes: Set<string> | undefined;
function isKnownFieldPrefix(field: string): boolean {
  knownPrefixes ??= new Set(listFieldClasses().flatMap((c) => c.fields.map((f) => f.name.split('.')[0]!)));
  return knownPrefixes.has(field.split('.')[0]!);
}

export function loadRules(sources: readonly RulesSource[], opts: LoadOptions = {}): LoadResult {
  const diags: Diagnostic[] = [];
  const collector = new Collector(diags);
  for (const src of sources) {
    const { result, positions } = readRulesYaml(src.name, src.content);
    for (const e of result.errors) diags.push({ severity: 'error', code: e.code, message: e.message, pos: e.pos });
    for (const it of result.items) collector.add(it, positions);
  }
  const c = collector.out;

  for (const r of c.requiredEngineVersions) {
    const v = r.version.trim();
    let norm: string | undefined;
    if (/^\d+$/.test(v)) norm = `0.${v}.0`;
    else if (/^\d+\.\d+\.\d+$/.test(v)) norm = v;
    if (!norm) diags.push({ severity: 'error', code: 'LOAD_ERR_YAML_VALIDATE', message: `Unable to parse engine version '${v}': write it as MAJOR.MINOR.PATCH, e.g. 0.26.0`, pos: r.pos, item: { type: 'required_engine_version', name: '' } });
    else if (compareVersions(norm, ENGINE_VERSION) > 0)
      diags.push({ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: `Rules require engine version ${v}, but engine version is ${ENGINE_VERSION}: use rules written for an older Falco, or upgrade Harrier`, pos: r.pos, item: { type: 'required_engine_version', name: '' } });
  }
  const missingPlugins = new Set<string>();
  const loadedPlugins = opts.plugins ?? PROVIDED_PLUGINS;
  const required = mergeRequirements(c.pluginRequirements);
  for (const req of required) {
    const check = checkPluginRequirements([req], loadedPlugins);
    if (check.ok) continue;
    const item = { type: 'required_plugin_versions' as const, name: req.name };
    const options = [req.name, ...req.alternatives.map((a) => a.name)];
    if (options.some((n) => loadedPlugins[n] !== undefined)) {
      diags.push({ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: `${check.message}: use rules written for the plugin version Harrier provides`, pos: req.pos, item });
    } else {
      missingPlugins.add(req.name);
      diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_SOURCE', message: `Plugin '${req.name}' is required but Harrier does not provide it (it provides ${Object.keys(loadedPlugins).join(', ')}): rules for its event source or fields are skipped`, pos: req.pos, item });
    }
  }

  const usedMacros = new Set<string>();
  const usedLists = new Set<string>();
  const macroAsts = new Map<string, Expr | null>();
  const expander = new Expander(c.lists, c.macros, macroAsts, usedMacros, usedLists, diags);

  // Every macro is parsed and its references checked, used or not, as Falco does; problems are
  // reported at the macro. A separate expander keeps the usage counts to rules.
  const checker = new Expander(c.lists, c.macros, macroAsts, new Set(), new Set(), diags);
  for (const m of c.macros.values()) {
    try {
      checker.macroAst(m.name, []);
    } catch (err) {
      if (!(err instanceof ExpandError)) throw err;
      if (!err.alreadyReported) diags.push({ severity: 'error', code: err.code, message: err.message, pos: m.condPos, item: { type: 'macro', name: m.name } });
    }
  }

  const rules: LoadedRule[] = [];
  const skippedSources = new Map<string, number>();
  for (const def of c.rules.values()) {
    if (!PROVIDED_SOURCES.has(def.source)) {
      skippedSources.set(def.source, (skippedSources.get(def.source) ?? 0) + 1);
      continue;
    }
    const r = compileRule(def, expander, diags, missingPlugins);
    if (r) rules.push(r);
  }
  for (const [source, n] of skippedSources) {
    diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_SOURCE', message: `${n} rule${n === 1 ? '' : 's'} for event source '${source}' skipped: Harrier evaluates ${[...PROVIDED_SOURCES].join(' and ')} events only` });
  }
  if (opts.warnUnused !== false) {
    for (const m of c.macros.values()) {
      if (!usedMacros.has(m.name)) diags.push({ severity: 'warning', code: 'LOAD_UNUSED_MACRO', message: `Macro '${m.name}' is not used by any rule`, pos: m.pos, item: { type: 'macro', name: m.name } });
    }
    for (const l of c.lists.values()) {
      if (!usedLists.has(l.name)) diags.push({ severity: 'warning', code: 'LOAD_UNUSED_LIST', message: `List '${l.name}' is not used by any rule or macro`, pos: l.pos, item: { type: 'list', name: l.name } });
    }
  }
  const errors = diags.filter((d) => d.severity === 'error');
  return {
    ok: errors.length === 0,
    diagnostics: diags,
    errors,
    warnings: diags.filter((d) => d.severity === 'warning'),
    counts: { rules: c.rules.size, macros: c.macros.size, lists: c.lists.size },
    rules,
    macros: new Map([...c.macros].map(([k, v]) => [k, { condition: v.condition }])),
    lists: new Map([...c.lists].map(([k, v]) => [k, { items: v.items }])),
    requiredPlugins: required.map(({ name, version, alternatives }) => ({ name, version, alternatives })),
  };
}

/** Expands macros and lists into condition trees, detecting cycles and undefined names. */
class Expander {
  private readonly expandedLists = new Map<string, string[]>();
  /** One expanded tree per macro, shared by every use, so a ruleset can evaluate it once per event. */
  private readonly expandedMacros = new Map<string, Expr>();

  constructor(
    private readonly lists: Map<string, { name: string; items: string[]; pos: SourcePos }>,
    private readonly macros: Map<string, { name: string; condition: string; pos: SourcePos; condPos: SourcePos; condAt: (idx: number) => SourcePos }>,
    private readonly asts: Map<string, Expr | null>,
    private readonly usedMacros: Set<string>,
    private readonly usedLists: Set<string>,
    private readonly diags: Diagnostic[],
  ) {}

  /**
   * A list whose name is not a single token (`test list`) can only be referred to textually, as
   * older Falco did: such names are replaced by their items in the condition text before parsing.
   */
  substituteOddListNames(text: string): string {
    let out = text;
    for (const name of this.lists.keys()) {
      if (/^[^\s(),="']+$/.test(name) || !out.includes(name)) continue;
      this.usedLists.add(name);
      out = out.replaceAll(name, this.listItems(name).map((i) => escapeString(i)).join(', '));
    }
    return out;
  }

  listItems(name: string, stack: string[] = []): string[] {
    const done = this.expandedLists.get(name);
    if (done) return done;
    const l = this.lists.get(name)!;
    if (stack.includes(name)) throw new ExpandError(`List '${name}' refers to itself through ${[...stack, name].join(' -> ')}: remove the cycle`);
    const out: string[] = [];
    for (const raw of l.items) {
      // List items are condition text: a quoted item stands for its unquoted value.
      const it = unquoteItem(raw);
      if (this.lists.has(it)) {
        this.usedLists.add(it);
        out.push(...this.listItems(it, [...stack, name]));
      } else out.push(it);
    }
    this.expandedLists.set(name, out);
    return out;
  }

  macroAst(name: string, stack: readonly string[]): Expr {
    const m = this.macros.get(name)!;
    if (stack.includes(name)) throw new ExpandError(`Macro '${name}' refers to itself through ${[...stack, name].join(' -> ')}: remove the cycle`);
    let raw = this.asts.get(name);
    if (raw === undefined) {
      const p = parseCondition(m.condition);
      if (!p.ok) {
        this.diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_CONDITION', message: `Compilation error when compiling "${clip(m.condition)}": ${p.error.message}`, pos: m.condAt(p.error.pos.idx), item: { type: 'macro', name } });
        raw = null;
      } else raw = p.ast;
      this.asts.set(name, raw);
    }
    if (raw === null) throw new ExpandError(`macro '${name}' has an invalid condition`, true);
    const done = this.expandedMacros.get(name);
    if (done) return done;
    const expanded = this.expand(raw, [...stack, name]);
    this.expandedMacros.set(name, expanded);
    return expanded;
  }

  expand(e: Expr, stack: readonly string[]): Expr {
    switch (e.kind) {
      case 'and':
      case 'or':
        return { ...e, children: e.children.map((c) => this.expand(c, stack)) };
      case 'not':
        return { ...e, child: this.expand(e.child, stack) };
      case 'identifier': {
        if (!this.macros.has(e.name)) throw new ExpandError(`Undefined macro '${e.name}' used in filter: define it with '- macro: ${e.name}' or check the spelling`, false, 'LOAD_ERR_VALIDATE');
        this.usedMacros.add(e.name);
        return this.macroAst(e.name, stack);
      }
      case 'binary':
        return { ...e, right: this.expandOperand(e.op, e.right) };
      default:
        return e;
    }
  }

  private expandOperand(op: string, right: Operand): Operand {
    const listy = /^(in|intersects|pmatch)$/.test(op) || op.includes(' ');
    // Falco substitutes list names in the condition text wherever they stand alone, so a list
    // also works as the value of = or startswith when it has exactly one item.
    if (right.kind === 'value' && !listy && this.lists.has(right.value)) {
      const items = this.listItems(right.value);
      this.usedLists.add(right.value);
      if (items.length !== 1) throw new ExpandError(`List '${right.value}' has ${items.length} items and cannot be the value of '${op}': use 'in (${right.value})' instead`);
      return { kind: 'value', value: items[0]!, pos: right.pos };
    }
    if (right.kind === 'list') {
      const values: ValueExpr[] = [];
      let changed = false;
      for (const v of right.values) {
        if (this.lists.has(v.value)) {
          this.usedLists.add(v.value);
          changed = true;
          for (const item of this.listItems(v.value)) values.push({ kind: 'value', value: item, pos: v.pos });
        } else values.push(v);
      }
      return changed ? ({ ...right, values }) : right;
    }
    if (right.kind === 'value' && listy) {
      if (this.lists.has(right.value)) {
        this.usedLists.add(right.value);
        return { kind: 'list', values: this.listItems(right.value).map((item) => ({ kind: 'value', value: item, pos: right.pos })), pos: right.pos };
      }
      return { kind: 'list', values: [right], pos: right.pos };
    }
    return right;
  }
}

function unquoteItem(s: string): string {
  const q = s[0];
  if ((q === '"' || q === "'") && s.length >= 2 && s[s.length - 1] === q) {
    try {
      return unescapeString(s);
    } catch {
      return s;
    }
  }
  return s;
}

class ExpandError extends Error {
  constructor(
    message: string,
    readonly alreadyReported = false,
    readonly code: 'LOAD_ERR_COMPILE_CONDITION' | 'LOAD_ERR_VALIDATE' = 'LOAD_ERR_COMPILE_CONDITION',
    readonly item?: ItemRef,
  ) {
    super(message);
  }
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? one.slice(0, 117) + '...' : one;
}

const COMPS = new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex', 'in', 'intersects', 'pmatch']);
const LIST_COMPS = new Set(['in', 'intersects', 'pmatch']);

function validComp(c: string): boolean {
  const [op, mod, extra] = c.trim().split(/\s+/);
  if (extra !== undefined || op === undefined || !COMPS.has(op)) return false;
  if (mod === undefined) return true;
  return ['oneof', 'anyof', 'allof'].includes(mod) && !LIST_COMPS.has(op) && !['<', '<=', '>', '>='].includes(op);
}

function isListComp(c: string): boolean {
  const [op, mod] = c.trim().split(/\s+/);
  return LIST_COMPS.has(op ?? '') || mod !== undefined;
}

/** Builds the condition text of one exception, or throws ExpandError with Falco's wording. */
function exceptionText(e: ExceptionDef, rule: string, warnings: string[]): string | undefined {
  const single = typeof e.fields === 'string';
  const fields = single ? [e.fields as string] : Array.isArray(e.fields) ? e.fields.map(String) : [];
  let comps: string[];
  if (e.comps === undefined) comps = fields.map(() => (single ? 'in' : '='));
  else comps = (Array.isArray(e.comps) ? e.comps : [e.comps]).map(String);
  const fail = (msg: string): never => {
    throw new ExpandError(msg, false, 'LOAD_ERR_VALIDATE', { type: 'exception', name: e.name });
  };
  if (comps.length !== fields.length) fail(`Exception '${e.name}' of rule '${rule}': fields and comps lists must have equal length`);
  for (const c of comps) {
    if (!validComp(c)) fail(`'${c}' is not a supported comparison operator: comps must be one of ${[...COMPS].join(', ')} (optionally followed by oneof, anyof or allof)`);
  }
  for (const f of fields) {
    const probe = parseCondition(`${f} exists`);
    if (!probe.ok || probe.ast.kind !== 'unary') fail(`Exception '${e.name}': '${f}' is not a valid field`);
    else if (probe.ast.left.kind === 'field' && !resolveField(probe.ast.left.name, probe.ast.left.arg).ok) fail(`'${f}' is not a supported filter field (exception '${e.name}'): check the field name with harrier --list`);
  }
  if (e.values.length === 0) return undefined;
  // Values are pasted into the condition text the way Falco does: an item with a blank gets
  // double quotes unless it is quoted already, and the value of a list operator gets parentheses
  // unless it has them (so `(my_list)` names a list); nothing else is escaped.
  const quote = (v: string): string => (v.includes(' ') && v[0] !== '"' && v[0] !== "'" ? `"${v}"` : v);
  const paren = (v: string): string => (v[0] === '(' ? v : `(${v})`);
  const misuse = (s: string): void => {
    const trimmed = s.trim();
    if (/^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+(\[[^\]]*\])?$/.test(trimmed) && resolveField(trimmed.replace(/\[.*$/, ''), undefined).ok !== false) {
      warnings.push(`'${s}' may be a valid field misused as a const string value: compare fields with val(), e.g. '= val(${trimmed})'`);
    } else if (/^[a-z0-9]+\(/.test(trimmed)) {
      warnings.push(`'${s}' may be a valid field transformer misused as a const string value`);
    }
  };
  if (single) {
    for (const v of e.values) if (Array.isArray(v)) fail(`Expected values array to contain a list of strings (exception '${e.name}')`);
    return `(${fields[0]} ${comps[0]} (${e.values.map((v) => quote(String(v))).join(', ')}))`;
  }
  const tuples = e.values.map((tuple) => {
    if (!Array.isArray(tuple)) return fail(`Exception '${e.name}': each value must be a list with one entry per field (${fields.join(', ')})`);
    if (tuple.length !== fields.length) fail(`Fields and values lists must have equal length: exception '${e.name}' value ${JSON.stringify(tuple)} has ${tuple.length} entries but there are ${fields.length} fields`);
    const parts = fields.map((f, i) => {
      const v: unknown = tuple[i];
      const comp = comps[i]!;
      let text: string;
      if (Array.isArray(v)) text = `(${v.map((x) => quote(String(x))).join(', ')})`;
      else {
        misuse(String(v));
        text = isListComp(comp) ? paren(String(v)) : quote(String(v));
      }
      return `${f} ${comp} ${text}`;
    });
    return `(${parts.join(' and ')})`;
  });
  return tuples.length === 1 ? tuples[0]! : `(${tuples.join(' or ')})`;
}

/**
 * Falco warns when a rule matches no event code or more than 100 of them. It counts enter and exit
 * codes separately; Harrier's types are names, each standing for such a pair, hence 50.
 */
function tooManyTypes(t: TypeSet): boolean {
  const n = t.negated ? allEventTypes().filter((e) => !t.names.has(e.name)).length : t.names.size;
  return n === 0 || n > 50;
}

function compileRule(def: RuleDef, ex: Expander, diags: Diagnostic[], missingPlugins: ReadonlySet<string>): LoadedRule | undefined {
  const item = { type: 'rule' as const, name: def.name };
  const priority = parsePriority(def.priority);
  if (!priority) {
    diags.push({ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: `Invalid priority '${def.priority}': use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL (or INFO), DEBUG`, pos: def.pos, item });
    return undefined;
  }
  const excWarnings: string[] = [];
  let condText = def.condition;
  let prefix = 0;
  try {
    const names = new Set<string>();
    const parts: string[] = [];
    for (const e of def.exceptions) {
      if (names.has(e.name)) diags.push({ severity: 'warning', code: 'LOAD_EXCEPTION_NAME_NOT_UNIQUE', message: `Multiple definitions of exception '${e.name}' in the same rule`, pos: e.pos, item });
      names.add(e.name);
      const t = exceptionText(e, def.name, excWarnings);
      if (t !== undefined) parts.push(t);
    }
    if (parts.length) {
      condText = `(${def.condition}) and not ${parts.join(' and not ')}`;
      prefix = 1;
    }
  } catch (err) {
    if (!(err instanceof ExpandError)) throw err;
    diags.push({ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: err.message, pos: def.pos, item: err.item ?? item });
    return undefined;
  }
  for (const w of excWarnings) diags.push({ severity: 'warning', code: 'LOAD_COMPILE_CONDITION', message: w, pos: def.pos, item });

  condText = ex.substituteOddListNames(condText);
  const parsed = parseCondition(condText);
  if (!parsed.ok) {
    // An error inside the exceptions' text points at the rule; one in the condition, at its place.
    const idx = parsed.error.pos.idx - prefix;
    const pos = idx >= 0 && idx <= def.condition.length ? def.condAt(idx) : def.pos;
    diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_CONDITION', message: `Compilation error when compiling "${clip(def.condition)}": ${parsed.error.message}`, pos, item });
    return undefined;
  }
  let ast: Expr;
  try {
    ast = ex.expand(parsed.ast, []);
  } catch (err) {
    if (!(err instanceof ExpandError)) throw err;
    if (!err.alreadyReported) diags.push({ severity: 'error', code: err.code, message: err.message, pos: def.condPos, item });
    else diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_CONDITION', message: `rule uses ${err.message}`, pos: def.condPos, item });
    return undefined;
  }
  const compiled = compileFilter(ast, nullAccessor, { generate: false });
  if (!compiled.ok) {
    const msg = compiled.errors[0]!.message;
    const unknown = /^unknown field '([^']+)'/.exec(msg)?.[1];
    if (unknown !== undefined && missingPlugins.size > 0 && !isKnownFieldPrefix(unknown)) {
      diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_FILTER', message: `Rule skipped: it uses field '${unknown}', presumably from plugin ${[...missingPlugins].map((p) => `'${p}'`).join(' or ')}, which Harrier does not provide`, pos: def.condPos, item });
      return undefined;
    }
    if (def.skipIfUnknownFilter && /unknown field|no argument|requires an argument/.test(msg)) {
      diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_FILTER', message: `Rule skipped: ${msg} (the rule sets skip-if-unknown-filter)`, pos: def.condPos, item });
      return undefined;
    }
    diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_CONDITION', message: msg, pos: def.condPos, item });
    return undefined;
  }
  for (const w of compiled.warnings) {
    // Falco 0.44 reports checks on evt.dir as a deprecated item.
    const code = w.message.includes('evt.dir') ? 'LOAD_DEPRECATED_ITEM' : w.code;
    diags.push({ severity: 'warning', code, message: w.message, pos: def.condPos, item });
  }
  let output = def.output;
  if (output.includes('%container.info')) {
    // Falco 0.44 no longer expands %container.info (its container plugin adds those fields itself);
    // Harrier spells the fields out so that alerts keep the container's identity.
    diags.push({ severity: 'warning', code: 'LOAD_DEPRECATED_ITEM', message: '%container.info is deprecated: write %container.id and %container.name (or nothing) instead; Harrier replaces it with container_id=%container.id container_name=%container.name', pos: def.outputPos, item });
    output = output.replaceAll('%container.info', 'container_id=%container.id container_name=%container.name');
  }
  const out = compileOutput(output, nullAccessor);
  if (!out.ok && def.skipIfUnknownFilter && /unknown field|invalid formatting token/.test(out.message)) {
    diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_FILTER', message: `Rule skipped: ${out.message} (the rule sets skip-if-unknown-filter)`, pos: def.outputPos, item });
    return undefined;
  }
  if (!out.ok) {
    diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_OUTPUT', message: out.message, pos: def.outputPos, item });
    return undefined;
  }
  if (/%evt\.dir\b/.test(def.output)) diags.push({ severity: 'warning', code: 'LOAD_COMPILE_CONDITION', message: "usage of deprecated field 'evt.dir' has been detected in the rule output: Harrier evaluates exit events only", pos: def.outputPos, item });
  let eventTypes: TypeSet;
  try {
    eventTypes = eventTypesOf(ast);
  } catch (err) {
    if (!(err instanceof EventTypeError)) throw err;
    if (def.skipIfUnknownFilter) {
      diags.push({ severity: 'warning', code: 'LOAD_UNKNOWN_FILTER', message: `Rule skipped: ${err.message} (the rule sets skip-if-unknown-filter)`, pos: def.condPos, item });
      return undefined;
    }
    diags.push({ severity: 'error', code: 'LOAD_ERR_COMPILE_CONDITION', message: err.message, pos: def.condPos, item });
    return undefined;
  }
  if (def.source === 'syscall' && def.warnEvttypes && tooManyTypes(eventTypes)) {
    diags.push({ severity: 'warning', code: 'LOAD_NO_EVTTYPE', message: 'Rule matches too many evt.type values. This has a significant performance penalty: add an evt.type restriction to the condition', pos: def.condPos, item });
  }
  return {
    name: def.name,
    desc: def.desc,
    priority,
    tags: def.tags,
    source: def.source,
    enabled: def.enabled,
    compiledCondition: conditionToString(ast),
    condition: def.condition,
    output: output.trim(),
    ast,
    eventTypes,
    capture: def.capture,
    captureDuration: def.captureDuration,
    exceptions: def.exceptions.map((e) => ({ name: e.name, fields: e.fields, comps: e.comps, values: e.values })),
    pos: def.pos,
  };
}

export type { Filter, CompiledOutput };
