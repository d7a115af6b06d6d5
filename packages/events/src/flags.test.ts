import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO_NAMES, FLAG_TABLES, L4_PROTO_NAMES, SIGNAL_NAMES, SOCKET_FAMILY_NAMES } from './flags.js';
import { flagNames } from './render.js';

// Every name array that libs' driver/event_table.c points a param's info at.
const REFERENCED = [
  'socket_families', 'file_flags', 'flock_flags', 'clone_flags', 'futex_operations', 'poll_flags',
  'mount_flags', 'umount_flags', 'lseek_whence', 'shutdown_how', 'rlimit_resources',
  'fcntl_commands', 'sockopt_levels', 'sockopt_options', 'ptrace_requests', 'prot_flags',
  'mmap_flags', 'splice_flags', 'quotactl_dqi_flags', 'quotactl_cmds', 'quotactl_types',
  'quotactl_quota_fmts', 'semop_flags', 'semget_flags', 'semctl_commands', 'access_flags',
  'pf_flags', 'unlinkat_flags', 'linkat_flags', 'newfstatat_flags', 'chmod_mode',
  'fchownat_flags', 'renameat2_flags', 'openat2_flags', 'execve_flags', 'execveat_flags',
  'io_uring_setup_flags', 'io_uring_setup_feats', 'io_uring_enter_flags',
  'io_uring_register_opcodes', 'mlockall_flags', 'mlock2_flags', 'fsconfig_cmds',
  'epoll_create1_flags', 'prctl_options', 'memfd_create_flags', 'pidfd_open_flags', 'mknod_mode',
  'finit_module_flags', 'delete_module_flags', 'bpf_commands',
];

const table = (name: string) => {
  const t = FLAG_TABLES[name];
  assert.ok(t, `missing table ${name}`);
  return t;
};

