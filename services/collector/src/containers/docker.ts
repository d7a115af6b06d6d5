// Container metadata from a Docker Engine API over a unix socket: dockerd, or podman's
// Docker-compatible service (`podman system service`). GET /containers/<id>/json, plus
// GET /images/<id>/json when the container's image string lacks a name, tag or digest.

import { Agent } from 'node:http';
import type { ContainerInfo } from '@harrier/batch';
import { unixGet } from './http.js';
import { isImageId, parseImageReference } from './image.js';
import { ContainerRuntimeError, DEFAULT_LABEL_MAX_LENGTH, filterLabels, shortContainerId, type ContainerRuntime } from './runtime.js';

export interface DockerEngineClientOptions {
  /** The API socket, e.g. /var/run/docker.sock or /run/podman/podman.sock. */
  readonly socketPath: string;
  /** `container.type` to report (default `docker`). */
  readonly kind?: 'docker' | 'podman';
  /** Like `1.41`; by default the server's own version from GET /version (asked once). */
  readonly apiVersion?: string;
  /** Per request (default 3000 ms). */
  readonly timeoutMs?: number;
  /** Per answer (default 4 MiB). */
  readonly maxResponseBytes?: number;
  readonly labelMaxLength?: number;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const K8S_POD_NAME = 'io.kubernetes.pod.name';
const K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
const K8S_POD_UID = 'io.kubernetes.pod.uid';

/** What GET /images/<id>/json adds: its RepoTags and RepoDigests. */
export interface ImageInspect {
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
}

/**
 * Image fields as libsinsp's docker source fills them: split Config.Image; when it is only an image id,
 * or tag or digest is missing, complete them from the image's RepoDigests/RepoTags (preferring the
 * entry of the same repository); no tag at all means `latest`.
 */
export function dockerImageFields(configImage: string, imageRef: string, image: ImageInspect | undefined): Pick<ContainerInfo, 'image' | 'imageRepository' | 'imageTag' | 'imageDigest' | 'imageId'> {
  const imageId = !imageRef.includes('/') && imageRef.includes(':') ? imageRef.slice(imageRef.indexOf(':') + 1) : imageRef;
  const noName = configImage === '' || isImageId(configImage) || (imageId !== '' && configImage.startsWith(imageId));
  let repository = '';
  let tag = '';
  let digest = '';
  if (!noName) ({ repository, tag, digest } = parseImageReference(configImage));
  if (image) {
    if (digest === '' || noName) {
      for (const rd of image.repoDigests) {
        const at = rd.indexOf('@');
        if (at < 0) continue;
        if (repository === '') repository = rd.slice(0, at);
        if (rd.slice(0, at) === repository) {
          digest = rd.slice(at + 1);
          break;
        }
      }
    }
    if (tag === '' || noName) {
      for (const rt of image.repoTags) {
        const colon = rt.lastIndexOf(':');
        if (colon < 0 || colon < rt.lastIndexOf('/')) continue;
        if (repository === '') repository = rt.slice(0, colon);
        if (rt.slice(0, colon) === repository) {
          tag = rt.slice(colon + 1);
          break;
        }
      }
    }
  }
  return {
    image: configImage,
    imageRepository: repository || undefined,
    imageTag: tag || 'latest',
    imageDigest: digest || undefined,
    imageId: imageId || undefined,
  };
}

/** Whether dockerImageFields would gain anything from the image's own record. */
export function needsImageInspect(configImage: string, imageRef: string): boolean {
  if (imageRef === '') return false;
  if (configImage === '' || isImageId(configImage)) return true;
  const p = parseImageReference(configImage);
  return p.tag === '' || p.digest === '';
}

/** ContainerInfo from a container inspect answer (and its image's, when fetched). Pure. */
export function dockerToContainerInfo(
  inspect: Json,
  opts: { kind: 'docker' | 'podman'; labelMaxLength?: number; image?: ImageInspect; ip?: string },
): ContainerInfo {
  const config = obj(inspect.Config);
  const hostConfig = obj(inspect.HostConfig);
  const labels = filterLabels(config.Labels, opts.labelMaxLength ?? DEFAULT_LABEL_MAX_LENGTH);
  const name = str(inspect.Name).replace(/^\//, '');
  return {
    id: shortContainerId(str(inspect.Id)),
    type: opts.kind,
    name: name || undefined,
    ...dockerImageFields(str(config.Image), str(inspect.Image), opts.image),
    privileged: hostConfig.Privileged === true,
    labels,
    podName: labels.get(K8S_POD_NAME),
    podNamespace: labels.get(K8S_POD_NAMESPACE),
    podUid: labels.get(K8S_POD_UID),
    ip: opts.ip ?? (containerIp(inspect) || undefined),
  };
}

/**
 * NetworkSettings.IPAddress, else the first network's address (Engine API 1.44+ drops the top-level
 * field for user-defined networks).
 */
export function containerIp(inspect: Json): string {
  const net = obj(inspect.NetworkSettings);
  const top = str(net.IPAddress);
  if (top) return top;
  for (const n of Object.values(obj(net.Networks))) {
    const ip = str(obj(n).IPAddress);
    if (ip) return ip;
  }
  return '';
}

export class DockerEngineClient implements ContainerRuntime {
  readonly kind: 'docker' | 'podman';
  readonly endpoint: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 8 });
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #labelMax: number;
  #prefix: Promise<string> | undefined;
  #closed = false;

