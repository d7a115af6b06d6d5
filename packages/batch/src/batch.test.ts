// Batches end to end: enriched events in, wire bytes, decoded batch, fields out through the
// accessor, rules evaluated batch-wise and row-wise; malformed batches are refused clearly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch } from '@harrier/proto';
import { compileOutput, loadRules, resolveField, Ruleset, type FieldRef, type FieldValue } from '@harrier/rules';
import { BatchBuilder, BatchError, DecodedBatch, batchAccessor, type EnrichedEvent, type ProcessInfo } from './index.js';

const root = { uid: 0, name: 'root', homedir: '/root', shell: '/bin/bash' };
const app = { uid: 1000, name: 'app', homedir: '/home/app', shell: '/bin/sh' };
const web = { id: '3ad7b26ded6d', name: 'web', type: 'podman', image: 'localhost/web:1.2', imageRepository: 'localhost/web', imageTag: '1.2', privileged: true, labels: new Map([['tier', 'front']]), podName: 'web-0', podNamespace: 'shop' };
const systemd: ProcessInfo = { pid: 1, tid: 1, ppid: 0, name: 'systemd', exepath: '/usr/lib/systemd/systemd', args: ['--system'], user: root };
const sshd: ProcessInfo = { pid: 700, tid: 700, ppid: 1, name: 'sshd', exepath: '/usr/sbin/sshd', args: ['-D'], user: root, parent: systemd };
const bash: ProcessInfo = { capPermitted: (1n << 21n) | 1n, pid: 900, tid: 900, ppid: 700, name: 'bash', exe: '-bash', exepath: '/usr/bin/bash', args: [], cwd: '/home/app/', tty: 34816, loginuid: 1000, user: app, loginUser: app, group: { gid: 1000, name: 'app' }, parent: sshd };
const cat: ProcessInfo = { pid: 950, tid: 950, ppid: 900, name: 'cat', exepath: '/usr/bin/cat', args: ['/etc/shadow'], user: root, parent: bash, container: web };
const shadow = { num: 3, type: 'file', typechar: 'f', name: '/etc/shadow', directory: '/etc', filename: 'shadow' };
const sock = { num: 4, type: 'ipv4', typechar: '4', name: '10.0.0.5:51234->10.0.0.9:443', cip: '10.0.0.5', sip: '10.0.0.9', cport: 51234, sport: 443, l4proto: 'tcp', sockfamily: 'ip', connected: true };

const T0 = 1_700_000_000_123_456_789n;
const EVENTS: EnrichedEvent[] = [
  { num: 1, ts: T0, tid: 950, cpu: 1, type: 'openat', enter: false, res: 3, process: cat, fd: shadow, open: { read: true, write: false, exec: false, create: false }, args: [{ name: 'fd', text: '3', resolved: '<f>/etc/shadow' }, { name: 'name', text: '/etc/shadow' }, { name: 'flags', text: '1', resolved: 'O_RDONLY' }] },
  { num: 2, ts: T0 + 5000n, tid: 900, type: 'connect', enter: false, res: 0, process: bash, fd: sock, args: [{ name: 'res', text: '0' }, { name: 'tuple', text: '10.0.0.5:51234->10.0.0.9:443' }] },
  { num: 3, ts: T0 + 9000n, tid: 900, type: 'execve', enter: true, process: bash },
  { num: 4, ts: T0 - 10n, tid: 999, type: 'openat', enter: false, res: -2, args: [{ name: 'name', text: '/nope' }] },
];

function ref(name: string, arg?: string): FieldRef {
  const dotted = (name === 'evt.arg' || name === 'evt.rawarg') && arg !== undefined && !/^\d+$/.test(arg);
  const r = dotted ? resolveField(`${name}.${arg}`, undefined) : resolveField(name, arg);
  if (!r.ok) throw new Error(r.message);
  return { name: r.info.name, arg: r.arg, info: r.info };
}

