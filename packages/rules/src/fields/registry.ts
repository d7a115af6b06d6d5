// Field lookup: resolves a field as a condition or output writes it (`proc.aname[2]`,
// `evt.arg.path`, `json.value[/user/name]`) to its metadata and argument, with errors that say
// what to write instead.

import { FIELD_CLASSES } from './table.js';
import type { ArgForm, ArgKind, FieldInfo, FieldType } from './types.js';
import { isKnownEventArg, isKnownEventType } from './events.js';

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

/** Fields whose argument may also be written after a dot: `evt.arg.path`, `thread.cgroup.cpuacct`, `evt.type.is.open`. */
const DOTTED_ARG = ['evt.arg', 'evt.rawarg', 'evt.type.is', 'thread.cgroup'];

export function listFieldClasses(): readonly FieldClass[] {
  return CLASSES;
}

export function fieldInfo(name: string): FieldInfo | undefined {
  return BY_NAME.get(name);
}

const fail = (message: string): FieldLookup => ({ ok: false, message });

/**
 * Resolves a field as a condition or output names it: `name` without the bracket part, `arg` the
 * text inside `[...]` (undefined when there are no brackets). Messages that libs pins are given
 * as libs words them.
 */
export function resolveField(name: string, arg: string | undefined): FieldLookup {
  let info = BY_NAME.get(name);
  let dotted = false;
  if (!info) {
    for (const base of DOTTED_ARG) {
      if (name.startsWith(base + '.') && name.length > base.length + 1) {
        if (arg !== undefined) return fail(`field '${name}' already names its argument after the dot: remove '[${arg}]'`);
        info = BY_NAME.get(base)!;
        arg = name.slice(base.length + 1);
        dotted = true;
        break;
      }
    }
  }
  if (!info) {
    if (name.startsWith('evt.around.')) return fail('wrong syntax for evt.around');
    return fail(`unknown field '${name}'${suggest(name)}`);
  }
  const special = checkEvtArgs(info.name, arg, dotted);
  if (special) return special;
  if (arg === undefined) {
    if (info.arg === 'required') return fail(`filter syntax error: ${name}: the field requires an argument, e.g. ${example(info)}`);
    return { ok: true, info, arg };
  }
  if (info.arg === 'none') return fail(`field '${name}' does not take an argument: remove '[${arg}]'`);
  if (info.argKind === 'index' && !/^[0-9]+$/.test(arg)) return fail(`field '${name}' takes a numeric index argument, e.g. ${example(info)}; got '${arg}'`);
  return { ok: true, info, arg };
}

/** The forms libs treats specially: evt.arg/evt.rawarg by name or position, evt.type.is, evt.around. */
function checkEvtArgs(base: string, arg: string | undefined, dotted: boolean): FieldLookup | undefined {
  switch (base) {
    case 'evt.arg':
    case 'evt.rawarg':
      if (arg === undefined) return fail(`filter syntax error: ${base}: name the argument, e.g. ${base}.fd${base === 'evt.arg' ? ' or evt.arg[0]' : ''}`);
      if (!dotted) {
        if (base === 'evt.rawarg') return fail('evt.arg fields must be expressed explicitly');
        if (!/^[0-9]+$/.test(arg)) return fail(`field 'evt.arg' takes an argument position in brackets (evt.arg[0]) or a name after a dot (evt.arg.${arg}); got '[${arg}]'`);
        return undefined;
      }
      if (!isKnownEventArg(arg)) return fail(`unknown event argument ${arg}`);
      return undefined;
    case 'evt.type.is':
      if (arg !== undefined && !/^[0-9]+$/.test(arg) && !isKnownEventType(arg)) return fail(`unknown event type ${arg}`);
      return undefined;
    case 'evt.around':
      if (arg !== undefined && !/^[0-9]+$/.test(arg)) return fail(`field 'evt.around' takes a timestamp in nanoseconds, e.g. evt.around[1404996934793590564]; got '${arg}'`);
      return undefined;
    default:
      return undefined;
  }
}

function example(info: FieldInfo): string {
  switch (info.name) {
    case 'json.value':
    case 'jevt.value':
      return `${info.name}[/user/username]`;
    case 'ka.uri.param':
      return 'ka.uri.param[pretty]';
    case 'thread.cgroup':
      return 'thread.cgroup.cpuacct';
    case 'evt.type.is':
      return 'evt.type.is.open';
    case 'evt.around':
      return 'evt.around[1404996934793590564]';
    default:
      return info.argKind === 'index' ? `${info.name}[1]` : `${info.name}[name]`;
  }
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
