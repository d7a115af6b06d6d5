// Falco's gRPC API for its existing clients (falco-exporter, the client libraries): the outputs
// service (`get` streams the alerts queued so far and ends; `sub` answers each request with the
// alerts queued since the previous one) and the version service. One queue is shared by every
// client, as in Falco: an alert goes to the first client that asks. On a unix socket the server
// takes plain connections; on host:port it requires mutual TLS, as Falco did.

import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { Server, ServerCredentials, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { falcoOutputs, falcoSchema, falcoVersion } from '@harrier/proto';
import type { SinkReport } from '../sink.js';

/** The alert as the engine publishes it (Falco's JSON keys); only these are served. */
export interface FalcoAlert {
  readonly hostname: string;
  readonly output: string;
  readonly output_fields?: Readonly<Record<string, string | number | boolean | null>>;
  readonly priority: string;
  readonly rule: string;
  readonly source: string;
  readonly tags?: readonly string[];
  /** ISO 8601 in UTC with nanoseconds: 2016-08-04T16:17:57.881781397Z. */
  readonly time: string;
}

export interface FalcoGrpcOptions {
  /** unix:///path/to.sock, or host:port (then TLS files are required). */
  readonly bindAddress: string;
  /** Files for mutual TLS on host:port: the server's key and certificate chain, and the CA that signs clients. */
  readonly tls?: { readonly privateKey: string; readonly certChain: string; readonly rootCerts: string } | undefined;
  /** Whether alert times are ISO 8601 (time_format_iso_8601): decides the time key added to output_fields. */
  readonly timeIso8601: boolean;
  /** Alerts kept for clients, at most; past it the oldest are dropped, counted and reported. */
  readonly queueLimit?: number;
  readonly version: { readonly harrier: string; readonly engine: string };
  readonly report: SinkReport;
}

const NAME = 'grpc_output';

export class FalcoGrpcServer {
  private readonly server = new Server();
  private queue: falcoOutputs.response[] = [];
  private head = 0;
  private readonly limit: number;
  private readonly waiters = new Set<() => void>();
  /** Alerts queued. */
  queued = 0;
  /** Alerts handed to clients. */
  served = 0;
  /** Alerts dropped because the queue was full. */
  dropped = 0;
  /** Alerts that could not be turned into a response (reported). */
  rejected = 0;
  private address: string | undefined;

  constructor(private readonly opts: FalcoGrpcOptions) {
    this.limit = opts.queueLimit ?? 100_000;
    this.server.addService(falcoOutputs.serviceService, {
      get: (call: ServerWritableStream<falcoOutputs.request, falcoOutputs.response>) => {
        for (const r of this.take()) call.write(r);
        call.end();
      },
      sub: (call: ServerDuplexStream<falcoOutputs.request, falcoOutputs.response>) => {
        call.on('data', () => {
          for (const r of this.take()) call.write(r);
        });
        call.on('end', () => call.end());
        call.on('error', () => {});
      },
    });
    this.server.addService(falcoVersion.serviceService, {
      version: (_call: ServerUnaryCall<falcoVersion.request, falcoVersion.response>, done: sendUnaryData<falcoVersion.response>) => {
        done(null, versionResponse(opts.version.harrier, opts.version.engine));
      },
    });
  }

  /** Binds and starts serving; rejects with a message that says what to fix. */
  async start(): Promise<string> {
    const addr = this.opts.bindAddress;
    let creds: ServerCredentials;
    if (addr.startsWith('unix:')) {
      const path = socketPath(addr);
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        throw new Error(`cannot serve gRPC on ${addr}: cannot create ${dirname(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      await removeStaleSocket(path);
      creds = ServerCredentials.createInsecure();
    } else {
      const t = this.opts.tls;
      if (!t) throw new Error(`grpc.bind_address ${addr} is a network address: it needs mutual TLS (grpc.private_key, grpc.cert_chain, grpc.root_certs), or use unix:///path/to.sock`);
      const read = (what: string, file: string): Buffer => {
        try {
          return readFileSync(file);
        } catch (err) {
          throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      };
      creds = ServerCredentials.createSsl(read('grpc.root_certs', t.rootCerts), [{ private_key: read('grpc.private_key', t.privateKey), cert_chain: read('grpc.cert_chain', t.certChain) }], true);
    }
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(addr, creds, (err, p) => (err ? reject(new Error(`cannot serve gRPC on ${addr}: ${err.message}`)) : resolve(p)));
    });
    this.address = addr.startsWith('unix:') ? addr : addr.replace(/:0$/, `:${port}`);
    return this.address;
  }

  /** Queues one alert for the clients. Never throws. */
  push(alert: FalcoAlert): void {
    let r: falcoOutputs.response;
    try {
      r = toResponse(alert, this.opts.timeIso8601);
    } catch (err) {
      this.opts.report(NAME, `cannot serve an alert of rule '${alert.rule}': ${(err as Error).message}`);
      this.rejected++;
      return;
    }
    if (this.queue.length - this.head >= this.limit) {
      this.head++;
      this.dropped++;
      this.opts.report(NAME, `${this.limit} alerts wait for a gRPC client; the oldest are dropped`);
      // Dropped entries leave the array in chunks, so it holds at most about twice the limit.
      if (this.head >= this.limit) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
    this.queue.push(r);
    this.queued++;
  }

  /** Where it serves (host:port with the port bound), once started. */
  get boundAddress(): string | undefined {
    return this.address;
  }

  /** Alerts no client has fetched yet. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Resolves once every queued alert has been fetched by a client. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /**
   * Stops taking calls, lets running ones finish for up to `graceMs`, then closes them (a `sub`
   * stream ends only when its client ends it, so the grace is short).
   */
  async stop(graceMs = 500): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.address?.startsWith('unix:')) {
      try {
        unlinkSync(socketPath(this.address));
      } catch {
        /* already gone */
      }
    }
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /** Entries the queue's array holds, dropped ones not yet cut off included (for tests of its bound). */
  get retained(): number {
    return this.queue.length;
  }

  private take(): falcoOutputs.response[] {
    const out = this.head === 0 ? this.queue : this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.served += out.length;
    for (const w of this.waiters) w();
    this.waiters.clear();
    return out;
  }
}

function socketPath(addr: string): string {
  return addr.replace(/^unix:(\/\/)?/, '');
}

/** A socket file left by a process that is gone would make the bind fail: remove it, but never a live one. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new Error(`cannot serve gRPC on unix://${path}: the path exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`cannot serve gRPC on unix://${path}: another process is listening there`);
  unlinkSync(path);
}

const PRIORITIES: Record<string, falcoSchema.priority> = {
  emergency: falcoSchema.priority.EMERGENCY,
  alert: falcoSchema.priority.ALERT,
  critical: falcoSchema.priority.CRITICAL,
  error: falcoSchema.priority.ERROR,
  warning: falcoSchema.priority.WARNING,
  notice: falcoSchema.priority.NOTICE,
  informational: falcoSchema.priority.INFORMATIONAL,
  info: falcoSchema.priority.INFORMATIONAL,
  debug: falcoSchema.priority.DEBUG,
};

const SOURCES: Record<string, falcoSchema.source> = { syscall: falcoSchema.source.SYSCALL, k8s_audit: falcoSchema.source.K8S_AUDIT, internal: falcoSchema.source.INTERNAL };

const ISO_NS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** An alert as Falco's outputs.response: output_fields as strings (<NA> for a missing value), plus the event time Falco adds to a rule's alert. */
export function toResponse(a: FalcoAlert, iso: boolean): falcoOutputs.response {
  const m = ISO_NS.exec(a.time);
  if (!m) throw new Error(`time '${a.time}' is not ISO 8601 in UTC`);
  const seconds = Date.parse(`${m[1]}Z`) / 1000;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const fields: Record<string, string> = {};
  // Falco's output starts with the event time, and its output_fields hold it as formatted there.
  if (a.source !== 'internal') fields[iso ? 'evt.time.iso8601' : 'evt.time'] = iso ? `${m[1]}.${frac}+0000` : `${m[1]!.slice(11)}.${frac}`;
  for (const [k, v] of Object.entries(a.output_fields ?? {})) {
    // The time as a nanosecond number (alert JSON from NATS has it) gives way to the string above.
    if (k === 'evt.time' || k === 'evt.time.iso8601') continue;
    fields[k] = v === null ? '<NA>' : String(v);
  }
  return {
    time: { seconds, nanos: Number(frac) },
    priority: PRIORITIES[a.priority.toLowerCase()] ?? falcoSchema.priority.DEBUG,
    sourceDeprecated: SOURCES[a.source] ?? falcoSchema.source.PLUGIN,
    rule: a.rule,
    output: a.output,
    outputFields: fields,
    hostname: a.hostname,
    tags: [...(a.tags ?? [])],
    source: a.source,
  };
}

function versionResponse(harrier: string, engine: string): falcoVersion.response {
  const [hv, pre = '', build = ''] = /^([^-+]*)(?:-([^+]*))?(?:\+(.*))?$/.exec(harrier)?.slice(1) ?? [harrier];
  const [major = 0, minor = 0, patch = 0] = (hv ?? '').split('.').map((x) => Number(x) || 0);
  const [emaj = 0, emin = 0, epat = 0] = engine.split('.').map((x) => Number(x) || 0);
  return {
    version: harrier,
    major,
    minor,
    patch,
    prerelease: pre,
    build,
    engineMinor: emin,
    engineFieldsChecksum: '',
    engineMajor: emaj,
    enginePatch: epat,
    engineVersion: engine,
  };
}
