// `harrier rules push PATH...`: validates rules files and stores them in the rules bucket, which
// every engine worker and collector follows; `harrier rules pull` shows what the bucket holds;
// `harrier rules clear` deletes it, so every worker and collector goes back to its rules files.

import { clearRuleset, compileRuleset, pushRuleset, readRuleset } from '@harrier/engine';
import { connectNats, createLogger, drainNats, type Logger, type NatsConnection } from '@harrier/kit';
import { formatDiagnostic, readRulesPaths } from '@harrier/rules';
import type { CliArgs } from '../args.js';
import { rulePaths, rulesetOptions } from '../rulesource.js';
import { readSettings, type Settings } from '../settings.js';

export async function runRulesPush(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  // Positionals first; else -r, the configured rules_files, or the default rules, like other commands.
  const paths = args.positionals.length > 0 ? args.positionals : rulePaths(args, settings);
  const read = readRulesPaths(paths);
  // Loaded and compiled exactly as an engine worker will (batch accessor, this host's -D/-T/-t and
  // priority), so a ruleset that a worker would refuse never reaches the bucket. Only the files
  // are pushed: each worker applies its own configured options.
  const checked = compileRuleset(read.sources, rulesetOptions(args, settings), read.errors);
  if (!checked.ok) {
    for (const d of checked.errors) process.stderr.write(formatDiagnostic(d) + '\n');
    process.stderr.write(`harrier: not pushed: ${paths.join(', ')} have ${checked.errors.length} error(s); the rules in force stay. Fix them (harrier rules validate shows every problem) and push again\n`);
    return 1;
  }
  for (const d of checked.warnings) process.stderr.write(formatDiagnostic(d) + '\n');
  const rules = checked.ruleset.rules.length;
  if (args.dryRun) {
    process.stdout.write(`${paths.join(', ')}: Ok, ${rules} rules, ${checked.warnings.length} warning(s); not pushed (--dry-run)\n`);
    return 0;
  }
  return withNats(settings, 'push', async (nc) => {
    const bucket = settings.config.engine.rulesBucket;
    const p = await pushRuleset(nc, bucket, read.sources);
    if (args.json) {
      process.stdout.write(JSON.stringify({ bucket, revision: p.revision, digest: p.digest, bytes: p.bytes, files: read.sources.map((s) => s.name), rules, warnings: checked.warnings.length }, null, 2) + '\n');
    } else {
      process.stdout.write(`pushed ${read.sources.length} file(s), ${rules} rules, to bucket ${bucket}: revision ${p.revision}, digest sha256:${p.digest}\n`);
    }
    return 0;
  });
}

export async function runRulesPull(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  return withNats(settings, 'read', async (nc) => {
    const bucket = settings.config.engine.rulesBucket;
    const e = await readRuleset(nc, bucket);
    if (!e) {
      process.stderr.write(`harrier: the rules bucket ${bucket} holds no ruleset: workers use their rules files (push some with harrier rules push)\n`);
      return 1;
    }
    if (e.kind === 'malformed') {
      process.stderr.write(`harrier: the rules bucket ${bucket} holds a malformed value at revision ${e.revision}: ${e.error}\n`);
      return 1;
    }
    const d = e.doc;
    if (args.json) process.stdout.write(JSON.stringify({ bucket, revision: e.revision, ...d }, null, 2) + '\n');
    else {
      process.stdout.write(`bucket ${bucket}, revision ${e.revision}, digest sha256:${d.digest}, pushed by ${d.pushed_by} at ${d.pushed_at}\n`);
      for (const f of d.files) process.stdout.write(`  ${f.name} (${Buffer.byteLength(f.content)} bytes)\n`);
    }
    return 0;
  });
}

export async function runRulesClear(args: CliArgs): Promise<number> {
  const settings = readSettings(args.overrides, args.config);
  return withNats(settings, 'clear', async (nc) => {
    const bucket = settings.config.engine.rulesBucket;
    const revision = await clearRuleset(nc, bucket);
    if (revision === undefined) {
      process.stdout.write(`the rules bucket ${bucket} holds no pushed ruleset: workers already use their rules files\n`);
      return 0;
    }
    process.stdout.write(`cleared the pushed ruleset from bucket ${bucket} (revision ${revision}): every worker and collector goes back to its rules files\n`);
    return 0;
  });
}

async function withNats(settings: Settings, what: string, body: (nc: NatsConnection) => Promise<number>): Promise<number> {
  // NATS status lines go to stderr, so stdout stays the command's answer.
  const log: Logger = createLogger({ level: 'warn', name: 'harrier-rules', destination: process.stderr });
  let nc: NatsConnection;
  try {
    nc = await connectNats(settings.config.nats, log);
  } catch (err) {
    process.stderr.write(`harrier: cannot ${what} the rules: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    return await body(nc);
  } catch (err) {
    process.stderr.write(`harrier: cannot ${what} the rules: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await drainNats(nc, log);
  }
}
