// The interface every container-runtime metadata client implements, and the one error they throw.

import type { ContainerInfo } from '@harrier/batch';

/** What a client talks to; also the `container.type` it reports. `cri` = a CRI runtime of unknown make. */
export type ContainerRuntimeKind = 'docker' | 'podman' | 'containerd' | 'cri-o' | 'cri';

export interface ContainerRuntime {
  readonly kind: ContainerRuntimeKind;
  /** Where it listens (a unix socket path), for messages and metrics. */
  readonly endpoint: string;
  /**
   * The container's metadata, with `id` the 12-character short id as Falco shows it, or undefined
   * when the runtime says there is no such container. Any other failure rejects with a
   * ContainerRuntimeError.
   */
  inspect(fullOrShortId: string, signal?: AbortSignal): Promise<ContainerInfo | undefined>;
  /** Releases connections; later calls fail. */
  close(): void;
}

/**
 * - `unreachable`: the socket is missing, refuses connections or denies access.
 * - `timeout`: no complete answer in time.
 * - `aborted`: the caller's signal fired.
 * - `protocol`: an answer that is not what the API promises (status, size, JSON, gRPC status).
 * - `closed`: the client was closed.
 */
export type ContainerRuntimeErrorCode = 'unreachable' | 'timeout' | 'aborted' | 'protocol' | 'closed';

export class ContainerRuntimeError extends Error {
  override readonly name = 'ContainerRuntimeError';
  readonly code: ContainerRuntimeErrorCode;
  readonly runtime: ContainerRuntimeKind;
  readonly endpoint: string;

  constructor(fields: { code: ContainerRuntimeErrorCode; runtime: ContainerRuntimeKind; endpoint: string; message: string; cause?: unknown }) {
    super(`${fields.runtime} at ${fields.endpoint}: ${fields.message}`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code;
    this.runtime = fields.runtime;
    this.endpoint = fields.endpoint;
  }
}

/** Falco's container.id: the first 12 hex digits. */
export function shortContainerId(id: string): string {
  return id.slice(0, 12);
}

/** Falco drops label values longer than this (the container plugin's `label_max_len`). */
export const DEFAULT_LABEL_MAX_LENGTH = 100;

export function filterLabels(labels: unknown, maxLength: number): Map<string, string> {
  const out = new Map<string, string>();
  if (labels === null || typeof labels !== 'object') return out;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (typeof v === 'string' && v.length <= maxLength) out.set(k, v);
  }
  return out;
}
