// The libscap event table as data: for every PPME_* event code (falcosecurity/libs
// driver/ppm_events_public.h numbering, codes 0..PPM_EVENT_MAX-1), its `evt.type` name, direction,
// category, flags and parameter descriptions; plus the PPM_SC syscall-id names that the generic
// `syscall` event's ID param carries. The data is kept compact (one line per enter/exit pair,
// params as `name:type[:format[:info]]`) and expanded once at module load.

import type { ParamDesc, ParamType, PrintFormat } from './render.js';

/** ppm_event_flags (EF_*), as bits. */
export const EVENT_FLAGS = Object.freeze({
  NONE: 0,
  CREATES_FD: 1 << 0,
  DESTROYS_FD: 1 << 1,
  USES_FD: 1 << 2,
  READS_FROM_FD: 1 << 3,
  WRITES_TO_FD: 1 << 4,
  MODIFIES_STATE: 1 << 5,
  UNUSED: 1 << 6,
  WAITS: 1 << 7,
  SKIPPARSERESET: 1 << 8,
  OLD_VERSION: 1 << 9,
  // Current libs dropped this flag; it is set from the last libs table that had it (see DROP_SIMPLE_CONS_CODES).
  DROP_SIMPLE_CONS: 1 << 10,
  // Params of these events have 32-bit lengths in the event's length array (16-bit otherwise).
  LARGE_PAYLOAD: 1 << 11,
});

export type EventFlagName = Exclude<keyof typeof EVENT_FLAGS, 'NONE'>;

/** ppm_event_category's low bits (the syscall category), lower case without the EC_ prefix. */
export type EventCategory =
  | 'unknown' | 'other' | 'file' | 'net' | 'ipc' | 'memory' | 'process' | 'sleep' | 'system'
  | 'signal' | 'user' | 'time' | 'processing' | 'io_read' | 'io_write' | 'io_other' | 'wait'
  | 'scheduler' | 'internal';

/** ppm_event_category's high bits: what generates the event. */
export type EventSource = 'syscall' | 'tracepoint' | 'plugin' | 'metaevent' | 'none';

export type EventDirection = '>' | '<';

/** One parameter: ParamDesc (type, format, info) plus its name. */
export interface ParamInfo extends ParamDesc {
  readonly name: string;
}

export interface EventInfo {
  /** The PPME_* code. */
  readonly code: number;
  /** `evt.type` as Falco shows it (`syscall` for the generic events, `NA` for unused slots). */
  readonly name: string;
  /** `>` enter (even codes), `<` exit (odd codes). */
  readonly dir: EventDirection;
  readonly category: EventCategory;
  readonly source: EventSource;
  /** EVENT_FLAGS bits. */
  readonly flags: number;
  readonly params: readonly ParamInfo[];
}

/** Number of event codes (PPM_EVENT_MAX); valid codes are 0..PPM_EVENT_MAX-1. */
export const PPM_EVENT_MAX = 426;

const CLONE_BASE =
  'res:pid, exe:charbuf, args:bytebuf, tid:pid, pid:pid, ptid:pid, cwd:charbuf, fdlimit:int64, ' +
  'pgft_maj:uint64, pgft_min:uint64, vm_size:uint32, vm_rss:uint32, vm_swap:uint32';
const CLONE_16 = `${CLONE_BASE}, flags:flags32:hex:clone_flags, uid:uint32, gid:uint32`;
const CLONE_17 = `${CLONE_BASE}, comm:charbuf, flags:flags32:hex:clone_flags, uid:uint32, gid:uint32`;
const CLONE_20 =
  `${CLONE_BASE}, comm:charbuf, cgroups:bytebuf, flags:flags32:hex:clone_flags, uid:uint32, gid:uint32, ` +
  'vtid:pid, vpid:pid, pidns_init_start_ts:uint64';
const EXEC_13 =
  'res:errno, exe:charbuf, args:bytebuf, tid:pid, pid:pid, ptid:pid, cwd:charbuf, fdlimit:uint64, ' +
  'pgft_maj:uint64, pgft_min:uint64, vm_size:uint32, vm_rss:uint32, vm_swap:uint32';
const EXEC_17 = `${EXEC_13}, comm:charbuf, cgroups:bytebuf, env:bytebuf, tty:int32`;
const EXEC_19 =
  `${EXEC_13}, comm:charbuf, cgroups:bytebuf, env:bytebuf, tty:uint32, pgid:pid, loginuid:uid, ` +
  'flags:flags32:hex:execve_flags, cap_inheritable:uint64:hex, cap_permitted:uint64:hex, ' +
  'cap_effective:uint64:hex, exe_ino:uint64, exe_ino_ctime:abstime, exe_ino_mtime:abstime, uid:uid, ' +
  'trusted_exepath:fspath';
const SOCKOPT =
  'res:errno, fd:fd, level:enumflags8:dec:sockopt_levels, optname:enumflags8:dec:sockopt_options, ' +
  'val:dyn:dec:sockopt_dynamic_param, optlen:uint32';
const VM = 'vm_size:uint32, vm_rss:uint32, vm_swap:uint32';
const ACCEPT_5 = 'fd:fd, tuple:socktuple, queuepct:uint8, queuelen:uint32, queuemax:uint32';
const RES = 'res:errno';

/** An exit slot whose event differs from its enter event in more than the params. */
interface ExitOverride {
  /** Flags replacing the enter event's. */
  readonly flags?: string;
  /** `NA`: an unused slot (name `NA`, category unknown, source none). */
  readonly na?: boolean;
  readonly params?: string;
}

const na = (flags = 'UNUSED'): ExitOverride => ({ na: true, flags });
const fl = (flags: string, params: string): ExitOverride => ({ flags, params });

/**
 * One line per enter/exit pair, in code order from PPME_GENERIC_E (0):
 * `[name, category[/source], flags, enter params, exit params | override]`.
 * Source defaults to `syscall`; `tp` tracepoint, `meta` metaevent, `plugin`.
 */
type PairSpec = readonly [name: string, category: string, flags: string, enter: string, exit: string | ExitOverride];

