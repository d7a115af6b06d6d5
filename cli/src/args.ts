// Command-line parsing: Harrier's subcommands plus Falco's flags, so `harrier -r rules.yaml -M 45`,
// `harrier -V file`, `harrier -L`, `harrier -l RULE` and `harrier --list` behave as Falco users expect.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** `exitCode`: 2 for a malformed command line; 1 where Falco exits 1 (conflicting options). */
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Options every command understands (Falco's names where Falco has them). */
const OPTIONS = {
  config: { type: 'string', short: 'c' },
  rules: { type: 'string', short: 'r', multiple: true },
  option: { type: 'string', short: 'o', multiple: true },
  validate: { type: 'string', short: 'V', multiple: true },
  'list-rules': { type: 'boolean', short: 'L' },
  describe: { type: 'string', short: 'l' },
  list: { type: 'boolean' },
  'list-events': { type: 'boolean', short: 'N' },
  duration: { type: 'string', short: 'M' },
  'events-file': { type: 'string', short: 'e' },
  'all-events': { type: 'boolean', short: 'A' },
  'disable-tag': { type: 'string', short: 'T', multiple: true },
  'only-tag': { type: 'string', short: 't', multiple: true },
  'disable-rule': { type: 'string', short: 'D', multiple: true },
  fields: { type: 'string' },
  print: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
  unbuffered: { type: 'boolean', short: 'U' },
  'dry-run': { type: 'boolean' },
  source: { type: 'string' },
  loop: { type: 'boolean' },
  rate: { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CliArgs {
  readonly command: string[];
  readonly config: string | undefined;
  readonly rules: string[];
  readonly overrides: string[];
  readonly validate: string[];
  readonly listRules: boolean;
  readonly describe: string | undefined;
  readonly listFields: boolean;
  readonly durationSec: number | undefined;
  readonly eventsFile: string | undefined;
  readonly allEvents: boolean;
  readonly disableTags: string[];
  readonly onlyTags: string[];
  readonly disableRules: string[];
  readonly fieldsFile: string | undefined;
  readonly print: string | undefined;
  readonly json: boolean;
  readonly dryRun: boolean;
  /** `harrier collector --source ebpf|capture`. */
  readonly source: string | undefined;
  readonly loop: boolean;
  /** `--rate N`: events per second (capture source). */
  readonly rate: number | undefined;
  readonly version: boolean;
  readonly help: boolean;
  readonly positionals: string[];
}

const COMMANDS = new Set(['rules', 'fields', 'replay', 'run', 'collector', 'engine', 'version', 'help']);

export function parseCli(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const { values: v, positionals } = parsed;
  const command: string[] = [];
  const rest = [...positionals];
  if (rest[0] !== undefined && COMMANDS.has(rest[0])) {
    command.push(rest.shift()!);
    if (command[0] === 'rules' && rest[0] !== undefined && !rest[0].includes('/') && !rest[0].includes('.')) {
      command.push(rest.shift()!);
    }
  } else if (rest[0] !== undefined) {
    throw new UsageError(`unknown command '${rest[0]}': expected one of ${[...COMMANDS].join(', ')} (see harrier --help)`);
  }
  let durationSec: number | undefined;
  if (v.duration !== undefined) {
    durationSec = Number(v.duration);
    if (!Number.isFinite(durationSec) || durationSec <= 0) {
      throw new UsageError(`-M takes a number of seconds greater than 0, got '${v.duration}'`);
    }
  }
  let rate: number | undefined;
  if (v.rate !== undefined) {
    rate = Number(v.rate);
    if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--rate takes a number of events per second greater than 0, got '${v.rate}'`);
  }
  return {
    command,
    config: v.config,
    rules: v.rules ?? [],
    overrides: v.option ?? [],
    validate: v.validate ?? [],
    listRules: v['list-rules'] ?? false,
    describe: v.describe,
    listFields: (v.list ?? false) || (v['list-events'] ?? false),
    durationSec,
    eventsFile: v['events-file'],
    allEvents: v['all-events'] ?? false,
    disableTags: v['disable-tag'] ?? [],
    onlyTags: v['only-tag'] ?? [],
    disableRules: v['disable-rule'] ?? [],
    fieldsFile: v.fields,
    print: v.print,
    json: v.json ?? false,
    dryRun: v['dry-run'] ?? false,
    source: v.source,
    loop: v.loop ?? false,
    rate,
    version: v.version ?? false,
    help: v.help ?? false,
    positionals: rest,
  };
}

export const HELP = `Harrier: Falco-compatible runtime security.

Usage:
  harrier run [-r RULES]... [-o KEY=VALUE]... [-M SECONDS]
  harrier replay --fields EVENTS.ndjson [-r RULES]... [--json]
  harrier rules validate [--json] PATH...        (also: harrier -V PATH)
  harrier rules list [-r RULES]... [--json]      (also: harrier -L)
  harrier rules describe RULE [-r RULES]... [--json]   (also: harrier -l RULE)
  harrier rules push [PATH]... [-c FILE] [-o nats.url=URL] [--dry-run] [--json]
                                                 validate rules, then store them in the rules bucket
                                                 (engine.rules_bucket): every engine worker and
                                                 collector switches to them
  harrier rules pull [--json]                    show the ruleset the rules bucket holds
  harrier rules clear                            delete the pushed ruleset: every worker and
                                                 collector goes back to its rules files
  harrier fields [--json]                        (also: harrier --list)
  harrier collector [--source ebpf|capture FILE [--loop] [--rate N]] [-c FILE] [-o KEY=VALUE]...
                    [-M SECONDS]                 publish events to NATS (JetStream stream EVENTS);
                                                 -e FILE is --source capture FILE
  harrier engine [-r RULES]... [-c FILE] [-o KEY=VALUE]...
                                                 one engine worker: owns a share of the partitions,
                                                 evaluates their events, stores alerts in ALERTS
  harrier version                                (also: harrier --version)

Options (Falco's spelling):
  -c FILE          configuration file (harrier.yaml or falco.yaml)
  -r PATH          rules file or directory; repeat for more (default: the config's rules_files)
  -o KEY=VALUE     override a configuration key, e.g. -o json_output=true, -o rules_files[]=x.yaml
  -V PATH          validate rules files and exit
  -L               list loaded rules; -l RULE describes one
  --list           list the fields conditions and outputs can use
  -M SECONDS       stop after this many seconds
  -e FILE          read events from a capture file instead of the live system
  -A               include events Falco leaves out by default (live capture;
                   replay always evaluates every event, as Falco does)
  -T TAG           disable rules with this tag; -t TAG enables only rules with this tag
  -D PATTERN       disable rules whose name matches (substring, or * wildcards)
  --source NAME    collector: ebpf (live, the default) or capture (replay FILE.scap)
  --loop, --rate N collector --source capture: replay again and again; at most N events/s
  --json           machine-readable output
  -h, --help       this text
`;
