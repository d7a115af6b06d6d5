// The replay pipeline over hand-built raw events: state, enrichment, batches and rules together.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '@harrier/rules';
import type { ParamDesc } from '@harrier/events';
import type { RawEvent } from '../state/params.js';
import { ReplayPipeline, type ReplayMatch } from './pipeline.js';

const RULES = `
- macro: open_read
  condition: evt.type in (open, openat) and evt.is_open_read = true and fd.typechar = f and fd.num >= 0
- rule: shadow read
  desc: x
  condition: open_read and fd.name = /etc/shadow and not proc.name in (passwd)
  output: "%proc.name (parent %proc.pname, user %user.name) read %fd.name flags %evt.arg.flags"
  priority: WARNING
- rule: connect out
  desc: x
  condition: evt.type = connect and evt.dir = < and fd.sip = 10.0.0.9 and fd.sport = 443
  output: "%proc.cmdline -> %fd.name"
  priority: NOTICE
`;

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const i64 = (n: number): Uint8Array => new Uint8Array(new BigInt64Array([BigInt(n)]).buffer);
const s = (x: string): Uint8Array => new TextEncoder().encode(`${x}\0`);
const D = (type: ParamDesc['type'], format: ParamDesc['format'] = 'dec', info?: string | number): ParamDesc => (info === undefined ? { type, format } : { type, format, info });

let n = 0;
function ev(type: string, tid: number, enter: boolean, ps: [string, ParamDesc, Uint8Array][]): RawEvent {
  n++;
  return { num: n, ts: 1_700_000_000_000_000_000n + BigInt(n), tid, cpu: 0, type, enter, names: ps.map((p) => p[0]), descs: ps.map((p) => p[1]), params: ps.map((p) => p[2]) };
}

test('replay: state, batches and rules give the alerts and output fields', () => {
  const loaded = loadRules([{ name: 'r.yaml', content: RULES }]);
  assert.deepEqual(loaded.errors, []);
  const out: string[] = [];
  const p = new ReplayPipeline(loaded, (m: ReplayMatch) => out.push(`${m.rule.rule.name}: ${m.rule.output.render(m.cursor).text}`), { batchSize: 3 });
  p.seedUsers([{ uid: 0, name: 'root', homedir: '/root', shell: '/bin/bash' }], []);
  p.seedThread({ tid: 50, pid: 50, ptid: 1, comm: 'sshd', exe: '/usr/sbin/sshd', args: ['-D'], uid: 0 });
  p.seedThread({ tid: 60, pid: 60, ptid: 50, comm: 'bash', exe: '-bash', args: [], uid: 0, cwd: '/root' });
  const openat = (tid: number, fd: number, name: string, flags: number): RawEvent =>
    ev('openat', tid, false, [
      ['fd', D('fd'), i64(fd)],
      ['dirfd', D('fd'), i64(-100)],
      ['name', D('fsrelpath', 'na', 1), s(name)],
      ['flags', D('flags32', 'hex', 'file_flags'), u32(flags)],
      ['mode', D('uint32', 'oct'), u32(0)],
    ]);
  p.push(openat(60, 3, '/etc/shadow', 1));
  p.push(ev('execve', 60, false, [['res', D('errno'), i64(0)], ['exe', D('charbuf', 'na'), s('/usr/bin/passwd')], ['args', D('bytebuf', 'na'), new Uint8Array(0)], ['comm', D('charbuf', 'na'), s('passwd')]]));
  p.push(openat(60, 4, '/etc/shadow', 1));
  p.push(ev('execve', 60, false, [['res', D('errno'), i64(0)], ['exe', D('charbuf', 'na'), s('/bin/cat')], ['args', D('bytebuf', 'na'), s('../etc/shadow')], ['comm', D('charbuf', 'na'), s('cat')]]));
  p.push(openat(60, 5, '../etc/shadow', 1 | (1 << 12)));
  const tuple = new Uint8Array([2, 10, 0, 0, 5, 0x22, 0xc8, 10, 0, 0, 9, 0xbb, 0x01]);
  p.push(ev('socket', 60, false, [['fd', D('fd'), i64(7)], ['domain', D('enumflags32', 'dec', 'socket_families'), u32(2)], ['type', D('uint32'), u32(1)], ['proto', D('uint32'), u32(0)]]));
  p.push(ev('connect', 60, true, [['fd', D('fd'), i64(7)]]));
  p.push(ev('connect', 60, false, [['res', D('errno'), i64(0)], ['tuple', D('socktuple', 'na'), tuple]]));
  p.push(openat(999, 3, '/etc/shadow', 1));
  p.flush();
  assert.deepEqual(out, [
    'shadow read: bash (parent sshd, user root) read /etc/shadow flags O_RDONLY',
    'shadow read: cat (parent sshd, user root) read /etc/shadow flags O_RDONLY|O_CLOEXEC',
    'connect out: cat ../etc/shadow -> 10.0.0.5:51234->10.0.0.9:443',
    'shadow read: <NA> (parent <NA>, user <NA>) read /etc/shadow flags O_RDONLY',
  ]);
  assert.equal(p.counts.events, 9);
  assert.equal(p.counts.matches, 4);
});

