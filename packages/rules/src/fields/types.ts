// Field metadata, in libsinsp's terms, so that operator/type checks behave as Falco's do.

/** libsinsp parameter types that fields use (ppm_param_type names without the PT_ prefix). */
export type FieldType =
  | 'CHARBUF'
  | 'BYTEBUF'
  | 'FSPATH'
  | 'FSRELPATH'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'BOOL'
  | 'DOUBLE'
  | 'RELTIME'
  | 'ABSTIME'
  | 'IPADDR'
  | 'IPV4ADDR'
  | 'IPV6ADDR'
  | 'IPNET'
  | 'IPV4NET'
  | 'IPV6NET'
  | 'PORT'
  | 'L4PROTO'
  | 'SOCKFAMILY'
  | 'UID'
  | 'GID'
  | 'PID'
  | 'FD'
  | 'ERRNO'
  | 'MODE'
  | 'FLAGS8'
  | 'FLAGS16'
  | 'FLAGS32'
  | 'SIGTYPE'
  /** evt.rawarg: the argument's own type, known only per event type. */
  | 'DYNAMIC';

/** How a field takes an argument in `[...]` (or, for evt.arg.NAME, after a dot). */
export type ArgForm =
  | 'none'
  /** argument is required (e.g. `ka.uri.param[NAME]`, `json.value[/ptr]`) */
  | 'required'
  /** argument is optional (e.g. `proc.aname` or `proc.aname[2]`) */
  | 'optional';

/** What kind of argument a field accepts when it takes one. */
export type ArgKind = 'index' | 'key' | 'index_or_key';

export interface FieldInfo {
  /** Full name, e.g. `proc.aname`. */
  readonly name: string;
  readonly type: FieldType;
  /** The plugin or event source family the field belongs to: `syscall`, `k8s_audit`, `container`, `json`. */
  readonly source: string;
  readonly arg: ArgForm;
  readonly argKind?: ArgKind | undefined;
  /** True when the field yields several values (`ka.req.pod.containers.image`); compared with `in`/`intersects`. */
  readonly list?: boolean | undefined;
  /** Field cannot be used in filters, only in outputs (libsinsp EPF_FILTER_ONLY opposite: EPF_PRINT_ONLY). */
  readonly printOnly?: boolean | undefined;
  /** Field may only be used in filters, not outputs. */
  readonly filterOnly?: boolean | undefined;
  /** Deprecated alias or field; kept working. */
  readonly deprecated?: boolean | undefined;
  /** One line on what the field is. */
  readonly desc: string;
}