test('every table event_table.c references is present, non-empty, with uint32 values', () => {
  for (const name of REFERENCED) {
    const t = table(name);
    assert.ok(t.length > 0, name);
    for (const [n, v] of t) {
      assert.match(n, /^[A-Za-z0-9_]+$/, `${name}: ${n}`);
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${name}.${n} = ${v}`);
    }
  }
});

test('values are libscap PPM encodings, not Linux ones', () => {
  const files = new Map(table('file_flags'));
  assert.equal(files.get('O_RDONLY'), 1);
  assert.equal(files.get('O_WRONLY'), 2);
  assert.equal(files.get('O_RDWR'), 3);
  assert.equal(files.get('O_CLOEXEC'), 4096);
  assert.equal(files.get('O_NONE'), 0);
  assert.equal(new Map(table('mmap_flags')).get('MAP_ANONYMOUS'), 8);
  assert.equal(new Map(table('ptrace_requests')).get('PTRACE_ATTACH'), 11);
  assert.equal(new Map(table('access_flags')).get('R_OK'), 4);
  assert.equal(new Map(table('mount_flags')).get('NOUSER'), 0x80000000);
  assert.equal(new Map(table('mknod_mode')).get('S_IFSOCK'), 0o140000);
  assert.equal(new Map(table('prctl_options')).get('PR_SET_NAME'), 15);
});

test('tables keep libscap order (the renderer walks them in order)', () => {
  assert.deepEqual(
    table('file_flags').slice(0, 3).map(([n]) => n),
    ['O_LARGEFILE', 'O_DIRECTORY', 'O_DIRECT'],
  );
  const fams = table('socket_families').map(([n]) => n);
  assert.equal(fams[0], 'AF_NFC');
  assert.ok(fams.indexOf('AF_LOCAL') < fams.indexOf('AF_UNIX'));
  assert.deepEqual(table('lseek_whence').map(([n]) => n), ['SEEK_END', 'SEEK_CUR', 'SEEK_SET']);
  // 64-bit drivers leave out F_GETLK64 & co.
  assert.ok(!table('fcntl_commands').some(([n]) => n.endsWith('64')));
});

test('flagNames walks like libsinsp (sysdig 0.29.3 renderings)', () => {
  assert.deepEqual(flagNames(table('file_flags'), 4097, false), ['O_RDONLY', 'O_CLOEXEC']);
  assert.deepEqual(flagNames(table('file_flags'), 262, false), ['O_TRUNC', 'O_CREAT', 'O_WRONLY']);
  assert.deepEqual(flagNames(table('file_flags'), 5185, false), [
    'O_DIRECTORY', 'O_NONBLOCK', 'O_RDONLY', 'O_CLOEXEC',
  ]);
  assert.deepEqual(flagNames(table('file_flags'), 3, false), ['O_RDWR']);
  assert.deepEqual(flagNames(table('file_flags'), 0, false), ['O_NONE']);
  assert.deepEqual(flagNames(table('futex_operations'), 393, false), [
    'FUTEX_CLOCK_REALTIME', 'FUTEX_PRIVATE_FLAG', 'FUTEX_WAIT_BITSET',
  ]);
  assert.deepEqual(flagNames(table('futex_operations'), 0, false), ['FUTEX_WAIT']);
  assert.deepEqual(flagNames(table('prot_flags'), 0, false), ['PROT_NONE']);
  assert.deepEqual(flagNames(table('clone_flags'), 47619, false), [
    'CLONE_FILES', 'CLONE_FS', 'CLONE_PARENT_SETTID', 'CLONE_SIGHAND', 'CLONE_SYSVSEM',
    'CLONE_THREAD', 'CLONE_VM',
  ]);
  assert.deepEqual(flagNames(table('mount_flags'), 0x80000001, false), ['RDONLY', 'NOUSER']);
  assert.deepEqual(flagNames(table('mmap_flags'), 0, false), []);
});

test('enum params match exactly, first entry in table order', () => {
  assert.deepEqual(flagNames(table('ptrace_requests'), 16, true), ['PTRACE_GETSIGINFO']);
  assert.deepEqual(flagNames(table('ptrace_requests'), 11, true), ['PTRACE_ATTACH']);
  assert.deepEqual(flagNames(table('fcntl_commands'), 5, true), ['F_SETFL']);
  assert.deepEqual(flagNames(table('socket_families'), 1, true), ['AF_LOCAL']);
  assert.deepEqual(flagNames(table('socket_families'), 16, true), ['AF_ROUTE']);
  assert.deepEqual(flagNames(table('fcntl_commands'), 99, true), []);
});

test('errno, signal, family and l4 names', () => {
  assert.equal(ERRNO_NAMES[1], 'EPERM');
  assert.equal(ERRNO_NAMES[2], 'ENOENT');
  assert.equal(ERRNO_NAMES[11], 'EAGAIN');
  assert.equal(ERRNO_NAMES[41], undefined);
  assert.equal(ERRNO_NAMES[110], 'ETIMEDOUT');
  assert.equal(ERRNO_NAMES[115], 'EINPROGRESS');
  assert.equal(ERRNO_NAMES[125], 'ECANCELED');
  assert.equal(ERRNO_NAMES[512], 'ERESTARTSYS');
  assert.equal(SIGNAL_NAMES[9], 'SIGKILL');
  assert.equal(SIGNAL_NAMES[29], 'SIGIO');
  assert.equal(SIGNAL_NAMES[0], undefined);
  assert.equal(SIGNAL_NAMES[32], undefined);
  assert.equal(SOCKET_FAMILY_NAMES[1], 'AF_UNIX');
  assert.equal(SOCKET_FAMILY_NAMES[2], 'AF_INET');
  assert.equal(SOCKET_FAMILY_NAMES[10], 'AF_INET6');
  assert.equal(SOCKET_FAMILY_NAMES[16], 'AF_NETLINK');
  assert.equal(L4_PROTO_NAMES[2], 'tcp');
  assert.equal(L4_PROTO_NAMES[3], 'udp');
});