test('evt.buffer is the data a receive got, byte for byte: bcontains finds binary content in it', () => {
  const loaded = loadRules([
    {
      name: 'r.yaml',
      content: `
- rule: class file download
  desc: x
  condition: evt.type = recvfrom and evt.buffer bcontains cafebabe
  output: "%proc.name got a class file over %fd.name"
  priority: CRITICAL
`,
    },
  ]);
  assert.deepEqual(loaded.errors, []);
  const out: string[] = [];
  const p = new ReplayPipeline(loaded, (m: ReplayMatch) => out.push(m.rule.output.render(m.cursor).text), { batchSize: 4 });
  p.seedThread({ tid: 70, pid: 70, ptid: 1, comm: 'java', exe: '/usr/bin/java', args: [], uid: 0 });
  const recv = (data: number[]): RawEvent =>
    ev('recvfrom', 70, false, [
      ['res', D('errno'), i64(data.length)],
      ['data', D('bytebuf', 'na'), new Uint8Array(data)],
      ['tuple', D('socktuple', 'na'), new Uint8Array(0)],
      ['fd', D('fd'), i64(9)],
      ['size', D('uint32'), u32(4096)],
    ]);
  p.push(recv([0x00, 0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0xff]));
  p.push(recv([0xca, 0xfe, 0x00, 0xba, 0xbe]));
  p.push(recv([0x31, 0x32, 0x33]));
  p.push(recv([0xff, 0xfe, 0xca, 0xfe, 0xba, 0xbe]));
  p.flush();
  assert.equal(out.length, 2, out.join('\n'));
  assert.deepEqual(p.counts.matches, 2);
});

test('evt.buflen is what a receive got on an fd the state knows, so rules can test sizes as in Falco', () => {
  const loaded = loadRules([
    {
      name: 'r.yaml',
      content: `
- rule: big receive
  desc: x
  condition: evt.type = recvfrom and evt.buflen > 8
  output: "%proc.name got %evt.buflen bytes on fd %fd.num"
  priority: NOTICE
`,
    },
  ]);
  assert.deepEqual(loaded.errors, []);
  const out: string[] = [];
  const p = new ReplayPipeline(loaded, (m: ReplayMatch) => out.push(m.rule.output.render(m.cursor).text), { batchSize: 4 });
  p.seedThread({ tid: 80, pid: 80, ptid: 1, comm: 'curl', exe: '/usr/bin/curl', args: [], uid: 0 });
  p.push(ev('socket', 80, false, [['fd', D('fd'), i64(9)], ['domain', D('enumflags32', 'dec', 'socket_families'), u32(2)], ['type', D('uint32'), u32(1)], ['proto', D('uint32'), u32(0)]]));
  const recv = (fd: number, res: number): RawEvent =>
    ev('recvfrom', 80, false, [
      ['res', D('errno'), i64(res)],
      ['data', D('bytebuf', 'na'), new Uint8Array(Math.max(0, Math.min(res, 80)))],
      ['tuple', D('socktuple', 'na'), new Uint8Array(0)],
      ['fd', D('fd'), i64(fd)],
      ['size', D('uint32'), u32(4096)],
    ]);
  p.push(recv(9, 1500));
  p.push(recv(9, 3));
  p.push(recv(9, -11));
  // An fd the state does not know: libsinsp gives no evt.buflen either.
  p.push(recv(11, 2000));
  p.flush();
  assert.deepEqual(out, ['curl got 1500 bytes on fd 9']);
});
