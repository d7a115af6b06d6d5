import { readFileSync } from 'node:fs';
import { readScap } from './scap/reader.js';
const cap = readScap(readFileSync('/work/shared/corpus/scap/falco/psp__run_as_user_0_container.scap'));
for (const e of cap.events) if (e.ts === 1562711472092451355n || (e.num >= 1530 && e.num <= 1534)) console.log(e.num, e.ts, e.tid, e.info?.name, e.info?.dir, e.type);
console.log(cap.stats);
