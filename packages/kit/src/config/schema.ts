// The one configuration schema: Harrier's own sections and Falco's falco.yaml keys. Each Falco key
// is honoured, accepted as not applicable (driver and plugin plumbing Harrier does not have), or
// refused when it would change which rules run and Harrier cannot do what it asks.

type Json = Record<string, unknown>;

const str = { type: 'string' };
const bool = { type: 'boolean' };
const int = { type: 'integer' };
const num = { type: 'number' };
const strList = { type: 'array', items: str };
const strOrList = { anyOf: [str, strList] };
const port = { type: 'integer', minimum: 0, maximum: 65535 };
const obj = (properties: Json, extra: boolean | Json = false): Json => ({ type: 'object', properties, additionalProperties: extra });
const anyObj = { type: 'object' };

const outputSink = (more: Json = {}): Json => obj({ enabled: bool, ...more });

const natsSection = obj({
  url: str,
  servers: strList,
  name: str,
  token: str,
  user: str,
  password: str,
  nkey_seed_file: str,
  creds_file: str,
  tls: obj({ enabled: bool, ca: str, cert: str, key: str, verify: bool }),
  connect_timeout_ms: int,
  embedded: obj({ enabled: bool, state_dir: str, port, binary: str }),
});

/** Harrier's own sections. */
const HARRIER: Json = {
  nats: natsSection,
  partitions: { type: 'integer', minimum: 1, maximum: 4096 },
  collector: obj({
    id: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
    node: str,
    batch_max_events: { type: 'integer', minimum: 1 },
    batch_max_bytes: { type: 'integer', minimum: 1024 },
    batch_linger_ms: { type: 'integer', minimum: 1, maximum: 20 },
    buffer_events: { type: 'integer', minimum: 1 },
    max_inflight: { type: 'integer', minimum: 1, maximum: 4096 },
    publish_timeout_ms: { type: 'integer', minimum: 100 },
    stats_interval_ms: { type: 'integer', minimum: 100 },
    source: { enum: ['ebpf', 'capture'] },
    capture: obj({ file: str, loop: bool, rate: { type: 'number', minimum: 0 } }),
    container_runtimes: { type: 'array', items: { ...obj({ kind: { enum: ['docker', 'podman', 'containerd', 'cri-o'] }, socket: { type: 'string', minLength: 1 } }), required: ['kind', 'socket'] } },
    probe: obj({ path: str, ringbuf_mb: { enum: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256] }, buffer_mb: { type: 'integer', minimum: 1, maximum: 1024 }, stats_interval_ms: { type: 'integer', minimum: 10 }, exclude_pids: { type: 'array', items: { type: 'integer', minimum: 2 } } }),
    events_stream: obj({ duplicate_window_ms: { type: 'integer', minimum: 1000 }, max_age_ms: { type: 'integer', minimum: 0 }, max_bytes: { type: 'integer', minimum: -1 }, replicas: { type: 'integer', minimum: 1, maximum: 5 } }),
  }),
  engine: obj({ workers: { type: 'integer', minimum: 1 }, lease_ttl_ms: { type: 'integer', minimum: 1000 }, lease_renew_ms: { type: 'integer', minimum: 100 }, rules_bucket: str, kind: str }, true),
  notifier: obj({ sinks: { type: 'array', items: obj({ name: str, type: str, min_priority: str, options: anyObj }, false) } }),
  logging: obj({ level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] } }),
};

/** Falco 0.44 keys Harrier honours. */
const FALCO_HONOURED: Json = {
  rules_files: strList,
  rules_file: strOrList,
  rules: { type: 'array', items: obj({ enable: obj({ rule: str, tag: str }), disable: obj({ rule: str, tag: str }) }) },
  json_output: bool,
  json_include_output_property: bool,
  json_include_tags_property: bool,
  json_include_message_property: bool,
  json_include_output_fields_property: bool,
  priority: { enum: ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'informational', 'debug', 'EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'INFORMATIONAL', 'DEBUG'] },
  rule_matching: { enum: ['first', 'all'] },
  append_output: { type: 'array', items: anyObj },
  time_format_iso_8601: bool,
  buffered_outputs: bool,
  outputs_queue: obj({ capacity: int }),
  outputs: obj({ rate: num, max_burst: num }),
  stdout_output: outputSink(),
  file_output: outputSink({ keep_alive: bool, filename: str }),
  syslog_output: outputSink(),
  program_output: outputSink({ keep_alive: bool, program: str }),
  http_output: outputSink({ url: str, user_agent: str, insecure: bool, ca_cert: str, ca_bundle: str, ca_path: str, mtls: bool, client_cert: str, client_key: str, echo: bool, compress_uploads: bool, keep_alive: bool, max_consecutive_timeouts: int }),
  grpc: obj({ enabled: bool, bind_address: str, threadiness: int, private_key: str, cert_chain: str, root_certs: str }),
  grpc_output: outputSink(),
  webserver: obj({ enabled: bool, threadiness: int, listen_port: port, listen_address: str, k8s_healthz_endpoint: { type: 'string', pattern: '^/' }, prometheus_metrics_enabled: bool, ssl_enabled: bool, ssl_certificate: str }),
  log_stderr: bool,
  log_syslog: bool,
  log_level: { enum: ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'] },
  output_timeout: int,
  syscall_event_drops: obj({ threshold: num, actions: { type: 'array', items: { enum: ['ignore', 'log', 'alert', 'exit'] } }, rate: { type: 'number', exclusiveMinimum: 0 }, max_burst: { type: 'integer', minimum: 1 }, simulate_drops: bool }),
  syscall_event_timeouts: obj({ max_consecutives: int }),
  metrics: anyObj,
  watch_config_files: bool,
  config_files: strList,
  static_fields: anyObj,
};

/** Falco keys about its driver, plugin loading and libs internals: accepted, no effect in Harrier. */
const FALCO_NOT_APPLICABLE: Json = {
  engine: anyObj,
  load_plugins: strList,
  plugins: { type: 'array' },
  libs_logger: anyObj,
  container_engines: anyObj,
  falco_libs: anyObj,
  base_syscalls: anyObj,
  capture: anyObj,
  plugins_hostinfo: bool,
  output_timeout_ms: int,
  modern_bpf: anyObj,
  ebpf: anyObj,
  kmod: anyObj,
  gvisor: anyObj,
};

export const CONFIG_SCHEMA: Json = {
  type: 'object',
  properties: { ...HARRIER, ...FALCO_HONOURED, ...FALCO_NOT_APPLICABLE, engine: obj({ ...(HARRIER['engine'] as { properties: Json }).properties }, true) },
  additionalProperties: false,
};

export const KNOWN_TOP_KEYS: readonly string[] = Object.keys(CONFIG_SCHEMA['properties'] as Json);

/** Plugins Harrier provides natively: naming them in load_plugins is fine, any other changes which rules can run. */
export const NATIVE_PLUGINS = new Set(['container', 'k8saudit', 'json']);
