// Event types `evt.type` can name: libsinsp's event table (one entry per name, enter and exit
// alike) plus every syscall name libs knows (syscalls without a dedicated event arrive as generic
// `syscall` events and still carry their own name), with the category and flags Falco uses to
// leave high-volume events out unless run with -A, and each event's argument names.

/** libsinsp event categories (ppm_event_category without the EC_ prefix, lower-cased). */
export type EventCategory =
  | 'file'
  | 'net'
  | 'ipc'
  | 'memory'
  | 'process'
  | 'sleep'
  | 'system'
  | 'signal'
  | 'user'
  | 'time'
  | 'io_read'
  | 'io_write'
  | 'io_other'
  | 'wait'
  | 'scheduler'
  | 'internal'
  | 'plugin'
  | 'metaevent'
  | 'other';

export interface EventTypeInfo {
  readonly name: string;
  /** True for syscalls, false for libsinsp's own events (procexit, container, switch, ...). */
  readonly syscall: boolean;
  readonly category: EventCategory;
  /** libsinsp's EF_DROP_SIMPLE_CONS: the event is dropped by "simple consumer" mode. */
  readonly dropSimpleCons: boolean;
  /** libsinsp's EF_MODIFIES_STATE: the state engine needs the event even when no rule names it. */
  readonly modifiesState: boolean;
  /**
   * Left out unless -A is given: Falco ignores I/O read/write syscalls that do not feed the state
   * engine, because of their volume.
   */
  readonly skippedByDefault: boolean;
  /** No dedicated event: the syscall is seen as a generic `syscall` event carrying this name. */
  readonly generic: boolean;
  /** Argument names of the exit event, in libsinsp's order; empty when the event has none recorded. */
  readonly args: readonly string[];
}

