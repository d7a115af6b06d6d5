// The rules bucket: one KV key ("current") holding the pushed ruleset (every rules file's name and
// text), which engine workers and collectors follow so that a whole cluster switches rules at once.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@harrier/kit';
import type { RulesSource } from '@harrier/rules';

/** The bucket's name when `engine.rules_bucket` is not set. */
export const DEFAULT_RULES_BUCKET = 'harrier-rules';
/** The one key a ruleset lives under; older values stay in the key's history. */
export const RULESET_KEY = 'current';
/** The document format this code writes and reads. */
export const RULESET_FORMAT = 1;
/** Older rulesets kept per key, so an operator can see (and restore) what was pushed before. */
const HISTORY = 10;

/** The value stored under `current`. */
export interface RulesetDoc {
  readonly format: 1;
  /** Rules files in load order; names are what diagnostics show. */
  readonly files: readonly RulesSource[];
  /** ISO 8601. */
  readonly pushed_at: string;
  /** Host name of the pusher. */
  readonly pushed_by: string;
  /** sha256 (hex) of the files, as `rulesetDigest` computes it. */
  readonly digest: string;
}

/**
 * What the key holds at one revision. A value that is not a ruleset this code understands is a
 * `malformed` entry (with the reason), never an exception: the bucket is input from the network.
 */
export type RulesetEntry =
  | { readonly kind: 'ruleset'; readonly revision: number; readonly doc: RulesetDoc }
  | { readonly kind: 'malformed'; readonly revision: number; readonly error: string }
  | { readonly kind: 'deleted'; readonly revision: number };

export type RulesStoreErrorCode = 'TOO_LARGE' | 'BUCKET' | 'EMPTY';