const PAIRS: readonly PairSpec[] = [
  ['syscall', 'other', '', 'ID:syscallid, nativeID:uint16', 'ID:syscallid, nativeID:uint16'],
  ['open', 'file', 'CREATES_FD|MODIFIES_STATE', 'name:fspath, flags:flags32:hex:file_flags, mode:uint32:oct', 'fd:fd, name:fspath, flags:flags32:hex:file_flags, mode:uint32:oct, dev:uint32:hex, ino:uint64'],
  ['close', 'io_other', 'DESTROYS_FD|USES_FD|MODIFIES_STATE', 'fd:fd', 'res:errno, fd:fd'],
  ['read', 'io_read', 'USES_FD|READS_FROM_FD', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, fd:fd, size:uint32'],
  ['write', 'io_write', 'USES_FD|WRITES_TO_FD', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, fd:fd, size:uint32'],
  ['brk', 'memory', 'OLD_VERSION', 'size:uint32', 'res:uint64:hex'],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', 'res:errno, exe:charbuf, args:bytebuf, tid:pid, pid:pid, ptid:pid, cwd:charbuf, fdlimit:uint64'],
  ['clone', 'process', 'MODIFIES_STATE|OLD_VERSION', '', 'res:pid, exe:charbuf, args:bytebuf, tid:pid, pid:pid, ptid:pid, cwd:charbuf, fdlimit:int64, flags:flags32:hex:clone_flags, uid:uint32, gid:uint32'],
  ['procexit', 'process/tp', 'MODIFIES_STATE|OLD_VERSION', '', na('UNUSED|OLD_VERSION')],
  ['socket', 'net', 'CREATES_FD|MODIFIES_STATE', 'domain:enumflags32:dec:socket_families, type:uint32, proto:uint32', 'fd:fd, domain:enumflags32:dec:socket_families, type:uint32, proto:uint32'],
  // 20
  ['bind', 'net', 'USES_FD|MODIFIES_STATE', 'fd:fd', 'res:errno, addr:sockaddr, fd:fd'],
  ['connect', 'net', 'USES_FD|MODIFIES_STATE', 'fd:fd, addr:sockaddr', 'res:errno, tuple:socktuple, fd:fd, addr:sockaddr'],
  ['listen', 'net', 'USES_FD', 'fd:fd, backlog:int32', 'res:errno, fd:fd, backlog:int32'],
  ['accept', 'net', 'CREATES_FD|MODIFIES_STATE|OLD_VERSION', '', 'fd:fd, tuple:socktuple, queuepct:uint8'],
  ['send', 'io_write', 'USES_FD|WRITES_TO_FD', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, fd:fd, size:uint32, tuple:socktuple'],
  ['sendto', 'io_write', 'USES_FD|WRITES_TO_FD|MODIFIES_STATE', 'fd:fd, size:uint32, tuple:socktuple', 'res:errno, data:bytebuf, fd:fd, size:uint32, tuple:socktuple'],
  ['recv', 'io_read', 'USES_FD|READS_FROM_FD', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, fd:fd, size:uint32, tuple:socktuple'],
  ['recvfrom', 'io_read', 'USES_FD|READS_FROM_FD|MODIFIES_STATE', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, tuple:socktuple, fd:fd, size:uint32'],
  ['shutdown', 'net', 'USES_FD|MODIFIES_STATE', 'fd:fd, how:enumflags8:hex:shutdown_how', 'res:errno, fd:fd, how:enumflags8:hex:shutdown_how'],
  ['getsockname', 'net', '', '', ''],
  // 40
  ['getpeername', 'net', '', '', ''],
  ['socketpair', 'ipc', 'CREATES_FD|MODIFIES_STATE', 'domain:enumflags32:dec:socket_families, type:uint32, proto:uint32', 'res:errno, fd1:fd, fd2:fd, source:uint64:hex, peer:uint64:hex, domain:enumflags32:dec:socket_families, type:uint32, proto:uint32'],
  ['setsockopt', 'net', '', '', fl('USES_FD', SOCKOPT)],
  ['getsockopt', 'net', 'MODIFIES_STATE', '', fl('USES_FD|MODIFIES_STATE', SOCKOPT)],
  ['sendmsg', 'io_write', 'USES_FD|WRITES_TO_FD|MODIFIES_STATE', 'fd:fd, size:uint32, tuple:socktuple', 'res:errno, data:bytebuf, fd:fd, size:uint32, tuple:socktuple'],
  ['sendmmsg', 'io_write', '', '', ''],
  ['recvmsg', 'io_read', 'USES_FD|READS_FROM_FD|MODIFIES_STATE', 'fd:fd', 'res:errno, size:uint32, data:bytebuf, tuple:socktuple, msgcontrol:bytebuf, fd:fd'],
  ['recvmmsg', 'io_read', '', '', ''],
  ['accept', 'net', 'CREATES_FD|MODIFIES_STATE|OLD_VERSION', 'flags:int32:hex', 'fd:fd, tuple:socktuple, queuepct:uint8'],
  ['creat', 'file', 'CREATES_FD|MODIFIES_STATE', 'name:fspath, mode:uint32:oct', 'fd:fd, name:fspath, mode:uint32:oct, dev:uint32:hex, ino:uint64'],
  // 60
  ['pipe', 'ipc', 'CREATES_FD|MODIFIES_STATE', '', 'res:errno, fd1:fd, fd2:fd, ino:uint64'],
  ['eventfd', 'ipc', 'CREATES_FD|MODIFIES_STATE', 'initval:uint64, flags:flags32:hex', 'res:fd, initval:uint64, flags:flags32:hex'],
  ['futex', 'ipc', '', 'addr:uint64:hex, op:enumflags16:hex:futex_operations, val:uint64', 'res:errno, addr:uint64:hex, op:enumflags16:hex:futex_operations, val:uint64'],
  ['stat', 'file', '', '', 'res:errno, path:fspath'],
  ['lstat', 'file', '', '', 'res:errno, path:fspath'],
  ['fstat', 'file', 'USES_FD', 'fd:fd:na', 'res:errno, fd:fd:na'],
  ['stat64', 'file', '', '', 'res:errno, path:fspath'],
  ['lstat64', 'file', '', '', 'res:errno, path:fspath'],
  ['fstat64', 'file', 'USES_FD', 'fd:fd:na', RES],
  ['epoll_wait', 'wait', 'WAITS', 'maxevents:errno', 'res:errno, maxevents:errno'],
  // 80
  ['poll', 'wait', 'WAITS', 'fds:fdlist, timeout:int64', 'res:errno, fds:fdlist, timeout:int64'],
  ['select', 'wait', 'WAITS', '', RES],
  ['select', 'wait', 'WAITS|OLD_VERSION', '', RES],
  ['lseek', 'file', 'USES_FD', 'fd:fd, offset:uint64, whence:enumflags8:dec:lseek_whence', 'res:errno, fd:fd, offset:uint64, whence:enumflags8:dec:lseek_whence'],
  ['llseek', 'file', 'USES_FD', 'fd:fd, offset:uint64, whence:enumflags8:dec:lseek_whence', 'res:errno, fd:fd, offset:uint64, whence:enumflags8:dec:lseek_whence'],
  ['ioctl', 'io_other', 'USES_FD|OLD_VERSION', 'fd:fd, request:uint64:hex', RES],
  ['getcwd', 'file', '', '', 'res:errno, path:charbuf'],
  ['chdir', 'file', 'MODIFIES_STATE', '', 'res:errno, path:charbuf'],
  ['fchdir', 'file', 'USES_FD|MODIFIES_STATE', 'fd:fd:na', 'res:errno, fd:fd:na'],
  ['mkdir', 'file', 'OLD_VERSION', 'path:fspath, mode:uint32:hex', RES],
  // 100
  ['rmdir', 'file', 'OLD_VERSION', 'path:fspath', RES],
  ['openat', 'file', 'CREATES_FD|MODIFIES_STATE|OLD_VERSION', 'dirfd:fd, name:charbuf, flags:flags32:hex:file_flags, mode:uint32:oct', 'fd:fd'],
  ['link', 'file', 'OLD_VERSION', 'oldpath:fspath, newpath:fspath', RES],
  ['linkat', 'file', 'OLD_VERSION', 'olddir:fd, oldpath:charbuf, newdir:fd, newpath:charbuf', RES],
  ['unlink', 'file', 'OLD_VERSION', 'path:fspath', RES],
  ['unlinkat', 'file', 'OLD_VERSION', 'dirfd:fd, name:charbuf', RES],
  ['pread', 'io_read', 'USES_FD|READS_FROM_FD', 'fd:fd, size:uint32, pos:uint64', 'res:errno, data:bytebuf, fd:fd, size:uint32, pos:uint64'],
  ['pwrite', 'io_write', 'USES_FD|WRITES_TO_FD', 'fd:fd, size:uint32, pos:uint64', 'res:errno, data:bytebuf, fd:fd, size:uint32, pos:uint64'],
  ['readv', 'io_read', 'USES_FD|READS_FROM_FD', 'fd:fd', 'res:errno, size:uint32, data:bytebuf, fd:fd'],
  ['writev', 'io_write', 'USES_FD|WRITES_TO_FD', 'fd:fd, size:uint32', 'res:errno, data:bytebuf, fd:fd, size:uint32'],
  // 120
  ['preadv', 'io_read', 'USES_FD|READS_FROM_FD', 'fd:fd, pos:uint64', 'res:errno, size:uint32, data:bytebuf, fd:fd, pos:uint64'],
  ['pwritev', 'io_write', 'USES_FD|WRITES_TO_FD', 'fd:fd, size:uint32, pos:uint64', 'res:errno, data:bytebuf, fd:fd, size:uint32, pos:uint64'],
  ['dup', 'io_other', 'CREATES_FD|USES_FD|MODIFIES_STATE|OLD_VERSION', 'fd:fd', 'res:fd'],
  ['signalfd', 'signal', 'CREATES_FD|MODIFIES_STATE', 'fd:fd, mask:uint32:hex, flags:flags8:hex', 'res:fd, fd:fd, mask:uint32:hex, flags:flags8:hex'],
  ['kill', 'signal', '', 'pid:pid, sig:sigtype', 'res:errno, pid:pid, sig:sigtype'],
  ['tkill', 'signal', '', 'tid:pid, sig:sigtype', 'res:errno, tid:pid, sig:sigtype'],
  ['tgkill', 'signal', '', 'pid:pid, tid:pid, sig:sigtype', 'res:errno, pid:pid, tid:pid, sig:sigtype'],
  ['nanosleep', 'sleep', 'WAITS', 'interval:reltime', 'res:errno, interval:reltime'],
  ['timerfd_create', 'time', 'CREATES_FD|MODIFIES_STATE', 'clockid:uint8, flags:flags8:hex', 'res:fd, clockid:uint8, flags:flags8:hex'],
  ['inotify_init', 'ipc', 'CREATES_FD|MODIFIES_STATE', 'flags:flags8:hex', 'res:fd, flags:flags8:hex'],
  // 140
  ['getrlimit', 'process', '', 'resource:enumflags8:dec:rlimit_resources', 'res:errno, cur:int64, max:int64, resource:enumflags8:dec:rlimit_resources'],
  ['setrlimit', 'process', '', 'resource:enumflags8:dec:rlimit_resources', 'res:errno, cur:int64, max:int64, resource:enumflags8:dec:rlimit_resources'],
  ['prlimit', 'process', '', 'pid:pid, resource:enumflags8:dec:rlimit_resources', 'res:errno, newcur:int64, newmax:int64, oldcur:int64, oldmax:int64, pid:int64, resource:enumflags8:dec:rlimit_resources'],
  ['switch', 'scheduler/tp', 'SKIPPARSERESET|OLD_VERSION', 'next:pid', na('SKIPPARSERESET|UNUSED|OLD_VERSION')],
  ['drop', 'internal/meta', 'SKIPPARSERESET', 'ratio:uint32', 'ratio:uint32'],
  ['fcntl', 'io_other', 'USES_FD|MODIFIES_STATE', 'fd:fd, cmd:enumflags8:dec:fcntl_commands', 'res:fd, fd:fd, cmd:enumflags8:dec:fcntl_commands'],
  ['switch', 'scheduler/tp', '', `next:pid, pgft_maj:uint64, pgft_min:uint64, ${VM}`, na()],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', EXEC_13],
  ['clone', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_16],
  ['brk', 'memory', '', 'addr:uint64:hex', `res:uint64:hex, ${VM}, addr:uint64:hex`],
  // 160
  ['mmap', 'memory', '', 'addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags, flags:flags32:hex:mmap_flags, fd:fd, offset:uint64', `res:errno:hex, ${VM}, addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags, flags:flags32:hex:mmap_flags, fd:fd, offset:uint64`],
  ['mmap2', 'memory', '', 'addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags, flags:flags32:hex:mmap_flags, fd:fd, pgoffset:uint64', `res:errno:hex, ${VM}, addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags, flags:flags32:hex:mmap_flags, fd:fd, pgoffset:uint64`],
  ['munmap', 'memory', '', 'addr:uint64:hex, length:uint64', `res:errno, ${VM}, addr:uint64:hex, length:uint64`],
  ['splice', 'io_other', 'USES_FD', 'fd_in:fd, fd_out:fd, size:uint64, flags:flags32:hex:splice_flags', 'res:errno, fd_in:fd, fd_out:fd, size:uint64, flags:flags32:hex:splice_flags'],
  ['ptrace', 'process', '', 'request:enumflags16:dec:ptrace_requests, pid:pid', 'res:errno, addr:dyn:hex:ptrace_dynamic_param, data:dyn:hex:ptrace_dynamic_param, request:enumflags16:dec:ptrace_requests, pid:pid'],
  ['ioctl', 'io_other', 'USES_FD', 'fd:fd, request:uint64:hex, argument:uint64:hex', 'res:errno, fd:fd, request:uint64:hex, argument:uint64:hex'],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', `${EXEC_13}, env:bytebuf`],
  ['rename', 'file', '', '', 'res:errno, oldpath:fspath, newpath:fspath'],
  ['renameat', 'file', '', '', 'res:errno, olddirfd:fd, oldpath:fsrelpath:na:1, newdirfd:fd, newpath:fsrelpath:na:3'],
  ['symlink', 'file', '', '', 'res:errno, target:charbuf, linkpath:fspath'],
  // 180
  ['symlinkat', 'file', '', '', 'res:errno, target:charbuf, linkdirfd:fd, linkpath:fsrelpath:na:2'],
  ['fork', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_16],
  ['vfork', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_16],
  ['procexit', 'process/tp', 'MODIFIES_STATE', 'status:errno, ret:errno, sig:sigtype, core:uint8, reaper_tid:pid', na()],
  ['sendfile', 'io_write', 'USES_FD', 'out_fd:fd, in_fd:fd, offset:uint64, size:uint64', 'res:errno, offset:uint64, out_fd:fd, in_fd:fd, size:uint64'],
  ['quotactl', 'user', '', 'cmd:flags16:dec:quotactl_cmds, type:flags8:dec:quotactl_types, id:uint32, quota_fmt:flags8:dec:quotactl_quota_fmts', 'res:errno, special:charbuf, quotafilepath:charbuf, dqb_bhardlimit:uint64, dqb_bsoftlimit:uint64, dqb_curspace:uint64, dqb_ihardlimit:uint64, dqb_isoftlimit:uint64, dqb_btime:reltime, dqb_itime:reltime, dqi_bgrace:reltime, dqi_igrace:reltime, dqi_flags:flags8:dec:quotactl_dqi_flags, quota_fmt_out:flags8:dec:quotactl_quota_fmts, cmd:flags16:dec:quotactl_cmds, type:flags8:dec:quotactl_types, id:uint32, quota_fmt:flags8:dec:quotactl_quota_fmts'],
  ['setresuid', 'user', 'MODIFIES_STATE', 'ruid:uid, euid:uid, suid:uid', 'res:errno, ruid:uid, euid:uid, suid:uid'],
  ['setresgid', 'user', 'MODIFIES_STATE', 'rgid:gid, egid:gid, sgid:gid', 'res:errno, rgid:gid, egid:gid, sgid:gid'],
  ['scapevent', 'internal/meta', 'SKIPPARSERESET', 'event_type:uint32, event_data:uint64', fl('UNUSED', '')],
  ['setuid', 'user', 'MODIFIES_STATE', 'uid:uid', 'res:errno, uid:uid'],
  // 200
  ['setgid', 'user', 'MODIFIES_STATE', 'gid:gid', 'res:errno, gid:gid'],
  ['getuid', 'user', '', '', 'uid:uid'],
  ['geteuid', 'user', '', '', 'euid:uid'],
  ['getgid', 'user', '', '', 'gid:gid'],
  ['getegid', 'user', '', '', 'egid:gid'],
  ['getresuid', 'user', '', '', 'res:errno, ruid:uid, euid:uid, suid:uid'],
  ['getresgid', 'user', '', '', 'res:errno, rgid:gid, egid:gid, sgid:gid'],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', `${EXEC_13}, comm:charbuf, env:bytebuf`],
  ['clone', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_17],
  ['fork', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_17],
  // 220
  ['vfork', 'process', 'MODIFIES_STATE|OLD_VERSION', '', CLONE_17],
  ['clone', 'process', 'MODIFIES_STATE', '', CLONE_20],
  ['fork', 'process', 'MODIFIES_STATE', '', CLONE_20],
  ['vfork', 'process', 'MODIFIES_STATE', '', CLONE_20],
  ['container', 'internal/meta', 'SKIPPARSERESET|MODIFIES_STATE|OLD_VERSION', 'id:charbuf, type:uint32, name:charbuf, image:charbuf', na('UNUSED|OLD_VERSION')],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', `${EXEC_13}, comm:charbuf, cgroups:bytebuf, env:bytebuf`],
  ['signaldeliver', 'signal/tp', '', 'spid:pid, dpid:pid, sig:sigtype', na()],
  ['procinfo', 'internal/meta', 'SKIPPARSERESET', 'cpu_usr:uint64, cpu_sys:uint64', na()],
  ['getdents', 'file', 'USES_FD', 'fd:fd:na', 'res:errno, fd:fd:na'],
  ['getdents64', 'file', 'USES_FD', 'fd:fd:na', 'res:errno, fd:fd:na'],
  // 240
  ['setns', 'process', 'USES_FD', 'fd:fd:na, nstype:flags32:hex:clone_flags', 'res:errno, fd:fd:na, nstype:flags32:hex:clone_flags'],
  ['flock', 'file', 'USES_FD', 'fd:fd:na, operation:flags32:hex:flock_flags', 'res:errno, fd:fd:na, operation:flags32:hex:flock_flags'],
  ['cpu_hotplug', 'system/meta', 'SKIPPARSERESET|MODIFIES_STATE', 'cpu:uint32, action:uint32', na()],
  ['accept', 'net', 'CREATES_FD|MODIFIES_STATE', '', ACCEPT_5],
  ['accept', 'net', 'CREATES_FD|MODIFIES_STATE|OLD_VERSION', 'flags:int32:hex', ACCEPT_5],
  ['semop', 'process', '', 'semid:int32', 'res:errno, nsops:uint32, sem_num_0:uint16, sem_op_0:int16, sem_flg_0:flags16:hex:semop_flags, sem_num_1:uint16, sem_op_1:int16, sem_flg_1:flags16:hex:semop_flags, semid:int32'],
  ['semctl', 'process', '', 'semid:int32, semnum:int32, cmd:flags16:hex:semctl_commands, val:int32', 'res:errno, semid:int32, semnum:int32, cmd:flags16:hex:semctl_commands, val:int32'],
  ['ppoll', 'wait', 'WAITS', 'fds:fdlist, timeout:reltime, sigmask:sigset', 'res:errno, fds:fdlist, timeout:reltime, sigmask:sigset'],
  ['mount', 'file', 'MODIFIES_STATE', 'flags:flags32:hex:mount_flags', 'res:errno, dev:charbuf, dir:fspath, type:charbuf, flags:flags32:hex:mount_flags'],
  ['umount', 'file', 'MODIFIES_STATE|OLD_VERSION', 'flags:flags32:hex:umount_flags', 'res:errno, name:fspath'],
  // 260
  ['k8s', 'internal/meta', 'SKIPPARSERESET|MODIFIES_STATE', 'json:charbuf', na()],
  ['semget', 'process', '', 'key:int32:hex, nsems:int32, semflg:flags32:hex:semget_flags', 'res:errno, key:int32:hex, nsems:int32, semflg:flags32:hex:semget_flags'],
  ['access', 'file', '', 'mode:flags32:hex:access_flags', 'res:errno, name:fspath, mode:flags32:hex:access_flags'],
  ['chroot', 'process', 'MODIFIES_STATE', '', 'res:errno, path:fspath'],
  ['tracer', 'other/meta', '', 'id:int64, tags:charbufarray, args:charbuf_pair_array', 'id:int64, tags:charbufarray, args:charbuf_pair_array'],
  ['mesos', 'internal/meta', 'SKIPPARSERESET|MODIFIES_STATE', 'json:charbuf', na()],
  ['container', 'process/meta', 'MODIFIES_STATE|OLD_VERSION', 'json:charbuf', na('UNUSED|OLD_VERSION')],
  ['setsid', 'process', 'MODIFIES_STATE', '', 'res:pid'],
  ['mkdir', 'file', '', 'mode:uint32:hex', 'res:errno, path:fspath, mode:uint32:hex'],
  ['rmdir', 'file', '', '', 'res:errno, path:fspath'],
  // 280
  ['notification', 'other/meta', 'SKIPPARSERESET', 'id:charbuf:dec, desc:charbuf', na()],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', '', EXEC_17],
  ['unshare', 'process', '', 'flags:flags32:hex:clone_flags', 'res:errno, flags:flags32:hex:clone_flags'],
  ['infra', 'internal/meta', 'SKIPPARSERESET', 'source:charbuf:dec, name:charbuf, description:charbuf, scope:charbuf', na()],
  ['execve', 'process', 'MODIFIES_STATE|OLD_VERSION', 'filename:fspath', EXEC_17],
  ['page_fault', 'other/tp', 'SKIPPARSERESET', 'addr:uint64:hex, ip:uint64:hex, error:flags32:hex:pf_flags', na()],
  ['execve', 'process', 'MODIFIES_STATE', 'filename:fspath', EXEC_19],
  ['setpgid', 'process', 'MODIFIES_STATE', 'pid:pid, pgid:pid', 'res:pid, pid:pid, pgid:pid'],
  ['bpf', 'other', 'CREATES_FD|OLD_VERSION', 'cmd:int64', 'res_or_fd:dyn:dec:bpf_dynamic_param'],
  ['seccomp', 'other', '', 'op:uint64, flags:uint64:hex', 'res:errno, op:uint64, flags:uint64:hex'],
  // 300
  ['unlink', 'file', '', '', 'res:errno, path:fspath'],
  ['unlinkat', 'file', '', '', 'res:errno, dirfd:fd, name:fsrelpath:na:1, flags:flags32:hex:unlinkat_flags'],
  ['mkdirat', 'file', '', '', 'res:errno, dirfd:fd, path:fsrelpath:na:1, mode:uint32:hex'],
  ['openat', 'file', 'CREATES_FD|MODIFIES_STATE', 'dirfd:fd, name:fsrelpath:na:0, flags:flags32:hex:file_flags, mode:uint32:oct', 'fd:fd, dirfd:fd, name:fsrelpath:na:1, flags:flags32:hex:file_flags, mode:uint32:oct, dev:uint32:hex, ino:uint64, fullpath:fspath'],
  ['link', 'file', '', '', 'res:errno, oldpath:fspath, newpath:fspath'],
  ['linkat', 'file', '', '', 'res:errno, olddir:fd, oldpath:fsrelpath:na:1, newdir:fd, newpath:fsrelpath:na:3, flags:flags32:hex:linkat_flags'],
  ['fchmodat', 'file', '', '', 'res:errno, dirfd:fd, filename:fsrelpath:na:1, mode:mode:oct:chmod_mode'],
  ['chmod', 'file', '', '', 'res:errno, filename:fspath, mode:mode:oct:chmod_mode'],
  ['fchmod', 'file', '', '', fl('USES_FD', 'res:errno, fd:fd, mode:mode:oct:chmod_mode')],
  ['renameat2', 'file', '', '', 'res:errno, olddirfd:fd, oldpath:fsrelpath:na:1, newdirfd:fd, newpath:fsrelpath:na:3, flags:flags32:hex:renameat2_flags'],
  // 320
  ['userfaultfd', 'file', 'CREATES_FD|MODIFIES_STATE', '', 'res:errno, flags:flags32:hex:file_flags'],
  ['pluginevent', 'other/plugin', 'LARGE_PAYLOAD', 'plugin_id:uint32, event_data:bytebuf', na()],
  ['container', 'process/meta', 'MODIFIES_STATE|LARGE_PAYLOAD', 'json:charbuf', na()],
  // libs declares the enter event's name with dirfd index 1, which is the name itself; 0 is meant.
  ['openat2', 'file', 'CREATES_FD|MODIFIES_STATE', 'dirfd:fd, name:fsrelpath:na:0, flags:flags32:hex:file_flags, mode:uint32:oct, resolve:flags32:hex:openat2_flags', 'fd:fd, dirfd:fd, name:fsrelpath:na:1, flags:flags32:hex:file_flags, mode:uint32:oct, resolve:flags32:hex:openat2_flags, dev:uint32:hex, ino:uint64, fullpath:fspath'],
  ['mprotect', 'memory', '', 'addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags', 'res:errno, addr:uint64:hex, length:uint64, prot:flags32:hex:prot_flags'],
  ['execveat', 'process', 'MODIFIES_STATE', 'dirfd:fd, pathname:fsrelpath:na:0, flags:flags32:hex:execveat_flags', EXEC_19],
  ['copy_file_range', 'file', 'USES_FD|READS_FROM_FD|WRITES_TO_FD', 'fdin:fd, offin:uint64, len:uint64', 'res:errno, fdout:fd, offout:uint64, fdin:fd, offin:uint64, len:uint64'],
  ['clone3', 'process', 'MODIFIES_STATE', '', CLONE_20],
  ['open_by_handle_at', 'file', 'CREATES_FD|MODIFIES_STATE', '', 'fd:fd, mountfd:fd, flags:flags32:hex:file_flags, path:fspath'],
  ['io_uring_setup', 'io_other', 'CREATES_FD|MODIFIES_STATE', '', 'res:errno, entries:uint32, sq_entries:uint32, cq_entries:uint32, flags:flags32:hex:io_uring_setup_flags, sq_thread_cpu:uint32, sq_thread_idle:uint32, features:flags32:hex:io_uring_setup_feats'],
  // 340
  ['io_uring_enter', 'io_other', '', '', fl('USES_FD', 'res:errno, fd:fd, to_submit:uint32, min_complete:uint32, flags:flags32:hex:io_uring_enter_flags, sig:sigset')],
  ['io_uring_register', 'io_other', '', '', fl('USES_FD', 'res:errno, fd:fd, opcode:enumflags16:dec:io_uring_register_opcodes, arg:uint64:hex, nr_args:uint32')],
  ['mlock', 'memory', '', '', 'res:errno, addr:uint64:hex, len:uint64'],
  ['munlock', 'memory', '', '', 'res:errno, addr:uint64:hex, len:uint64'],
  ['mlockall', 'memory', '', '', 'res:errno, flags:flags32:hex:mlockall_flags'],
  ['munlockall', 'memory', '', '', RES],
  ['capset', 'process', 'MODIFIES_STATE', '', 'res:errno, cap_inheritable:uint64:hex, cap_permitted:uint64:hex, cap_effective:uint64:hex'],
  ['useradded', 'process/meta', 'MODIFIES_STATE', 'uid:uint32, gid:uint32, name:charbuf, home:charbuf, shell:charbuf, container_id:charbuf', na()],
  ['userdeleted', 'process/meta', 'MODIFIES_STATE', 'uid:uint32, gid:uint32, name:charbuf, home:charbuf, shell:charbuf, container_id:charbuf', na()],
  ['groupadded', 'process/meta', 'MODIFIES_STATE', 'gid:uint32, name:charbuf, container_id:charbuf', na()],
  // 360
  ['groupdeleted', 'process/meta', 'MODIFIES_STATE', 'gid:uint32, name:charbuf, container_id:charbuf', na()],
  ['dup2', 'io_other', 'CREATES_FD|USES_FD|MODIFIES_STATE', 'fd:fd', 'res:fd, oldfd:fd, newfd:fd'],
  ['dup3', 'io_other', 'CREATES_FD|USES_FD|MODIFIES_STATE', 'fd:fd', 'res:fd, oldfd:fd, newfd:fd, flags:flags32:hex:file_flags'],
  ['dup', 'io_other', 'CREATES_FD|USES_FD|MODIFIES_STATE', 'fd:fd', 'res:fd, oldfd:fd'],
  ['bpf', 'other', 'CREATES_FD', 'cmd:int64', 'fd:fd, cmd:enumflags32:dec:bpf_commands'],
  ['mlock2', 'memory', '', '', 'res:errno, addr:uint64:hex, len:uint64, flags:uint32:hex:mlock2_flags'],
  ['fsconfig', 'system', '', '', fl('USES_FD', 'res:errno, fd:fd, cmd:enumflags32:dec:fsconfig_cmds, key:charbuf, value_bytebuf:bytebuf, value_charbuf:charbuf, aux:int32')],
  ['epoll_create', 'wait', 'CREATES_FD|MODIFIES_STATE', 'size:int32', 'res:errno, size:int32'],
  ['epoll_create1', 'wait', 'CREATES_FD|MODIFIES_STATE', 'flags:flags32:hex:epoll_create1_flags', 'res:errno, flags:flags32:hex:epoll_create1_flags'],
  ['chown', 'file', '', '', 'res:errno, path:fspath, uid:uint32, gid:uint32'],
  // 380
  ['lchown', 'file', '', '', 'res:errno, path:fspath, uid:uint32, gid:uint32'],
  ['fchown', 'file', '', '', fl('USES_FD', 'res:errno, fd:fd, uid:uint32, gid:uint32')],
  ['fchownat', 'file', '', '', 'res:errno, dirfd:fd, pathname:fsrelpath:na:1, uid:uint32, gid:uint32, flags:flags32:hex:fchownat_flags'],
  ['umount', 'file', 'MODIFIES_STATE', '', 'res:errno, name:fspath'],
  ['accept4', 'net', 'CREATES_FD|MODIFIES_STATE', 'flags:int32:hex', `${ACCEPT_5}, flags:int32:hex`],
  ['umount2', 'file', 'MODIFIES_STATE', 'flags:flags32:hex:umount_flags', 'res:errno, name:fspath, flags:flags32:hex:umount_flags'],
  ['pipe2', 'ipc', 'CREATES_FD|MODIFIES_STATE', '', 'res:errno, fd1:fd, fd2:fd, ino:uint64, flags:flags32:hex:file_flags'],
  ['inotify_init1', 'ipc', 'CREATES_FD|MODIFIES_STATE', '', 'res:fd, flags:flags16:hex:file_flags'],
  ['eventfd2', 'ipc', 'CREATES_FD|MODIFIES_STATE', 'initval:uint64', 'res:fd, flags:flags16:hex:file_flags, initval:uint64'],
  ['signalfd4', 'signal', 'CREATES_FD|MODIFIES_STATE', 'fd:fd, mask:uint32:hex', 'res:fd, flags:flags16:hex, fd:fd, mask:uint32:hex'],
  // 400
  ['prctl', 'process', 'MODIFIES_STATE', '', 'res:errno, option:enumflags32:dec:prctl_options, arg2_str:charbuf, arg2_int:int64'],
  ['asyncevent', 'other/meta', 'LARGE_PAYLOAD', 'plugin_id:uint32, name:charbuf, data:bytebuf', na()],
  ['memfd_create', 'memory', 'CREATES_FD|MODIFIES_STATE', '', 'fd:fd, name:charbuf, flags:flags32:hex:memfd_create_flags'],
  ['pidfd_getfd', 'process', 'CREATES_FD|MODIFIES_STATE', '', 'fd:fd, pid_fd:fd, target_fd:fd, flags:flags32:hex'],
  // Newer libs name the flag tables of pidfd_open and finit_module; the names are used here.
  ['pidfd_open', 'process', 'CREATES_FD|MODIFIES_STATE', '', 'fd:fd, pid:pid, flags:flags32:hex:pidfd_open_flags'],
  ['init_module', 'other', '', '', 'res:errno, img:bytebuf, length:uint64, uargs:charbuf'],
  ['finit_module', 'other', '', '', fl('USES_FD|READS_FROM_FD', 'res:errno, fd:fd, uargs:charbuf, flags:flags32:hex:finit_module_flags')],
  ['mknod', 'other', '', '', 'res:errno, path:fspath, mode:mode:oct:mknod_mode, dev:uint32'],
  ['mknodat', 'other', '', '', fl('USES_FD', 'res:errno, dirfd:fd, path:fsrelpath:na:1, mode:mode:oct:mknod_mode, dev:uint32')],
  ['newfstatat', 'file', '', '', fl('USES_FD', 'res:errno, dirfd:fd, path:fsrelpath:na:1, flags:flags32:hex:newfstatat_flags')],
  // 420
  ['process_vm_readv', 'ipc', '', '', 'res:errno, pid:pid, data:bytebuf'],
  ['process_vm_writev', 'ipc', '', '', 'res:errno, pid:pid, data:bytebuf'],
  ['delete_module', 'other', '', '', 'res:errno, name:charbuf, flags:flags32:hex:delete_module_flags'],
];

/**
 * Codes that carried EF_DROP_SIMPLE_CONS before libs removed the flag (the table sysdig 0.29.3 and
 * Falco's "simple consumer" mode used): high-volume events a low-overhead consumer may skip.
 */
const DROP_SIMPLE_CONS_CODES =
  '4-9 28-29 32-33 36-41 46-47 50-51 54-55 62-89 92-93 112-123 134-137 140-143 146 150-152 158-167 ' +
  '188-189 202-213 232 234 236-239 250-255 262-265 290 328-329 344-351';

function codeSet(spec: string): ReadonlySet<number> {
  const out = new Set<number>();
  for (const part of spec.split(' ')) {
    const [from = '', to] = part.split('-');
    for (let c = Number(from); c <= Number(to ?? from); c++) out.add(c);
  }
  return out;
}

const PARAM_TYPES: ReadonlySet<string> = new Set<ParamType>([
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'charbuf', 'bytebuf',
  'errno', 'sockaddr', 'socktuple', 'fd', 'pid', 'fdlist', 'fspath', 'syscallid', 'sigtype',
  'reltime', 'abstime', 'port', 'l4proto', 'sockfamily', 'bool', 'ipv4addr', 'dyn', 'flags8',
  'flags16', 'flags32', 'uid', 'gid', 'double', 'sigset', 'charbufarray', 'charbuf_pair_array',
  'ipv4net', 'ipv6addr', 'ipv6net', 'ipaddr', 'ipnet', 'mode', 'fsrelpath', 'enumflags8',
  'enumflags16', 'enumflags32',
]);
const FORMATS: ReadonlySet<string> = new Set<PrintFormat>(['na', 'dec', 'hex', '10_padded_dec', 'id', 'dir', 'oct']);
// Types whose params libs declares PF_NA unless the table says otherwise; all others default to PF_DEC.
const NA_BY_DEFAULT: ReadonlySet<string> = new Set([
  'charbuf', 'bytebuf', 'sockaddr', 'socktuple', 'fspath', 'fsrelpath', 'charbufarray', 'charbuf_pair_array',
]);
const SOURCES: Readonly<Record<string, EventSource>> = { tp: 'tracepoint', meta: 'metaevent', plugin: 'plugin' };

function parseFlags(spec: string): number {
  let bits = 0;
  for (const name of spec.split('|')) {
    if (name === '') continue;
    const bit = (EVENT_FLAGS as Readonly<Record<string, number>>)[name];
    if (bit === undefined) throw new Error(`event table: unknown flag ${name}`);
    bits |= bit;
  }
  return bits;
}

function parseParams(spec: string): ParamInfo[] {
  if (spec === '') return [];
  return spec.split(', ').map((p) => {
    const [name = '', type = '', format, info] = p.split(':');
    if (!PARAM_TYPES.has(type)) throw new Error(`event table: param ${name} has unknown type ${type}`);
    const fmt = format ?? (NA_BY_DEFAULT.has(type) ? 'na' : 'dec');
    if (!FORMATS.has(fmt)) throw new Error(`event table: param ${name} has unknown format ${fmt}`);
    const base = { name, type: type as ParamType, format: fmt as PrintFormat };
    if (info === undefined) return Object.freeze(base);
    return Object.freeze({ ...base, info: /^\d+$/.test(info) ? Number(info) : info });
  });
}

function buildTable(): readonly EventInfo[] {
  const out: EventInfo[] = [];
  for (const [name, cat, flags, enter, exit] of PAIRS) {
    const [category = '', src] = cat.split('/');
    const source = src === undefined ? 'syscall' : SOURCES[src];
    if (source === undefined) throw new Error(`event table: unknown source ${src}`);
    const bits = parseFlags(flags);
    const code = out.length;
    out.push(Object.freeze({
      code, name, dir: '>', category: category as EventCategory, source, flags: bits,
      params: Object.freeze(parseParams(enter)),
    }));
    if (typeof exit === 'string') {
      out.push(Object.freeze({ ...out[code]!, code: code + 1, dir: '<', params: Object.freeze(parseParams(exit)) }));
    } else if (exit.na) {
      out.push(Object.freeze({
        code: code + 1, name: 'NA', dir: '<', category: 'unknown', source: 'none',
        flags: parseFlags(exit.flags ?? 'UNUSED'), params: Object.freeze([]),
      }));
    } else {
      out.push(Object.freeze({
        ...out[code]!, code: code + 1, dir: '<', flags: exit.flags === undefined ? bits : parseFlags(exit.flags),
        params: Object.freeze(parseParams(exit.params ?? '')),
      }));
    }
  }
  if (out.length !== PPM_EVENT_MAX) throw new Error(`event table has ${out.length} codes, expected ${PPM_EVENT_MAX}`);
  const drop = codeSet(DROP_SIMPLE_CONS_CODES);
  return Object.freeze(out.map((e) => (drop.has(e.code) ? Object.freeze({ ...e, flags: e.flags | EVENT_FLAGS.DROP_SIMPLE_CONS }) : e)));
}

/** Every event code's info, indexed by code. */
export const EVENT_TABLE: readonly EventInfo[] = buildTable();

const BY_NAME: ReadonlyMap<string, readonly number[]> = (() => {
  const m = new Map<string, number[]>();
  for (const e of EVENT_TABLE) {
    if (e.flags & EVENT_FLAGS.UNUSED && e.name === 'NA') continue;
    const list = m.get(e.name);
    if (list) list.push(e.code);
    else m.set(e.name, [e.code]);
  }
  return m;
})();

/** The info of an event code, or undefined when the code is beyond this table (a newer capture). */
export function eventInfo(code: number): EventInfo | undefined {
  return EVENT_TABLE[code];
}

/**
 * Every code with this `evt.type` name (all versions of the event, old ones included), optionally
 * only one direction. Unused `NA` slots are not listed.
 */
export function eventCodes(name: string, dir?: EventDirection): readonly number[] {
  const codes = BY_NAME.get(name) ?? [];
  return dir === undefined ? codes : codes.filter((c) => EVENT_TABLE[c]?.dir === dir);
}

/** True when the event's params have 32-bit lengths in its length array. */
export function hasLargePayload(code: number): boolean {
  return ((EVENT_TABLE[code]?.flags ?? 0) & EVENT_FLAGS.LARGE_PAYLOAD) !== 0;
}

// PPM_SC syscall codes 0..442 (ppm_events_public.h's PPM_SC_FIELDS), lower case; `-` is an unused code.
// The generic `syscall` event's ID param is one of these.
const SYSCALL_LIST =
  'unknown restart_syscall exit read write open close creat link unlink chdir time mknod chmod stat lseek ' +
  'getpid mount ptrace alarm fstat pause utime access sync kill rename mkdir rmdir dup pipe times brk acct ' +
  'ioctl fcntl setpgid umask chroot ustat dup2 getppid getpgrp setsid sethostname setrlimit getrusage ' +
  'gettimeofday settimeofday symlink lstat readlink uselib swapon reboot mmap munmap truncate ftruncate ' +
  'fchmod getpriority setpriority statfs fstatfs syslog setitimer getitimer uname vhangup wait4 swapoff ' +
  'sysinfo fsync setdomainname adjtimex mprotect init_module delete_module quotactl getpgid fchdir sysfs ' +
  'personality getdents select flock msync readv writev getsid fdatasync mlock munlock mlockall munlockall ' +
  'sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_yield sched_get_priority_max ' +
  'sched_get_priority_min sched_rr_get_interval nanosleep mremap poll prctl rt_sigaction rt_sigprocmask ' +
  'rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend getcwd capget capset sendfile getrlimit ' +
  'lchown getuid getgid geteuid getegid setreuid setregid getgroups setgroups fchown setresuid getresuid ' +
  'setresgid getresgid chown setuid setgid setfsuid setfsgid pivot_root mincore madvise gettid setxattr ' +
  'lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr ' +
  'lremovexattr fremovexattr tkill futex sched_setaffinity sched_getaffinity set_thread_area ' +
  'get_thread_area io_setup io_destroy io_getevents io_submit io_cancel exit_group epoll_create epoll_ctl ' +
  'epoll_wait remap_file_pages set_tid_address timer_create timer_settime timer_gettime timer_getoverrun ' +
  'timer_delete clock_settime clock_gettime clock_getres clock_nanosleep tgkill utimes mq_open mq_unlink ' +
  'mq_timedsend mq_timedreceive mq_notify mq_getsetattr kexec_load waitid add_key request_key keyctl ' +
  'ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch openat mkdirat mknodat fchownat ' +
  'futimesat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare ' +
  'set_robust_list get_robust_list splice tee vmsplice getcpu epoll_pwait utimensat signalfd ' +
  'timerfd_create eventfd timerfd_settime timerfd_gettime signalfd4 eventfd2 epoll_create1 dup3 pipe2 ' +
  'inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open fanotify_init prlimit64 clock_adjtime ' +
  'syncfs setns getdents64 socket bind connect listen accept getsockname getpeername socketpair sendto ' +
  'recvfrom shutdown setsockopt getsockopt sendmsg sendmmsg recvmsg recvmmsg accept4 semop semget semctl ' +
  'msgsnd msgrcv msgget msgctl shmdt shmget shmctl statfs64 fstatfs64 fstatat64 sendfile64 ugetrlimit ' +
  'bdflush sigprocmask ipc socketcall stat64 lstat64 fstat64 fcntl64 mmap2 _newselect sgetmask ssetmask ' +
  'sigpending olduname umount signal nice stime _llseek waitpid pread64 pwrite64 arch_prctl shmat ' +
  'rt_sigreturn fallocate newfstatat process_vm_readv process_vm_writev fork vfork setuid32 getuid32 ' +
  'setgid32 geteuid32 getgid32 setresuid32 setresgid32 getresuid32 getresgid32 finit_module bpf seccomp ' +
  'sigaltstack getrandom fadvise64 renameat2 userfaultfd openat2 umount2 execve execveat copy_file_range ' +
  'clone clone3 open_by_handle_at io_uring_setup io_uring_enter io_uring_register mlock2 getegid32 ' +
  'fsconfig fspick fsmount fsopen open_tree move_mount mount_setattr memfd_create memfd_secret ioperm ' +
  'kexec_file_load pidfd_getfd pidfd_open pidfd_send_signal pkey_alloc pkey_mprotect pkey_free ' +
  'landlock_create_ruleset quotactl_fd landlock_restrict_self landlock_add_rule epoll_pwait2 ' +
  'migrate_pages move_pages preadv2 pwritev2 kcmp sched_setattr mbind epoll_ctl_old lookup_dcookie ' +
  'modify_ldt statx set_mempolicy io_pgetevents set_mempolicy_home_node semtimedop get_kernel_syms ' +
  'readahead futex_waitv getpmsg name_to_handle_at process_mrelease nfsservctl epoll_wait_old rseq ' +
  'create_module - sched_getattr faccessat2 _sysctl query_module get_mempolicy sync_file_range ' +
  'process_madvise membarrier iopl close_range fanotify_mark recv send sched_process_exit sched_switch ' +
  'page_fault_user page_fault_kernel signal_deliver timerfd s390_pci_mmio_read sigaction ' +
  's390_pci_mmio_write readdir s390_sthyi sigsuspend idle s390_runtime_instr sigreturn ' +
  's390_guarded_storage cachestat fchmodat2 map_shadow_stack riscv_flush_icache riscv_hwprobe futex_wake ' +
  'futex_requeue futex_wait oldstat switch_endian multiplexer oldlstat spu_create sync_file_range2 ' +
  'oldfstat spu_run swapcontext pciconfig_write rtas pciconfig_read sys_debug_setcontext vm86 ' +
  'oldolduname subpage_prot pciconfig_iobase listmount statmount lsm_get_self_attr lsm_set_self_attr ' +
  'lsm_list_modules mseal';

/** PPM_SC names by code (`undefined` for an unused code). */
export const SYSCALL_NAMES: readonly (string | undefined)[] = Object.freeze(
  SYSCALL_LIST.split(' ').map((n) => (n === '-' ? undefined : n)),
);

const SYSCALL_IDS: ReadonlyMap<string, number> = new Map(
  SYSCALL_NAMES.flatMap((n, i) => (n === undefined ? [] : [[n, i] as const])),
);

/** Name of a PPM_SC syscall code (what a generic event's ID param carries). */
export function syscallName(id: number): string | undefined {
  return SYSCALL_NAMES[id];
}

/** PPM_SC code of a syscall name. */
export function syscallId(name: string): number | undefined {
  return SYSCALL_IDS.get(name);
}
