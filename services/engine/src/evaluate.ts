// One batch from EVENTS through the rules in force: decode, evaluate through the batch accessor,
// and turn each match into the alert ARCHITECTURE.md's contract describes. Events of a type the
// event table does not know are set aside (the caller dead-letters them); the rest are evaluated.

import { BatchCursor, DecodedBatch, batchAccessor, eventId } from '@harrier/batch';
import { ENGINE_VERSION, eventTypeInfo, resolveField, toAlertJson, type FieldReader, type FieldRef, type Ruleset } from '@harrier/rules';
import { alertId, alertMsgId, alertSubject, type PublishedAlert } from './alerts.js';

/** The rules in force for each event source (syscall, k8s_audit, ...). */
export interface RulesetLookup {
  rulesetFor(source: string): Ruleset<BatchCursor> | undefined;
}

export interface EvaluatedBatch {
  readonly batch: DecodedBatch;
  readonly source: string;
  readonly events: number;
  readonly alerts: readonly PublishedAlert[];
  /** Matches per rule (name, priority, source) for metrics. */
  readonly matches: readonly { readonly rule: string; readonly priority: string; readonly source: string }[];
  /** Rows whose event type is not in the event table, by type name. */
  readonly unknownTypes: ReadonlyMap<string, readonly number[]>;
}

const RAWTIME = ((): FieldRef => {
  const r = resolveField('evt.rawtime', undefined);
  if (!r.ok) throw new Error('evt.rawtime is not in the field registry');
  return { name: r.info.name, arg: undefined, info: r.info };
})();

export class BatchEvaluator {
  private readonly accessor = batchAccessor();
  private readonly rawtime: FieldReader<BatchCursor>;

  /** `timeIso8601`: time_format_iso_8601, the form of the time that starts each alert's output. */
  constructor(
    private readonly rules: RulesetLookup,
    private readonly opts: { readonly timeIso8601?: boolean } = {},
  ) {
    const r = this.accessor.reader(RAWTIME);
    if (!r) throw new Error('the batch accessor cannot read evt.rawtime');
    this.rawtime = r;
  }

  /** Decodes and evaluates one EVENTS message; a malformed one throws BatchError. */
  evaluate(data: Uint8Array): EvaluatedBatch {
    return this.evaluateDecoded(DecodedBatch.decode(data));
  }

  evaluateDecoded(batch: DecodedBatch): EvaluatedBatch {
    const msg = batch.msg;
    const source = msg.source || 'syscall';
    const unknownTypes = source === 'syscall' ? unknownRows(batch) : new Map<string, number[]>();
    const alerts: PublishedAlert[] = [];
    const matches: { rule: string; priority: string; source: string }[] = [];
    const ruleset = this.rules.rulesetFor(source);
    if (ruleset && batch.rows > 0) {
      const seq = Number(msg.sequence);
      ruleset.evaluateBatch(batch, (rule, row) => {
        const r = rule.rule;
        const cursor = this.accessor.at(batch, row);
        const raw = this.rawtime(cursor);
        const evId = eventId(msg.collectorId, seq, row);
        const json = toAlertJson({
          rule: r.name,
          priority: r.priority,
          source: r.source,
          tags: r.tags,
          output: rule.output.render(cursor),
          timeNs: typeof raw === 'bigint' ? raw : 0n,
          hostname: msg.node,
          uuid: alertId(evId, r.name),
          node: msg.node,
          eventId: evId,
          engineVersion: ENGINE_VERSION,
        }, this.opts.timeIso8601 ?? false);
        alerts.push({ subject: alertSubject(r.source, r.priority, r.name), msgId: alertMsgId(evId, r.name), json });
        matches.push({ rule: r.name, priority: r.priority, source: r.source });
      });
    }
    return { batch, source, events: batch.rows, alerts, matches, unknownTypes };
  }
}

/** Rows whose type name the event table does not know (each distinct type is looked up once). */
function unknownRows(batch: DecodedBatch): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const ids = batch.typeIds;
  let verdict: Map<number, boolean> | undefined;
  for (let row = 0; row < ids.length; row++) {
    const id = ids[row]!;
    verdict ??= new Map();
    let known = verdict.get(id);
    if (known === undefined) {
      known = id >= 0 && eventTypeInfo(batch.strings[id] ?? '') !== undefined;
      verdict.set(id, known);
    }
    if (known) continue;
    const name = id >= 0 ? (batch.strings[id] ?? '') : '';
    const rows = out.get(name);
    if (rows) rows.push(row);
    else out.set(name, [row]);
  }
  return out;
}
