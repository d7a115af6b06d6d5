// The health and metrics server: a failure to listen names the key that fixes it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveHealth } from './health.js';

const opts = { health: () => ({ ok: true, body: {} }), metrics: async () => ({ contentType: 'text/plain', text: '' }) };

test('cannot listen: a taken port points at webserver.listen_port, a bad address at webserver.listen_address', async () => {
  const first = await serveHealth({ ...opts, host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(serveHealth({ ...opts, host: '127.0.0.1', port: first.port }), (err: Error) => {
      assert.equal(err.message, `cannot serve /healthz and /metrics on 127.0.0.1:${first.port}: EADDRINUSE; set webserver.listen_port (or webserver.enabled: false)`);
      return true;
    });
  } finally {
    await first.close();
  }
  await assert.rejects(serveHealth({ ...opts, host: 'no-such-host.invalid', port: 0 }), (err: Error) => {
    assert.match(err.message, /^cannot serve \/healthz and \/metrics on no-such-host\.invalid:0: (ENOTFOUND|EAI_AGAIN); set webserver\.listen_address to an address of this machine \(or webserver\.enabled: false\)$/);
    return true;
  });
  await assert.rejects(serveHealth({ ...opts, host: '192.0.2.1', port: 0 }), (err: Error) => {
    assert.match(err.message, /^cannot serve \/healthz and \/metrics on 192\.0\.2\.1:0: EADDRNOTAVAIL; set webserver\.listen_address/);
    return true;
  });
});
