// The resolved configuration: every value present, validated, frozen.

export interface NatsConfig {
  readonly servers: readonly string[];
  readonly name: string;
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
  readonly nkeySeedFile?: string;
  readonly credsFile?: string;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly verify: boolean };
  readonly connectTimeoutMs: number;
  readonly embedded: { readonly enabled: boolean; readonly stateDir: string; readonly port: number; readonly binary: string };
}

export interface CollectorConfig {
  /** Names this collector in batch ids (`<id>-<sequence>`) and in its stats subject; default: the node. */
  readonly id: string;
  readonly node: string;
  readonly batchMaxEvents: number;
  /** A batch closes at about this many encoded bytes (at most half the server's max_payload). */
  readonly batchMaxBytes: number;
  /** A batch closes at most this long after its first event (1-20 ms). */
  readonly batchLingerMs: number;
  /** Events accepted but not yet acknowledged by JetStream, at most: past it the source is paused and drops are counted. */
  readonly bufferEvents: number;
  /** Batch publishes awaiting their JetStream ack, at most. */
  readonly maxInflight: number;
  readonly publishTimeoutMs: number;
  /** How often the collector publishes its statistics to harrier.stats.collector.<id>. */
  readonly statsIntervalMs: number;
  readonly source: 'ebpf' | 'capture';
  readonly capture: { readonly file: string | undefined; readonly loop: boolean; readonly rate: number };
  /**
   * Container runtimes asked for container metadata, in order: the Docker API (docker, podman) or
   * CRI (containerd, cri-o) on a unix socket. Default: whichever of the usual sockets exist.
   */
  readonly containerRuntimes: readonly { readonly kind: 'docker' | 'podman' | 'containerd' | 'cri-o'; readonly socket: string }[] | undefined;
  /** The eBPF probe: binary (default: the repository's probe/build/harrier-probe), ring size in MiB per CPU (0, the default: 16 up to 4 CPUs, then 64 in all and at least 4 each), stats period, processes never watched. */
  readonly probe: { readonly path: string | undefined; readonly ringbufMb: number; readonly bufferMb: number; readonly statsIntervalMs: number; readonly excludePids: readonly number[] };
  readonly eventsStream: { readonly duplicateWindowMs: number; readonly maxAgeMs: number; readonly maxBytes: number; readonly replicas: number };
}

export interface RuleSelection {
  readonly enable: boolean;
  readonly rule?: string;
  readonly tag?: string;
}

export interface HarrierConfig {
  readonly nats: NatsConfig;
  readonly partitions: number;
  readonly collector: CollectorConfig;
  readonly engine: { readonly workers: number; readonly leaseTtlMs: number; readonly leaseRenewMs: number; readonly rulesBucket: string };
  readonly notifier: { readonly sinks: readonly { readonly name: string; readonly type: string; readonly minPriority?: string; readonly options: Readonly<Record<string, unknown>> }[] };
  readonly rules: { readonly files: readonly string[]; readonly selections: readonly RuleSelection[]; readonly minPriority: string; readonly matching: 'first' | 'all'; readonly appendOutput: string | undefined };
  readonly output: {
    readonly json: boolean;
    readonly jsonIncludeOutput: boolean;
    readonly jsonIncludeTags: boolean;
    readonly jsonIncludeOutputFields: boolean;
    /** Falco's `message`: the rule's output without the time and priority that start `output`. */
    readonly jsonIncludeMessage: boolean;
    readonly timeIso8601: boolean;
    readonly stdout: boolean;
    readonly file: { readonly enabled: boolean; readonly filename: string; readonly keepAlive: boolean };
    readonly program: { readonly enabled: boolean; readonly program: string; readonly keepAlive: boolean };
    readonly http: { readonly enabled: boolean; readonly url: string };
    readonly syslog: boolean;
    /** grpc_output.enabled: alerts to Falco's gRPC output service. */
    readonly grpc: boolean;
  };
  /**
   * Falco's gRPC API (outputs and version services) with Falco's keys: on a unix socket, or on
   * host:port with mutual TLS from the three files. `threadiness` is accepted and has no use here.
   */
  readonly grpc: { readonly enabled: boolean; readonly bindAddress: string; readonly privateKey: string; readonly certChain: string; readonly rootCerts: string };
  /** healthzPath: Falco's k8s_healthz_endpoint, where health is served besides /healthz. */
  readonly webserver: { readonly enabled: boolean; readonly listenAddress: string; readonly listenPort: number; readonly healthzPath: string };
  /**
   * level: the services' log level. stderrInfo: whether the CLI's informational lines (with
   * Falco's time prefix) go to stderr: log_stderr, and a level that shows info (notice does not).
   */
  readonly logging: { readonly level: string; readonly stderrInfo: boolean };
  /** Falco keys present in the input that Harrier accepts but that have no effect here. */
  readonly notApplicable: readonly string[];
  /** The merged raw document, for sections later services read themselves. */
  readonly raw: Readonly<Record<string, unknown>>;
}
