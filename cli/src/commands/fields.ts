// `harrier fields` (Falco's --list): every field conditions and outputs can use.

import { listFieldClasses } from '@harrier/rules';
import type { CliArgs } from '../args.js';

export async function runFields(args: CliArgs): Promise<number> {
  const classes = listFieldClasses();
  if (args.json) {
    const out = classes.map((c) => ({
      class: c.name,
      sources: c.sources,
      desc: c.desc,
      fields: c.fields.map((f) => ({ name: f.name, type: f.type, arg: f.arg, ...(f.list ? { list: true } : {}), ...(f.deprecated ? { deprecated: true } : {}), desc: f.desc })),
    }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  for (const c of classes) {
    process.stdout.write(`Field Class: ${c.name} (${c.desc})\nEvent Sources: ${c.sources.join(', ')}\n\n`);
    const width = Math.max(...c.fields.map((f) => f.name.length + (f.arg === 'none' ? 0 : 7)));
    for (const f of c.fields) {
      const name = f.arg === 'required' ? `${f.name}[ARG]` : f.arg === 'optional' ? `${f.name}[ARG?]` : f.name;
      process.stdout.write(`${name.padEnd(width)}  ${f.type.padEnd(9)} ${f.desc}\n`);
    }
    process.stdout.write('\n');
  }
  return 0;
}
