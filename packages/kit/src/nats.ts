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

/** Connects, or fails with an error that says which servers were tried and what to check. */
export async function connectNats(cfg: NatsConfig, log: Logger, servers: readonly string[] = cfg.servers): Promise<NatsConnection> {
  if (servers.length === 0) throw new NatsConnectError('no NATS server configured: set nats.url (or HARRIER_NATS_URL, or nats.servers); only harrier run starts a private nats-server (nats.embedded)', servers);
  let nc: NatsConnection;
  const options = natsOptions(cfg, servers);
  try {
    nc = await connect(options);
  } catch (err) {
    const reason = (err as Error).message;
    const hint = /auth|permission/i.test(reason) ? 'check nats.token, nats.user/password or the creds file' : 'check that the server runs and nats.url is right';
    throw new NatsConnectError(`cannot connect to NATS at ${servers.join(', ')}: ${reason}; ${hint}`, servers, { cause: err });
  }
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
