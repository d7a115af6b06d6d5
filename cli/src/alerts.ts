// One alert line per rule match of a batch event, as Falco prints it: text, or JSON with the
// `json_include_*` settings applied. Capture replay formats matches; `harrier run` prints the
// engine's alerts through the same JSON settings.

import { randomUUID } from 'node:crypto';
import { batchAccessor } from '@harrier/batch';
import type { ReplayMatch } from '@harrier/collector';
import { ENGINE_VERSION, resolveField, toAlertJson, toAlertText, type AlertInput, type AlertJson, type FieldRef, type Priority, type RenderedOutput } from '@harrier/rules';
import { localOutputs, type LocalOutputs } from '@harrier/notifier';
import type { Settings } from './settings.js';

const RAWTIME = ((): FieldRef => {
  const r = resolveField('evt.rawtime', undefined);
  if (!r.ok) throw new Error('evt.rawtime is not in the field registry');
  return { name: r.info.name, arg: undefined, info: r.info };
})();

/** Formats a match as the line Falco would print (without the newline). */
export function alertFormatter(settings: Settings, json: boolean, host: string): (m: ReplayMatch) => string {
  const rawtime = batchAccessor().reader(RAWTIME);
  return (m) => {
    const raw = rawtime?.(m.cursor);
    const input: AlertInput = {
      rule: m.rule.rule.name,
      priority: m.rule.rule.priority,
      source: m.rule.rule.source,
      tags: m.rule.rule.tags,
      output: m.rule.output.render(m.cursor),
      timeNs: typeof raw === 'bigint' ? raw : 0n,
      hostname: host,
      uuid: randomUUID(),
      node: host,
      eventId: `${m.batch.msg.collectorId}-${m.batch.msg.sequence}-${m.row}`,
      engineVersion: ENGINE_VERSION,
    };
    if (!json) return toAlertText(input, settings.timeFormatIso8601);
    return jsonAlertLine(toAlertJson(input, settings.timeFormatIso8601), settings);
  };
}

/** An internal alert (`source: internal`, e.g. a syscall event drop) as the line Falco would print. */
export function internalAlertLine(settings: Settings, json: boolean, host: string, a: { rule: string; priority: Priority; text: string; fields: RenderedOutput['fields']; timeNs: bigint }): string {
  const input: AlertInput = {
    rule: a.rule,
    priority: a.priority,
    source: 'internal',
    tags: [],
    output: { text: a.text, fields: a.fields },
    timeNs: a.timeNs,
    hostname: host,
    uuid: randomUUID(),
    node: host,
    eventId: '',
    engineVersion: ENGINE_VERSION,
  };
  // Falco's text line for an internal alert ends with its fields, each as key=JSON value.
  const fields = Object.entries(a.fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (!json) return `${toAlertText(input, settings.timeFormatIso8601)}${fields.length > 0 ? ` (${fields.join(' ')})` : ''}`;
  return jsonAlertLine(toAlertJson(input, settings.timeFormatIso8601), settings);
}

/** A full alert (as the engine publishes it) as Falco's JSON line: `json_include_*_property` applied. */
export function jsonAlertLine(alert: AlertJson, settings: Settings): string {
  const obj: Partial<AlertJson> & { message?: string } = { ...alert };
  // `message` is the rule's output alone: `output` less the "<time>: <Priority> " it starts with.
  if (settings.jsonIncludeMessageProperty) {
    const at = alert.output.indexOf(`: ${alert.priority} `);
    obj.message = at < 0 ? alert.output : alert.output.slice(at + alert.priority.length + 3);
  }
  if (!settings.jsonIncludeOutputProperty) delete obj.output;
  if (!settings.jsonIncludeOutputFieldsProperty) delete obj.output_fields;
  if (!settings.jsonIncludeTagsProperty) delete obj.tags;
  return JSON.stringify(obj);
}

/** The outputs the configuration enables (stdout_output, file_output, program_output); failures go to stderr, once each. */
export function configuredOutputs(settings: Settings): LocalOutputs {
  // Outputs Falco has and this command does not deliver to yet: said once, never silently dropped.
  const o = settings.config.output;
  const missing = [...(o.syslog ? ['syslog_output'] : []), ...(o.http.enabled ? ['http_output'] : []), ...(o.grpc ? ['grpc_output'] : [])];
  for (const m of missing) process.stderr.write(`harrier: ${m} is enabled but not available in this command yet; alerts go to stdout_output, file_output and program_output only\n`);
  return localOutputs(settings.config.output, (sink, message) => process.stderr.write(`harrier: ${sink}: ${message}\n`));
}

/** Waits for the outputs to finish; says on stderr how many alerts some output lost. Returns whether none was lost. */
export async function closeOutputs(outputs: LocalOutputs): Promise<boolean> {
  await outputs.close();
  const lost = outputs.failures();
  for (const f of lost) process.stderr.write(`harrier: ${f.sink}: ${f.failed} alert(s) could not be written\n`);
  return lost.length === 0;
}
