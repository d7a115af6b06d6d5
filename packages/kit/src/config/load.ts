// Loads harrier.yaml (or falco.yaml), applies environment variables and -o overrides, validates the
// result against the one schema with file:line:col for every error, and resolves it into a frozen,
// fully populated HarrierConfig.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import AjvModule, { type ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, parse as parseYamlValue, type Document, type Node } from 'yaml';
import { CONFIG_SCHEMA, KNOWN_TOP_KEYS, NATIVE_PLUGINS } from './schema.js';
import type { HarrierConfig, RuleSelection } from './types.js';

export interface ConfigError {
  /** `file:line:col`, `env HARRIER_X`, or `-o key=value`. */
  readonly where: string;
  readonly message: string;
}

export interface LoadConfigInput {
  readonly files?: readonly string[];
  /** Text of config files already read, keyed by name (for tests and stdin). */
  readonly texts?: readonly { readonly name: string; readonly text: string }[];
  readonly overrides?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type LoadConfigResult = { readonly ok: true; readonly config: HarrierConfig } | { readonly ok: false; readonly errors: readonly ConfigError[] };

type Raw = Record<string, unknown>;
interface Origin {
  /** Position of the value at `path`, or of its key with `atKey`. */
  where: (path: readonly (string | number)[], atKey?: boolean) => string;
}

const ajv = new AjvModule.default({ allErrors: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

/** Environment variables: HARRIER_NATS_URL style names for common keys, HARRIER__A__B for any key a.b. */
const ENV_KEYS: Record<string, string> = {
  HARRIER_NATS_URL: 'nats.url',
  HARRIER_NATS_TOKEN: 'nats.token',
  HARRIER_NATS_USER: 'nats.user',
  HARRIER_NATS_PASSWORD: 'nats.password',
  HARRIER_NATS_CREDS_FILE: 'nats.creds_file',
  HARRIER_PARTITIONS: 'partitions',
  HARRIER_LOG_LEVEL: 'logging.level',
  HARRIER_NODE: 'collector.node',
  HARRIER_RULES_FILES: 'rules_files',
  HARRIER_PROBE: 'collector.probe.path',
};

const SECRET_KEYS = /password|token|seed|creds|key$/i;

function setPath(target: Raw, path: readonly (string | number)[], value: unknown, append: boolean): void {
  let cur: Raw | unknown[] = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = (cur)[k as string];
    if (typeof next !== 'object' || next === null) (cur)[k as string] = typeof path[i + 1] === 'number' ? [] : {};
    cur = (cur)[k as string] as Raw;
  }
  const last = path[path.length - 1]!;
  if (append) {
    const arr = (cur)[last as string];
    if (Array.isArray(arr)) arr.push(value);
    else (cur)[last as string] = [value];
  } else (cur)[last as string] = value;
}

function deepMerge(into: Raw, from: Raw): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) deepMerge(cur as Raw, v as Raw);
    else into[k] = v;
  }
}

/** Parses `a.b[0].c=value` / `a.b[]=value` (Falco's -o syntax). */
function parseOverride(text: string): { path: (string | number)[]; append: boolean; value: unknown } | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return 'expected KEY=VALUE, e.g. -o json_output=true';
  const key = text.slice(0, eq).trim();
  const path: (string | number)[] = [];
  let append = false;
  for (const part of key.split('.')) {
    const m = /^([A-Za-z0-9_-]+)((?:\[\d*\])*)$/.exec(part);
    if (!m) return `'${key}' is not a key path (use a.b.c, a[0], a[])`;
    path.push(m[1]!);
    for (const idx of m[2]!.match(/\[\d*\]/g) ?? []) {
      if (idx === '[]') append = true;
      else path.push(Number(idx.slice(1, -1)));
    }
  }
  let value: unknown;
  try {
    value = parseYamlValue(text.slice(eq + 1));
  } catch {
    value = text.slice(eq + 1);
  }
  return { path, append, value };
}

function nodeAt(doc: Document, path: readonly (string | number)[], atKey = false): Node | undefined {
  let cur: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    if (isMap(cur) && atKey && i === path.length - 1) {
      const pair = cur.items.find((it) => isScalar(it.key) && it.key.value === p);
      return (pair?.key as Node | undefined) ?? undefined;
    }
    if (isMap(cur)) cur = cur.get(p, true);
    else if (isSeq(cur)) cur = cur.get(Number(p), true);
    else return cur as Node | undefined;
  }
  return cur as Node | undefined;
}

