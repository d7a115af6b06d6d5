import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG_TABLES } from './flags.js';
import { DYN_PARAM_TABLES } from './render.js';
import {
  EVENT_FLAGS,
  EVENT_TABLE,
  PPM_EVENT_MAX,
  eventCodes,
  eventInfo,
  hasLargePayload,
  syscallId,
  syscallName,
  type EventInfo,
} from './table.js';

const info = (code: number): EventInfo => {
  const e = eventInfo(code);
  assert.ok(e, `no event ${code}`);
  return e;
};
const names = (e: EventInfo) => e.params.map((p) => p.name);

test('one entry per code, enter on even codes and exit on odd ones', () => {
  assert.equal(EVENT_TABLE.length, PPM_EVENT_MAX);
  for (const e of EVENT_TABLE) {
    assert.equal(EVENT_TABLE[e.code], e);
    assert.equal(e.dir, e.code % 2 === 0 ? '>' : '<', `code ${e.code}`);
    assert.ok(e.params.length <= 32, `code ${e.code} has ${e.params.length} params`);
  }
  assert.equal(eventInfo(PPM_EVENT_MAX), undefined);
});

test('generic events are `syscall` with the PPM_SC id', () => {
  assert.equal(info(0).name, 'syscall');
  assert.deepEqual(names(info(0)), ['ID', 'nativeID']);
  assert.equal(info(0).params[0]?.type, 'syscallid');
  // Current libs appends the enter event's nativeID to the exit.
  assert.deepEqual(names(info(1)), ['ID', 'nativeID']);
  assert.equal(syscallName(3), 'read');
  assert.equal(syscallName(197), 'openat');
  assert.equal(syscallName(296), 'arch_prctl');
  assert.equal(syscallName(382), undefined);
  assert.equal(syscallName(383), 'sched_getattr');
  assert.equal(syscallName(442), 'mseal');
  assert.equal(syscallId('execve'), 324);
});

test('openat: old and current versions, codes and params', () => {
  assert.deepEqual(eventCodes('openat'), [102, 103, 306, 307]);
  assert.deepEqual(eventCodes('openat', '<'), [103, 307]);
  const e = info(306);
  assert.equal(e.flags & EVENT_FLAGS.OLD_VERSION, 0);
  assert.ok(info(102).flags & EVENT_FLAGS.OLD_VERSION);
  assert.deepEqual(names(e), ['dirfd', 'name', 'flags', 'mode']);
  assert.deepEqual(e.params[1], { name: 'name', type: 'fsrelpath', format: 'na', info: 0 });
  const x = info(307);
  assert.equal(x.category, 'file');
  assert.equal(x.source, 'syscall');
  assert.ok(x.flags & EVENT_FLAGS.CREATES_FD && x.flags & EVENT_FLAGS.MODIFIES_STATE);
  assert.deepEqual(names(x), ['fd', 'dirfd', 'name', 'flags', 'mode', 'dev', 'ino', 'fullpath']);
  assert.deepEqual(x.params[2], { name: 'name', type: 'fsrelpath', format: 'na', info: 1 });
  assert.deepEqual(x.params[3], { name: 'flags', type: 'flags32', format: 'hex', info: 'file_flags' });
  assert.deepEqual(x.params[4], { name: 'mode', type: 'uint32', format: 'oct' });
  assert.deepEqual(x.params[5], { name: 'dev', type: 'uint32', format: 'hex' });
  assert.deepEqual(x.params[7], { name: 'fullpath', type: 'fspath', format: 'na' });
});

test('execve exit (version 19): 28 params ending with trusted_exepath', () => {
  assert.deepEqual(eventCodes('execve', '>'), [12, 154, 172, 214, 230, 282, 288, 292]);
  const x = info(293);
  assert.equal(x.name, 'execve');
  assert.equal(x.params.length, 28);
  assert.deepEqual(names(x).slice(0, 7), ['res', 'exe', 'args', 'tid', 'pid', 'ptid', 'cwd']);
  assert.equal(x.params[0]?.type, 'errno');
  assert.deepEqual(x.params[19], { name: 'flags', type: 'flags32', format: 'hex', info: 'execve_flags' });
  assert.deepEqual(x.params[24], { name: 'exe_ino_ctime', type: 'abstime', format: 'dec' });
  assert.equal(x.params[27]?.name, 'trusted_exepath');
  assert.deepEqual(names(info(292)), ['filename']);
  // execve version 8 (the oldest) had 8 exit params.
  assert.equal(info(13).params.length, 8);
});

test('clone versions and their flags table', () => {
  assert.deepEqual(eventCodes('clone', '<'), [15, 157, 217, 223]);
  const x = info(223);
  assert.equal(x.params.length, 21);
  assert.deepEqual(x.params[15], { name: 'flags', type: 'flags32', format: 'hex', info: 'clone_flags' });
  assert.deepEqual(names(x).slice(-3), ['vtid', 'vpid', 'pidns_init_start_ts']);
  assert.equal(info(335).name, 'clone3');
  assert.equal(info(335).params.length, 21);
});