function roundTrip(): DecodedBatch {
  const b = new BatchBuilder({ collectorId: 'c1', node: 'node-a', source: 'syscall' });
  for (const e of EVENTS) b.add(e);
  assert.equal(b.size, 4);
  const bytes = b.finishEncoded(7);
  assert.equal(b.size, 0, 'finish starts a new batch');
  return DecodedBatch.decode(bytes);
}

test('fields read back from a decoded batch equal the enriched events', () => {
  const d = roundTrip();
  assert.equal(d.msg.collectorId, 'c1');
  assert.equal(d.msg.sequence, 7);
  assert.equal(d.msg.processes.length, 4, 'cat, bash, sshd, systemd: each once');
  const acc = batchAccessor();
  const read = (row: number, name: string, arg?: string): FieldValue | undefined => acc.reader(ref(name, arg))!(acc.at(d, row));
  const expect: [number, string, string | undefined, FieldValue | undefined][] = [
    [0, 'evt.type', undefined, 'openat'],
    [0, 'evt.dir', undefined, '<'],
    [2, 'evt.dir', undefined, '>'],
    [0, 'evt.num', undefined, 1],
    [0, 'evt.rawres', undefined, 3],
    [2, 'evt.rawres', undefined, undefined],
    [3, 'evt.failed', undefined, true],
    [0, 'evt.failed', undefined, false],
    [0, 'evt.rawtime', undefined, T0],
    [0, 'evt.time', undefined, '22:13:20.123456789'],
    [0, 'evt.time.iso8601', undefined, '2023-11-14T22:13:20.123456789Z'],
    [0, 'evt.rawtime.s', undefined, 1_700_000_000],
    [0, 'evt.res', undefined, 'SUCCESS'],
    [3, 'evt.res', undefined, 'ENOENT'],
    [2, 'evt.res', undefined, undefined],
    [0, 'evt.category', undefined, 'file'],
    [0, 'evt.hostname', undefined, 'node-a'],
    [1, 'thread.cap_permitted', undefined, 'CAP_CHOWN CAP_SYS_ADMIN'],
    [3, 'evt.rawtime', undefined, T0 - 10n],
    [0, 'evt.is_open_read', undefined, true],
    [0, 'evt.is_open_write', undefined, false],
    [0, 'evt.arg', 'flags', 'O_RDONLY'],
    [0, 'evt.rawarg', 'flags', 1],
    [0, 'evt.rawarg', 'fd', 3],
    [0, 'evt.arg', 'fd', '<f>/etc/shadow'],
    [0, 'evt.arg', 'name', '/etc/shadow'],
    [0, 'evt.rawarg', 'name', '/etc/shadow'],
    [0, 'evt.arg', '1', '/etc/shadow'],
    [1, 'evt.arg', 'flags', undefined],
    [0, 'evt.args', undefined, 'fd=3(<f>/etc/shadow) name=/etc/shadow flags=1(O_RDONLY) '],
    [0, 'proc.name', undefined, 'cat'],
    [0, 'proc.cmdline', undefined, 'cat /etc/shadow'],
    [2, 'proc.cmdline', undefined, 'bash'],
    [0, 'proc.pname', undefined, 'bash'],
    [0, 'proc.pcmdline', undefined, 'bash'],
    [0, 'proc.aname', '2', 'sshd'],
    [0, 'proc.aname', '3', 'systemd'],
    [0, 'proc.aname', '4', undefined],
    [0, 'proc.aname', '0', 'cat'],
    [0, 'proc.aname', undefined, ['bash', 'sshd', 'systemd']],
    [0, 'proc.apid', '2', 700],
    [1, 'proc.exe', undefined, '-bash'],
    [1, 'proc.tty', undefined, 34816],
    [1, 'proc.cwd', undefined, '/home/app/'],
    [3, 'proc.name', undefined, undefined],
    [0, 'user.name', undefined, 'root'],
    [1, 'user.name', undefined, 'app'],
    [1, 'user.loginname', undefined, 'app'],
    [1, 'user.loginuid', undefined, 1000],
    [1, 'group.name', undefined, 'app'],
    [0, 'container.id', undefined, '3ad7b26ded6d'],
    [1, 'container.id', undefined, 'host'],
    [1, 'container.image.repository', undefined, undefined],
    [0, 'container.image.repository', undefined, 'localhost/web'],
    [0, 'container.privileged', undefined, true],
    [0, 'container.label', 'tier', 'front'],
    [0, 'k8s.ns.name', undefined, 'shop'],
    [0, 'fd.name', undefined, '/etc/shadow'],
    [0, 'fd.typechar', undefined, 'f'],
    [0, 'fd.directory', undefined, '/etc'],
    [1, 'fd.sip', undefined, '10.0.0.9'],
    [1, 'fd.sport', undefined, 443],
    [0, 'fd.sport', undefined, undefined],
    [1, 'fd.l4proto', undefined, 'tcp'],
    [2, 'fd.name', undefined, undefined],
  ];
  for (const [row, name, arg, want] of expect) assert.deepEqual(read(row, name, arg), want, `${name}${arg === undefined ? '' : `[${arg}]`} of row ${row}`);
});

