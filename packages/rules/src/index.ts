// Harrier's rules language: load Falco-compatible rules files, compile conditions and outputs,
// evaluate events through a field accessor.

export type { Expr, Pos } from './ast.js';
export type { BatchAccessor, FieldAccessor, FieldColumn, FieldReader, FieldRef, FieldValue, FieldScalar } from './accessor.js';
export { formatDiagnostic, type Diagnostic, type ErrorCode, type WarningCode, type SourcePos, type ItemRef } from './diagnostics.js';
export { parseCondition, conditionToString, escapeString, unescapeString, type ParseResult } from './filter/index.js';
export { resolveField, fieldInfo, listFieldClasses, isKnownEventType, allEventTypes, eventTypeInfo, type FieldClass, type FieldInfo, type FieldType, type EventTypeInfo } from './fields/index.js';
export { compileFilter, eventTypesOf, fieldMapAccessor, fieldKey, parseFieldMapLines, type CompileResult, type FieldMapEvent, type TypeSet } from './compiler/index.js';
export {
  PRIORITIES,
  parsePriority,
  priorityRank,
  compileOutput,
  toAlertJson,
  alertJsonText,
  alertTimeNs,
  eventTimeKey,
  toAlertText,
  formatTextTime,
  formatJsonTime,
  type Priority,
  type AlertJson,
  type AlertInput,
  type RenderedOutput,
  type CompiledOutput,
} from './output/index.js';
export { loadRules, readRulesPaths, describeRule, ENGINE_VERSION, PROVIDED_PLUGINS, PROVIDED_SOURCES, type RulesSource, type LoadedRule, type LoadResult } from './loader/index.js';
export { Ruleset, substringSelector, type CompiledRule, type RuleSelector, type RulesetOptions } from './ruleset/index.js';
