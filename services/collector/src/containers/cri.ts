// Container metadata from a CRI runtime (containerd, CRI-O) over gRPC on its unix socket:
// ContainerStatus (verbose, for the sandbox id and the privileged flag), then the sandbox's
// PodSandboxStatus for pod name, namespace, uid, labels and IP. An id that is a pod sandbox (the
// pause container) is answered from PodSandboxStatus alone.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ContainerInfo } from '@harrier/batch';
import { connectFailureHint } from './http.js';
import { parseImageReference } from './image.js';
import { ContainerRuntimeError, DEFAULT_LABEL_MAX_LENGTH, filterLabels, shortContainerId, type ContainerRuntime, type ContainerRuntimeErrorCode } from './runtime.js';

export interface CriClientOptions {
  /** e.g. /run/containerd/containerd.sock, /var/run/crio/crio.sock. */
  readonly socketPath: string;
  /** `container.type` to report (default `containerd`). */
  readonly kind?: 'containerd' | 'cri-o' | 'cri';
  /** Per call (default 3000 ms). */
  readonly timeoutMs?: number;
  /** Per answer (default 4 MiB). */
  readonly maxResponseBytes?: number;
  readonly labelMaxLength?: number;
}

// Decoded messages (proto-loader with keepCase, defaults, enums and longs as strings).
export interface CriImageSpec {
  image: string;
  annotations: Record<string, string>;
}
export interface CriContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: string;
  image: CriImageSpec | null;
  image_ref: string;
  image_id: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface CriPodSandboxStatus {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt: number } | null;
  state: string;
  network: { ip: string } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface CriContainerStatusResponse {
  status: CriContainerStatus | null;
  info: Record<string, string>;
}
export interface CriPodSandboxStatusResponse {
  status: CriPodSandboxStatus | null;
  info: Record<string, string>;
}

type Json = Record<string, unknown>;
function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function parseInfo(info: Record<string, string> | undefined): Json {
  const raw = info?.info;
  if (!raw) return {};
  try {
    return obj(JSON.parse(raw));
  } catch {
    return {};
  }
}

/** Where this module's .proto is: beside it under src/, or under src/ when running from dist/. */
export function criProtoPath(): string {
  const here = fileURLToPath(new URL('./cri.proto', import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = fileURLToPath(new URL('../../src/containers/cri.proto', import.meta.url));
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`cri.proto not found at ${here} or ${fromDist}; the collector package is incomplete`);
}

export const CRI_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The RuntimeService client constructor and service definition, loaded once. */
let loaded: grpc.ServiceClientConstructor | undefined;
export function criRuntimeService(): grpc.ServiceClientConstructor {
  if (!loaded) {
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(criProtoPath(), CRI_LOADER_OPTIONS));
    loaded = obj(obj(def.runtime).v1).RuntimeService as grpc.ServiceClientConstructor;
  }
  return loaded;
}

/** `security_context.privileged` from the verbose info JSON, where containerd and CRI-O put it. */
export function criPrivileged(info: Json): boolean {
  const fromSpec = obj(obj(obj(info.runtimeSpec).linux).security_context).privileged;
  if (typeof fromSpec === 'boolean') return fromSpec;
  const fromConfig = obj(obj(obj(info.config).linux).security_context).privileged;
  if (typeof fromConfig === 'boolean') return fromConfig;
  return info.privileged === true;
}

const IMAGE_NAME_ANNOTATIONS = ['io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.Image', 'io.kubernetes.cri-o.ImageName'];

