// The /healthz and /metrics endpoints every service serves (webserver.* in the configuration).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthServerOptions {
  readonly port: number;
  readonly host: string;
  /** Health is served here too, besides /healthz (Falco's webserver.k8s_healthz_endpoint). */
  readonly healthPath?: string;
  /** `ok` decides 200 or 503; `body` is sent as JSON. */
  readonly health: () => { readonly ok: boolean; readonly body: unknown };
  /** The Prometheus text exposition. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
}

export interface HealthServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveHealth(opts: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === opts.healthPath) {
      const h = opts.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h.body));
    } else if (path === '/metrics') {
      opts.metrics().then(
        (m) => {
          res.writeHead(200, { 'content-type': m.contentType });
          res.end(m.text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${(err as Error).message}\n`);
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: try ${opts.healthPath && opts.healthPath !== '/healthz' ? `${opts.healthPath}, ` : ''}/healthz or /metrics\n`);
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // An address that does not resolve, or is not this machine's, is listen_address's fault; the rest the port's.
      const fix = ['ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(err.code ?? '') ? 'set webserver.listen_address to an address of this machine' : 'set webserver.listen_port';
      fail(new Error(`cannot serve /healthz and /metrics on ${opts.host}:${opts.port}: ${err.code ?? err.message}; ${fix} (or webserver.enabled: false)`, { cause: err }));
    });
    server.listen(opts.port, opts.host, () => done());
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
