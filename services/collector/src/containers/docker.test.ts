// The Docker Engine API client against a real podman service (Docker-compatible API), and against
// a local HTTP server on a unix socket for the failure modes a real runtime will not produce on demand.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DockerEngineClient, dockerToContainerInfo } from './docker.js';
import { ContainerRuntimeError } from './runtime.js';
import { startPodmanService, type PodmanService } from './podman-service.js';
import { PODMAN_BASE, RUN_LIMITS, ensureTestImage, podmanUnavailable, removeContainer } from '../testing/podman.js';

const execFileP = promisify(execFile);
const podmanSkip = podmanUnavailable();

async function podman(args: readonly string[]): Promise<string> {
  return (await execFileP('podman', [...PODMAN_BASE, ...args], { encoding: 'utf8' })).stdout.trim();
}

describe('DockerEngineClient against podman system service', { skip: podmanSkip && `podman tests skipped: ${podmanSkip}` }, () => {
  let svc: PodmanService;
  let client: DockerEngineClient;
  const tag = randomBytes(4).toString('hex');
  const names = { web: `harrier-web-${tag}`, priv: `harrier-priv-${tag}` };
  const ids: Record<string, string> = {};

  before(async () => {
    ensureTestImage();
    // An image named without a tag: the reference resolves to :latest.
    await podman(['tag', 'localhost/harrier-busybox:test', 'localhost/harrier-test']);
    svc = await startPodmanService();
    client = new DockerEngineClient({ socketPath: svc.socketPath, kind: 'podman' });
    ids.web = await podman(['run', '-d', ...RUN_LIMITS, '--name', names.web, '--label', 'app=web', '--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.namespace=shop', '--label', `long=${'x'.repeat(101)}`, 'localhost/harrier-test', 'sleep', '300']);
    ids.priv = await podman(['run', '-d', ...RUN_LIMITS, '--privileged', '--network', 'none', '--name', names.priv, 'localhost/harrier-busybox:test', 'sleep', '300']);
  });

  after(async () => {
    client?.close();
    for (const n of Object.values(names)) removeContainer(n);
    await svc?.stop();
  });

  test('a labelled, named container maps to Falco-shaped metadata', async () => {
    const info = await client.inspect(ids.web!);
    assert.ok(info);
    const ip = await podman(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', names.web]);
    const imageId = await podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/harrier-test']);
    assert.equal(info.id, ids.web!.slice(0, 12));
    assert.equal(info.type, 'podman');
    assert.equal(info.name, names.web);
    assert.equal(info.image, 'localhost/harrier-test:latest');
    assert.equal(info.imageRepository, 'localhost/harrier-test');
    assert.equal(info.imageTag, 'latest');
    assert.equal(info.imageId, imageId);
    assert.match(info.imageDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(info.privileged, false);
    assert.equal(info.labels?.get('app'), 'web');
    assert.equal(info.labels?.has('long'), false, 'label values over 100 characters are dropped, as Falco does');
    assert.equal(info.podName, 'web-0');
    assert.equal(info.podNamespace, 'shop');
    assert.equal(info.podUid, undefined);
    assert.equal(info.ip, ip || undefined);
  });

  test('a privileged container, asked by its short id', async () => {
    const info = await client.inspect(ids.priv!.slice(0, 12));
    assert.ok(info);
    assert.equal(info.name, names.priv);
    assert.equal(info.privileged, true);
    assert.equal(info.imageRepository, 'localhost/harrier-busybox');
    assert.equal(info.imageTag, 'test');
    assert.equal(info.ip, undefined, '--network none has no address');
  });

  test('a missing container is undefined, not an error', async () => {
    assert.equal(await client.inspect('0'.repeat(64)), undefined);
  });

  test('an aborted lookup rejects with code aborted', async () => {
    await assert.rejects(client.inspect(ids.web!, AbortSignal.abort()), (err: unknown) => err instanceof ContainerRuntimeError && err.code === 'aborted');
  });
});

test('a missing socket is a ContainerRuntimeError that says what to check', async () => {
  const socketPath = join(tmpdir(), `harrier-none-${randomBytes(4).toString('hex')}.sock`);
  const client = new DockerEngineClient({ socketPath, kind: 'podman' });
  try {
    await assert.rejects(client.inspect('abc123abc123'), (err: unknown) => {
      assert.ok(err instanceof ContainerRuntimeError);
      assert.equal(err.code, 'unreachable');
      assert.equal(err.runtime, 'podman');
      assert.equal(err.endpoint, socketPath);
      assert.match(err.message, /does not exist/);
      assert.match(err.message, /podman system service --time=0/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });
  } finally {
    client.close();
  }
});

describe('DockerEngineClient against a misbehaving server', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'harrier-engine-'));
    socketPath = join(dir, 'engine.sock');
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = req.url ?? '';
      if (url === '/version') return res.end(JSON.stringify({ ApiVersion: '1.43' }));
      if (url.includes('/containers/badjson')) return res.end('{"Id": "x",');
      if (url.includes('/containers/array')) return res.end('[1,2]');
      if (url.includes('/containers/huge')) return res.end(JSON.stringify({ Id: 'h', pad: 'y'.repeat(10_000) }));
      if (url.includes('/containers/hang')) return; // never answers
      if (url.includes('/containers/boom')) {
        res.statusCode = 500;
        return res.end(JSON.stringify({ message: 'storage is corrupt' }));
      }
      if (url.includes('/containers/sidecar')) {
        return res.end(JSON.stringify({ Id: 'e'.repeat(64), Name: '/sidecar', Image: `sha256:${'1'.repeat(64)}`, Config: { Image: 'docker.io/library/busybox:1.36' }, HostConfig: { NetworkMode: 'container:infra' }, NetworkSettings: { IPAddress: '' } }));
      }
      if (url.includes('/containers/infra')) return res.end(JSON.stringify({ Id: 'f'.repeat(64), NetworkSettings: { IPAddress: '', Networks: { bridge: { IPAddress: '172.17.0.9' } } } }));
      if (url.includes('/images/')) return res.end(JSON.stringify({ RepoTags: ['docker.io/library/busybox:1.36'], RepoDigests: [`docker.io/library/busybox@sha256:${'2'.repeat(64)}`] }));
      res.statusCode = 404;
      res.end('{"message":"no such container"}');
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (extra: object = {}): DockerEngineClient => new DockerEngineClient({ socketPath, timeoutMs: 300, maxResponseBytes: 4096, ...extra });

  test('negotiates the API version once from /version', async () => {
    const c = make();
    try {
      seen.length = 0;
      assert.equal(await c.inspect('nope'), undefined);
      assert.equal(await c.inspect('nope2'), undefined);
      assert.deepEqual(seen, ['/version', '/v1.43/containers/nope/json', '/v1.43/containers/nope2/json']);
    } finally {
      c.close();
    }
  });

  test('malformed JSON, non-objects, oversized answers, HTTP errors and hangs are clear protocol/timeout errors', async () => {
    const c = make({ apiVersion: '1.41' });
    try {
      const expect = async (id: string, code: string, re: RegExp): Promise<void> => {
        await assert.rejects(c.inspect(id), (err: unknown) => err instanceof ContainerRuntimeError && err.code === code && re.test(err.message));
      };
      await expect('badjson', 'protocol', /container inspect answer is not valid JSON/);
      await expect('array', 'protocol', /not a JSON object/);
      await expect('huge', 'protocol', /exceeds 4096 bytes/);
      await expect('boom', 'protocol', /HTTP 500: storage is corrupt/);
      await expect('hang', 'timeout', /within 300 ms/);
      // The client still works after all that.
      assert.equal(await c.inspect('nope'), undefined);
    } finally {
      c.close();
    }
  });

  test('a container sharing another one\'s network takes its address; image record fills the digest', async () => {
    const c = make({ apiVersion: '1.41' });
    try {
      const info = await c.inspect('sidecar');
      assert.ok(info);
      assert.equal(info.id, 'eeeeeeeeeeee');
      assert.equal(info.type, 'docker');
      assert.equal(info.name, 'sidecar');
      assert.equal(info.ip, '172.17.0.9');
      assert.equal(info.imageRepository, 'docker.io/library/busybox');
      assert.equal(info.imageTag, '1.36');
      assert.equal(info.imageDigest, `sha256:${'2'.repeat(64)}`);
      assert.equal(info.imageId, '1'.repeat(64));
    } finally {
      c.close();
    }
  });

  test('ids that are not ids are refused before any request', async () => {
    const c = make({ apiVersion: '1.41' });
    try {
      await assert.rejects(c.inspect('../../version'), TypeError);
    } finally {
      c.close();
    }
  });
});

test('Kubernetes labels map to pod fields; IP falls back to the first network', () => {
  const info = dockerToContainerInfo(
    {
      Id: 'a'.repeat(64),
      Name: '/k8s_app_web-0_shop_uid-1_0',
      Image: `sha256:${'b'.repeat(64)}`,
      Config: { Image: 'registry.local:5000/shop/web@sha256:' + 'c'.repeat(64), Labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' } },
      HostConfig: { Privileged: true },
      NetworkSettings: { Networks: { n1: { IPAddress: '10.0.0.5' } } },
    },
    { kind: 'docker' },
  );
  assert.equal(info.name, 'k8s_app_web-0_shop_uid-1_0');
  assert.equal(info.podName, 'web-0');
  assert.equal(info.podNamespace, 'shop');
  assert.equal(info.podUid, 'uid-1');
  assert.equal(info.privileged, true);
  assert.equal(info.ip, '10.0.0.5');
  assert.equal(info.imageRepository, 'registry.local:5000/shop/web');
  assert.equal(info.imageDigest, 'sha256:' + 'c'.repeat(64));
  assert.equal(info.imageTag, 'latest');
});