test('procexit and the unused exit slots', () => {
  assert.deepEqual(eventCodes('procexit'), [16, 186]);
  const p = info(186);
  assert.equal(p.source, 'tracepoint');
  assert.deepEqual(names(p), ['status', 'ret', 'sig', 'core', 'reaper_tid']);
  for (const code of [17, 187, 229, 233, 235]) {
    assert.equal(info(code).name, 'NA');
    assert.ok(info(code).flags & EVENT_FLAGS.UNUSED);
  }
});

test('large-payload events: plugin, container JSON, async', () => {
  const large = EVENT_TABLE.filter((e) => hasLargePayload(e.code)).map((e) => [e.code, e.name]);
  assert.deepEqual(large, [[322, 'pluginevent'], [324, 'container'], [402, 'asyncevent']]);
  assert.equal(hasLargePayload(306), false);
  assert.deepEqual(eventCodes('container'), [228, 272, 324]);
});

test('names of meta events, newer syscalls, and enums', () => {
  assert.equal(info(234).name, 'procinfo');
  assert.equal(info(148).name, 'drop');
  assert.equal(info(388).name, 'accept4');
  assert.equal(info(419).name, 'newfstatat');
  assert.equal(info(425).name, 'delete_module');
  assert.deepEqual(info(168).params[0], { name: 'request', type: 'enumflags16', format: 'dec', info: 'ptrace_requests' });
  assert.deepEqual(info(45).params[4], { name: 'val', type: 'dyn', format: 'dec', info: 'sockopt_dynamic_param' });
});

test('every flag/enum/mode/dyn info names a table that exists', () => {
  for (const e of EVENT_TABLE) {
    for (const p of e.params) {
      if (typeof p.info !== 'string') continue;
      if (p.type === 'dyn') assert.ok(DYN_PARAM_TABLES[p.info], `${e.code} ${p.name}: ${p.info}`);
      else assert.ok(FLAG_TABLES[p.info], `${e.code} ${p.name}: ${p.info}`);
    }
    for (const p of e.params) {
      if (p.type === 'fsrelpath') {
        assert.equal(typeof p.info, 'number', `${e.code} ${p.name}`);
        assert.equal(e.params[p.info as number]?.type, 'fd', `${e.code} ${p.name} dirfd`);
      }
    }
  }
});

test('EF_DROP_SIMPLE_CONS as the last libs table that had it set it', () => {
  const drops = (code: number) => (info(code).flags & EVENT_FLAGS.DROP_SIMPLE_CONS) !== 0;
  for (const code of [4, 5, 6, 7, 8, 9, 64, 65, 160, 161, 234, 350, 351]) assert.ok(drops(code), `code ${code}`);
  for (const code of [2, 3, 12, 13, 90, 91, 306, 307, 293, 235, 352]) assert.ok(!drops(code), `code ${code}`);
  assert.equal(EVENT_TABLE.filter((e) => e.flags & EVENT_FLAGS.DROP_SIMPLE_CONS).length, 127);
});

test('exit events carry their enter params appended, as current libs sends them', () => {
  const exit = (name: string): string[] => {
    const codes = eventCodes(name, '<').filter((c) => (info(c).flags & EVENT_FLAGS.OLD_VERSION) === 0);
    return names(info(codes[codes.length - 1]!));
  };
  assert.deepEqual(exit('close'), ['res', 'fd']);
  assert.deepEqual(exit('socket'), ['fd', 'domain', 'type', 'proto']);
  assert.deepEqual(exit('connect'), ['res', 'tuple', 'fd', 'addr']);
  assert.deepEqual(exit('read'), ['res', 'data', 'fd', 'size']);
  assert.deepEqual(exit('socketpair'), ['res', 'fd1', 'fd2', 'source', 'peer', 'domain', 'type', 'proto']);
  assert.deepEqual(exit('openat2'), ['fd', 'dirfd', 'name', 'flags', 'mode', 'resolve', 'dev', 'ino', 'fullpath']);
  assert.deepEqual(exit('mmap'), ['res', 'vm_size', 'vm_rss', 'vm_swap', 'addr', 'length', 'prot', 'flags', 'fd', 'offset']);
  assert.deepEqual(exit('sendfile'), ['res', 'offset', 'out_fd', 'in_fd', 'size']);
  // Every appended param has the type its enter event gives it (libs' own exceptions: prlimit's
  // exit has always declared its pid an int64, and bpf's exit carries cmd as an enum of 32 bits).
  const differ: string[] = [];
  for (let c = 0; c < PPM_EVENT_MAX; c += 2) {
    const en = info(c);
    const ex = info(c + 1);
    if (ex.name !== en.name) continue;
    for (const p of ex.params) {
      const q = en.params.find((x) => x.name === p.name);
      if (q && p.name !== 'flags' && p.type !== q.type) differ.push(`${en.name}.${p.name}`);
    }
  }
  assert.deepEqual(differ, ['prlimit.pid', 'bpf.cmd']);
});
