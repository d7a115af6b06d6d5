// Harrier engine workers: partition leases, ordered consumption of EVENTS, rule evaluation, alerts.
export { startEngine, STATS_SUBJECTS, type EngineService, type EngineStats, type StartEngineOptions } from './worker.js';
export { ALERTS_STREAM, ALERTS_SUBJECT_PREFIX, DEADLETTER_STREAM, DEADLETTER_SUBJECT_PREFIX, AlertPublisher, alertId, alertMsgId, alertSubject, ensureAlertsStream, ensureDeadLetterStream, ruleSlug, type PublishedAlert } from './alerts.js';
export { BatchEvaluator, type EvaluatedBatch, type RulesetLookup } from './evaluate.js';
export { PartitionConsumer, consumerPrefix, type BatchHandler, type PartitionConsumerOptions } from './consumer.js';
export { CaptureDropCheck, DropMonitor, InternalAlerts, type DropActionHooks, dropSettings, internalAlert, DEFAULT_DROP_SETTINGS, INTERNAL_SOURCE, type DropSettings, type InternalAlertInput, type RaiseInternal } from './internal.js';
export { LOAD_RULES, LoadGenerator, MARKER_DIR, type LoadBatch, type LoadOptions } from './testing/load.js';
export { compileRuleset, RULES_RELOAD_FAILED, RulesLoadError, RulesManager, type ReloadResult, type RulesInForce, type RulesListener, type RulesManagerOptions } from './rules.js';
export {
  clearRuleset,
  DEFAULT_RULES_BUCKET,
  RULESET_KEY,
  openRulesBucket,
  parseDoc,
  pushRuleset,
  readRuleset,
  rulesetDigest,
  RulesStoreError,
  watchRuleset,
  type PushResult,
  type RulesetDoc,
  type RulesetEntry,
  type RulesStoreErrorCode,
  type WatchOptions,
} from './rulesstore.js';
export { DEFAULT_LEASES_BUCKET, PartitionLeases, type LeaseValue, type PartitionHandler, type PartitionLeasesOptions, type StopReason } from './leases.js';
