// Capture replay in one process: raw events -> state engine -> enriched events -> batches (the
// same tables and columns the pipeline publishes) -> the ruleset, batch by batch -> matches.
// `harrier replay FILE.scap` and the replay tests and benchmark run through it.

import { BatchBuilder, DecodedBatch, batchAccessor, type BatchCursor } from '@harrier/batch';
import { type CompiledRule, type LoadResult, type LoadedRule, Ruleset, type RulesetOptions } from '@harrier/rules';
import { StateEngine, type SeedFd, type SeedThread } from '../state/engine.js';
import type { RawEvent } from '../state/params.js';
import type { UserInfo, GroupInfo } from '@harrier/batch';
import { Enricher, argsNamedBy, type ArgSelection } from './enrich.js';

export interface ReplayOptions {
  /** Events per batch (default 1024). */
  readonly batchSize?: number;
  /** Which event arguments to render (default: those the rules name, all when they use evt.args or with onBatch). */
  readonly args?: ArgSelection;
  readonly ruleset?: RulesetOptions;
  readonly node?: string;
  /**
   * Called with every batch before its rules run. With it, every event goes into the batches
   * (not only the types the rules can match), as `--print` needs.
   */
  readonly onBatch?: (batch: DecodedBatch) => void;
}

export interface ReplayMatch {
  readonly rule: CompiledRule<BatchCursor>;
  /** The event, readable through the ruleset's accessor until the next batch is evaluated. */
  readonly cursor: BatchCursor;
  readonly batch: DecodedBatch;
  readonly row: number;
}

export interface ReplayCounts {
  events: number;
  evaluated: number;
  skipped: number;
  matches: number;
}

export class ReplayPipeline {
  readonly state = new StateEngine();
  readonly ruleset: Ruleset<BatchCursor>;
  readonly counts: ReplayCounts = { events: 0, evaluated: 0, skipped: 0, matches: 0 };
  private readonly accessor = batchAccessor();
  private readonly builder: BatchBuilder;
  private readonly enricher: Enricher;
  private readonly batchSize: number;
  private readonly wanted: ReadonlySet<string> | 'all';
  private readonly onBatch: ((batch: DecodedBatch) => void) | undefined;
  private seq = 0;

  constructor(
    rules: LoadResult | readonly LoadedRule[],
    private readonly onMatch: (m: ReplayMatch) => void,
    opts: ReplayOptions = {},
  ) {
    this.ruleset = new Ruleset(rules, this.accessor, { ...opts.ruleset, source: 'syscall' });
    this.builder = new BatchBuilder({ collectorId: 'replay', node: opts.node ?? 'replay', source: 'syscall' });
    this.enricher = new Enricher(this.state.tables, opts.args ?? (opts.onBatch ? 'all' : argsNamedBy(this.ruleset)));
    this.batchSize = opts.batchSize ?? 1024;
    this.onBatch = opts.onBatch;
    const types = this.ruleset.eventTypes();
    this.wanted = types === 'all' || opts.onBatch ? 'all' : types;
  }

  seedThread(s: SeedThread): void {
    this.state.seedThread(s);
  }

  seedFd(tid: number, f: SeedFd): void {
    this.state.seedFd(tid, f);
  }

  seedUsers(users: Iterable<UserInfo>, groups: Iterable<GroupInfo>): void {
    for (const u of users) this.state.tables.users.set(u.uid, u);
    for (const g of groups) this.state.tables.groups.set(g.gid, g);
  }

  /** Feeds one event; matches are reported when its batch is evaluated. */
  push(e: RawEvent): void {
    this.counts.events++;
    const st = this.state.process(e);
    if (!this.evaluates(e.type)) {
      this.counts.skipped++;
      return;
    }
    this.counts.evaluated++;
    this.builder.add(this.enricher.enrich(e, st));
    if (this.builder.size >= this.batchSize) this.flush();
  }

  /** Evaluates the events buffered so far. */
  flush(): void {
    if (this.builder.size === 0) return;
    const batch = new DecodedBatch(this.builder.finish(++this.seq));
    this.onBatch?.(batch);
    this.counts.matches += this.ruleset.evaluateBatch(batch, (rule, row) => {
      this.onMatch({ rule, cursor: this.accessor.at(batch, row), batch, row });
    });
  }

  /**
   * Every event of a type some rule can match is evaluated: as in Falco, -A (include the events
   * left out by default) concerns the syscalls a live capture asks the kernel for, not replay.
   */
  private evaluates(type: string): boolean {
    return this.wanted === 'all' || this.wanted.has(type);
  }
}
