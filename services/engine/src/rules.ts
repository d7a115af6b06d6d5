// The ruleset an engine worker evaluates, and its hot reload: from the rules bucket when it holds
// a ruleset, else from the files; every candidate (a push, a SIGHUP) is loaded and compiled before
// it replaces the one in force, and a refused one raises an internal alert saying why.

import { batchAccessor, type BatchCursor } from '@harrier/batch';
import { componentLogger, type Logger, type NatsConnection } from '@harrier/kit';
import { formatDiagnostic, loadRules, readRulesPaths, Ruleset, type Diagnostic, type RulesetOptions, type RulesSource } from '@harrier/rules';
import type { RaiseInternal } from './internal.js';
import { readRuleset, rulesetDigest, watchRuleset, type RulesetEntry } from './rulesstore.js';

/** The internal alert's rule name when a candidate ruleset is refused. */
export const RULES_RELOAD_FAILED = 'Rules reload failed';
/** How many diagnostics an internal alert and a thrown error carry. */
const MAX_DIAGNOSTICS = 5;

export interface RulesInForce {
  readonly ruleset: Ruleset<BatchCursor>;
  /** `push:<revision>:<digest12>` or `files:<digest12>`: alerts and logs name the rules that made them. */
  readonly version: string;
  /** What the enabled rules can match ('all': every event type). */
  readonly eventTypes: ReadonlySet<string> | 'all';
  readonly origin: 'push' | 'files';
  /** The bucket revision of a pushed ruleset. */
  readonly revision?: number;
}

export interface RulesManagerOptions {
  readonly nc: NatsConnection;
  /** The rules bucket (config `engine.rules_bucket`). */
  readonly bucket: string;
  /** Rules files and folders, used when the bucket holds no ruleset and on reloadFromFiles(). */
  readonly files: readonly string[];
  readonly options: RulesetOptions;
  readonly log: Logger;
  readonly raiseInternal: RaiseInternal;
}

/** A candidate ruleset could not be loaded: `diagnostics` are its errors, in load order. */
export class RulesLoadError extends Error {
  override readonly name = 'RulesLoadError';
  constructor(
    message: string,
    readonly source: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
  }
}

export type ReloadResult = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string; readonly diagnostics: readonly Diagnostic[] };

type Candidate = { ok: true; rules: RulesInForce; warnings: readonly Diagnostic[] } | { ok: false; errors: readonly Diagnostic[] };

/**
 * Loads and compiles rules files against the batch accessor the engine evaluates with. Every
 * error the loader finds comes back, and so does a rule that compiles for the loader but not for
 * batches (Ruleset throws then).
 */
export function compileRuleset(files: readonly RulesSource[], options: RulesetOptions, readErrors: readonly Diagnostic[] = []): { ok: true; ruleset: Ruleset<BatchCursor>; warnings: readonly Diagnostic[] } | { ok: false; errors: readonly Diagnostic[] } {
  const loaded = loadRules(files);
  const errors = [...readErrors, ...loaded.errors];
  if (errors.length > 0) return { ok: false, errors };
  try {
    const ruleset = new Ruleset(loaded, batchAccessor(), options);
    return { ok: true, ruleset, warnings: loaded.warnings };
  } catch (err) {
    return { ok: false, errors: [{ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: (err as Error).message }] };
  }
}

export type RulesListener = (rules: RulesInForce) => void;

export class RulesManager {
  private readonly log: Logger;
  private inForce: RulesInForce | undefined;
  private readonly listeners = new Set<RulesListener>();
  private stopWatch: (() => Promise<void>) | undefined;
  /** The last bucket revision seen, so a watch never applies an older value after a newer one. */
  private lastRevision = 0;

  constructor(private readonly opts: RulesManagerOptions) {
    this.log = componentLogger(opts.log, 'engine.rules');
  }

