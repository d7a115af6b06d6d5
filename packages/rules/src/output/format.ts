// Rule outputs: `%field` interpolation compiled once per rule, Falco's priorities, and the two
// alert renderings Falco users know: the text line and the JSON object.

import type { FieldAccessor, FieldRef, FieldValue } from '../accessor.js';
import { parseCondition } from '../filter/parser.js';
import { compileValueSource } from '../compiler/compile.js';
import type { FieldLookup } from '../fields/registry.js';
import { resolveField } from '../fields/registry.js';
import { classOf } from '../compiler/values.js';

export const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Parses a priority as rules and configs write it (`WARNING`, `info`, `Informational`...). */
export function parsePriority(text: string): Priority | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'info') return 'Informational';
  return PRIORITIES.find((p) => p.toLowerCase() === t);
}

/** 0 = Emergency (most severe) .. 7 = Debug. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

interface Piece<E> {
  readonly text?: string;
  readonly key?: string;
  readonly get?: (e: E) => FieldValue | undefined;
  readonly kind?: 'num' | 'bool' | 'str';
}

export interface RenderedOutput {
  readonly text: string;
  readonly fields: Record<string, string | number | boolean | null>;
}

export interface CompiledOutput<E> {
  readonly format: string;
  readonly fields: readonly FieldRef[];
  render(event: E): RenderedOutput;
}

export type OutputCompileResult<E> = { ok: true; output: CompiledOutput<E> } | { ok: false; message: string; offset: number };

const FIELD_AT = /^(?:[a-zA-Z][a-zA-Z0-9_]*\((?:[^()]|\([^()]*\))*\)(?:\[[^\]]*\])?|[a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)+(?:\[[^\]]*\])?)/;

/** `%container.info` stands for the container's identity, as in Falco. */
const ALIASES: Record<string, string> = { 'container.info': 'container_id=%container.id container_name=%container.name' };

export function renderValue(v: FieldValue | undefined): string {
  if (v === undefined) return '<NA>';
  if (Array.isArray(v)) return `(${(v as readonly FieldValue[]).map((x) => renderValue(x)).join(',')})`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return String(v);
}

/** Compiles an output format against an accessor. Unknown fields are errors. */
export function compileOutput<E>(format: string, accessor: FieldAccessor<E>, resolve: (n: string, a: string | undefined) => FieldLookup = resolveField): OutputCompileResult<E> {
  let fmt = format;
  for (const [alias, repl] of Object.entries(ALIASES)) fmt = fmt.replaceAll(`%${alias}`, repl);
  const pieces: Piece<E>[] = [];
  const refs: FieldRef[] = [];
  let lit = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') {
      lit += c;
      continue;
    }
    const m = FIELD_AT.exec(fmt.slice(i + 1, i + 1 + 512));
    if (!m) {
      // A name after % that is not a field (`%not_a_field`) is an error, as in Falco; a % before
      // anything else (`100% sure`) is text.
      const bare = /^[a-zA-Z][a-zA-Z0-9_]*/.exec(fmt.slice(i + 1, i + 65));
      if (bare) return { ok: false, message: `invalid formatting token ${bare[0]}: '%${bare[0]}' is not a field (fields are written class.name, e.g. %proc.name)`, offset: i };
      lit += c;
      continue;
    }
    const token = m[0];
    const parsed = parseCondition(`${token} exists`);
    if (!parsed.ok || parsed.ast.kind !== 'unary') return { ok: false, message: `invalid output field '%${token}'`, offset: i };
    const compiled = compileValueSource(parsed.ast.left, accessor, { resolve });
    if (!compiled.ok) return { ok: false, message: `invalid output field '%${token}': ${compiled.message}`, offset: i };
    refs.push(...compiled.fields);
    if (lit) pieces.push({ text: lit });
    lit = '';
    const cls = classOf(compiled.type);
    pieces.push({ key: token, get: compiled.get, kind: cls === 'num' ? 'num' : cls === 'bool' ? 'bool' : 'str' });
    i += token.length;
  }
  if (lit) pieces.push({ text: lit });
  const output: CompiledOutput<E> = {
    format,
    fields: refs,
    render(e: E): RenderedOutput {
      let text = '';
      const fields: Record<string, string | number | boolean | null> = {};
      for (const p of pieces) {
        if (p.text !== undefined) {
          text += p.text;
          continue;
        }
        const v = p.get!(e);
        text += renderValue(v);
        fields[p.key!] = typed(v, p.kind!);
      }
      return { text, fields };
    },
  };
  return { ok: true, output };
}

