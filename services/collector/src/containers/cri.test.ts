// The CRI client against a real containerd running real pods (started over the CRI as a kubelet
// would; see testing/containerd.ts), and against a real @grpc/grpc-js server that serves the same
// runtime.v1 methods with answers containerd cannot be made to give here (registry digests, pod IPs,
// image names only in annotations, errors).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CriClient, criRuntimeService, type CriContainerStatusResponse, type CriPodSandboxStatusResponse } from './cri.js';
import { ContainerRuntimeError } from './runtime.js';
import { PAUSE_IMAGE, containerdUnavailable, startContainerd, type Containerd, type Pod } from '../testing/containerd.js';
import { TEST_IMAGE, podman } from '../testing/podman.js';

const noContainerd = containerdUnavailable();

describe('CriClient against a real containerd running pods', { skip: noContainerd && `containerd tests skipped: ${noContainerd}` }, () => {
  let ctd: Containerd;
  let client: CriClient;
  let web: Pod;
  let plain: Pod;
  const uid = randomUUID();

  before(async () => {
    ctd = await startContainerd();
    client = new CriClient({ socketPath: ctd.socketPath, kind: 'containerd' });
    web = await ctd.runPod({
      name: 'web-0', namespace: 'shop', uid, labels: { app: 'web' },
      container: 'server', containerLabels: { tier: 'front' }, command: ['/bin/sleep', '120'], privileged: true,
    });
    plain = await ctd.runPod({ name: 'job-0', namespace: 'batch', uid: randomUUID(), container: 'worker', command: ['/bin/sleep', '120'] });
  });

  after(async () => {
    client?.close();
    await ctd?.stop();
  });

  test('a container: name, image, digest, labels, privileged, and its pod from PodSandboxStatus', async () => {
    const imageId = podman(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE]);
    const info = await client.inspect(web.containerId);
    assert.ok(info, 'containerd knows the container');
    assert.equal(info.id, web.containerId.slice(0, 12));
    assert.equal(info.type, 'containerd');
    assert.equal(info.name, 'server');
    assert.equal(info.image, TEST_IMAGE);
    assert.equal(info.imageRepository, 'localhost/harrier-busybox');
    assert.equal(info.imageTag, 'test');
    // An image with no registry digest: containerd's image_ref is the image id, which Falco reports as the digest.
    assert.equal(info.imageDigest, `sha256:${imageId}`);
    assert.equal(info.privileged, true);
    assert.equal(info.labels?.get('tier'), 'front');
    assert.equal(info.labels?.get('io.kubernetes.pod.name'), 'web-0');
    assert.equal(info.podName, 'web-0');
    assert.equal(info.podNamespace, 'shop');
    assert.equal(info.podUid, uid);
    assert.equal(info.podLabels?.get('app'), 'web');
    // A short id (as the cgroup path gives it, cut to 12) finds the same container.
    assert.equal((await client.inspect(web.containerId.slice(0, 12)))?.name, 'server');
  });

  test('an unprivileged container in another pod', async () => {
    const info = await client.inspect(plain.containerId);
    assert.equal(info?.name, 'worker');
    assert.equal(info?.privileged, false);
    assert.equal(info?.podName, 'job-0');
    assert.equal(info?.podNamespace, 'batch');
    assert.equal(info?.labels?.get('tier'), undefined);
  });

  test('a pod sandbox id (the pause container) is answered as the pod', async () => {
    const info = await client.inspect(web.sandboxId);
    assert.equal(info?.name, 'web-0');
    assert.equal(info?.image, PAUSE_IMAGE);
    assert.equal(info?.podName, 'web-0');
    assert.equal(info?.podNamespace, 'shop');
    assert.equal(info?.podUid, uid);
    assert.equal(info?.podLabels?.get('app'), 'web');
  });

  test('an unknown container (and sandbox) id is undefined; a removed pod is no longer found', async () => {
    assert.equal(await client.inspect('0'.repeat(64)), undefined);
    assert.equal(await client.inspect('abcdef123456'), undefined);
    await ctd.removePod(plain);
    assert.equal(await client.inspect(plain.containerId), undefined);
    assert.equal(await client.inspect(plain.sandboxId), undefined);
  });
});

