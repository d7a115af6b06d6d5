// Field-map events: an event given as an object keyed by field text (`evt.type`, `proc.aname[2]`,
// `evt.arg.path`), as `harrier replay --fields` reads them from JSON lines. Used by tests and by
// users checking rules without a capture.

import type { FieldAccessor, FieldReader, FieldRef, FieldValue } from '../accessor.js';

export type FieldMapEvent = Readonly<Record<string, FieldValue>>;

/** The key a field-map event uses for a field. */
export function fieldKey(name: string, arg: string | undefined): string {
  if (arg === undefined) return name;
  if (name === 'evt.arg' || name === 'evt.rawarg' || name === 'thread.cgroup') return `${name}.${arg}`;
  return `${name}[${arg}]`;
}

function alternateKeys(name: string, arg: string | undefined): string[] {
  const keys = [fieldKey(name, arg)];
  if (arg !== undefined) keys.push(`${name}[${arg}]`);
  if (name.startsWith('jevt.')) keys.push(...alternateKeys('json.' + name.slice(5), arg));
  if (name.startsWith('json.')) keys.push(fieldKey('jevt.' + name.slice(5), arg));
  return keys;
}

export const fieldMapAccessor: FieldAccessor<FieldMapEvent> = {
  eventType: (e) => {
    const t = e['evt.type'];
    return typeof t === 'string' ? t : '';
  },
  reader(ref: FieldRef): FieldReader<FieldMapEvent> {
    const keys = alternateKeys(ref.name, ref.arg);
    if (keys.length === 1 || ref.arg === undefined) {
      const k = keys[0]!;
      if (keys.length === 1) return (e) => e[k];
    }
    return (e) => {
      for (const k of keys) {
        const v = e[k];
        if (v !== undefined) return v;
      }
      return undefined;
    };
  },
};

export interface EventLineError {
  readonly line: number;
  readonly message: string;
}

/**
 * Parses JSON lines of field-map events. A bad line is reported with its number and skipped;
 * the good ones are kept. Values: strings, numbers, booleans, arrays of those; null means absent.
 */
export function parseFieldMapLines(text: string): { events: FieldMapEvent[]; errors: EventLineError[] } {
  const events: FieldMapEvent[] = [];
  const errors: EventLineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      errors.push({ line: i + 1, message: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      errors.push({ line: i + 1, message: 'expected a JSON object of field values, e.g. {"evt.type": "openat", "proc.name": "cat"}' });
      continue;
    }
    const ev: Record<string, FieldValue> = {};
    let bad: string | undefined;
    for (const [k, v] of Object.entries(obj)) {
      if (v === null) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ev[k] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) ev[k] = v;
      else bad = k;
    }
    if (bad !== undefined) {
      errors.push({ line: i + 1, message: `field '${bad}' must be a string, number, boolean or array of those` });
      continue;
    }
    if (typeof ev['evt.type'] !== 'string') {
      errors.push({ line: i + 1, message: "every event needs an 'evt.type' string" });
      continue;
    }
    events.push(ev);
  }
  return { events, errors };
}