  /**
   * Loads the rules in force (the bucket's, else the files) and follows the bucket. Throws
   * RulesLoadError when they do not load: a worker must not run without rules.
   */
  async start(): Promise<RulesInForce> {
    if (this.inForce) throw new Error('RulesManager.start() called twice');
    const stored = await readRuleset(this.opts.nc, this.opts.bucket);
    let c: Candidate;
    let source: string;
    if (stored?.kind === 'malformed') {
      throw new RulesLoadError(
        `the rules bucket '${this.opts.bucket}' holds a malformed ruleset at revision ${stored.revision}: ${stored.error}. Push valid rules with harrier rules push`,
        `push:${stored.revision}`,
        [],
      );
    } else if (stored) {
      source = `push:${stored.revision}`;
      this.lastRevision = stored.revision;
      c = this.fromPush(stored.revision, stored.doc.files, stored.doc.digest);
    } else {
      source = this.filesLabel();
      c = this.fromFiles();
    }
    if (!c.ok) {
      const shown = c.errors.slice(0, MAX_DIAGNOSTICS).map(formatDiagnostic);
      const more = c.errors.length > shown.length ? `\n  ... and ${c.errors.length - shown.length} more` : '';
      const fix = stored ? 'push corrected rules with harrier rules push' : 'fix them (harrier rules validate shows every problem)';
      throw new RulesLoadError(`the rules (${source}) have ${c.errors.length} error(s); ${fix}:\n  ${shown.join('\n  ')}${more}`, source, c.errors);
    }
    this.logWarnings(c.warnings, source);
    this.inForce = c.rules;
    this.log.info({ version: c.rules.version, rules: c.rules.ruleset.enabledCount(), types: typesLabel(c.rules.eventTypes) }, 'rules in force');
    this.stopWatch = await watchRuleset(this.opts.nc, this.opts.bucket, (e) => this.onEntry(e), { afterRevision: this.lastRevision });
    return c.rules;
  }

  /** The rules in force. */
  current(): RulesInForce {
    if (!this.inForce) throw new Error('RulesManager.current() before start()');
    return this.inForce;
  }

