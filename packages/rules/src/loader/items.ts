// Stage two of loading: turns YAML items into lists, macros and rules, applying Falco's
// append/override rules in file order and validating each item's keys and types.

import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { Diagnostic, ErrorCode, ItemRef, SourcePos, WarningCode } from '../diagnostics.js';
import type { Positions, YamlItem } from './yaml.js';
import { scalarKey } from './yaml.js';

export interface ListDef {
  name: string;
  items: string[];
  pos: SourcePos;
}

export interface MacroDef {
  name: string;
  condition: string;
  pos: SourcePos;
  condPos: SourcePos;
  /** Where an offset of `condition` lies in the file. */
  condAt: (idx: number) => SourcePos;
}

export interface ExceptionDef {
  name: string;
  fields: string | string[] | undefined;
  comps: string | string[] | undefined;
  values: unknown[];
  pos: SourcePos;
}

export interface RuleDef {
  name: string;
  desc: string;
  condition: string;
  output: string;
  priority: string;
  tags: string[];
  enabled: boolean;
  source: string;
  exceptions: ExceptionDef[];
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  capture: boolean;
  captureDuration: number | undefined;
  pos: SourcePos;
  condPos: SourcePos;
  condAt: (idx: number) => SourcePos;
  outputPos: SourcePos;
}

export interface Collected {
  lists: Map<string, ListDef>;
  macros: Map<string, MacroDef>;
  rules: Map<string, RuleDef>;
  requiredEngineVersions: { version: string; pos: SourcePos }[];
  pluginRequirements: PluginRequirement[];
}

export interface PluginRequirement {
  name: string;
  version: string;
  alternatives: { name: string; version: string }[];
  pos: SourcePos;
}

type OverrideMap = Map<string, { mode: 'append' | 'replace'; pos: SourcePos }>;

/** Joins two condition texts with a blank, keeping positions of both parts. */
function appendAt(first: string, firstAt: (i: number) => SourcePos, secondAt: (i: number) => SourcePos): (i: number) => SourcePos {
  return (i) => (i <= first.length ? firstAt(i) : secondAt(i - first.length - 1));
}

export const RULE_KEYS = new Set([
  'rule', 'desc', 'condition', 'output', 'priority', 'tags', 'enabled', 'source', 'exceptions', 'override', 'append',
  'warn_evttypes', 'skip-if-unknown-filter', 'capture', 'capture_duration',
]);
const APPENDABLE = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
const REPLACEABLE = new Set(['condition', 'output', 'desc', 'priority', 'tags', 'exceptions', 'enabled', 'warn_evttypes', 'skip-if-unknown-filter', 'capture', 'capture_duration']);
const NAME_RE = /^[a-zA-Z]+[a-zA-Z0-9_]*$/;

/** Text of a YAML scalar's value (strings, numbers, booleans as written by YAML's reader). */
function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '';
}

export class Collector {
  readonly out: Collected = { lists: new Map(), macros: new Map(), rules: new Map(), requiredEngineVersions: [], pluginRequirements: [] };

  constructor(private readonly diags: Diagnostic[]) {}

  private err(code: ErrorCode, message: string, pos: SourcePos, item?: ItemRef): void {
    this.diags.push({ severity: 'error', code, message, pos, item });
  }

  private warn(code: WarningCode, message: string, pos: SourcePos, item?: ItemRef): void {
    this.diags.push({ severity: 'warning', code, message, pos, item });
  }

  add(it: YamlItem, P: Positions): void {
    const m = it.node;
    const keys = m.items.map(scalarKey);
    if (keys.includes('rule')) this.rule(m, P);
    else if (keys.includes('macro')) this.macro(m, P);
    else if (keys.includes('list')) this.list(m, P);
    else if (keys.includes('required_engine_version')) {
      const v = m.get('required_engine_version', true) as Node | undefined;
      const text = v && isScalar(v) ? scalarText(v.value) : '';
      this.out.requiredEngineVersions.push({ version: text, pos: P.of(v) });
    } else if (keys.includes('required_plugin_versions')) this.plugins(m, P);
    else this.warn('LOAD_UNKNOWN_ITEM', `unknown top level item with keys ${keys.map((k) => `'${k}'`).join(', ')}: expected rule, macro, list, required_engine_version or required_plugin_versions`, it.pos);
  }