// One line per event with a dedicated libsinsp event: `name category [flags] | exit-event args`.
// Flags: `drop` (EF_DROP_SIMPLE_CONS), `state` (EF_MODIFIES_STATE), `meta` (not a syscall).
const DEDICATED = `
open file state | fd name flags mode dev ino
openat file state | fd dirfd name flags mode dev ino
openat2 file state | fd dirfd name flags mode resolve dev ino
creat file state | fd name mode dev ino
open_by_handle_at file state | fd mountfd flags path dev ino
close io_other state drop | res fd
read io_read drop | res data fd size
write io_write drop | res data fd size
pread io_read drop | res data fd size pos
pwrite io_write drop | res data fd size pos
readv io_read drop | res size data fd
writev io_write drop | res data fd size
preadv io_read drop | res size data fd pos
pwritev io_write drop | res data fd size pos
send io_write drop | res data fd size
recv io_read drop | res data fd size
sendto io_write state | res data fd size tuple
recvfrom io_read state | res data tuple fd size
sendmsg io_write state | res data fd size tuple
recvmsg io_read state | res size data tuple msgcontrol fd
sendmmsg io_write drop | res fd data size tuple
recvmmsg io_read drop | res fd size data tuple msgcontrol
sendfile io_write drop | res offset out_fd in_fd size
splice io_other drop | res fd_in fd_out size flags
copy_file_range file | res fdout offout fdin offin len flags
socket net state | fd domain type proto
bind net state | res addr fd
connect net state | res tuple fd addr
listen net | res fd backlog
accept net state | fd tuple queuepct queuelen queuemax
accept4 net state | fd tuple queuepct queuelen queuemax flags
shutdown net state drop | res fd how
getsockname net drop |
getpeername net drop |
socketpair ipc state | res fd1 fd2 source peer domain type proto
setsockopt net | res fd level optname val optlen
getsockopt net state drop | res fd level optname val optlen
pipe ipc state | res fd1 fd2 ino
pipe2 ipc state | res fd1 fd2 ino flags
eventfd ipc state drop | res initval flags
eventfd2 ipc state drop | res flags initval
signalfd signal state | res fd mask flags
signalfd4 signal state | res flags fd mask
inotify_init ipc state | res flags
inotify_init1 ipc state | res flags
timerfd_create time state drop | res clockid flags
epoll_create wait state drop | res size
epoll_create1 wait state drop | res flags
futex ipc drop | res addr op val
stat file drop | res path
lstat file drop | res path
fstat file drop | res fd
stat64 file drop | res path
lstat64 file drop | res path
fstat64 file drop | res fd
newfstatat file drop | res dirfd path flags
epoll_wait wait drop | res maxevents
poll wait drop | res fds timeout
ppoll wait drop | res fds timeout sigmask
select wait drop | res
lseek file drop | res fd offset whence
llseek file drop | res fd offset whence
ioctl io_other | res fd request argument
getcwd file drop | res path
chdir file state | res path
fchdir file state | res fd
chroot process state | res path
mkdir file | res path mode
mkdirat file | res dirfd path mode
rmdir file | res path
unlink file | res path
unlinkat file | res dirfd name flags
link file | res oldpath newpath
linkat file | res olddir oldpath newdir newpath flags
symlink file | res target linkpath
symlinkat file | res target linkdirfd linkpath
rename file | res oldpath newpath
renameat file | res olddirfd oldpath newdirfd newpath
renameat2 file | res olddirfd oldpath newdirfd newpath flags
chmod file | res filename mode
fchmod file | res fd mode
fchmodat file | res dirfd filename mode
chown file | res path uid gid
lchown file | res path uid gid
fchown file | res fd uid gid
fchownat file | res dirfd pathname uid gid flags
mknod file | res path mode dev
mknodat file | res dirfd path mode dev
access file | res mode name
flock file | res fd operation
fcntl io_other state drop | res fd cmd
dup io_other state | res oldfd
dup2 io_other state | res oldfd newfd
dup3 io_other state | res oldfd newfd flags
mount file state | res dev dir type flags
umount file state | res name flags
umount2 file state | res name flags
getdents file drop | res fd
getdents64 file drop | res fd
memfd_create memory state | fd name flags
userfaultfd file state | res flags
execve process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups env tty vpgid loginuid flags cap_inheritable cap_permitted cap_effective exe_ino exe_ino_ctime exe_ino_mtime uid trusted_exepath pgid gid filename
execveat process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups env tty vpgid loginuid flags cap_inheritable cap_permitted cap_effective exe_ino exe_ino_ctime exe_ino_mtime uid trusted_exepath pgid gid dirfd pathname
clone process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups flags uid gid vtid vpid pidns_init_start_ts
clone3 process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups flags uid gid vtid vpid pidns_init_start_ts
fork process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups flags uid gid vtid vpid pidns_init_start_ts
vfork process state | res exe args tid pid ptid cwd fdlimit pgft_maj pgft_min vm_size vm_rss vm_swap comm cgroups flags uid gid vtid vpid pidns_init_start_ts
kill signal | res pid sig
tkill signal | res tid sig
tgkill signal | res pid tid sig
ptrace process | res addr data request pid
prctl process state | res option arg2_str arg2_int
capset process state | res cap_inheritable cap_permitted cap_effective
setuid user state | res uid
setgid user state | res gid
setreuid user state | res ruid euid
setregid user state | res rgid egid
setresuid user state | res ruid euid suid
setresgid user state | res rgid egid sgid
getuid user drop | uid
geteuid user drop | euid
getgid user drop | gid
getegid user drop | egid
getresuid user drop | res ruid euid suid
getresgid user drop | res rgid egid sgid
setsid process state | res
setpgid process state | res pid pgid
setns process state | res fd nstype
unshare process state | res flags
seccomp process | res op
getrlimit process drop | res cur max resource
setrlimit process drop | res cur max resource
prlimit process | res newcur newmax oldcur oldmax pid resource
nanosleep sleep drop | res interval
brk memory drop | res vm_size vm_rss vm_swap addr
mmap memory drop | res vm_size vm_rss vm_swap addr length prot flags fd offset
mmap2 memory drop | res vm_size vm_rss vm_swap addr length prot flags fd pgoffset
munmap memory drop | res vm_size vm_rss vm_swap addr length
mprotect memory drop | res addr length prot
mlock memory | res addr len
munlock memory | res addr len
mlockall memory | res flags
munlockall memory | res
mlock2 memory | res addr len flags
bpf system | res_or_fd cmd
init_module system | res uargs length img
finit_module system | res fd uargs flags
quotactl user | res special quotafilepath cmd type id quota_fmt
semop ipc drop | res nsops sem_num_0 sem_op_0 sem_flg_0 sem_num_1 sem_op_1 sem_flg_1 semid sops
semget ipc | res key nsems semflg
semctl ipc | res semid semnum cmd val
io_uring_setup io_other state | res entries sq_entries cq_entries flags sq_thread_cpu sq_thread_idle features
io_uring_enter io_other | res fd to_submit min_complete flags sig
io_uring_register io_other | res fd opcode arg nr_args
pidfd_open process state | fd pid flags
pidfd_getfd process state | fd pid_fd target_fd flags
process_vm_readv io_read | res data pid
process_vm_writev io_write | res data pid
fsconfig file | res fd cmd key value_bytebuf value_charbuf aux
procexit process state meta | status ret sig core reaper_tid
switch scheduler drop meta | next pgft_maj pgft_min vm_size vm_rss vm_swap
signaldeliver signal meta | spid dpid sig
page_fault other meta | addr ip error
procinfo internal meta | cpu_usr cpu_sys
container internal state meta | id type name image
notification internal meta | id desc
infra internal meta | source name description scope
drop internal meta | ratio
cpu_hotplug system meta | cpu action
useradded internal meta | uid gid name home shell container_id
userdeleted internal meta | uid gid name home shell container_id
groupadded internal meta | gid name container_id
groupdeleted internal meta | gid name container_id
pluginevent plugin meta | plugin_id event_data
asyncevent internal meta | plugin_id name data
scapevent internal meta | event_type event_data
tracer other meta | id tags args
`;

