// Test support: a private containerd (Debian's package) with its CRI plugin, and pods run on it the
// way a kubelet runs them (RunPodSandbox, CreateContainer, StartContainer over the CRI socket).
// There is no registry here: the images are TEST_IMAGE and a pause image built from it, saved by
// podman and imported with ctr. There is no CNI either, so pods use the node's network namespace.
// containerd 1.6 gives the pause container oom_score_adj -998, which needs CAP_SYS_RESOURCE; where
// root lacks it (this kind of VM), restrict_oom_score_adj keeps containerd's own value instead.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PODMAN_BASE, TEST_IMAGE, ensureTestImage, podman, podmanUnavailable } from './podman.js';

const execFileP = promisify(execFile);

export const PAUSE_IMAGE = 'localhost/harrier-pause:test';
/** containerd's namespace for CRI pods. */
const K8S_NAMESPACE = 'k8s.io';

/** Why containerd tests cannot run here, or undefined when they can. */
export function containerdUnavailable(): string | undefined {
  const noPodman = podmanUnavailable();
  if (noPodman) return noPodman;
  if (spawnSync('containerd', ['--version']).status !== 0) return 'containerd is not installed (apt-get install containerd)';
  return undefined;
}

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels?: Record<string, string>;
  readonly container: string;
  readonly containerLabels?: Record<string, string>;
  readonly command: readonly string[];
  readonly privileged?: boolean;
  /** The container's user id (default the image's, root). */
  readonly user?: number;
}

export interface Pod {
  readonly sandboxId: string;
  readonly containerId: string;
}

export interface Containerd {
  readonly socketPath: string;
  runPod(spec: PodSpec): Promise<Pod>;
  /** Stops and removes the pod (its containers too); idempotent. */
  removePod(pod: Pod): Promise<void>;
  stop(): Promise<void>;
}

type Call = (method: string, request: object) => Promise<Record<string, unknown>>;

function adminClient(socketPath: string): { call: Call; close(): void } {
  const def = protoLoader.loadSync(fileURLToPath(new URL('./cri-admin.proto', import.meta.url)), { keepCase: true, longs: String, enums: String, defaults: true });
  const runtime = (grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } } }).runtime.v1;
  const client = new runtime.RuntimeService(`unix://${socketPath}`, grpc.credentials.createInsecure());
  const call: Call = (method, request) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void>)[method]!;
      fn.call(client, request, { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(new Error(`CRI ${method}: ${err.details || err.message}`)) : resolve(res)));
    });
  return { call, close: () => client.close() };
}

/** PAUSE_IMAGE: TEST_IMAGE whose command sleeps, as a pod sandbox needs one. */
function ensurePauseImage(dir: string): void {
  ensureTestImage();
  if (spawnSync('podman', [...PODMAN_BASE, 'image', 'exists', PAUSE_IMAGE]).status === 0) return;
  const file = join(dir, 'Containerfile.pause');
  writeFileSync(file, `FROM ${TEST_IMAGE}\nCMD ["/bin/sleep", "1000000"]\n`);
  podman(['build', '--pull=never', '-q', '-t', PAUSE_IMAGE, '-f', file, dir]);
}

/** This process's mounts: where each is, and its file system type (/proc/self/mountinfo). */
function mounts(): { point: string; type: string }[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 4)
    .map((f) => ({ point: f[4]!, type: f[f.indexOf('-') + 1] ?? '' }));
}

/** The cgroup directories a pod left in every hierarchy (runc creates the parents and removes only its own). */
function removeCgroupParents(parent: string): void {
  for (const { point: root } of mounts().filter((m) => m.type === 'cgroup' || m.type === 'cgroup2')) {
    for (let p = parent; p.split('/').filter(Boolean).length > 0; p = p.slice(0, p.lastIndexOf('/'))) {
      try {
        rmdirSync(join(root, p));
      } catch {
        break; // still in use (another pod), or already gone
      }
    }
  }
}

/** Unmounts whatever containerd left mounted under dir (rootfs overlays of a crashed run). */
function unmountUnder(dir: string): void {
  const under = mounts()
    .map((m) => m.point)
    .filter((m) => m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of under) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

export async function startContainerd(): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-containerd-'));
  const socketPath = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]',
      `  address = "${socketPath}"`,
      '[ttrpc]',
      `  address = "${socketPath}.ttrpc"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${PAUSE_IMAGE}"`,
      '  restrict_oom_score_adj = true',
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  bin_dir = "${dir}/cni-bin"`,
      `  conf_dir = "${dir}/cni-conf"`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pods = new Set<string>();
  const parents = new Set<string>();
  let admin: ReturnType<typeof adminClient> | undefined;

  const removePod = async (pod: Pod): Promise<void> => {
    if (!pods.delete(pod.sandboxId)) return;
    await admin!.call('StopPodSandbox', { pod_sandbox_id: pod.sandboxId });
    await admin!.call('RemovePodSandbox', { pod_sandbox_id: pod.sandboxId });
  };
  const stop = async (): Promise<void> => {
    for (const sandboxId of [...pods]) await removePod({ sandboxId, containerId: '' }).catch(() => undefined);
    admin?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    for (const p of parents) removeCgroupParents(p);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 20_000;
    while (!(existsSync(socketPath) && log.includes('containerd successfully booted'))) {
      if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`containerd did not start within 20 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    ensurePauseImage(dir);
    const archive = join(dir, 'images.tar');
    podman(['save', '-q', '-m', '--format', 'docker-archive', '-o', archive, TEST_IMAGE, PAUSE_IMAGE]);
    await execFileP('ctr', ['-a', socketPath, '-n', K8S_NAMESPACE, 'images', 'import', archive]);
    admin = adminClient(socketPath);
  } catch (err) {
    await stop();
    throw err;
  }

  const runPod = async (spec: PodSpec): Promise<Pod> => {
    const cgroupParent = `/kubepods/besteffort/pod${spec.uid}`;
    parents.add(cgroupParent);
    const namespaces = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
    const sandboxConfig = {
      metadata: { name: spec.name, uid: spec.uid, namespace: spec.namespace, attempt: 0 },
      log_directory: join(dir, 'logs', spec.uid),
      labels: spec.labels ?? {},
      linux: { cgroup_parent: cgroupParent, security_context: { namespace_options: namespaces, privileged: spec.privileged ?? false } },
    };
    const sandboxId = String((await admin.call('RunPodSandbox', { config: sandboxConfig })).pod_sandbox_id);
    pods.add(sandboxId);
    const security = { privileged: spec.privileged ?? false, namespace_options: namespaces, ...(spec.user !== undefined ? { run_as_user: { value: String(spec.user) } } : {}) };
    const created = await admin.call('CreateContainer', {
      pod_sandbox_id: sandboxId,
      sandbox_config: sandboxConfig,
      config: {
        metadata: { name: spec.container, attempt: 0 },
        image: { image: TEST_IMAGE },
        command: [...spec.command],
        labels: spec.containerLabels ?? {},
        log_path: `${spec.container}.log`,
        linux: { security_context: security },
      },
    });
    const containerId = String(created.container_id);
    await admin.call('StartContainer', { container_id: containerId });
    return { sandboxId, containerId };
  };

  return { socketPath, runPod, removePod, stop };
}
