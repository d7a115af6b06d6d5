// `harrier run` (and `harrier` with no events given) on a machine where the probe can load: live
// detection in one process, as `falco` does: the probe's events through the state engine and the
// rules, alerts as Falco's text or JSON lines on stdout, until SIGINT/SIGTERM or -M seconds.
// The distributed pipeline (`harrier collector` + engines over NATS) does the same at scale.

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { ProbeProcess, ReplayPipeline, defaultProbeBinary, readGroup, readPasswd, scanProc, syscallSet } from '@harrier/collector';
import { formatDiagnostic } from '@harrier/rules';
import { alertFormatter } from '../alerts.js';
import type { CliArgs } from '../args.js';
import { loadRulesFor, rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings } from '../settings.js';

/** Why live capture cannot run here, or undefined when it can. */
export function liveUnavailable(probePath?: string): string | undefined {
  if (process.getuid?.() !== 0) return 'live capture needs root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'live capture needs a kernel with BTF (/sys/kernel/btf/vmlinux)';
  if (!existsSync(probePath ?? defaultProbeBinary())) return `the probe is not built (${probePath ?? defaultProbeBinary()}): run make -C probe`;
  return undefined;
}

export async function runLive(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  const json = args.json || settings.jsonOutput;
  const paths = rulePaths(args, settings);
  const loaded = loadRulesFor(paths);
  const errors = [...loaded.readErrors, ...loaded.result.errors];
  for (const d of [...errors, ...loaded.result.warnings]) process.stderr.write(formatDiagnostic(d) + '\n');
  if (errors.length > 0) {
    process.stderr.write(`harrier: the rules have ${errors.length} error(s); fix them first (see harrier rules validate)\n`);
    return 1;
  }
  const host = process.env['FALCO_HOSTNAME'] ?? process.env['HARRIER_HOSTNAME'] ?? hostname();
  let alerts = 0;
  const format = alertFormatter(settings, json, host);
  const pipeline = new ReplayPipeline(
    loaded.result,
    (m) => {
      alerts++;
      process.stdout.write(format(m) + '\n');
    },
    { ruleset: rulesetOptions(args, settings), node: host, batchSize: 1024 },
  );

  const scan = scanProc();
  for (const t of scan.threads) pipeline.seedThread(t);
  for (const [tid, fds] of scan.fds) for (const f of fds) pipeline.seedFd(tid, f);
  try {
    pipeline.seedUsers(readPasswd('/etc/passwd'), readGroup('/etc/group'));
  } catch (err) {
    process.stderr.write(`harrier: cannot read the host's users: ${(err as Error).message}\n`);
  }
  const types = pipeline.ruleset.eventTypes();
  let fatal: string | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const probe = new ProbeProcess(
    { syscalls: syscallSet(types), binary: settings.config.collector.probe.path, ringBufferMb: settings.config.collector.probe.ringbufMb },
    {
      event: (e) => pipeline.push(e),
      problem: (message, isFatal) => {
        process.stderr.write(`harrier: ${message}\n`);
        if (isFatal) {
          fatal = message;
          stop();
        }
      },
    },
  );
  try {
    await probe.start();
  } catch (err) {
    process.stderr.write(`harrier: cannot start live capture: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(
    `harrier: live capture: ${pipeline.ruleset.enabledCount()} rules from ${paths.join(', ')}, ${syscallSet(types).length} syscalls traced, ` +
      `${scan.threads.length} threads seeded from /proc${args.durationSec ? `, for ${args.durationSec} s` : ''}; Ctrl-C stops\n`,
  );
  // Batches close at 1024 events or every 20 ms, whichever comes first.
  const tick = setInterval(() => pipeline.flush(), 20);
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = args.durationSec ? setTimeout(stop, args.durationSec * 1000) : undefined;
  await stopped;
  clearInterval(tick);
  clearTimeout(timer);
  await probe.stop();
  pipeline.flush();
  const c = pipeline.counts;
  const k = probe.decoder.probe;
  process.stderr.write(
    `Events processed: ${c.events}, evaluated: ${c.evaluated}, alerts: ${alerts}, rules enabled: ${pipeline.ruleset.enabledCount()}` +
      `${k ? `; kernel: ${k.sent} sent, ${k.dropped} dropped` : ''}\n`,
  );
  return fatal ? 1 : 0;
}