  private plugins(m: YAMLMap, P: Positions): void {
    const node = m.get('required_plugin_versions', true) as Node | undefined;
    if (!node || !isSeq(node)) {
      this.err('LOAD_ERR_YAML_VALIDATE', "'required_plugin_versions' must be a list of {name, version}", P.of(node ?? m));
      return;
    }
    for (const p of node.items) {
      const v = isMap(p) ? (p.toJSON() as Record<string, unknown>) : undefined;
      if (!v || typeof v['name'] !== 'string' || (typeof v['version'] !== 'string' && typeof v['version'] !== 'number')) {
        this.err('LOAD_ERR_YAML_VALIDATE', 'each required plugin needs a name and a version', P.of(p as Node));
        continue;
      }
      const rawAlts = v['alternatives'];
      if (rawAlts !== undefined && (!Array.isArray(rawAlts) || !rawAlts.every((a) => a && typeof a === 'object' && typeof (a as Record<string, unknown>)['name'] === 'string' && (a as Record<string, unknown>)['version'] !== undefined))) {
        this.err('LOAD_ERR_YAML_VALIDATE', `'alternatives' of required plugin '${v['name']}' must be a list of {name, version}`, P.of(p as Node), { type: 'required_plugin_versions', name: v['name'] });
        continue;
      }
      const alts = ((rawAlts ?? []) as Record<string, unknown>[]).map((a) => ({ name: String(a['name']), version: String(a['version']) }));
      const self = alts.find((a) => a.name === v['name']);
      if (self) {
        this.err('LOAD_ERR_VALIDATE', `Plugin '${v['name']}' is listed as an alternative to itself: list other plugins under 'alternatives', and give '${v['name']}' one version`, P.of(p as Node), { type: 'required_plugin_versions', name: v['name'] });
        continue;
      }
      this.out.pluginRequirements.push({ name: v['name'], version: String(v['version']), alternatives: alts, pos: P.of(p as Node) });
    }
  }

  private str(m: YAMLMap, key: string, P: Positions, item: ItemRef): string | undefined {
    const n = m.get(key, true) as Node | undefined;
    if (n === undefined) return undefined;
    if (!isScalar(n) || n.value === null || typeof n.value === 'object') {
      this.err('LOAD_ERR_YAML_VALIDATE', `'${key}' must be a string`, P.of(n), item);
      return undefined;
    }
    return scalarText(n.value);
  }

  private override(m: YAMLMap, P: Positions, item: ItemRef): OverrideMap | undefined | null {
    const n = m.get('override', true) as Node | undefined;
    if (n === undefined) return undefined;
    if (!isMap(n)) {
      this.err('LOAD_ERR_YAML_VALIDATE', "'override' must be a map of key: append|replace", P.of(n), item);
      return null;
    }
    const out: OverrideMap = new Map();
    for (const p of n.items) {
      const k = scalarKey(p);
      const v = isScalar(p.value) ? String(p.value.value) : '';
      if (!k || (v !== 'append' && v !== 'replace')) {
        this.err('LOAD_ERR_YAML_VALIDATE', `override entry '${k ?? '?'}' must be 'append' or 'replace'`, P.of((p.value ?? p.key) as Node), item);
        return null;
      }
      out.set(k, { mode: v, pos: P.of(p.key as Node) });
    }
    return out;
  }

  private legacyAppend(m: YAMLMap, P: Positions, item: ItemRef): boolean | null {
    const n = m.get('append', true) as Node | undefined;
    if (n === undefined) return false;
    if (!isScalar(n) || typeof n.value !== 'boolean') {
      this.err('LOAD_ERR_YAML_VALIDATE', "'append' must be true or false", P.of(n), item);
      return null;
    }
    return n.value;
  }