/** Image fields as Falco's container plugin derives them from a CRI ContainerStatus. Pure. */
export function criImageFields(status: CriContainerStatus, info: Json): Pick<ContainerInfo, 'image' | 'imageRepository' | 'imageTag' | 'imageDigest' | 'imageId'> {
  const specImage = status.image?.image ?? '';
  let name = specImage;
  let digest = '';
  let tagFromSpec = false;
  // image_ref is `sha256:<digest>` or `host/name@sha256:<digest>`.
  const ref = status.image_ref;
  const at = ref.indexOf('sha256:');
  if (at === 0) digest = ref;
  else if (at > 0 && ref[at - 1] === '@') {
    name = ref.slice(0, at - 1);
    digest = ref.slice(at);
    tagFromSpec = true;
  }
  if (name === '' || name.startsWith('sha256')) {
    const annotations = { ...status.annotations, ...(obj(obj(info.runtimeSpec).annotations) as Record<string, string>) };
    const named = IMAGE_NAME_ANNOTATIONS.map((k) => annotations[k]).find((v) => typeof v === 'string' && v !== '');
    if (named) {
      name = named;
      tagFromSpec = false;
    }
  }
  const parts = parseImageReference(name);
  let tag = parts.tag;
  if (tagFromSpec) {
    tag = parseImageReference(specImage).tag;
    if (tag) name = `${name}:${tag}`;
  }
  const infoImage = typeof obj(obj(info.config).image).image === 'string' ? (obj(obj(info.config).image).image as string) : '';
  let imageId = infoImage.startsWith('sha256:') ? infoImage.slice('sha256:'.length) : infoImage;
  if (imageId === '' || imageId.includes('/')) imageId = status.image_id.replace(/^sha256:/, '');
  return {
    image: name || undefined,
    imageRepository: parts.repository || undefined,
    // A reference with neither tag nor digest means the default tag.
    imageTag: tag || (digest || parts.digest ? undefined : name ? 'latest' : undefined),
    imageDigest: digest || parts.digest || undefined,
    imageId: imageId || undefined,
  };
}

/** ContainerInfo from ContainerStatus (verbose) and its sandbox's PodSandboxStatus, as Falco maps them. Pure. */
export function criToContainerInfo(
  container: CriContainerStatusResponse & { status: CriContainerStatus },
  sandbox: CriPodSandboxStatusResponse | undefined,
  opts: { kind: 'containerd' | 'cri-o' | 'cri'; labelMaxLength?: number },
): ContainerInfo {
  const { status } = container;
  const info = parseInfo(container.info);
  const max = opts.labelMaxLength ?? DEFAULT_LABEL_MAX_LENGTH;
  const labels = filterLabels(status.labels, max);
  const pod = sandbox?.status ?? undefined;
  const sandboxId = pod?.id || (typeof info.sandboxID === 'string' ? info.sandboxID : '');
  if (sandboxId) labels.set('io.kubernetes.sandbox.id', sandboxId);
  if (pod?.metadata) {
    labels.set('io.kubernetes.pod.uid', pod.metadata.uid);
    labels.set('io.kubernetes.pod.name', pod.metadata.name);
    labels.set('io.kubernetes.pod.namespace', pod.metadata.namespace);
  }
  return {
    id: shortContainerId(status.id),
    type: opts.kind,
    name: status.metadata?.name || undefined,
    ...criImageFields(status, info),
    privileged: criPrivileged(info),
    labels,
    podName: labels.get('io.kubernetes.pod.name') || undefined,
    podNamespace: labels.get('io.kubernetes.pod.namespace') || undefined,
    podUid: labels.get('io.kubernetes.pod.uid') || undefined,
    podLabels: pod ? filterLabels(pod.labels, max) : undefined,
    ip: pod?.network?.ip || undefined,
  };
}

/** ContainerInfo for an id that is a pod sandbox (its pause container). Pure. */
export function criSandboxToContainerInfo(
  sandbox: CriPodSandboxStatusResponse & { status: CriPodSandboxStatus },
  opts: { kind: 'containerd' | 'cri-o' | 'cri'; labelMaxLength?: number },
): ContainerInfo {
  const pod = sandbox.status;
  const info = parseInfo(sandbox.info);
  const max = opts.labelMaxLength ?? DEFAULT_LABEL_MAX_LENGTH;
  const podLabels = filterLabels(pod.labels, max);
  const image = typeof info.image === 'string' ? info.image : '';
  const parts = parseImageReference(image);
  return {
    id: shortContainerId(pod.id),
    type: opts.kind,
    name: pod.metadata?.name || undefined,
    image: image || undefined,
    imageRepository: parts.repository || undefined,
    imageTag: parts.tag || (image && !parts.digest ? 'latest' : undefined),
    imageDigest: parts.digest || undefined,
    privileged: criPrivileged(info),
    labels: podLabels,
    podName: pod.metadata?.name || undefined,
    podNamespace: pod.metadata?.namespace || undefined,
    podUid: pod.metadata?.uid || undefined,
    podLabels,
    ip: pod.network?.ip || undefined,
  };
}

export class CriClient implements ContainerRuntime {
  readonly kind: 'containerd' | 'cri-o' | 'cri';
  readonly endpoint: string;
  readonly #client: grpc.Client & Record<string, unknown>;
  readonly #timeoutMs: number;
  readonly #labelMax: number;
  #closed = false;