  /** Called after each switch of rules (not for the initial load); returns an unsubscribe function. */
  onChange(cb: RulesListener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * SIGHUP: reads the files again. A pushed ruleset in force wins over the files (every worker
   * must run the same rules), so then the files are only checked; push them to change the rules.
   */
  reloadFromFiles(): ReloadResult {
    const cur = this.current();
    const source = this.filesLabel();
    const c = this.fromFiles();
    if (!c.ok) return this.refuse(source, c.errors);
    if (cur.origin === 'push') {
      const reason = `the ruleset pushed at revision ${cur.revision} is in force and wins over the files; the files load fine: push them (harrier rules push), or clear the pushed ruleset (harrier rules clear), to use them`;
      this.log.warn({ files: this.opts.files, inForce: cur.version }, reason);
      return { ok: false, reason, diagnostics: [] };
    }
    this.logWarnings(c.warnings, source);
    this.swap(c.rules);
    return { ok: true, version: c.rules.version };
  }

  async stop(): Promise<void> {
    const s = this.stopWatch;
    this.stopWatch = undefined;
    this.listeners.clear();
    await s?.();
  }

  private onEntry(e: RulesetEntry): void {
    if (e.revision <= this.lastRevision) return;
    this.lastRevision = e.revision;
    switch (e.kind) {
      case 'malformed':
        this.refuse(`push:${e.revision}`, [{ severity: 'error', code: 'LOAD_ERR_VALIDATE', message: `the rules bucket holds a malformed value: ${e.error}` }]);
        return;
      case 'deleted': {
        // No ruleset in the bucket any more: the files are the rules again.
        const c = this.fromFiles();
        if (!c.ok) this.refuse(this.filesLabel(), c.errors);
        else {
          this.log.info({ revision: e.revision }, 'the pushed ruleset was deleted from the bucket: back to the rules files');
          this.logWarnings(c.warnings, this.filesLabel());
          this.swap(c.rules);
        }
        return;
      }
      case 'ruleset': {
        const c = this.fromPush(e.revision, e.doc.files, e.doc.digest);
        if (!c.ok) this.refuse(`push:${e.revision}`, c.errors);
        else {
          this.logWarnings(c.warnings, `push:${e.revision}`);
          this.log.info({ revision: e.revision, pushedBy: e.doc.pushed_by, pushedAt: e.doc.pushed_at }, 'ruleset pushed');
          this.swap(c.rules);
        }
        return;
      }
    }
  }

  private fromPush(revision: number, files: readonly RulesSource[], digest: string): Candidate {
    const r = compileRuleset(files, this.opts.options);
    if (!r.ok) return r;
    return { ok: true, warnings: r.warnings, rules: { ruleset: r.ruleset, version: `push:${revision}:${digest.slice(0, 12)}`, eventTypes: r.ruleset.eventTypes(), origin: 'push', revision } };
  }

  private fromFiles(): Candidate {
    const read = readRulesPaths(this.opts.files);
    const r = compileRuleset(read.sources, this.opts.options, read.errors);
    if (!r.ok) return r;
    return { ok: true, warnings: r.warnings, rules: { ruleset: r.ruleset, version: `files:${rulesetDigest(read.sources).slice(0, 12)}`, eventTypes: r.ruleset.eventTypes(), origin: 'files' } };
  }

  private filesLabel(): string {
    return `files:${this.opts.files.join(',')}`;
  }

  /** Keeps the rules in force, and says why in the log and in an internal alert. */
  private refuse(source: string, errors: readonly Diagnostic[]): ReloadResult {
    const inForce = this.current().version;
    const shown = errors.slice(0, MAX_DIAGNOSTICS).map(formatDiagnostic);
    const what = source.startsWith('push:') ? `the ruleset pushed at revision ${source.slice(5)}` : `the rules files (${this.opts.files.join(', ')})`;
    const reason = `${what} has ${errors.length} error(s) and was refused; the rules in force (${inForce}) stay`;
    this.log.error({ source, inForce, errors: errors.length, diagnostics: shown }, reason);
    try {
      this.opts.raiseInternal({
        rule: RULES_RELOAD_FAILED,
        priority: 'Error',
        text: `Rules reload failed: ${reason}. First error: ${shown[0] ?? 'none'}`,
        fields: { 'rules.source': source, 'rules.errors': errors.length, 'rules.diagnostics': shown.join('\n'), 'rules.in_force': inForce },
        // Every worker refuses the same push: one key makes the ALERTS stream keep one alert.
        ...(source.startsWith('push:') ? { key: `rules-reload:${this.opts.bucket}:${source}` } : {}),
      });
    } catch (err) {
      this.log.error({ err }, 'raising the rules reload internal alert failed');
    }
    return { ok: false, reason, diagnostics: errors };
  }

  private swap(rules: RulesInForce): void {
    const old = this.inForce;
    this.inForce = rules;
    this.log.info({ version: rules.version, previous: old?.version, rules: rules.ruleset.enabledCount(), types: typesLabel(rules.eventTypes) }, 'rules switched');
    for (const cb of this.listeners) {
      try {
        cb(rules);
      } catch (err) {
        this.log.error({ err, version: rules.version }, 'a rules change listener failed');
      }
    }
  }

  private logWarnings(warnings: readonly Diagnostic[], source: string): void {
    if (warnings.length === 0) return;
    this.log.warn({ source, warnings: warnings.length, first: warnings.slice(0, MAX_DIAGNOSTICS).map(formatDiagnostic) }, 'rules loaded with warnings');
  }
}

function typesLabel(t: ReadonlySet<string> | 'all'): number | 'all' {
  return t === 'all' ? 'all' : t.size;
}
