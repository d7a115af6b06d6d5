// `harrier engine [-r RULES] [-c harrier.yaml] [-o key=value]`: one engine worker until SIGTERM/SIGINT.
// The rules in force come from the rules bucket when something was pushed there, else from -r /
// rules_files (SIGHUP reads those again).

import { createLogger } from '@harrier/kit';
import { startEngine } from '@harrier/engine';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings } from '../settings.js';

export async function runEngine(args: CliArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}': harrier engine takes rules with -r`);
  const settings = readSettings(args.overrides, args.config);
  const log = createLogger({ level: settings.config.logging.level, name: 'harrier-engine' });
  try {
    const engine = await startEngine({ config: settings.config, log, rules: { files: rulePaths(args, settings), options: rulesetOptions(args, settings) } });
    return await engine.stopped;
  } catch (err) {
    process.stderr.write(`harrier: the engine cannot start: ${(err as Error).message}\n`);
    return 1;
  }
}
