// Load diagnostics: every problem found while reading, checking and compiling rules files, with
// Falco's result codes so that users and tools recognise them.

/** Falco's load error codes (falco_load_result). */
export type ErrorCode =
  | 'LOAD_ERR_FILE_READ'
  | 'LOAD_ERR_YAML_PARSE'
  | 'LOAD_ERR_YAML_VALIDATE'
  | 'LOAD_ERR_COMPILE_CONDITION'
  | 'LOAD_ERR_COMPILE_OUTPUT'
  | 'LOAD_ERR_VALIDATE'
  | 'LOAD_ERR_EXTENSION';

/** Falco's load warning codes. */
export type WarningCode =
  | 'LOAD_UNKNOWN_SOURCE'
  | 'LOAD_UNSAFE_NA_CHECK'
  | 'LOAD_NO_EVTTYPE'
  | 'LOAD_UNKNOWN_FILTER'
  | 'LOAD_UNUSED_MACRO'
  | 'LOAD_UNUSED_LIST'
  | 'LOAD_UNKNOWN_ITEM'
  | 'LOAD_DEPRECATED_ITEM'
  | 'LOAD_WARNING_EXTENSION'
  | 'LOAD_APPEND_NO_VALUES'
  | 'LOAD_EXCEPTION_NAME_NOT_UNIQUE'
  | 'LOAD_INVALID_MACRO_NAME'
  | 'LOAD_INVALID_LIST_NAME'
  | 'LOAD_COMPILE_CONDITION'
  | 'LOAD_UNKNOWN_KEY';

export interface ItemRef {
  readonly type: 'rule' | 'macro' | 'list' | 'exception' | 'required_engine_version' | 'required_plugin_versions' | 'file';
  readonly name: string;
}

/** A position in a rules file: 1-based line and column, 0-based offset. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly offset: number;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: ErrorCode | WarningCode;
  /** What is wrong and how to fix it. */
  readonly message: string;
  readonly pos?: SourcePos | undefined;
  readonly item?: ItemRef | undefined;
}

/** Renders a diagnostic as one line: `file:line:col: error LOAD_ERR_...: message (rule 'x')`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}: ` : '';
  const item = d.item ? ` (${d.item.type} '${d.item.name}')` : '';
  return `${where}${d.severity} ${d.code}: ${d.message}${item}`;
}
