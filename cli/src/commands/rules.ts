// `harrier rules validate|list|describe` (Falco's -V, -L, -l).

import { describeRule, formatDiagnostic, type Diagnostic, type LoadedRule } from '@harrier/rules';
import type { CliArgs } from '../args.js';
import { UsageError } from '../args.js';
import { loadRulesFor, rulePaths } from '../rulesource.js';
import { readSettings } from '../settings.js';

function diagJson(d: Diagnostic): Record<string, unknown> {
  return {
    code: d.code,
    message: d.message,
    ...(d.pos ? { file: d.pos.file, line: d.pos.line, col: d.pos.col } : {}),
    ...(d.item ? { item: d.item } : {}),
  };
}

export async function runRulesValidate(args: CliArgs, paths: readonly string[]): Promise<number> {
  if (paths.length === 0) throw new UsageError('rules validate needs at least one rules file or folder');
  const { result, readErrors } = loadRulesFor(paths);
  const errors = [...readErrors, ...result.errors];
  if (args.json) {
    const out = {
      successful: errors.length === 0,
      files: paths,
      errors: errors.map(diagJson),
      warnings: result.warnings.map(diagJson),
      rules: result.counts.rules,
      macros: result.counts.macros,
      lists: result.counts.lists,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    for (const d of [...errors, ...result.warnings]) process.stdout.write(formatDiagnostic(d) + '\n');
    const summary = `${result.counts.rules} rules, ${result.counts.macros} macros, ${result.counts.lists} lists`;
    process.stdout.write(`${paths.join(', ')}: ${errors.length === 0 ? 'Ok' : `Invalid (${errors.length} error${errors.length === 1 ? '' : 's'})`}, ${summary}, ${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}\n`);
  }
  return errors.length === 0 ? 0 : 1;
}

function loadOrReport(args: CliArgs): LoadedRule[] | undefined {
  const settings = readSettings(args.overrides, args.config);
  const { result, readErrors } = loadRulesFor(rulePaths(args, settings));
  const errors = [...readErrors, ...result.errors];
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(formatDiagnostic(d) + '\n');
    process.stderr.write(`harrier: the rules have ${errors.length} error(s); fix them first (see harrier rules validate)\n`);
    return undefined;
  }
  return [...result.rules];
}

export async function runRulesList(args: CliArgs): Promise<number> {
  const rules = loadOrReport(args);
  if (!rules) return 1;
  if (args.json) {
    const out = rules.map((r) => ({ name: r.name, desc: r.desc.trim(), priority: r.priority, source: r.source, tags: r.tags, enabled: r.enabled }));
    process.stdout.write(JSON.stringify({ rules: out }, null, 2) + '\n');
    return 0;
  }
  const width = Math.min(60, Math.max(4, ...rules.map((r) => r.name.length)));
  process.stdout.write(`${'Rule'.padEnd(width)}  Priority       Description\n`);
  for (const r of rules) {
    const desc = r.desc.replace(/\s+/g, ' ').trim();
    process.stdout.write(`${r.name.padEnd(width)}  ${r.priority.padEnd(13)}  ${desc}\n`);
  }
  return 0;
}

export async function runRulesDescribe(args: CliArgs, name: string): Promise<number> {
  const rules = loadOrReport(args);
  if (!rules) return 1;
  const r = rules.find((x) => x.name === name);
  if (!r) {
    process.stderr.write(`harrier: no rule named '${name}' in the loaded rules (see harrier rules list)\n`);
    return 1;
  }
  const types = r.eventTypes.negated ? (r.eventTypes.names.size ? `all except ${[...r.eventTypes.names].sort().join(', ')}` : 'all') : [...r.eventTypes.names].sort();
  if (args.json) {
    const out = { rules: [describeRule(r)] };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(
    `Rule: ${r.name}\nPriority: ${r.priority}\nSource: ${r.source}\nTags: ${r.tags.join(', ')}\nEnabled: ${r.enabled}\n` +
      `Description: ${r.desc.replace(/\s+/g, ' ').trim()}\nCondition: ${r.condition.trim()}\nCompiled condition: ${r.compiledCondition}\n` +
      `Event types: ${Array.isArray(types) ? types.join(', ') : types}\nOutput: ${r.output.trim()}\n`,
  );
  return 0;
}