/** A bucket operation failed: the message says what and how to fix it. */
export class RulesStoreError extends Error {
  override readonly name = 'RulesStoreError';
  constructor(
    message: string,
    readonly code: RulesStoreErrorCode,
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * sha256 of the files, names included (a renamed file changes diagnostics), each field
 * length-prefixed so that no two different file lists hash alike.
 */
export function rulesetDigest(files: readonly RulesSource[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    for (const s of [f.name, f.content]) {
      const b = Buffer.from(s, 'utf8');
      h.update(`${b.length}:`);
      h.update(b);
    }
  }
  return h.digest('hex');
}

/** Opens the bucket, creating it when missing (any worker, collector or pusher may be first). */
export async function openRulesBucket(nc: NatsConnection, bucket: string = DEFAULT_RULES_BUCKET): Promise<KV> {
  try {
    return await new Kvm(nc).create(bucket, { history: HISTORY });
  } catch (err) {
    const reason = (err as Error).message;
    throw new RulesStoreError(
      `cannot open the rules bucket '${bucket}': ${reason}; the NATS server needs JetStream enabled (nats-server -js), and the account needs permission for $JS.API and $KV.${bucket}.>`,
      'BUCKET',
      bucket,
      { cause: err },
    );
  }
}

export interface PushResult {
  readonly revision: number;
  readonly digest: string;
  /** Size of the stored value. */
  readonly bytes: number;
}

/** Stores a ruleset as the one in force. Throws RulesStoreError when it cannot be stored. */
export async function pushRuleset(nc: NatsConnection, bucket: string, files: readonly RulesSource[], opts: { pushedBy?: string; now?: Date } = {}): Promise<PushResult> {
  if (files.length === 0) throw new RulesStoreError(`refusing to push an empty ruleset to '${bucket}': give at least one rules file`, 'EMPTY', bucket);
  const digest = rulesetDigest(files);
  const doc: RulesetDoc = {
    format: RULESET_FORMAT,
    files: files.map((f) => ({ name: f.name, content: f.content })),
    pushed_at: (opts.now ?? new Date()).toISOString(),
    pushed_by: opts.pushedBy ?? hostname(),
    digest,
  };
  const value = new TextEncoder().encode(JSON.stringify(doc));
  // A KV value is one JetStream message: past the server's max_payload the publish fails with a
  // bare "maximum payload exceeded", so say what to do before trying. 1 KB is left for headers.
  const limit = nc.info?.max_payload;
  if (limit !== undefined && value.length > limit - 1024) {
    throw new RulesStoreError(
      `the ruleset is ${mb(value.length)} once encoded, over what the NATS server accepts in one message (max_payload ${mb(limit)}): ` +
        `raise max_payload in the nats-server configuration (e.g. max_payload: 8MB), or push fewer or smaller rules files`,
      'TOO_LARGE',
      bucket,
    );
  }
  const kv = await openRulesBucket(nc, bucket);
  try {
    const revision = await kv.put(RULESET_KEY, value);
    return { revision, digest, bytes: value.length };
  } catch (err) {
    const reason = (err as Error).message;
    const code: RulesStoreErrorCode = /payload|too large|max.*size/i.test(reason) ? 'TOO_LARGE' : 'BUCKET';
    const hint = code === 'TOO_LARGE' ? 'raise max_payload on the NATS server (and the bucket\'s max value size), or push fewer rules' : 'check that the NATS server runs JetStream and has room';
    throw new RulesStoreError(`cannot store the ruleset (${mb(value.length)}) in '${bucket}': ${reason}; ${hint}`, code, bucket, { cause: err });
  }
}

/** The ruleset in the bucket now, or undefined when there is none (never pushed, or deleted). */
export async function readRuleset(nc: NatsConnection, bucket: string = DEFAULT_RULES_BUCKET): Promise<Exclude<RulesetEntry, { kind: 'deleted' }> | undefined> {
  const kv = await openRulesBucket(nc, bucket);
  let e: KvEntry | null;
  try {
    e = await kv.get(RULESET_KEY);
  } catch (err) {
    throw new RulesStoreError(`cannot read '${RULESET_KEY}' from the rules bucket '${bucket}': ${(err as Error).message}`, 'BUCKET', bucket, { cause: err });
  }
  if (!e) return undefined;
  const entry = toEntry(e);
  return entry.kind === 'deleted' ? undefined : entry;
}

/**
 * Deletes the pushed ruleset, so every worker and collector goes back to its rules files. Returns
 * the revision of the deletion, or undefined when the bucket held no ruleset.
 */
export async function clearRuleset(nc: NatsConnection, bucket: string = DEFAULT_RULES_BUCKET): Promise<number | undefined> {
  if ((await readRuleset(nc, bucket)) === undefined) return undefined;
  const kv = await openRulesBucket(nc, bucket);
  try {
    await kv.delete(RULESET_KEY);
    // The delete marker is the key's newest entry: its revision is the one watchers see.
    return (await kv.get(RULESET_KEY))?.revision;
  } catch (err) {
    throw new RulesStoreError(`cannot delete '${RULESET_KEY}' from the rules bucket '${bucket}': ${(err as Error).message}`, 'BUCKET', bucket, { cause: err });
  }
}

export interface WatchOptions {
  /** Entries at or below this revision are skipped (the caller has already read them). */
  readonly afterRevision?: number;
}

/**
 * Calls `onUpdate` with the key's current value (when it has one) and then every change, in
 * order, until the returned function is called. `onUpdate` should not throw: an exception from it
 * is reported as a process warning and the watch goes on.
 */
export async function watchRuleset(nc: NatsConnection, bucket: string, onUpdate: (e: RulesetEntry) => void | Promise<void>, opts: WatchOptions = {}): Promise<() => Promise<void>> {
  const kv = await openRulesBucket(nc, bucket);
  const iter = await kv.watch({ key: RULESET_KEY });
  const done = (async () => {
    for await (const e of iter) {
      if (opts.afterRevision !== undefined && e.revision <= opts.afterRevision) continue;
      try {
        await onUpdate(toEntry(e));
      } catch (err) {
        process.emitWarning(`rules bucket '${bucket}' watcher: the update handler failed at revision ${e.revision}: ${(err as Error).stack ?? String(err)}`);
      }
    }
  })();
  return async () => {
    iter.stop();
    await done.catch(() => undefined);
  };
}

function toEntry(e: KvEntry): RulesetEntry {
  if (e.operation !== 'PUT') return { kind: 'deleted', revision: e.revision };
  const parsed = parseDoc(e.value);
  return typeof parsed === 'string' ? { kind: 'malformed', revision: e.revision, error: parsed } : { kind: 'ruleset', revision: e.revision, doc: parsed };
}

/** The document, or what is wrong with it. */
export function parseDoc(value: Uint8Array): RulesetDoc | string {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch (err) {
    return `the value is not JSON (${(err as Error).message}); push rules with harrier rules push`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the value is not a JSON object; push rules with harrier rules push';
  const o = v as Record<string, unknown>;
  if (o['format'] !== RULESET_FORMAT) {
    return typeof o['format'] === 'number' && o['format'] > RULESET_FORMAT
      ? `the ruleset has format ${o['format']}, newer than this Harrier understands (${RULESET_FORMAT}); upgrade it`
      : `'format' must be ${RULESET_FORMAT}, got ${JSON.stringify(o['format'])}`;
  }
  const files = o['files'];
  if (!Array.isArray(files) || files.length === 0) return "'files' must be a non-empty list of {name, content}";
  const out: RulesSource[] = [];
  for (const [i, f] of files.entries()) {
    const r = f as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r['name'] !== 'string' || typeof r['content'] !== 'string') return `files[${i}] must be {name: string, content: string}`;
    out.push({ name: r['name'], content: r['content'] });
  }
  for (const k of ['pushed_at', 'pushed_by', 'digest'] as const) {
    if (typeof o[k] !== 'string') return `'${k}' must be a string`;
  }
  const digest = rulesetDigest(out);
  if (o['digest'] !== digest) return `the digest ${String(o['digest'])} does not match the files (sha256 ${digest}): the value was altered or written by another tool; push the rules again`;
  return { format: RULESET_FORMAT, files: out, pushed_at: o['pushed_at'] as string, pushed_by: o['pushed_by'] as string, digest };
}

function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}
