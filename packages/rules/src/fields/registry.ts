// Field lookup: resolves a field as a condition or output writes it (`proc.aname[2]`,
// `evt.arg.path`, `json.value[/user/name]`) to its metadata and argument, with errors that say
// what to write instead.

import { FIELD_CLASSES } from './table.js';
import type { ArgForm, ArgKind, FieldInfo, FieldType } from './types.js';

export interface FieldClass {
  readonly name: string;
  readonly sources: readonly string[];
  readonly desc: string;
  readonly fields: readonly FieldInfo[];
}

export type FieldLookup =
  | { readonly ok: true; readonly info: FieldInfo; readonly arg: string | undefined }
  | { readonly ok: false; readonly message: string };

const SOURCE_OF_CLASS: Record<string, string> = { ka: 'k8s_audit', json: 'json' };

function parseLine(line: string, cls: string, sources: readonly string[]): FieldInfo {
  const bar = line.indexOf('|');
  const desc = line.slice(bar + 1).trim();
  const [name, type, ...flags] = line.slice(0, bar).trim().split(/\s+/);
  let arg: ArgForm = 'none';
  let argKind: ArgKind | undefined;
  for (const f of flags) {
    if (f === 'arg') arg = 'required';
    else if (f === 'arg?') arg = 'optional';
    else if (f === 'idx') argKind = 'index';
    else if (f === 'key') argKind = 'key';
    else if (f === 'index_or_key') argKind = 'index_or_key';
  }
  return {
    name: name!,
    type: type as FieldType,
    source: SOURCE_OF_CLASS[cls] ?? sources[0] ?? 'syscall',
    arg,
    argKind,
    list: flags.includes('list') || undefined,
    printOnly: flags.includes('print') || undefined,
    filterOnly: flags.includes('filter') || undefined,
    deprecated: flags.includes('dep') || undefined,
    desc,
  };
}

const CLASSES: readonly FieldClass[] = FIELD_CLASSES.map((c) => ({
  name: c.name,
  sources: c.sources,
  desc: c.desc,
  fields: c.lines
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => parseLine(l, c.name, c.sources)),
}));

const BY_NAME: ReadonlyMap<string, FieldInfo> = new Map(CLASSES.flatMap((c) => c.fields.map((f) => [f.name, f] as const)));

/** Fields whose argument may also be written after a dot: `evt.arg.path`, `thread.cgroup.cpuacct`. */
const DOTTED_ARG = ['evt.arg', 'evt.rawarg', 'thread.cgroup'];

export function listFieldClasses(): readonly FieldClass[] {
  return CLASSES;
}

export function fieldInfo(name: string): FieldInfo | undefined {
  return BY_NAME.get(name);
}

/** Resolves a field name and optional bracket argument. */
export function resolveField(name: string, arg: string | undefined): FieldLookup {
  let info = BY_NAME.get(name);
  if (!info) {
    for (const base of DOTTED_ARG) {
      if (name.startsWith(base + '.') && name.length > base.length + 1) {
        if (arg !== undefined) return { ok: false, message: `field '${name}' already names its argument after the dot: remove '[${arg}]'` };
        info = BY_NAME.get(base)!;
        arg = name.slice(base.length + 1);
        break;
      }
    }
  }
  if (!info) return { ok: false, message: `unknown field '${name}'${suggest(name)}` };
  if (arg === undefined) {
    if (info.arg === 'required') return { ok: false, message: `field '${name}' requires an argument, e.g. ${name}[${info.argKind === 'index' ? '0' : 'name'}]` };
    return { ok: true, info, arg };
  }
  if (info.arg === 'none') return { ok: false, message: `field '${name}' does not take an argument: remove '[${arg}]'` };
  if (info.argKind === 'index' && !/^[0-9]+$/.test(arg)) return { ok: false, message: `field '${name}' takes a numeric index argument, got '${arg}'` };
  return { ok: true, info, arg };
}

function suggest(name: string): string {
  const dot = name.lastIndexOf('.');
  const prefix = dot > 0 ? name.slice(0, dot + 1) : name;
  let best: string | undefined;
  let bestD = 3;
  for (const n of BY_NAME.keys()) {
    if (!n.startsWith(prefix.split('.')[0]!)) continue;
    const d = distance(n, name, bestD);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
