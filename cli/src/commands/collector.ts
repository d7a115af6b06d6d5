// `harrier collector [--source capture FILE] [-c harrier.yaml] [-o key=value]`: runs the collector
// service until SIGTERM/SIGINT. The source comes from --source, else collector.source (default
// ebpf, the live probe).

import { existsSync } from 'node:fs';
import { CaptureSource, startCollector, type EventSource } from '@harrier/collector';
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
  switch (sourceName) {
    case 'capture': {
      const file = args.positionals[0] ?? args.eventsFile ?? cc.capture.file;
      if (file === undefined) throw new UsageError('the capture source needs a file: harrier collector --source capture FILE.scap (or collector.capture.file)');
      if (args.positionals.length > 1) throw new UsageError(`harrier collector takes one capture file, got ${args.positionals.length}`);
      if (!existsSync(file)) throw new UsageError(`cannot read capture file ${file}: it does not exist`, 1);
      source = new CaptureSource({ file, loop: args.loop || cc.capture.loop, rate: args.rate ?? cc.capture.rate });
      break;
    }
    case 'ebpf':
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}': a file goes with --source capture`);
      process.stderr.write('harrier: the eBPF source is not available in this build yet; use --source capture FILE.scap\n');
      return 2;
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
  return service.stopped;
}