function typed(v: FieldValue | undefined, kind: 'num' | 'bool' | 'str'): string | number | boolean | null {
  if (v === undefined) return null;
  if (kind === 'num' && (typeof v === 'number' || typeof v === 'bigint')) return Number(v);
  if (kind === 'bool' && typeof v === 'boolean') return v;
  return renderValue(v);
}

// --- alert renderings ---

/** Event time as Falco prints it in text alerts: `HH:MM:SS.nnnnnnnnn` (UTC), or ISO 8601. */
export function formatTextTime(ns: bigint, iso: boolean): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const d = new Date(ms);
  const hms = d.toISOString().slice(11, 19);
  if (!iso) return `${hms}.${frac}`;
  return `${d.toISOString().slice(0, 19)}.${frac}+0000`;
}

export function formatJsonTime(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

export interface AlertInput {
  readonly rule: string;
  readonly priority: Priority;
  readonly source: string;
  readonly tags: readonly string[];
  readonly output: RenderedOutput;
  readonly timeNs: bigint;
  readonly hostname: string;
  readonly uuid: string;
  readonly node: string;
  readonly eventId: string;
  readonly engineVersion: string;
}

/** Falco's JSON alert shape plus Harrier's identity fields. */
export interface AlertJson {
  hostname: string;
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  priority: Priority;
  rule: string;
  source: string;
  tags: string[];
  time: string;
  uuid: string;
  node: string;
  event_id: string;
  engine_version: string;
}

/**
 * Falco's JSON alert; `output` starts with the time as the text line does (`iso`: ISO 8601).
 * Falco also lists that time in output_fields as ns since the epoch, a number a JavaScript value
 * cannot hold exactly, so this object leaves it out (`time` has it); `alertJsonText` writes it
 * as exact text, and the gRPC output as Falco's formatted string.
 */
export function toAlertJson(a: AlertInput, iso = false): AlertJson {
  return {
    hostname: a.hostname,
    output: `${formatTextTime(a.timeNs, iso)}: ${a.priority} ${a.output.text}`,
    output_fields: a.output.fields,
    priority: a.priority,
    rule: a.rule,
    source: a.source,
    tags: [...a.tags],
    time: formatJsonTime(a.timeNs),
    uuid: a.uuid,
    node: a.node,
    event_id: a.eventId,
    engine_version: a.engineVersion,
  };
}

/**
 * The output_fields key of the event time Falco adds to a rule's alert: the field its output
 * starts with, `evt.time.iso8601` when that is an ISO 8601 time, else `evt.time`. None for an
 * internal alert, whose fields are its own.
 */
export function eventTimeKey(a: Pick<AlertJson, 'output' | 'source'>): string | undefined {
  if (a.source === 'internal') return undefined;
  return /^\d{4}-\d\d-\d\dT/.test(a.output) ? 'evt.time.iso8601' : 'evt.time';
}

/** Nanoseconds since the epoch of an alert's `time` (ISO 8601 in UTC, to the nanosecond). */
export function alertTimeNs(time: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const FIELDS_MARK = '@@output_fields@@';

/**
 * An alert's JSON text, as Falco writes it: `output_fields` start with the event time under
 * `timeKey` as an integer of nanoseconds. That integer is beyond what a JS number holds exactly,
 * so it is spliced in as text (from `time`); any value already under the key is replaced.
 */
export function alertJsonText(alert: { readonly time: string; readonly output_fields?: Readonly<Record<string, unknown>> }, timeKey: string | undefined): string {
  const ns = alert.output_fields && timeKey !== undefined ? alertTimeNs(alert.time) : undefined;
  if (ns === undefined) return JSON.stringify(alert);
  const rest: Record<string, unknown> = { ...alert.output_fields };
  delete rest[timeKey!];
  const restJson = JSON.stringify(rest);
  const fields = `{${JSON.stringify(timeKey)}:${ns}${restJson === '{}' ? '' : `,${restJson.slice(1, -1)}`}}`;
  // The key outside any string: inside one its quotes would be escaped.
  return JSON.stringify({ ...alert, output_fields: FIELDS_MARK }).replace(`"output_fields":"${FIELDS_MARK}"`, () => `"output_fields":${fields}`);
}

export function toAlertText(a: AlertInput, iso = false): string {
  return `${formatTextTime(a.timeNs, iso)}: ${a.priority} ${a.output.text}`;
}