  constructor(opts: CriClientOptions) {
    this.kind = opts.kind ?? 'containerd';
    this.endpoint = opts.socketPath;
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#labelMax = opts.labelMaxLength ?? DEFAULT_LABEL_MAX_LENGTH;
    const Service = criRuntimeService();
    const max = opts.maxResponseBytes ?? 4 << 20;
    this.#client = new Service(`unix://${opts.socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': max,
      // A restarted runtime is found again quickly instead of after grpc's long default backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5000,
    });
  }

  async inspect(fullOrShortId: string, signal?: AbortSignal): Promise<ContainerInfo | undefined> {
    const opts = { kind: this.kind, labelMaxLength: this.#labelMax };
    const c = await this.#call<CriContainerStatusResponse>('ContainerStatus', { container_id: fullOrShortId, verbose: true }, signal);
    if (c?.status) {
      const sandboxId = parseInfo(c.info).sandboxID;
      let sandbox: CriPodSandboxStatusResponse | undefined;
      if (typeof sandboxId === 'string' && sandboxId !== '') {
        try {
          sandbox = await this.#call<CriPodSandboxStatusResponse>('PodSandboxStatus', { pod_sandbox_id: sandboxId, verbose: false }, signal);
        } catch (err) {
          // The container is known; without its sandbox only the pod fields stay empty.
          if (!(err instanceof ContainerRuntimeError) || err.code === 'unreachable' || err.code === 'aborted' || err.code === 'closed') throw err;
        }
      }
      return criToContainerInfo({ status: c.status, info: c.info }, sandbox, opts);
    }
    const s = await this.#call<CriPodSandboxStatusResponse>('PodSandboxStatus', { pod_sandbox_id: fullOrShortId, verbose: true }, signal);
    if (s?.status) return criSandboxToContainerInfo({ status: s.status, info: s.info }, opts);
    return undefined;
  }

  close(): void {
    this.#closed = true;
    this.#client.close();
  }

  /** One unary call; NOT_FOUND resolves to undefined. */
  #call<T>(method: 'ContainerStatus' | 'PodSandboxStatus', request: object, signal: AbortSignal | undefined): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      if (this.#closed) {
        reject(this.#error('closed', 'client is closed'));
        return;
      }
      if (signal?.aborted) {
        reject(this.#error('aborted', `${method} aborted before it started`, signal.reason));
        return;
      }
      const fn = this.#client[method] as (
        req: object,
        md: grpc.Metadata,
        options: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res?: T) => void,
      ) => grpc.ClientUnaryCall;
      const onAbort = (): void => call.cancel();
      const call = fn.call(this.#client, request, new grpc.Metadata(), { deadline: Date.now() + this.#timeoutMs }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (!err) resolve(res);
        else if (err.code === grpc.status.NOT_FOUND) resolve(undefined);
        else reject(this.#fromStatus(method, err, signal));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #fromStatus(method: string, err: grpc.ServiceError, signal: AbortSignal | undefined): ContainerRuntimeError {
    switch (err.code) {
      case grpc.status.CANCELLED:
        return this.#error(signal?.aborted ? 'aborted' : 'protocol', `${method} cancelled: ${err.details}`, err);
      case grpc.status.DEADLINE_EXCEEDED:
        return this.#error('timeout', `no answer to ${method} within ${this.#timeoutMs} ms; the runtime may be overloaded or hung`, err);
      case grpc.status.UNAVAILABLE: {
        const code = existsSync(this.endpoint) ? 'ECONNREFUSED' : 'ENOENT';
        return this.#error('unreachable', `${connectFailureHint(this.kind, this.endpoint, Object.assign(new Error(err.details), { code }))} (${err.details})`, err);
      }
      case grpc.status.UNIMPLEMENTED:
        return this.#error('protocol', `${method} is not implemented there: the runtime does not serve CRI runtime.v1 (containerd needs 1.6+ with the cri plugin enabled)`, err);
      case grpc.status.RESOURCE_EXHAUSTED:
        return this.#error('protocol', `${method} answer too large (${err.details}); raise maxResponseBytes`, err);
      default:
        return this.#error('protocol', `${method} failed with gRPC status ${grpc.status[err.code] ?? err.code}: ${err.details}`, err);
    }
  }

  #error(code: ContainerRuntimeErrorCode, message: string, cause?: unknown): ContainerRuntimeError {
    return new ContainerRuntimeError({ code, runtime: this.kind, endpoint: this.endpoint, message, cause });
  }
}
