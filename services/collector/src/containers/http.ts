// A bounded GET over a unix socket with node:http, its failures turned into ContainerRuntimeErrors.

import { request, type Agent } from 'node:http';
import { ContainerRuntimeError, type ContainerRuntimeKind } from './runtime.js';

export interface UnixGetOptions {
  readonly runtime: ContainerRuntimeKind;
  readonly socketPath: string;
  readonly agent: Agent;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly signal?: AbortSignal | undefined;
}

export interface UnixGetResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** What to tell the operator for a connection-level failure. */
export function connectFailureHint(runtime: ContainerRuntimeKind, socketPath: string, err: NodeJS.ErrnoException): string {
  const start =
    runtime === 'podman'
      ? `start it with \`podman system service --time=0 unix://${socketPath}\` (or enable podman.socket)`
      : runtime === 'docker'
        ? 'check that dockerd is running and listening there'
        : `check that ${runtime === 'cri' ? 'the CRI runtime' : runtime} is running with its CRI plugin enabled`;
  switch (err.code) {
    case 'ENOENT':
      return `socket ${socketPath} does not exist; ${start}, or point the collector at the right socket`;
    case 'ECONNREFUSED':
      return `socket ${socketPath} refuses connections (nothing is serving it); ${start}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on socket ${socketPath}; run the collector as root or give it access to the socket`;
    case 'ENOTSOCK':
      return `${socketPath} is not a socket; point the collector at the runtime's API socket`;
    default:
      return `cannot connect to ${socketPath} (${err.code ?? err.message}); ${start}`;
  }
}

const CONNECT_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ENOTDIR', 'EAGAIN']);

export function unixGet(path: string, opts: UnixGetOptions): Promise<UnixGetResponse> {
  const { runtime, socketPath } = opts;
  const fail = (code: 'unreachable' | 'timeout' | 'aborted' | 'protocol', message: string, cause?: unknown): ContainerRuntimeError =>
    new ContainerRuntimeError({ code, runtime, endpoint: socketPath, message, cause });

  return new Promise<UnixGetResponse>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(fail('aborted', `GET ${path} aborted before it started`, opts.signal.reason));
      return;
    }
    let settled = false;
    const finish = (err: ContainerRuntimeError | undefined, res?: UnixGetResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(res!);
    };
    const onAbort = (): void => finish(fail('aborted', `GET ${path} aborted`, opts.signal?.reason));
    const timer = setTimeout(
      () => finish(fail('timeout', `no complete answer to GET ${path} within ${opts.timeoutMs} ms; the runtime may be overloaded or hung`)),
      opts.timeoutMs,
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const req = request({ socketPath, path, method: 'GET', agent: opts.agent, headers: { host: 'localhost', accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxResponseBytes) {
          finish(fail('protocol', `answer to GET ${path} exceeds ${opts.maxResponseBytes} bytes; not a container inspect answer, or raise maxResponseBytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(fail('protocol', `answer to GET ${path} broke off: ${err.message}`, err)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== undefined && CONNECT_CODES.has(err.code)) finish(fail('unreachable', connectFailureHint(runtime, socketPath, err), err));
      else finish(fail('protocol', `GET ${path} failed: ${err.message}`, err));
    });
    req.end();
  });
}
