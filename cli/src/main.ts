// The `harrier` command: parses arguments, then hands over to one command module.

import { HELP, parseCli, UsageError, type CliArgs } from './args.js';
import { runCollector } from './commands/collector.js';
import { runEngine } from './commands/engine.js';
import { runFields } from './commands/fields.js';
import { runReplay } from './commands/replay.js';
import { liveUnavailable, runPipeline } from './commands/run.js';
import { runRulesDescribe, runRulesList, runRulesValidate } from './commands/rules.js';
import { runRulesClear, runRulesPull, runRulesPush } from './commands/rulespush.js';
import { HARRIER_VERSION, versionText } from './version.js';

type Command = (args: CliArgs) => Promise<number>;

function pick(args: CliArgs): Command {
  const [cmd, sub] = args.command;
  if (args.help || cmd === 'help') return async () => (process.stdout.write(HELP), 0);
  if (args.version || cmd === 'version') return async (a) => (process.stdout.write(versionText(a.json)), 0);
  if (args.validate.length > 0) return (a) => runRulesValidate(a, a.validate);
  if (args.listRules) return runRulesList;
  if (args.describe !== undefined) return (a) => runRulesDescribe(a, a.describe!);
  if (args.listFields) return runFields;
  switch (cmd) {
    case 'rules':
      switch (sub) {
        case 'validate':
          return (a) => runRulesValidate(a, a.positionals);
        case 'list':
          return runRulesList;
        case 'describe': {
          const name = args.positionals.join(' ');
          if (!name) throw new UsageError('harrier rules describe needs a rule name');
          return (a) => runRulesDescribe(a, name);
        }
        case 'push':
          return runRulesPush;
        case 'pull':
          return runRulesPull;
        case 'clear':
          return runRulesClear;
        default:
          throw new UsageError(`unknown 'rules' subcommand '${sub ?? ''}': expected validate, list, describe, push, pull or clear`);
      }
    case 'fields':
      return runFields;
    case 'collector':
      return runCollector;
    case 'engine':
      return runEngine;
    case 'replay':
      return runReplay;
    case 'run':
    case undefined: {
      // Like `falco`: live detection unless events are given (-e FILE, --fields FILE, a capture),
      // here through the whole pipeline (private NATS, collector, one engine worker).
      if (args.eventsFile !== undefined || args.fieldsFile !== undefined || args.positionals.length > 0) return runReplay;
      const why = liveUnavailable();
      if (why === undefined) return runPipeline;
      if (cmd === undefined) throw new UsageError(`${why}; to replay events instead: harrier -e CAPTURE.scap, or harrier replay --fields EVENTS.ndjson`);
      process.stderr.write(`harrier run: ${why}; replaying a capture instead\n`);
      return runReplay;
    }
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseCli(argv);
    return await pick(args)(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`harrier: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`harrier ${HARRIER_VERSION}: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

// A reader that goes away (`harrier ... | head`) ends what reaches stdout, not the process: the
// stdout_output sink counts and reports the alerts it could not write; other output just stops.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') process.stderr.write(`harrier: cannot write to standard output: ${err.message}\n`);
});

process.exitCode = await main(process.argv.slice(2));
