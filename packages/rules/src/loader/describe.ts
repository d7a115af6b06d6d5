// Falco's describe_rule JSON for one rule: what `-l RULE --json` prints and tools read.

import type { LoadedRule } from './load.js';

export function describeRule(r: LoadedRule, outputCompiled: string = r.output): Record<string, unknown> {
  const events = r.eventTypes.negated ? (r.eventTypes.names.size ? { all_except: [...r.eventTypes.names].sort() } : 'all') : [...r.eventTypes.names].sort();
  return {
    info: {
      name: r.name,
      condition: r.condition,
      output: r.output,
      description: r.desc,
      priority: r.priority,
      source: r.source,
      tags: [...r.tags],
      enabled: r.enabled,
      capture: r.capture,
      capture_duration: r.captureDuration ?? 0,
      exceptions: r.exceptions,
    },
    details: { condition_compiled: r.compiledCondition, output_compiled: outputCompiled, events },
  };
}