  private list(m: YAMLMap, P: Positions): void {
    const name = this.str(m, 'list', P, { type: 'list', name: '' });
    if (name === undefined) return;
    const item: ItemRef = { type: 'list', name };
    const pos = P.of(m);
    if (!NAME_RE.test(name)) this.warn('LOAD_INVALID_LIST_NAME', `List has an invalid name. List names should match a regular expression: ${NAME_RE.source}`, pos, item);
    for (const p of m.items) {
      const k = scalarKey(p);
      if (k && !['list', 'items', 'append', 'override'].includes(k)) this.warn('LOAD_UNKNOWN_KEY', `Unknown key '${k}'`, P.of(p.key as Node), item);
    }
    const itemsNode = m.get('items', true) as Node | undefined;
    let items: string[] = [];
    if (itemsNode === undefined) {
      // Falco requires the key (an empty list is fine).
      this.err('LOAD_ERR_YAML_VALIDATE', "Item has no mapping for key 'items': give the list's items, e.g. items: [a, b] (or items: [])", pos, item);
      return;
    } else if (isScalar(itemsNode) && itemsNode.value === null) items = [];
    else if (!isSeq(itemsNode)) {
      this.err('LOAD_ERR_YAML_VALIDATE', "'items' must be a list of strings", P.of(itemsNode), item);
      return;
    } else {
      for (const x of itemsNode.items) {
        if (isScalar(x) && x.value !== null && typeof x.value !== 'object') items.push(scalarText(x.value));
        else {
          this.err('LOAD_ERR_YAML_VALIDATE', `list items must be strings (list '${name}')`, P.of(x as Node), item);
          return;
        }
      }
    }
    const append = this.legacyAppend(m, P, item);
    const ov = this.override(m, P, item);
    if (append === null || ov === null) return;
    if (append && ov) return this.err('LOAD_ERR_VALIDATE', "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
    if (append) this.warn('LOAD_DEPRECATED_ITEM', "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
    const mode = append ? 'append' : ov?.get('items')?.mode;
    if (ov) {
      for (const [k, o] of ov) if (k !== 'items') return this.err('LOAD_ERR_VALIDATE', `Key '${k}' cannot be overridden for a list: only 'items' can`, o.pos, item);
    }
    const prev = this.out.lists.get(name);
    if (mode === 'append') {
      if (!prev) return this.err('LOAD_ERR_VALIDATE', "List uses 'append' or 'override.items: append' but no list by that name already exists", pos, item);
      if (items.length === 0) this.warn('LOAD_APPEND_NO_VALUES', 'Overriding/appending list with no values', pos, item);
      prev.items.push(...items);
      return;
    }
    if (prev) this.out.lists.delete(name);
    this.out.lists.set(name, { name, items, pos });
  }

  private macro(m: YAMLMap, P: Positions): void {
    const name = this.str(m, 'macro', P, { type: 'macro', name: '' });
    if (name === undefined) return;
    const item: ItemRef = { type: 'macro', name };
    const pos = P.of(m);
    if (!NAME_RE.test(name)) this.warn('LOAD_INVALID_MACRO_NAME', `Macro has an invalid name. Macro names should match a regular expression: ${NAME_RE.source}`, pos, item);
    for (const p of m.items) {
      const k = scalarKey(p);
      if (k && !['macro', 'condition', 'append', 'override', 'source'].includes(k)) this.warn('LOAD_UNKNOWN_KEY', `Unknown key '${k}'`, P.of(p.key as Node), item);
    }
    const condNode = m.get('condition', true) as Node | undefined;
    const condition = this.str(m, 'condition', P, item);
    if (condition === undefined) {
      if (condNode === undefined) this.err('LOAD_ERR_YAML_VALIDATE', "Item has no mapping for key 'condition'", pos, item);
      return;
    }
    const append = this.legacyAppend(m, P, item);
    const ov = this.override(m, P, item);
    if (append === null || ov === null) return;
    if (append && ov) return this.err('LOAD_ERR_VALIDATE', "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
    if (append) this.warn('LOAD_DEPRECATED_ITEM', "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
    const mode = append ? 'append' : ov?.get('condition')?.mode;
    const prev = this.out.macros.get(name);
    const condAt = P.valueMap(condNode);
    if (mode === 'append') {
      if (!prev) return this.err('LOAD_ERR_VALIDATE', "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists", pos, item);
      prev.condAt = appendAt(prev.condition, prev.condAt, condAt);
      prev.condition = `${prev.condition} ${condition}`;
      return;
    }
    if (prev) this.out.macros.delete(name);
    this.out.macros.set(name, { name, condition, pos, condPos: condAt(0), condAt });
  }

  private rule(m: YAMLMap, P: Positions): void {
    const name = this.str(m, 'rule', P, { type: 'rule', name: '' });
    if (name === undefined) return;
    const item: ItemRef = { type: 'rule', name };
    const pos = P.of(m);
    const present = new Map<string, Node>();
    for (const p of m.items) {
      const k = scalarKey(p);
      if (!k) continue;
      present.set(k, p.value as Node);
      if (!RULE_KEYS.has(k)) this.warn('LOAD_UNKNOWN_KEY', `Unknown key '${k}'`, P.of(p.key as Node), item);
    }
    const js = (k: string): unknown => {
      const n = present.get(k);
      return n && typeof (n as { toJSON?: unknown }).toJSON === 'function' ? (n as unknown as { toJSON(): unknown }).toJSON() : n;
    };
    const typed = <T>(k: string, check: (v: unknown) => v is T, what: string): T | undefined | null => {
      if (!present.has(k)) return undefined;
      const v = js(k);
      if (!check(v)) {
        this.err('LOAD_ERR_YAML_VALIDATE', `'${k}' must be ${what}`, P.of(present.get(k)), item);
        return null;
      }
      return v;
    };
    const isStr = (v: unknown): v is string => typeof v === 'string' || typeof v === 'number';
    const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
    const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number');
    const isNum = (v: unknown): v is number => typeof v === 'number';
    const isExcList = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));

    const desc = typed('desc', isStr, 'a string');
    const condition = typed('condition', isStr, 'a string');
    const output = typed('output', isStr, 'a string');
    const priority = typed('priority', isStr, 'a priority name such as WARNING');
    const tags = typed('tags', isStrList, 'a list of strings');
    const enabled = typed('enabled', isBool, 'true or false');
    const isStrOrNull = (v: unknown): v is string => v === null || isStr(v);
    const sourceRaw = typed('source', isStrOrNull, 'a string');
    const source = sourceRaw === null && present.get('source') !== undefined && js('source') === null ? undefined : sourceRaw;
    const warnEvt = typed('warn_evttypes', isBool, 'true or false');
    const skipUnknown = typed('skip-if-unknown-filter', isBool, 'true or false');
    // Falco accepts a mistyped capture setting and leaves capture off; say so instead of failing.
    let capture = typed('capture', isBool, 'true or false');
    if (capture === null) {
      this.diags.pop();
      this.warn('LOAD_UNKNOWN_KEY', "'capture' must be true or false: the value is ignored and capture stays off", P.of(present.get('capture')), item);
      capture = undefined;
    }
    const captureDuration = typed('capture_duration', isNum, 'a number of milliseconds');
    const excRaw = typed('exceptions', isExcList, 'a list of exception maps');
    if ([desc, condition, output, priority, tags, enabled, source, warnEvt, skipUnknown, capture, captureDuration, excRaw].includes(null)) return;
    const exceptions: ExceptionDef[] = (excRaw ?? []).map((e, i) => {
      const node = (present.get('exceptions') as unknown as { items: Node[] }).items[i];
      return { name: typeof e['name'] === 'string' ? e['name'] : '', fields: e['fields'] as ExceptionDef['fields'], comps: e['comps'] as ExceptionDef['comps'], values: Array.isArray(e['values']) ? (e['values'] as unknown[]) : [], pos: P.of(node) };
    });
    for (const e of exceptions) {
      if (!e.name) return this.err('LOAD_ERR_YAML_VALIDATE', "Item has no mapping for key 'name': every exception needs a name", e.pos, { type: 'exception', name: '' });
    }

    const append = this.legacyAppend(m, P, item);
    const ov = this.override(m, P, item);
    if (append === null || ov === null) return;
    if (append && ov) {
      this.warn('LOAD_DEPRECATED_ITEM', "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
      return this.err('LOAD_ERR_VALIDATE', "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
    }
    const prev = this.out.rules.get(name);
    const srcGiven = source !== undefined && String(source) !== '';
    const srcName = srcGiven ? String(source) : 'syscall';
    const condAt = P.valueMap(present.get('condition'));
    const condPos = condAt(0);
    const outputPos = P.valueMap(present.get('output'))(0);

    if (append) {
      this.warn('LOAD_DEPRECATED_ITEM', "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.", pos, item);
      if (condition === undefined && exceptions.length === 0) return this.err('LOAD_ERR_VALIDATE', 'Appended rule must have exceptions or condition property: give the condition text or the exceptions to append', pos, item);
      if (!prev) return this.err('LOAD_ERR_VALIDATE', "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists", pos, item);
      if (srcGiven && srcName !== prev.source) return this.err('LOAD_ERR_VALIDATE', 'Rule has been re-defined with a different source', pos, item);
      for (const k of present.keys()) {
        if (!['rule', 'append', 'condition', 'exceptions', 'output', 'desc', 'source', 'tags', 'priority', 'enabled'].includes(k)) continue;
      }
      if (condition !== undefined) {
        prev.condAt = appendAt(prev.condition, prev.condAt, condAt);
        prev.condition = `${prev.condition} ${condition}`;
      }
      if (exceptions.length) this.appendExceptions(prev, exceptions, item);
      return;
    }

    if (ov) {
      if (!prev) {
        const anyAppend = [...ov.values()].some((o) => o.mode === 'append');
        return this.err('LOAD_ERR_VALIDATE', anyAppend ? "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists" : "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists", pos, item);
      }
      if (srcGiven && srcName !== prev.source) return this.err('LOAD_ERR_VALIDATE', 'Rule has been re-defined with a different source', pos, item);
      for (const [k, { mode, pos: at }] of ov) {
        if (mode === 'append' && !APPENDABLE.has(k)) return this.err('LOAD_ERR_VALIDATE', `Key '${k}' cannot be appended to, use 'replace' instead`, at, item);
        if (mode === 'replace' && !REPLACEABLE.has(k)) return this.err('LOAD_ERR_VALIDATE', `Key '${k}' cannot be replaced`, at, item);
        if (!present.has(k)) return this.err('LOAD_ERR_VALIDATE', `An ${mode} override for '${k}' was specified but '${k}' is not defined`, at, item);
      }
      for (const k of present.keys()) {
        if (k === 'rule' || k === 'override' || k === 'source' || !RULE_KEYS.has(k)) continue;
        if (!ov.has(k)) return this.err('LOAD_ERR_VALIDATE', `Unexpected key '${k}': an override item may only contain the keys listed under 'override'`, P.of(present.get(k)), item);
      }
      if (ov.get('exceptions')?.mode === 'replace') {
        for (const e of exceptions) if (e.fields === undefined) return this.err('LOAD_ERR_YAML_VALIDATE', "Item has no mapping for key 'fields'", e.pos, { type: 'exception', name: e.name });
      }
      for (const [k, { mode }] of ov) {
        if (mode === 'append') {
          if (k === 'condition') {
            prev.condAt = appendAt(prev.condition, prev.condAt, condAt);
            prev.condition = `${prev.condition} ${String(condition)}`;
          }
          else if (k === 'output') prev.output = `${prev.output} ${String(output)}`;
          else if (k === 'desc') prev.desc = `${prev.desc} ${String(desc)}`;
          else if (k === 'tags') prev.tags = [...prev.tags, ...(tags ?? []).map(String)];
          else if (k === 'exceptions') this.appendExceptions(prev, exceptions, item);
        } else {
          if (k === 'condition') {
            prev.condition = String(condition);
            prev.condPos = condPos;
            prev.condAt = condAt;
          } else if (k === 'output') {
            prev.output = String(output);
            prev.outputPos = outputPos;
          } else if (k === 'desc') prev.desc = String(desc);
          else if (k === 'priority') prev.priority = String(priority);
          else if (k === 'tags') prev.tags = (tags ?? []).map(String);
          else if (k === 'exceptions') prev.exceptions = exceptions;
          else if (k === 'enabled') prev.enabled = enabled ?? true;
          else if (k === 'warn_evttypes') prev.warnEvttypes = warnEvt ?? true;
          else if (k === 'skip-if-unknown-filter') prev.skipIfUnknownFilter = skipUnknown ?? false;
          else if (k === 'capture') prev.capture = capture ?? false;
          else if (k === 'capture_duration') prev.captureDuration = captureDuration ?? undefined;
        }
      }
      return;
    }

    // A rule item with only `enabled` toggles an existing rule (the older way).
    const onlyEnabled = [...present.keys()].every((k) => k === 'rule' || k === 'enabled') && enabled !== undefined;
    if (onlyEnabled && prev) {
      this.warn('LOAD_DEPRECATED_ITEM', "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').", pos, item);
      prev.enabled = enabled === true;
      return;
    }
    for (const k of ['condition', 'output', 'desc', 'priority'] as const) {
      if (!present.has(k)) return this.err('LOAD_ERR_YAML_VALIDATE', `Item has no mapping for key '${k}'`, pos, item);
    }
    for (const e of exceptions) if (e.fields === undefined) return this.err('LOAD_ERR_YAML_VALIDATE', "Item has no mapping for key 'fields'", e.pos, { type: 'exception', name: e.name });
    if (prev && prev.source !== srcName) return this.err('LOAD_ERR_VALIDATE', 'Rule has been re-defined with a different source', pos, item);
    if (prev) this.out.rules.delete(name);
    this.out.rules.set(name, {
      name,
      desc: String(desc),
      condition: String(condition),
      output: String(output),
      priority: String(priority),
      tags: (tags ?? []).map(String),
      enabled: enabled ?? true,
      source: srcName,
      exceptions,
      warnEvttypes: warnEvt ?? true,
      skipIfUnknownFilter: skipUnknown ?? false,
      capture: capture ?? false,
      captureDuration: captureDuration ?? undefined,
      pos,
      condPos,
      condAt,
      outputPos,
    });
  }

  private appendExceptions(prev: RuleDef, exceptions: ExceptionDef[], item: ItemRef): void {
    for (const e of exceptions) {
      const existing = prev.exceptions.find((x) => x.name === e.name);
      if (e.values.length === 0) this.warn('LOAD_APPEND_NO_VALUES', 'Overriding/appending exception with no values', e.pos, item);
      if (existing) existing.values = [...existing.values, ...e.values];
      else prev.exceptions.push(e);
    }
  }
}