function suggest(key: string, known: readonly string[]): string {
  let best = '';
  let bestD = 3;
  for (const k of known) {
    const d = lev(k, key);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function lev(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const errors: ConfigError[] = [];
  const merged: Raw = {};
  /** Where each top-level path came from, latest source wins. */
  const origins = new Map<string, Origin>();
  const texts = [...(input.texts ?? [])];
  for (const f of input.files ?? []) {
    try {
      texts.push({ name: f, text: readFileSync(f, 'utf8') });
    } catch (err) {
      errors.push({ where: f, message: `cannot read the configuration file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  for (const { name, text } of texts) {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const p = lc.linePos(e.pos[0]);
        errors.push({ where: `${name}:${p.line}:${p.col}`, message: `YAML error: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    const value = doc.toJSON() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ where: `${name}:1:1`, message: 'a configuration file must be a map of keys, e.g. "nats:\\n  url: nats://127.0.0.1:4222"' });
      continue;
    }
    deepMerge(merged, value as Raw);
    const origin: Origin = {
      where: (path, atKey) => {
        const n = nodeAt(doc, path, atKey);
        const off = n?.range?.[0];
        if (off === undefined) return name;
        const p = lc.linePos(off);
        return `${name}:${p.line}:${p.col}`;
      },
    };
    for (const k of Object.keys(value)) origins.set(k, origin);
  }
  const env = input.env ?? {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith('HARRIER_')) continue;
    const key = ENV_KEYS[name] ?? (name.startsWith('HARRIER__') ? name.slice(9).toLowerCase().split('__').join('.') : undefined);
    if (!key) {
      if (!['HARRIER_CORPUS'].includes(name)) errors.push({ where: `env ${name}`, message: `unknown environment variable: known are ${Object.keys(ENV_KEYS).join(', ')}, or HARRIER__SECTION__KEY for any key` });
      continue;
    }
    const path = key.split('.');
    let value: unknown = raw;
    if (key === 'rules_files') value = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else if (!SECRET_KEYS.test(key)) value = parseYamlValue(raw) as unknown;
    setPath(merged, path, value, false);
    origins.set(path[0]!, { where: () => `env ${name}` });
  }
  for (const o of input.overrides ?? []) {
    const p = parseOverride(o);
    if (typeof p === 'string') {
      errors.push({ where: `-o ${o}`, message: p });
      continue;
    }
    setPath(merged, p.path, p.value, p.append);
    origins.set(String(p.path[0]), { where: () => `-o ${o}` });
  }

  if (!validate(merged)) {
    for (const e of validate.errors ?? []) errors.push(schemaError(e, origins));
  }
  // Keys that would change which rules run and that Harrier cannot honour.
  const plugins = merged['load_plugins'];
  if (Array.isArray(plugins)) {
    for (const p of plugins) {
      if (!NATIVE_PLUGINS.has(String(p))) {
        errors.push({ where: origins.get('load_plugins')?.where(['load_plugins']) ?? 'load_plugins', message: `plugin '${String(p)}' is not available in Harrier: it provides the container, k8saudit and json plugins' fields natively; remove it from load_plugins (rules needing it cannot run)` });
      }
    }
  }
  const custom = (merged['base_syscalls'] as Raw | undefined)?.['custom_set'];
  if (Array.isArray(custom) && custom.length > 0) {
    errors.push({ where: origins.get('base_syscalls')?.where(['base_syscalls', 'custom_set']) ?? 'base_syscalls', message: 'base_syscalls.custom_set is not supported: Harrier derives the syscall set from the loaded rules; remove the key' });
  }
  errors.push(...dropSettingsErrors(merged['syscall_event_drops'], origins));
  if ((merged['webserver'] as Raw | undefined)?.['ssl_enabled'] === true) {
    errors.push({ where: origins.get('webserver')?.where(['webserver', 'ssl_enabled']) ?? 'webserver.ssl_enabled', message: 'webserver.ssl_enabled is not supported: /healthz and /metrics are served over plain HTTP (on 127.0.0.1 by default); terminate TLS in front of them, or set webserver.ssl_enabled: false' });
  }
  errors.push(...outputSettingsErrors(merged, origins));
  if (errors.length) return { ok: false, errors: dedupe(errors) };
  return { ok: true, config: deepFreeze(resolve(merged)) };
}

/** Falco's checks of syscall_event_drops that a schema cannot say: the threshold's range, and ignore alone. */
function dropSettingsErrors(section: unknown, origins: Map<string, Origin>): ConfigError[] {
  if (typeof section !== 'object' || section === null) return [];
  const s = section as Raw;
  const at = (key: string): string => origins.get('syscall_event_drops')?.where(['syscall_event_drops', key]) ?? `syscall_event_drops.${key}`;
  const errors: ConfigError[] = [];
  const t = s['threshold'];
  if (typeof t === 'number' && !(t >= 0 && t <= 1)) {
    errors.push({ where: at('threshold'), message: `syscall event drops threshold must be a double in the range [0, 1], got ${t}: it is the share of dropped events in an interval above which the actions run` });
  }
  const actions = s['actions'];
  if (Array.isArray(actions) && actions.includes('ignore')) {
    for (const a of actions) {
      if (a !== 'ignore') errors.push({ where: at('actions'), message: `syscall event drop action "${String(a)}" does not make sense with the "ignore" action: keep either "ignore" or the other actions` });
    }
  }
  return errors;
}

/** An enabled file or program output needs somewhere to write: a schema cannot say "required when enabled". */
function outputSettingsErrors(m: Raw, origins: Map<string, Origin>): ConfigError[] {
  const errors: ConfigError[] = [];
  const need = (section: string, key: string, what: string): void => {
    const s = m[section];
    if (typeof s !== 'object' || s === null || (s as Raw)['enabled'] !== true) return;
    const v = (s as Raw)[key];
    if (v === undefined && key === 'filename') return; // Falco's default, ./events.txt
    if (typeof v !== 'string' || v.trim() === '') {
      errors.push({ where: origins.get(section)?.where([section, key]) ?? `${section}.${key}`, message: `${section} is enabled but ${section}.${key} is empty: set ${what}, or set ${section}.enabled: false` });
    }
  };
  need('file_output', 'filename', 'the file alerts are appended to');
  need('program_output', 'program', 'the command alerts are piped to (run by /bin/sh -c, one alert per line on its input)');
  return errors;
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.where}|${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function schemaError(e: ErrorObject, origins: Map<string, Origin>): ConfigError {
  const path = e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const dotted = path.join('.') || '(top level)';
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    const full = [...path, extra];
    const known = path.length === 0 ? KNOWN_TOP_KEYS : keysAt(path);
    const where = origins.get(String(full[0]))?.where(full, true) ?? full.join('.');
    return { where, message: `unknown key '${full.join('.')}'${suggest(extra, known)}: remove it or check the spelling` };
  }
  const where = origins.get(String(path[0]))?.where(path) ?? dotted;
  if (e.keyword === 'enum') return { where, message: `'${dotted}' must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}` };
  if (e.keyword === 'pattern' && dotted === 'webserver.k8s_healthz_endpoint') return { where, message: `'webserver.k8s_healthz_endpoint' must be a URL path starting with '/', e.g. /healthz` };
  if (e.keyword === 'pattern' && dotted === 'collector.id') return { where, message: `'collector.id' may hold only letters, digits, '_' and '-': it becomes a NATS subject token and the prefix of batch ids` };
  if (e.keyword === 'type') return { where, message: `'${dotted}' must be ${(e.params as { type: string }).type === 'integer' ? 'a whole number' : `a ${(e.params as { type: string }).type}`}` };
  return { where, message: `'${dotted}' ${e.message ?? 'is invalid'}` };
}

/** The keys the schema allows at a path of the document (array indexes step into the items), for suggestions. */
function keysAt(path: readonly (string | number)[]): string[] {
  let s = CONFIG_SCHEMA as { properties?: Record<string, unknown>; items?: unknown };
  for (const p of path) {
    const next: unknown = typeof p === 'number' ? s.items : s.properties?.[p];
    if (typeof next !== 'object' || next === null) return [];
    s = next;
  }
  return Object.keys(s.properties ?? {});
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const asStr = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
const asNum = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
const asBool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
const sect = (v: unknown): Raw => (typeof v === 'object' && v !== null ? (v as Raw) : {});

/** Fills every default in one place. */
function resolve(m: Raw): HarrierConfig {
  const nats = sect(m['nats']);
  const tls = sect(nats['tls']);
  const embedded = sect(nats['embedded']);
  const collector = sect(m['collector']);
  const capture = sect(collector['capture']);
  const probe = sect(collector['probe']);
  const eventsStream = sect(collector['events_stream']);
  const engine = sect(m['engine']);
  const notifier = sect(m['notifier']);
  const servers = Array.isArray(nats['servers']) ? (nats['servers'] as string[]) : typeof nats['url'] === 'string' ? [nats['url']] : [];
  const rulesFiles = Array.isArray(m['rules_files']) ? (m['rules_files'] as string[]) : typeof m['rules_file'] === 'string' ? [m['rules_file']] : Array.isArray(m['rules_file']) ? (m['rules_file'] as string[]) : [];
  const selections: RuleSelection[] = [];
  for (const r of Array.isArray(m['rules']) ? (m['rules'] as Raw[]) : []) {
    for (const mode of ['enable', 'disable'] as const) {
      const s = r[mode] as Raw | undefined;
      if (s) selections.push({ enable: mode === 'enable', ...(typeof s['rule'] === 'string' ? { rule: s['rule'] } : {}), ...(typeof s['tag'] === 'string' ? { tag: s['tag'] } : {}) });
    }
  }
  const appendOutput = Array.isArray(m['append_output'])
    ? (m['append_output'] as Raw[]).map((a) => a['extra_output']).filter((x): x is string => typeof x === 'string').join(' ') || undefined
    : undefined;
  const web = sect(m['webserver']);
  const grpc = sect(m['grpc']);
  const file = sect(m['file_output']);
  const program = sect(m['program_output']);
  const http = sect(m['http_output']);
  const node = asStr(collector['node'], hostname());
  const notApplicable = ['engine', 'load_plugins', 'plugins', 'libs_logger', 'container_engines', 'falco_libs', 'base_syscalls', 'capture', 'plugins_hostinfo', 'modern_bpf', 'ebpf', 'kmod', 'gvisor'].filter(
    (k) => k in m && !(k === 'engine' && Object.keys(sect(m['engine'])).every((x) => ['workers', 'lease_ttl_ms', 'lease_renew_ms', 'rules_bucket'].includes(x))),
  );
  return {
    nats: {
      servers,
      name: asStr(nats['name'], `harrier-${node}`),
      ...(typeof nats['token'] === 'string' ? { token: nats['token'] } : {}),
      ...(typeof nats['user'] === 'string' ? { user: nats['user'] } : {}),
      ...(typeof nats['password'] === 'string' ? { password: nats['password'] } : {}),
      ...(typeof nats['nkey_seed_file'] === 'string' ? { nkeySeedFile: nats['nkey_seed_file'] } : {}),
      ...(typeof nats['creds_file'] === 'string' ? { credsFile: nats['creds_file'] } : {}),
      ...(asBool(tls['enabled'], false) || tls['ca'] || tls['cert']
        ? { tls: { ...(typeof tls['ca'] === 'string' ? { ca: tls['ca'] } : {}), ...(typeof tls['cert'] === 'string' ? { cert: tls['cert'] } : {}), ...(typeof tls['key'] === 'string' ? { key: tls['key'] } : {}), verify: asBool(tls['verify'], true) } }
        : {}),
      connectTimeoutMs: asNum(nats['connect_timeout_ms'], 5000),
      embedded: { enabled: asBool(embedded['enabled'], servers.length === 0), stateDir: asStr(embedded['state_dir'], '.harrier/nats'), port: asNum(embedded['port'], 0), binary: asStr(embedded['binary'], 'nats-server') },
    },
    partitions: asNum(m['partitions'], 32),
    collector: {
      // The default id is the node name as a subject token (dots and other characters outside [A-Za-z0-9_-] become '_').
      id: asStr(collector['id'], node.replace(/[^A-Za-z0-9_-]/g, '_')),
      node,
      batchMaxEvents: asNum(collector['batch_max_events'], 512),
      batchMaxBytes: asNum(collector['batch_max_bytes'], 512 * 1024),
      batchLingerMs: asNum(collector['batch_linger_ms'], 20),
      bufferEvents: asNum(collector['buffer_events'], 262_144),
      maxInflight: asNum(collector['max_inflight'], 64),
      publishTimeoutMs: asNum(collector['publish_timeout_ms'], 5000),
      statsIntervalMs: asNum(collector['stats_interval_ms'], 5000),
      source: collector['source'] === 'capture' ? 'capture' : 'ebpf',
      capture: { file: typeof capture['file'] === 'string' ? capture['file'] : undefined, loop: asBool(capture['loop'], false), rate: asNum(capture['rate'], 0) },
      containerRuntimes: Array.isArray(collector['container_runtimes']) ? (collector['container_runtimes'] as { kind: 'docker' | 'podman' | 'containerd' | 'cri-o'; socket: string }[]) : undefined,
      probe: {
        path: typeof probe['path'] === 'string' ? probe['path'] : undefined,
        ringbufMb: asNum(probe['ringbuf_mb'], 0),
        bufferMb: asNum(probe['buffer_mb'], 32),
        statsIntervalMs: asNum(probe['stats_interval_ms'], 1000),
        excludePids: Array.isArray(probe['exclude_pids']) ? (probe['exclude_pids'] as number[]) : [],
      },
      eventsStream: {
        duplicateWindowMs: asNum(eventsStream['duplicate_window_ms'], 120_000),
        maxAgeMs: asNum(eventsStream['max_age_ms'], 24 * 3600 * 1000),
        maxBytes: asNum(eventsStream['max_bytes'], 1024 ** 3),
        replicas: asNum(eventsStream['replicas'], 1),
      },
    },
    engine: { workers: asNum(engine['workers'], 1), leaseTtlMs: asNum(engine['lease_ttl_ms'], 5000), leaseRenewMs: asNum(engine['lease_renew_ms'], 1000), rulesBucket: asStr(engine['rules_bucket'], 'harrier-rules') },
    notifier: {
      sinks: (Array.isArray(notifier['sinks']) ? (notifier['sinks'] as Raw[]) : []).map((s, i) => ({
        name: asStr(s['name'], `${asStr(s['type'], 'sink')}-${i}`),
        type: asStr(s['type'], ''),
        ...(typeof s['min_priority'] === 'string' ? { minPriority: s['min_priority'] } : {}),
        options: sect(s['options']),
      })),
    },
    rules: { files: rulesFiles, selections, minPriority: asStr(m['priority'], 'debug'), matching: m['rule_matching'] === 'all' ? 'all' : 'first', appendOutput },
    output: {
      json: asBool(m['json_output'], false),
      jsonIncludeOutput: asBool(m['json_include_output_property'], true),
      jsonIncludeTags: asBool(m['json_include_tags_property'], true),
      jsonIncludeOutputFields: asBool(m['json_include_output_fields_property'], true),
      jsonIncludeMessage: asBool(m['json_include_message_property'], false),
      timeIso8601: asBool(m['time_format_iso_8601'], false),
      stdout: asBool(sect(m['stdout_output'])['enabled'], true),
      file: { enabled: asBool(file['enabled'], false), filename: asStr(file['filename'], './events.txt'), keepAlive: asBool(file['keep_alive'], false) },
      program: { enabled: asBool(program['enabled'], false), program: asStr(program['program'], ''), keepAlive: asBool(program['keep_alive'], false) },
      http: { enabled: asBool(http['enabled'], false), url: asStr(http['url'], '') },
      syslog: asBool(sect(m['syslog_output'])['enabled'], false),
      grpc: asBool(sect(m['grpc_output'])['enabled'], false),
    },
    grpc: {
      enabled: asBool(grpc['enabled'], false),
      bindAddress: asStr(grpc['bind_address'], 'unix:///run/harrier/harrier.sock'),
      privateKey: asStr(grpc['private_key'], '/etc/harrier/certs/server.key'),
      certChain: asStr(grpc['cert_chain'], '/etc/harrier/certs/server.crt'),
      rootCerts: asStr(grpc['root_certs'], '/etc/harrier/certs/ca.crt'),
    },
    webserver: { enabled: asBool(web['enabled'], true), listenAddress: asStr(web['listen_address'], '127.0.0.1'), listenPort: asNum(web['listen_port'], 8765), healthzPath: asStr(web['k8s_healthz_endpoint'], '/healthz') },
    logging: { level: asStr(sect(m['logging'])['level'], typeof m['log_level'] === 'string' ? (m['log_level'] === 'warning' ? 'warn' : m['log_level'] === 'notice' ? 'info' : ['emergency', 'alert', 'critical'].includes(m['log_level']) ? 'fatal' : m['log_level']) : 'info'), stderrInfo: stderrInfo(m) },
    notApplicable,
    raw: m,
  };
}

/**
 * Whether the CLI writes its informational lines to stderr: Falco's log_stderr, and a level that
 * shows info (Harrier's logging.level, else Falco's log_level, where notice is above info).
 */
function stderrInfo(m: Raw): boolean {
  if (!asBool(m['log_stderr'], true)) return false;
  const own = sect(m['logging'])['level'];
  if (typeof own === 'string') return ['trace', 'debug', 'info'].includes(own);
  const falco = m['log_level'];
  return typeof falco === 'string' ? ['info', 'debug'].includes(falco) : true;
}

/** Config files looked for when -c is not given, in order. */
export const DEFAULT_CONFIG_PATHS = ['./harrier.yaml', '/etc/harrier/harrier.yaml', '/etc/falco/falco.yaml'];

/** Shows values without secrets, for logs and `harrier config`. */
export function redacted(config: HarrierConfig): unknown {
  return JSON.parse(JSON.stringify(config, (k, v: unknown) => (SECRET_KEYS.test(k) && typeof v === 'string' && k !== 'nkeySeedFile' && k !== 'credsFile' ? '[redacted]' : v)));
}

export { isScalar };