test('rules evaluate over decoded batches, batch-wise and row-wise alike', () => {
  const loaded = loadRules([
    {
      name: 't.yaml',
      content: `
- rule: shadow read in container
  desc: x
  condition: evt.type = openat and evt.is_open_read = true and fd.name = /etc/shadow and container.id != host and proc.aname[2] = sshd
  output: "%proc.name read %fd.name in %container.id (parent %proc.pname, user %user.name)"
  priority: WARNING
- rule: outbound from a login shell
  desc: x
  condition: evt.type = connect and fd.snet in (10.0.0.0/8) and proc.aname in (sshd) and not fd.sport in (22)
  output: "%proc.cmdline to %fd.sip:%fd.sport"
  priority: NOTICE
- rule: failed open
  desc: x
  condition: evt.type = openat and evt.failed = true
  output: "%evt.arg.name"
  priority: INFO
`,
    },
  ]);
  assert.deepEqual(loaded.errors, []);
  const d = roundTrip();
  const acc = batchAccessor();
  const rs = new Ruleset(loaded, acc, { source: 'syscall', ruleMatching: 'all' });
  const batchWise: string[] = [];
  rs.evaluateBatch(d, (r, row) => batchWise.push(`${row} ${r.rule.name}: ${r.output.render(acc.at(d, row)).text}`));
  const rowWise: string[] = [];
  for (let row = 0; row < d.rows; row++) rs.evaluate(acc.at(d, row), (r, e) => rowWise.push(`${row} ${r.rule.name}: ${r.output.render(e).text}`));
  assert.deepEqual(batchWise, [
    '0 shadow read in container: cat read /etc/shadow in 3ad7b26ded6d (parent bash, user root)',
    '1 outbound from a login shell: bash to 10.0.0.9:443',
    '3 failed open: /nope',
  ]);
  assert.deepEqual(rowWise, batchWise);
});

function emptyContainer(): EventBatch['containers'][number] {
  return { id: 0, name: 0, type: 0, image: 0, imageRepository: 0, imageTag: 0, imageDigest: 0, imageId: 0, privileged: false, labels: [], podName: 0, podNamespace: 0, podUid: 0, podLabels: [], ip: 0 };
}

