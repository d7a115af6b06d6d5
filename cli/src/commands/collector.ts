// `harrier collector [--source capture FILE] [-c harrier.yaml] [-o key=value]`: runs the collector
// service until SIGTERM/SIGINT. The source comes from --source, else collector.source (default
// ebpf, the live probe).

import { existsSync } from 'node:fs';
import { CaptureSource, EbpfSource, argsNamedBy, startCollector, type ArgSelection, type EventSource } from '@harrier/collector';
import { Ruleset, fieldMapAccessor, formatDiagnostic } from '@harrier/rules';
import { loadRulesFor, rulePaths, rulesetOptions } from '../rulesource.js';
import type { Settings } from '../settings.js';
import { createLogger } from '@harrier/kit';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { readSettings } from '../settings.js';

export async function runCollector(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  const config = settings.config;
  const cc = config.collector;
  const sourceName = args.source ?? cc.source;
  let source: EventSource;
  let ebpf: EbpfSource | undefined;
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
      const types = ruleTypes(args, settings);
      if (!types.ok) {
        process.stderr.write(`harrier: ${types.message}\n`);
        return 1;
      }
      ebpf = new EbpfSource({
        types: types.types,
        args: types.args,
        probePath: cc.probe.path,
        ringBufferMb: cc.probe.ringbufMb,
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
  if (args.loop && sourceName !== 'capture') throw new UsageError('--loop goes with --source capture');
  const log = createLogger({ level: config.logging.level, name: 'harrier-collector' });
  let service;
  try {
    service = await startCollector({ config, source, log });
  } catch (err) {
    process.stderr.write(`harrier: the collector cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  if (ebpf) {
    const live = ebpf;
    // SIGHUP: read the rules again and trace what they need now; bad rules keep the old set.
    process.on('SIGHUP', () => {
      const t = ruleTypes(args, readSettings(args.overrides, args.config));
      if (!t.ok) log.error({ problem: t.message }, 'rules reload failed; the traced syscalls stay as they were');
      else {
        live.setTypes(t.types, t.args);
        log.info({ types: t.types === 'all' ? 'all' : t.types.size }, 'rules reloaded: traced syscalls updated');
      }
    });
  }
  return service.stopped;
}

/** The event types the configured rules can match: the probe traces those (plus what state needs). */
function ruleTypes(args: CliArgs, settings: Settings): { ok: true; types: ReadonlySet<string> | 'all'; args: ArgSelection } | { ok: false; message: string } {
  const paths = rulePaths(args, settings);
  const loaded = loadRulesFor(paths);
  const errors = [...loaded.readErrors, ...loaded.result.errors];
  if (errors.length > 0) {
    return { ok: false, message: `the rules in ${paths.join(', ')} have ${errors.length} error(s); first: ${formatDiagnostic(errors[0]!)}. Check them with harrier rules validate` };
  }
  const rs = new Ruleset(loaded.result, fieldMapAccessor, { ...rulesetOptions(args, settings), source: 'syscall' });
  return { ok: true, types: rs.eventTypes(), args: argsNamedBy(rs) };
}