// Syscall names libs knows (its ppm_sc table covers the kernel's syscall list), for the many
// syscalls without a dedicated event. Names in DEDICATED take precedence.
const SYSCALL_NAMES = `
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask
rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield mremap msync mincore madvise
shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm setitimer getpid sendfile socket connect accept
sendto recvfrom sendmsg recvmsg shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt
clone fork vfork execve exit wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl
flock fsync fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo times ptrace
getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid capget capset
rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack utime mknod uselib personality ustat
statfs fstatfs sysfs getpriority setpriority sched_setparam sched_getparam sched_setscheduler
sched_getscheduler sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock munlock mlockall
munlockall vhangup modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex setrlimit chroot sync acct
settimeofday mount umount2 swapon swapoff reboot sethostname setdomainname iopl ioperm create_module
init_module delete_module get_kernel_syms query_module quotactl nfsservctl getpmsg putpmsg afs_syscall
tuxcall security gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr
llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex sched_setaffinity
sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit io_cancel get_thread_area
lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old remap_file_pages getdents64 set_tid_address
restart_syscall semtimedop fadvise64 timer_create timer_settime timer_gettime timer_getoverrun timer_delete
clock_settime clock_gettime clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes
vserver mbind set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
mq_getsetattr kexec_load waitid add_key request_key keyctl ioprio_set ioprio_get inotify_init
inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat newfstatat
unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare set_robust_list
get_robust_list splice tee sync_file_range vmsplice move_pages utimensat epoll_pwait signalfd timerfd_create
eventfd fallocate timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2
inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open recvmmsg fanotify_init fanotify_mark prlimit64
name_to_handle_at open_by_handle_at clock_adjtime syncfs sendmmsg setns getcpu process_vm_readv
process_vm_writev kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create
kexec_file_load bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect
pkey_alloc pkey_free statx io_pgetevents rseq pidfd_send_signal io_uring_setup io_uring_enter
io_uring_register open_tree move_mount fsopen fsconfig fsmount fspick pidfd_open clone3 close_range openat2
pidfd_getfd faccessat2 process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset
landlock_add_rule landlock_restrict_self memfd_secret process_mrelease futex_waitv set_mempolicy_home_node
socketcall ipc umount stat64 fstat64 lstat64 fstatat64 mmap2 send recv llseek sigaction sigreturn
`;

/** Generic syscalls whose volume Falco avoids without -A (I/O that does not feed the state engine). */
const GENERIC_IO = new Set(['pread64', 'pwrite64', 'preadv2', 'pwritev2', 'process_vm_readv', 'process_vm_writev']);

const TABLE: ReadonlyMap<string, EventTypeInfo> = (() => {
  const m = new Map<string, EventTypeInfo>();
  for (const raw of DEDICATED.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const bar = line.indexOf('|');
    const [name, category, ...flags] = line.slice(0, bar).trim().split(/\s+/);
    const args = line.slice(bar + 1).trim().split(/\s+/).filter(Boolean);
    const cat = category as EventCategory;
    const modifiesState = flags.includes('state');
    m.set(name!, {
      name: name!,
      syscall: !flags.includes('meta'),
      category: cat,
      dropSimpleCons: flags.includes('drop'),
      modifiesState,
      skippedByDefault: (cat === 'io_read' || cat === 'io_write') && !modifiesState,
      generic: false,
      args,
    });
  }
  for (const name of SYSCALL_NAMES.split(/\s+/)) {
    if (name === '' || m.has(name)) continue;
    m.set(name, {
      name,
      syscall: true,
      category: 'other',
      dropSimpleCons: false,
      modifiesState: false,
      skippedByDefault: GENERIC_IO.has(name),
      generic: true,
      args: [],
    });
  }
  return m;
})();

const ALL: readonly EventTypeInfo[] = [...TABLE.values()];

/** Every argument name any event has, for checking `evt.arg.NAME` and `evt.rawarg.NAME`. */
const ARG_NAMES: ReadonlySet<string> = new Set(ALL.flatMap((e) => e.args));

export function isKnownEventType(name: string): boolean {
  return TABLE.has(name);
}

export function eventTypeInfo(name: string): EventTypeInfo | undefined {
  return TABLE.get(name);
}

export function allEventTypes(): readonly EventTypeInfo[] {
  return ALL;
}

/** True when some event has an argument of this name (what `evt.arg.NAME` may name). */
export function isKnownEventArg(name: string): boolean {
  return ARG_NAMES.has(name);
}