test('malformed batches are refused with what is wrong', () => {
  const good = (): EventBatch => {
    const b = new BatchBuilder({ collectorId: 'c1', node: 'n', source: 'syscall' });
    for (const e of EVENTS) b.add(e);
    return b.finish(1);
  };
  const cases: [string, (m: EventBatch) => void, RegExp][] = [
    ['a short column', (m) => m.events!.tid.pop(), /events\.tid has 3 entries for 4 events/],
    ['a dangling process ref', (m) => (m.events!.process[1] = 99), /events\.process\[1\] = 99 refers past the 4 entries/],
    ['a dangling string ref', (m) => (m.fds[0]!.name = 5000), /fds\[0\]\.name = 5000 refers past the \d+ strings/],
    ['args out of order', (m) => (m.events!.argsEnd[0] = 50), /events\.args_end\[0\] = 50/],
    ['a dangling ancestor', (m) => m.processes[0]!.ancestors.push(77), /processes\[0\]\.ancestors\[\d\] = 77/],
    ['a dangling fd string ref, found past others in range', (m) => (m.fds[0]!.sockfamily = 5000), /fds\[0\]\.sockfamily = 5000 refers past the \d+ strings/],
    ['the first of two dangling fd refs', (m) => Object.assign(m.fds[0]!, { rip: 5001, filename: 5000 }), /fds\[0\]\.filename = 5000 refers/],
    ['a dangling user ref', (m) => (m.processes[0]!.loginuser = 9), /processes\[0\]\.loginuser = 9 refers past the \d+ entries/],
    ['a dangling parent', (m) => (m.processes[0]!.parent = 90), /processes\[0\]\.parent = 90 refers past the 4 entries/],
    ['a dangling user string', (m) => (m.users[0]!.shell = 7000), /users\[0\]\.shell = 7000 refers past the \d+ strings/],
    ['a dangling group string', (m) => m.groups.push({ gid: 1, name: 7000 }), /groups\[\d\]\.name = 7000 refers past/],
    ['a dangling container string', (m) => m.containers.push({ ...emptyContainer(), imageTag: 7000 }), /containers\[\d\]\.imageTag = 7000 refers past/],
    ['a dangling container label', (m) => m.containers.push({ ...emptyContainer(), podLabels: [{ key: 1, value: 7000 }] }), /containers\[\d\] has a label that refers past/],
    ['a dangling arg ref', (m) => (m.events!.argResolved[0] = 7000), /events\.arg_resolved\[0\] = 7000 refers past/],
    ['argument columns of different lengths', (m) => m.events!.argRaw.push(0), /the argument columns differ in length/],
  ];
  for (const [what, spoil, want] of cases) {
    const m = good();
    spoil(m);
    assert.throws(() => DecodedBatch.decode(EventBatch.encode(m).finish()), (e: unknown) => e instanceof BatchError && want.test(e.message), what);
  }
  assert.throws(() => DecodedBatch.decode(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1])), (e: unknown) => e instanceof BatchError && /not a valid EventBatch/.test(e.message));
  assert.equal(DecodedBatch.decode(new Uint8Array(0)).rows, 0, 'an empty message is an empty batch');
});

test('a process changed mid-batch (version bumped) keeps each event on the values it saw', () => {
  const p = { version: 0, pid: 10, tid: 10, ppid: 1, name: 'sh', exepath: '/bin/sh', args: ['-c', 'true'] as string[] };
  const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  b.add({ num: 1, ts: T0, tid: 10, type: 'openat', enter: false, process: p });
  Object.assign(p, { version: 1, name: 'curl', exepath: '/usr/bin/curl', args: ['example.com'] });
  b.add({ num: 2, ts: T0, tid: 10, type: 'execve', enter: false, process: p });
  b.add({ num: 3, ts: T0, tid: 10, type: 'connect', enter: false, process: p });
  const d = DecodedBatch.decode(b.finishEncoded(1));
  const acc = batchAccessor();
  const cmd = acc.reader(ref('proc.cmdline'))!;
  assert.deepEqual([0, 1, 2].map((r) => cmd(acc.at(d, r))), ['sh -c true', 'curl example.com', 'curl example.com']);
  assert.equal(d.msg.processes.length, 2);
});

