// Alerts as Falco gives them out: one line per rule match (text, or JSON with the
// `json_include_*` settings applied) to the line outputs, and a message to Falco's gRPC outputs
// service. Capture replay builds alerts from matches; `harrier run` passes on the engine's.

import { randomUUID } from 'node:crypto';
import { batchAccessor } from '@harrier/batch';
import type { ReplayMatch } from '@harrier/collector';
import { ENGINE_VERSION, alertJsonText, eventTimeKey, resolveField, toAlertJson, toAlertText, type AlertInput, type AlertJson, type FieldRef, type Priority, type RenderedOutput } from '@harrier/rules';
import { FalcoGrpcServer, localOutputs, onceEach, type LocalOutputs } from '@harrier/notifier';
import { HARRIER_VERSION } from './version.js';
import type { Settings } from './settings.js';

const RAWTIME = ((): FieldRef => {
  const r = resolveField('evt.rawtime', undefined);
  if (!r.ok) throw new Error('evt.rawtime is not in the field registry');
  return { name: r.info.name, arg: undefined, info: r.info };
})();

/** Builds the alert (Falco's JSON shape plus the contract's keys) for a match. */
export function alertFormatter(settings: Settings, host: string): (m: ReplayMatch) => AlertJson {
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
    return toAlertJson(input, settings.timeFormatIso8601);
  };
}

/** An internal alert (`source: internal`, e.g. a syscall event drop), with the text line Falco prints for it. */
export function internalAlert(settings: Settings, host: string, a: { rule: string; priority: Priority; text: string; fields: RenderedOutput['fields']; timeNs: bigint }): { alert: AlertJson; text: string } {
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
  return { alert: toAlertJson(input, settings.timeFormatIso8601), text: `${toAlertText(input, settings.timeFormatIso8601)}${fields.length > 0 ? ` (${fields.join(' ')})` : ''}` };
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
  // Falco's output_fields of a rule's alert start with the event time, as exact text.
  return alertJsonText(obj as AlertJson, eventTimeKey(alert));
}

/**
 * Every enabled output of one command: the line outputs (stdout_output, file_output,
 * program_output), as text or JSON lines, and Falco's gRPC outputs service when grpc and
 * grpc_output are both enabled.
 */
export class AlertOutputs {
  private constructor(
    readonly local: LocalOutputs,
    /** The gRPC server (grpc.enabled), which also answers version calls. */
    readonly server: FalcoGrpcServer | undefined,
    /** The server, when grpc_output also queues alerts for it. */
    readonly grpc: FalcoGrpcServer | undefined,
    private readonly settings: Settings,
    private readonly json: boolean,
  ) {}

  /** Starts what the configuration enables; rejects when the gRPC server cannot serve (the message says why). */
  static async open(settings: Settings, json: boolean): Promise<AlertOutputs> {
    const o = settings.config.output;
    const g = settings.config.grpc;
    // Outputs Falco has and this command does not deliver to yet: said once, never silently dropped.
    const missing = [...(o.syslog ? ['syslog_output'] : []), ...(o.http.enabled ? ['http_output'] : [])];
    for (const m of missing) process.stderr.write(`harrier: ${m} is enabled but not available in this command yet; alerts go to stdout_output, file_output, program_output and grpc_output only\n`);
    if (o.grpc && !g.enabled) process.stderr.write('harrier: grpc_output is enabled but the gRPC server is not (grpc.enabled: false): no client can fetch those alerts\n');
    const report = (sink: string, message: string): void => void process.stderr.write(`harrier: ${sink}: ${message}\n`);
    let grpc: FalcoGrpcServer | undefined;
    if (g.enabled) {
      const unix = g.bindAddress.startsWith('unix:');
      grpc = new FalcoGrpcServer({
        bindAddress: g.bindAddress,
        tls: unix ? undefined : { privateKey: g.privateKey, certChain: g.certChain, rootCerts: g.rootCerts },
        timeIso8601: settings.timeFormatIso8601,
        version: { harrier: HARRIER_VERSION, engine: ENGINE_VERSION },
        report: onceEach(report),
      });
      await grpc.start();
    }
    return new AlertOutputs(localOutputs(o, report), grpc, o.grpc ? grpc : undefined, settings, json);
  }

  /** Where the gRPC server serves, if it runs. */
  get address(): string | undefined {
    return this.server?.boundAddress;
  }

  /** One alert to every output; `text` replaces the text line (internal alerts append their fields). */
  write(alert: AlertJson, text?: string): void {
    this.local.write(this.json ? jsonAlertLine(alert, this.settings) : (text ?? alert.output));
    this.grpc?.push(alert);
  }

  /**
   * Waits for the line outputs to finish; says on stderr how many alerts some output lost, and how
   * many no gRPC client fetched. Stops the gRPC server. Returns whether nothing was lost.
   */
  async close(): Promise<boolean> {
    await this.local.close();
    const lost = this.local.failures();
    for (const f of lost) process.stderr.write(`harrier: ${f.sink}: ${f.failed} alert(s) could not be written\n`);
    let ok = lost.length === 0;
    if (this.grpc) {
      const g = this.grpc;
      const lostParts = [
        ...(g.pending > 0 ? [`${g.pending} alert(s) were not fetched by a gRPC client`] : []),
        ...(g.dropped > 0 ? [`${g.dropped} were dropped from the full queue`] : []),
        ...(g.rejected > 0 ? [`${g.rejected} could not be served`] : []),
      ];
      if (lostParts.length > 0) {
        process.stderr.write(`harrier: grpc_output: ${lostParts.join(', ')}\n`);
        ok = false;
      }
    }
    await this.server?.stop();
    return ok;
  }
}
