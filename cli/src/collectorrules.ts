// Which syscalls the live collector traces: what the rules in force can match. The rules in force
// are the rules bucket's when it holds a valid ruleset, else the configured files; the collector
// follows the bucket, so `harrier rules push` retunes every node's probe without a restart.

import { argsNamedBy, type ArgSelection } from '@harrier/collector';
import { readRuleset, rulesetDigest, watchRuleset, type RulesetEntry } from '@harrier/engine';
import type { Logger, NatsConnection } from '@harrier/kit';
import { formatDiagnostic, loadRules, readRulesPaths, Ruleset, fieldMapAccessor, type Diagnostic, type RulesetOptions, type RulesSource } from '@harrier/rules';

export type TracedTypes =
  | { readonly ok: true; readonly types: ReadonlySet<string> | 'all'; readonly args: ArgSelection; readonly version: string }
  | { readonly ok: false; readonly message: string };

/** The event types and arguments rules need, or why they do not load (`label` names them). */
export function tracedTypes(sources: readonly RulesSource[], readErrors: readonly Diagnostic[], options: RulesetOptions, label: string, version: string): TracedTypes {
  const loaded = loadRules(sources);
  const errors = [...readErrors, ...loaded.errors];
  if (errors.length > 0) {
    return { ok: false, message: `the rules in ${label} have ${errors.length} error(s); first: ${formatDiagnostic(errors[0]!)}. Check them with harrier rules validate` };
  }
  try {
    const rs = new Ruleset(loaded, fieldMapAccessor, { ...options, source: 'syscall' });
    return { ok: true, types: rs.eventTypes(), args: argsNamedBy(rs), version };
  } catch (err) {
    return { ok: false, message: `the rules in ${label} do not compile: ${(err as Error).message}` };
  }
}

/** The configured rules files' types. */
export function fileTypes(paths: readonly string[], options: RulesetOptions): TracedTypes {
  const read = readRulesPaths(paths);
  return tracedTypes(read.sources, read.errors, options, paths.join(', '), `files:${rulesetDigest(read.sources).slice(0, 12)}`);
}

export interface CollectorRulesOptions {
  readonly nc: NatsConnection;
  readonly bucket: string;
  readonly log: Logger;
  /** Options for pushed rulesets (the configured -D/-T/-t, priority). */
  readonly options: RulesetOptions;
  /** The configured files' types, read again at each call (SIGHUP re-reads the configuration too). */
  readonly files: () => TracedTypes;
}

export type ApplyTypes = (t: Extract<TracedTypes, { ok: true }>) => void;

export class CollectorRules {
  private origin: 'push' | 'files' = 'files';
  private revision = 0;
  private stopWatch: (() => Promise<void>) | undefined;

  constructor(private readonly opts: CollectorRulesOptions) {}

  /**
   * The types to start tracing: the bucket's ruleset when it holds a valid one, else the files'.
   * A bucket value that does not load is logged and the files are used.
   */
  async initial(): Promise<TracedTypes> {
    const e = await readRuleset(this.opts.nc, this.opts.bucket);
    if (e) {
      this.revision = e.revision;
      const t = this.fromEntry(e);
      if (t?.ok) {
        this.origin = 'push';
        return t;
      }
      this.opts.log.error({ revision: e.revision, problem: t?.message }, 'the rules bucket holds a ruleset that does not load; tracing what the rules files need');
    }
    this.origin = 'files';
    return this.opts.files();
  }

  /** Follows the bucket from after the initial revision; `apply` gets each valid ruleset's types. */
  async follow(apply: ApplyTypes): Promise<void> {
    if (this.stopWatch) throw new Error('CollectorRules.follow() called twice');
    this.stopWatch = await watchRuleset(this.opts.nc, this.opts.bucket, (e) => this.onEntry(e, apply), { afterRevision: this.revision });
  }

  /** SIGHUP: the files again, unless a pushed ruleset is in force (it wins, as on the engine). */
  reloadFiles(apply: ApplyTypes): void {
    if (this.origin === 'push') {
      this.opts.log.warn({ revision: this.revision }, 'rules reload: a pushed ruleset is in force and wins over the files; push them (harrier rules push), or clear the pushed ruleset (harrier rules clear), to use them');
      return;
    }
    const t = this.opts.files();
    if (!t.ok) this.opts.log.error({ problem: t.message }, 'rules reload failed; the traced syscalls stay as they were');
    else {
      apply(t);
      this.opts.log.info({ version: t.version, types: t.types === 'all' ? 'all' : t.types.size }, 'rules reloaded: traced syscalls updated');
    }
  }

  async stop(): Promise<void> {
    const s = this.stopWatch;
    this.stopWatch = undefined;
    await s?.();
  }

  private onEntry(e: RulesetEntry, apply: ApplyTypes): void {
    if (e.revision <= this.revision) return;
    this.revision = e.revision;
    if (e.kind === 'deleted') {
      // No pushed ruleset any more: the files are the rules again.
      const t = this.opts.files();
      this.origin = 'files';
      if (!t.ok) this.opts.log.error({ revision: e.revision, problem: t.message }, 'the pushed ruleset was deleted but the rules files do not load; the traced syscalls stay as they were');
      else {
        apply(t);
        this.opts.log.info({ version: t.version, types: t.types === 'all' ? 'all' : t.types.size }, 'the pushed ruleset was deleted: traced syscalls follow the rules files again');
      }
      return;
    }
    const t = this.fromEntry(e);
    if (!t?.ok) {
      this.opts.log.error({ revision: e.revision, problem: t?.message }, 'pushed ruleset refused; the traced syscalls stay as they were');
      return;
    }
    this.origin = 'push';
    apply(t);
    this.opts.log.info({ version: t.version, types: t.types === 'all' ? 'all' : t.types.size }, 'pushed ruleset: traced syscalls updated');
  }

  private fromEntry(e: RulesetEntry): TracedTypes | undefined {
    switch (e.kind) {
      case 'deleted':
        return undefined;
      case 'malformed':
        return { ok: false, message: `the rules bucket holds a malformed value at revision ${e.revision}: ${e.error}` };
      case 'ruleset':
        return tracedTypes(e.doc.files, [], this.opts.options, `the ruleset pushed at revision ${e.revision}`, `push:${e.revision}:${e.doc.digest.slice(0, 12)}`);
    }
  }
}