test('process start times (ns since the epoch, past 2^53) survive encoding exactly', () => {
  const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  const p = { pid: 1, tid: 1, ppid: 0, name: 'init', startTs: 1_562_711_472_093_267_123n, pidnsInitStartTs: 18_446_744_073_709_551_615n };
  b.add({ num: 1, ts: 1n, tid: 1, type: 'read', enter: false, process: p });
  const d = DecodedBatch.decode(b.finishEncoded(1));
  assert.equal(d.msg.processes[0]!.startTs, '1562711472093267123');
  assert.equal(d.msg.processes[0]!.pidnsInitStartTs, '18446744073709551615');
});

test('inode numbers past 2^53 (overlayfs xino) decode, and read back exactly; small ones stay numbers', () => {
  const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
  const big = (1n << 62n) + 1_475_009n;
  const inContainer = { pid: 7, tid: 7, ppid: 1, name: 'sh', exeIno: big };
  const onHost = { pid: 8, tid: 8, ppid: 1, name: 'cat', exeIno: 1_475_009 };
  const file = { num: 3, type: 'file', typechar: 'f', name: '/etc/passwd', ino: big + 1n };
  b.add({ num: 1, ts: 1n, tid: 7, type: 'openat', enter: false, res: 3, process: inContainer, fd: file });
  b.add({ num: 2, ts: 2n, tid: 8, type: 'openat', enter: false, res: 3, process: onHost, fd: { ...file, ino: 42 } });
  // Before, the decoder refused the whole batch: such a value does not fit a JS number.
  const d = DecodedBatch.decode(b.finishEncoded(1));
  const acc = batchAccessor();
  const exeIno = acc.reader(ref('proc.exe_ino'))!;
  const fdIno = acc.reader(ref('fd.ino'))!;
  assert.equal(exeIno(acc.at(d, 0)), big);
  assert.equal(fdIno(acc.at(d, 0)), big + 1n);
  assert.equal(exeIno(acc.at(d, 1)), 1_475_009);
  assert.equal(fdIno(acc.at(d, 1)), 42);
  // Rules compare them, and outputs print them in full.
  const rules = loadRules([{ name: 'r.yaml', content: `- rule: big inode\n  desc: d\n  condition: proc.exe_ino > 9007199254740993\n  output: o\n  priority: INFO\n` }]);
  assert.ok(rules.ok);
  const rs = new Ruleset(rules.rules, acc, { source: 'syscall' });
  const hits: number[] = [];
  rs.evaluateBatch(d, (_r, row) => hits.push(row));
  assert.deepEqual(hits, [0]);
  const out = compileOutput('%proc.exe_ino %fd.ino', acc);
  assert.ok(out.ok);
  assert.equal(out.output.render(acc.at(d, 0)).text, `${big} ${big + 1n}`);
});

test('an event too far in time from the batch start does not fit: a batch of them would not decode', () => {
  const b = new BatchBuilder({ collectorId: 'c1', node: 'n', source: 'syscall' });
  const at = (ts: bigint): EnrichedEvent => ({ num: 1, ts, tid: 1, type: 'procinfo', enter: false });
  b.add(at(T0));
  assert.equal(b.fits(at(T0 + 1_000_000_000n)), true);
  assert.equal(b.fits(at(0n)), false, "a capture's untimed event (ts 0) is 1.7e18 ns away");
  b.add(at(0n));
  assert.throws(() => DecodedBatch.decode(b.finishEncoded(1)), BatchError, 'what fits() guards against');
  assert.equal(b.fits(at(0n)), true, 'an empty builder takes any event');
});

