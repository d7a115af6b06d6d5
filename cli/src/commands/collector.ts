// `harrier collector [--source capture FILE] [-c harrier.yaml] [-o key=value] [-M SECONDS]`: runs
// the collector service until SIGTERM/SIGINT (or -M seconds, as in Falco). The source comes from
// --source, else -e FILE (Falco's capture replay), else collector.source (default ebpf, the live
// probe, which traces what the rules in force need: the rules bucket's, else the files).

import { existsSync } from 'node:fs';
import { CaptureSource, EbpfSource, startCollector, type EventSource } from '@harrier/collector';
import { rulePaths, rulesetOptions } from '../rulesource.js';
import { CollectorRules, fileTypes, type TracedTypes } from '../collectorrules.js';
import type { Settings } from '../settings.js';
import { connectNats, createLogger, drainNats, type NatsConnection } from '@harrier/kit';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { readSettings } from '../settings.js';

export async function runCollector(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  const config = settings.config;
  const cc = config.collector;
  const sourceName = args.source ?? (args.eventsFile !== undefined ? 'capture' : cc.source);
  // Every usage error before anything is started: one found later would leave NATS connected.
  if (sourceName !== 'ebpf' && sourceName !== 'capture') throw new UsageError(`unknown source '${sourceName}': expected ebpf or capture`);
  if (sourceName !== 'capture') {
    if (args.eventsFile !== undefined) throw new UsageError(`-e FILE replays a capture: it goes with --source capture, not --source ${sourceName}`);
    if (args.loop) throw new UsageError('--loop goes with --source capture');
    if (args.rate !== undefined) throw new UsageError('--rate goes with --source capture');
  }
  const log = createLogger({ level: config.logging.level, name: 'harrier-collector' });
  let source: EventSource;
  let ebpf: EbpfSource | undefined;
  let rules: { nc: NatsConnection; follower: CollectorRules } | undefined;
  switch (sourceName) {
    case 'capture': {
      const file = args.positionals[0] ?? args.eventsFile ?? cc.capture.file;
      if (file === undefined) throw new UsageError('the capture source needs a file: harrier collector --source capture FILE.scap (or collector.capture.file)');
      if (args.positionals.length > 1) throw new UsageError(`harrier collector takes one capture file, got ${args.positionals.length}`);
      if (!existsSync(file)) throw new UsageError(`cannot read capture file ${file}: it does not exist`, 1);
      source = new CaptureSource({ file, loop: args.loop || cc.capture.loop, rate: args.rate ?? cc.capture.rate });
      break;
    }
    case 'ebpf': {
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}': a file goes with --source capture`);
      // Its own small connection to follow the rules bucket: the probe must start with the
      // rules in force, before the collector service (and its connection) exists.
      let nc: NatsConnection;
      try {
        nc = await connectNats(config.nats, log);
      } catch (err) {
        process.stderr.write(`harrier: the collector cannot start: ${(err as Error).message}\n`);
        return 1;
      }
      const follower = new CollectorRules({ nc, bucket: config.engine.rulesBucket, log, options: rulesetOptions(args, settings), files: () => reloadTypes(args) });
      rules = { nc, follower };
      let types: TracedTypes;
      try {
        types = await follower.initial();
      } catch (err) {
        await drainNats(nc, log);
        process.stderr.write(`harrier: the collector cannot start: ${(err as Error).message}\n`);
        return 1;
      }
      if (!types.ok) {
        await drainNats(nc, log);
        process.stderr.write(`harrier: ${types.message}\n`);
        return 1;
      }
      ebpf = new EbpfSource({
        types: types.types,
        args: types.args,
        probePath: cc.probe.path,
        ringBufferMb: cc.probe.ringbufMb,
        bufferMb: cc.probe.bufferMb,
        statsIntervalMs: cc.probe.statsIntervalMs,
        excludePids: cc.probe.excludePids,
        natsServers: config.nats.servers,
        containerRuntimes: cc.containerRuntimes,
      });
      source = ebpf;
      break;
    }
    default:
      throw new UsageError(`unknown source '${sourceName}': expected ebpf or capture`);
  }
  let service;
  try {
    service = await startCollector({ config, source, log });
  } catch (err) {
    if (rules) await drainNats(rules.nc, log);
    process.stderr.write(`harrier: the collector cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  // Falco's -M: stop after this many seconds, cleanly (exit 0).
  const stopAfter = args.durationSec;
  if (stopAfter !== undefined) {
    const running = service;
    const timer = setTimeout(() => {
      log.info({ seconds: stopAfter }, 'stopping: -M duration reached');
      void running.stop();
    }, stopAfter * 1000);
    void running.stopped.then(() => clearTimeout(timer));
  }
  if (ebpf && rules) {
    const live = ebpf;
    const { nc, follower } = rules;
    const apply = (t: Extract<TracedTypes, { ok: true }>): void => live.setTypes(t.types, t.args);
    try {
      await follower.follow(apply);
    } catch (err) {
      // The probe runs with the rules it started with; only later pushes go unseen.
      log.error({ err }, 'cannot follow the rules bucket: pushed rules will not retune the probe until a restart');
    }
    // SIGHUP: read the rules files again and trace what they need now; bad rules keep the old set.
    process.on('SIGHUP', () => follower.reloadFiles(apply));
    const code = await service.stopped;
    await follower.stop();
    await drainNats(nc, log);
    return code;
  }
  return service.stopped;
}

/** The files' types with the configuration read again; a configuration now invalid is a refusal, not a crash. */
function reloadTypes(args: CliArgs): TracedTypes {
  try {
    return ruleTypes(args, readSettings(args.overrides, args.config));
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** The event types the configured rules files can match: the probe traces those (plus what state needs). */
function ruleTypes(args: CliArgs, settings: Settings): TracedTypes {
  return fileTypes(rulePaths(args, settings), rulesetOptions(args, settings));
}