  constructor(opts: DockerEngineClientOptions) {
    this.kind = opts.kind ?? 'docker';
    this.endpoint = opts.socketPath;
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#maxBytes = opts.maxResponseBytes ?? 4 << 20;
    this.#labelMax = opts.labelMaxLength ?? DEFAULT_LABEL_MAX_LENGTH;
    if (opts.apiVersion !== undefined) this.#prefix = Promise.resolve(`/v${opts.apiVersion.replace(/^v/, '')}`);
  }

  async inspect(fullOrShortId: string, signal?: AbortSignal): Promise<ContainerInfo | undefined> {
    if (!/^[0-9a-zA-Z][0-9a-zA-Z_.-]*$/.test(fullOrShortId)) {
      throw new TypeError(`container id ${JSON.stringify(fullOrShortId)} is not an id or name`);
    }
    const prefix = await this.#apiPrefix(signal);
    const res = await this.#get(`${prefix}/containers/${fullOrShortId}/json`, signal);
    if (res.status === 404) return undefined;
    const inspect = this.#json(res, 'container inspect');
    const config = obj(inspect.Config);
    const imageRef = str(inspect.Image);
    let image: ImageInspect | undefined;
    if (needsImageInspect(str(config.Image), imageRef)) image = await this.#image(prefix, imageRef, signal);
    let ip: string | undefined;
    const mode = str(obj(inspect.HostConfig).NetworkMode);
    if (containerIp(inspect) === '' && mode.startsWith('container:')) {
      // Shares another container's network namespace (a pod's infra container): its address is ours.
      const other = mode.slice('container:'.length);
      if (/^[0-9a-zA-Z][0-9a-zA-Z_.-]*$/.test(other)) {
        const r = await this.#get(`${prefix}/containers/${other}/json`, signal);
        if (r.status === 200) ip = containerIp(this.#json(r, 'container inspect')) || undefined;
      }
    }
    return dockerToContainerInfo(inspect, { kind: this.kind, labelMaxLength: this.#labelMax, ...(image && { image }), ...(ip && { ip }) });
  }

  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }

  async #image(prefix: string, imageRef: string, signal: AbortSignal | undefined): Promise<ImageInspect | undefined> {
    const id = imageRef.replace(/^sha256:/, '');
    if (!/^[0-9a-zA-Z][0-9a-zA-Z_.:-]*$/.test(id)) return undefined;
    // A missing image (removed since) only costs the tag and digest: the container is still known.
    const res = await this.#get(`${prefix}/images/${id}/json`, signal);
    if (res.status !== 200) return undefined;
    const img = this.#json(res, 'image inspect');
    return { repoTags: strs(img.RepoTags), repoDigests: strs(img.RepoDigests) };
  }

  #apiPrefix(signal: AbortSignal | undefined): Promise<string> {
    this.#prefix ??= (async () => {
      const res = await this.#get('/version', signal);
      const v = str(this.#json(res, 'version').ApiVersion);
      if (!/^\d+\.\d+$/.test(v)) {
        throw this.#error('protocol', `GET /version gave no ApiVersion (${JSON.stringify(v)}); is this a Docker Engine API socket? Set apiVersion to skip the check`);
      }
      return `/v${v}`;
    })();
    const p = this.#prefix;
    // Asked again after a failure: the service may just not have been up yet.
    p.catch(() => {
      if (this.#prefix === p) this.#prefix = undefined;
    });
    return p;
  }

  async #get(path: string, signal: AbortSignal | undefined): Promise<{ status: number; body: Buffer }> {
    if (this.#closed) throw this.#error('closed', 'client is closed');
    const res = await unixGet(path, {
      runtime: this.kind,
      socketPath: this.endpoint,
      agent: this.#agent,
      timeoutMs: this.#timeoutMs,
      maxResponseBytes: this.#maxBytes,
      signal,
    });
    if (res.status === 200 || res.status === 404) return res;
    let detail = res.body.toString('utf8', 0, Math.min(res.body.length, 300));
    try {
      detail = str(obj(JSON.parse(res.body.toString('utf8'))).message) || detail;
    } catch {
      // Not JSON: keep the raw start of the body.
    }
    throw this.#error('protocol', `GET ${path} answered HTTP ${res.status}: ${detail}`);
  }

  #json(res: { body: Buffer }, what: string): Json {
    let v: unknown;
    try {
      v = JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      throw this.#error('protocol', `${what} answer is not valid JSON (${(err as Error).message}); is this a Docker Engine API socket?`, err);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.#error('protocol', `${what} answer is not a JSON object; is this a Docker Engine API socket?`);
    return v as Json;
  }

  #error(code: 'protocol' | 'closed', message: string, cause?: unknown): ContainerRuntimeError {
    return new ContainerRuntimeError({ code, runtime: this.kind, endpoint: this.endpoint, message, cause });
  }
}