test('a missing CRI socket is an unreachable ContainerRuntimeError that says what to check', async () => {
  const socketPath = join(tmpdir(), `harrier-nocri-${randomBytes(4).toString('hex')}.sock`);
  const client = new CriClient({ socketPath, kind: 'containerd', timeoutMs: 2000 });
  try {
    await assert.rejects(client.inspect('a'.repeat(64)), (err: unknown) => {
      assert.ok(err instanceof ContainerRuntimeError, String(err));
      assert.equal(err.code, 'unreachable');
      assert.equal(err.runtime, 'containerd');
      assert.equal(err.endpoint, socketPath);
      assert.match(err.message, /does not exist/);
      assert.match(err.message, /containerd is running with its CRI plugin enabled/);
      return true;
    });
  } finally {
    client.close();
  }
});

describe('CriClient mapping, against a grpc-js server speaking the same runtime.v1 methods', () => {
  const CID = 'c0ffee'.repeat(10) + 'c0ff';
  const SID = '5a4d'.repeat(16);
  const PRIV = 'beef'.repeat(16);
  let server: grpc.Server;
  let dir: string;
  let client: CriClient;
  const asked: string[] = [];

  const containerInfo = (privileged: boolean, sandboxID: string): string =>
    JSON.stringify({
      sandboxID,
      pid: 4242,
      config: { metadata: { name: 'web' }, image: { image: `sha256:${'9'.repeat(64)}` }, linux: { security_context: { privileged } } },
      runtimeSpec: { annotations: { 'io.kubernetes.cri.image-name': 'docker.io/library/nginx:1.25', 'io.kubernetes.cri.sandbox-id': sandboxID } },
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'harrier-cri-'));
    server = new grpc.Server();
    server.addService(criRuntimeService().service, {
      ContainerStatus: (call: grpc.ServerUnaryCall<{ container_id: string; verbose: boolean }, CriContainerStatusResponse>, cb: grpc.sendUnaryData<CriContainerStatusResponse>) => {
        const { container_id: id, verbose } = call.request;
        asked.push(`ContainerStatus ${id} ${verbose}`);
        const base = {
          metadata: { name: 'web', attempt: 0 },
          state: 'CONTAINER_RUNNING',
          labels: { 'io.kubernetes.container.name': 'web', 'io.kubernetes.pod.name': 'shop-0', 'io.kubernetes.pod.namespace': 'shop', big: 'z'.repeat(200) },
          annotations: {},
          image_id: `sha256:${'9'.repeat(64)}`,
        };
        if (CID.startsWith(id)) {
          return cb(null, {
            status: { ...base, id: CID, image: { image: 'docker.io/library/nginx:1.25', annotations: {} }, image_ref: `docker.io/library/nginx@sha256:${'8'.repeat(64)}` },
            info: verbose ? { info: containerInfo(false, SID) } : {},
          });
        }
        if (PRIV.startsWith(id)) {
          // Started by image id: the name comes from the runtime spec's annotation.
          return cb(null, {
            status: { ...base, id: PRIV, labels: {}, image: { image: `sha256:${'9'.repeat(64)}`, annotations: {} }, image_ref: `sha256:${'8'.repeat(64)}` },
            info: { info: containerInfo(true, 'gone') },
          });
        }
        cb({ code: grpc.status.NOT_FOUND, details: `an error occurred when try to find container "${id}": not found` });
      },
      PodSandboxStatus: (call: grpc.ServerUnaryCall<{ pod_sandbox_id: string; verbose: boolean }, CriPodSandboxStatusResponse>, cb: grpc.sendUnaryData<CriPodSandboxStatusResponse>) => {
        const { pod_sandbox_id: id, verbose } = call.request;
        asked.push(`PodSandboxStatus ${id} ${verbose}`);
        if (SID.startsWith(id)) {
          return cb(null, {
            status: {
              id: SID,
              metadata: { name: 'shop-0', uid: 'uid-77', namespace: 'shop', attempt: 0 },
              state: 'SANDBOX_READY',
              network: { ip: '10.244.1.7' },
              labels: { app: 'shop', 'io.kubernetes.pod.name': 'shop-0' },
              annotations: {},
            },
            info: verbose ? { info: JSON.stringify({ image: 'registry.k8s.io/pause:3.9', config: { linux: { security_context: { privileged: false } } } }) } : {},
          });
        }
        if (id === 'gone') return cb({ code: grpc.status.INTERNAL, details: 'sandbox store broken' });
        cb({ code: grpc.status.NOT_FOUND, details: `an error occurred when try to find sandbox "${id}": not found` });
      },
    });
    const sock = join(dir, 'cri.sock');
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    client = new CriClient({ socketPath: sock, kind: 'containerd' });
  });

  after(async () => {
    client?.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('container + sandbox: name, image from image_ref, pod fields and labels, IP, privileged from verbose info', async () => {
    asked.length = 0;
    const info = await client.inspect(CID.slice(0, 12));
    assert.deepEqual(asked, [`ContainerStatus ${CID.slice(0, 12)} true`, `PodSandboxStatus ${SID} false`]);
    assert.ok(info);
    assert.equal(info.id, CID.slice(0, 12));
    assert.equal(info.type, 'containerd');
    assert.equal(info.name, 'web');
    assert.equal(info.image, 'docker.io/library/nginx:1.25');
    assert.equal(info.imageRepository, 'docker.io/library/nginx');
    assert.equal(info.imageTag, '1.25');
    assert.equal(info.imageDigest, `sha256:${'8'.repeat(64)}`);
    assert.equal(info.imageId, '9'.repeat(64));
    assert.equal(info.privileged, false);
    assert.equal(info.podName, 'shop-0');
    assert.equal(info.podNamespace, 'shop');
    assert.equal(info.podUid, 'uid-77');
    assert.equal(info.ip, '10.244.1.7');
    assert.deepEqual(info.podLabels, new Map([['app', 'shop'], ['io.kubernetes.pod.name', 'shop-0']]));
    assert.equal(info.labels?.get('io.kubernetes.sandbox.id'), SID);
    assert.equal(info.labels?.get('io.kubernetes.pod.uid'), 'uid-77');
    assert.equal(info.labels?.has('big'), false);
  });

  test('privileged container whose sandbox lookup fails: container fields stay, pod fields are empty', async () => {
    const info = await client.inspect(PRIV);
    assert.ok(info);
    assert.equal(info.privileged, true);
    assert.equal(info.image, 'docker.io/library/nginx:1.25');
    assert.equal(info.imageTag, '1.25');
    assert.equal(info.imageDigest, `sha256:${'8'.repeat(64)}`);
    assert.equal(info.podName, undefined);
    assert.equal(info.ip, undefined);
    assert.equal(info.podLabels, undefined);
  });

  test('an id that is a pod sandbox is answered from PodSandboxStatus', async () => {
    const info = await client.inspect(SID);
    assert.ok(info);
    assert.equal(info.id, SID.slice(0, 12));
    assert.equal(info.name, 'shop-0');
    assert.equal(info.image, 'registry.k8s.io/pause:3.9');
    assert.equal(info.imageTag, '3.9');
    assert.equal(info.podUid, 'uid-77');
    assert.equal(info.ip, '10.244.1.7');
  });

  test('unknown id: undefined after asking both methods', async () => {
    asked.length = 0;
    assert.equal(await client.inspect('f'.repeat(64)), undefined);
    assert.deepEqual(asked, [`ContainerStatus ${'f'.repeat(64)} true`, `PodSandboxStatus ${'f'.repeat(64)} true`]);
  });

  test('a closed client rejects with code closed', async () => {
    const c = new CriClient({ socketPath: join(dir, 'cri.sock') });
    c.close();
    await assert.rejects(c.inspect(CID), (err: unknown) => err instanceof ContainerRuntimeError && err.code === 'closed');
  });
});
