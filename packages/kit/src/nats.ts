// NATS connections from configuration: servers, TLS, and every credential kind (token,
// user/password, nkey seed, creds file), with reconnect logging and a clean drain on shutdown.

import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import type { NatsConfig } from './config/types.js';
import type { Logger } from './log.js';

export type { NatsConnection };

export class NatsConnectError extends Error {
  override readonly name = 'NatsConnectError';
  constructor(
    message: string,
    readonly servers: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Builds nats.js options; reads key material from the files the config names. */
export function natsOptions(cfg: NatsConfig, servers: readonly string[] = cfg.servers): ConnectionOptions {
  const o: ConnectionOptions = {
    servers: [...servers],
    name: cfg.name,
    timeout: cfg.connectTimeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // nats.js otherwise builds an Error (with a stack) for every request, publish and timer in case
    // it fails later: a measurable share of CPU at tens of thousands of requests a second. Errors
    // still say what failed (subject, timeout), only without the caller's async stack.
    noAsyncTraces: true,
  };
  if (cfg.token) o.token = cfg.token;
  if (cfg.user) o.user = cfg.user;
  if (cfg.password) o.pass = cfg.password;
  if (cfg.credsFile) o.authenticator = credsAuthenticator(new Uint8Array(readKeyFile('nats.creds_file', cfg.credsFile, servers)));
  else if (cfg.nkeySeedFile) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(readKeyFile('nats.nkey_seed_file', cfg.nkeySeedFile, servers).toString('utf8').trim()));
  if (cfg.tls) {
    o.tls = {
      ...(cfg.tls.ca ? { caFile: cfg.tls.ca } : {}),
      ...(cfg.tls.cert ? { certFile: cfg.tls.cert } : {}),
      ...(cfg.tls.key ? { keyFile: cfg.tls.key } : {}),
      ...(cfg.tls.verify ? {} : { rejectUnauthorized: false }),
    };
  }
  return o;
}

/** A credentials file the configuration names; failing to read it is a configuration problem, not the server's. */
function readKeyFile(key: string, path: string, servers: readonly string[]): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new NatsConnectError(`cannot read ${key} ${path}: ${code}; fix the path (or the file's permissions)`, servers, { cause: err });
  }
}

export interface ConnectNatsOptions {
  /**
   * Keep trying while no server can be reached (a service that starts before NATS does): a warning
   * at once and then every minute, retries every few seconds. A credentials problem still fails at
   * once: waiting would not fix it.
   */
  readonly waitForServer?: boolean;
}

/** How long a service waiting for NATS at start sleeps between tries (doubling up to the most). */
const WAIT_FIRST_MS = 500;
const WAIT_MOST_MS = 5000;
const WAIT_WARN_EVERY_MS = 60_000;

/** Connects, or fails with an error that says which servers were tried and what to check. */
export async function connectNats(cfg: NatsConfig, log: Logger, servers: readonly string[] = cfg.servers, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  if (servers.length === 0) throw new NatsConnectError('no NATS server configured: set nats.url (or HARRIER_NATS_URL, or nats.servers); only harrier run starts a private nats-server (nats.embedded)', servers);
  let nc: NatsConnection;
  const options = natsOptions(cfg, servers);
  const since = Date.now();
  let warned = 0;
  let delay = WAIT_FIRST_MS;
  for (;;) {
    try {
      nc = await connect(options);
      break;
    } catch (err) {
      const reason = (err as Error).message;
      const auth = /auth|permission/i.test(reason);
      const hint = auth ? 'check nats.token, nats.user/password or the creds file' : 'check that the server runs and nats.url is right';
      const message = `cannot connect to NATS at ${servers.join(', ')}: ${reason}; ${hint}`;
      if (!opts.waitForServer || auth) throw new NatsConnectError(message, servers, { cause: err });
      const now = Date.now();
      if (warned === 0 || now - warned >= WAIT_WARN_EVERY_MS) {
        log.warn({ servers, waitedMs: now - since }, `${message}; waiting for it (trying again every few seconds)`);
        warned = now;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, WAIT_MOST_MS);
    }
  }
  if (warned) log.info({ server: nc.getServer(), waitedMs: Date.now() - since }, 'NATS is reachable now');
  log.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log.warn({ status: s.type, server: 'server' in s ? s.server : undefined }, 'NATS connection status');
    }
  })();
  return nc;
}

/** Drains: finishes in-flight publishes and subscriptions, then closes. Never throws. */
export async function drainNats(nc: NatsConnection, log: Logger): Promise<void> {
  try {
    if (!nc.isClosed()) await nc.drain();
  } catch (err) {
    log.warn({ err }, 'NATS drain failed; closing');
    await nc.close().catch(() => undefined);
  }
}