test('approxBytes never falls short of the encoded size, with ASCII and with non-ASCII text (U+FFFD from invalid UTF-8 is 3 bytes)', () => {
  const cases: [string, (i: number) => string][] = [
    ['ascii', (i) => `/tmp/file-${i}-${'x'.repeat(i % 200)}`],
    ['replacement characters', (i) => `${i}${'\uFFFD'.repeat(300 + (i % 50))}`],
    ['mixed scripts', (i) => `/srv/данные/${i}/文件-${'é'.repeat(i % 40)}`],
  ];
  for (const [what, text] of cases) {
    const b = new BatchBuilder({ collectorId: 'c', node: 'n', source: 'syscall' });
    for (let i = 0; i < 400; i++) {
      // A new process (with its ancestors' rows) and fd per event, and events with many arguments:
      // the tables and columns count as well as the text.
      const p: ProcessInfo = { ...cat, pid: 1000 + i, tid: 1000 + i, args: [text(i)], env: ['A=1', `B=${i}`], capEffective: (1n << 40n) - 1n, startTs: T0 + BigInt(i) };
      const args = Array.from({ length: i % 9 }, (_, k) => ({ name: `a${k}`, text: String(k * i), resolved: k % 2 ? 'O_RDONLY' : '' }));
      b.add({ num: i, ts: T0 + BigInt(i) * 1_000_000n, tid: p.tid, cpu: i % 2, type: 'openat', enter: false, res: -i, process: p, fd: { ...shadow, num: i, ino: 2n ** 60n + BigInt(i) }, args: [{ name: 'name', text: text(i) }, ...args] });
    }
    const approx = b.approxBytes;
    const bytes = b.finishEncoded(1).length;
    assert.ok(bytes <= approx, `${what}: encoded ${bytes} bytes, approxBytes said ${approx}`);
  }
});

test('evt.buflen: the result of an I/O exit event on a known fd when not an error (libsinsp), else no value', () => {
  const io: EnrichedEvent[] = [
    { num: 1, ts: T0, tid: 900, type: 'read', enter: false, res: 120, process: bash, fd: shadow },
    { num: 2, ts: T0 + 1n, tid: 900, type: 'recvfrom', enter: false, res: 0, process: bash, fd: sock },
    { num: 3, ts: T0 + 2n, tid: 900, type: 'sendto', enter: false, res: -11, process: bash, fd: sock },
    { num: 4, ts: T0 + 3n, tid: 900, type: 'write', enter: false, res: 512, process: bash },
    { num: 5, ts: T0 + 4n, tid: 900, type: 'openat', enter: false, res: 3, process: bash, fd: shadow },
    { num: 6, ts: T0 + 5n, tid: 900, type: 'read', enter: true, process: bash, fd: shadow },
    { num: 7, ts: T0 + 6n, tid: 900, type: 'sendmsg', enter: false, res: 4096, process: bash, fd: sock },
  ];
  const b = new BatchBuilder({ collectorId: 'c1', node: 'node-a', source: 'syscall' });
  for (const e of io) b.add(e);
  const d = DecodedBatch.decode(b.finishEncoded(1));
  const acc = batchAccessor();
  const reader = acc.reader(ref('evt.buflen'));
  assert.ok(reader, 'evt.buflen has a reader');
  assert.deepEqual(
    io.map((_, row) => reader(acc.at(d, row))),
    [120, 0, undefined, undefined, undefined, undefined, 4096],
    'read, an empty receive, a failed send, a write on an fd not known, an open (not I/O), an enter event, a sendmsg',
  );
  const loaded = loadRules([{ name: 't.yaml', content: '- rule: big io\n  desc: x\n  condition: evt.buflen > 100\n  output: "%evt.type %evt.buflen"\n  priority: INFO\n' }]);
  assert.deepEqual(loaded.errors, []);
  const rs = new Ruleset(loaded, acc, { source: 'syscall', ruleMatching: 'all' });
  const hits: string[] = [];
  rs.evaluateBatch(d, (r, row) => hits.push(r.output.render(acc.at(d, row)).text));
  assert.deepEqual(hits, ['read 120', 'sendmsg 4096']);
});
