// Event types `evt.type` can name: libsinsp's syscall events (one name per syscall, enter and exit
// alike) and its non-syscall events. `skippedByDefault` marks the events Falco leaves out unless
// run with -A (scheduler switches, I/O, polling and other high-volume noise).

export interface EventTypeInfo {
  readonly name: string;
  readonly syscall: boolean;
  readonly category: string;
  readonly skippedByDefault: boolean;
}

const SYSCALLS: Record<string, string> = {
  file: `open openat openat2 creat close read write pread64 pwrite64 readv writev preadv pwritev lseek llseek
    dup dup2 dup3 fcntl ioctl pipe pipe2 eventfd eventfd2 signalfd signalfd4 inotify_init inotify_init1
    mkdir mkdirat rmdir unlink unlinkat rename renameat renameat2 link linkat symlink symlinkat
    chmod fchmod fchmodat chown fchown fchownat lchown stat lstat fstat fstatat newfstatat statx
    access faccessat faccessat2 readlink readlinkat getdents getdents64 truncate ftruncate fsync fdatasync
    sendfile splice tee mmap mmap2 munmap mprotect mlock munlock mlockall munlockall mlock2 flock
    memfd_create userfaultfd open_by_handle_at name_to_handle_at fsconfig fsopen fsmount move_mount open_tree
    copy_file_range chroot chdir fchdir getcwd umask utime utimes utimensat futimesat
    setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr removexattr inotify_add_watch fanotify_init`,
  net: `socket socketpair connect accept accept4 bind listen shutdown sendto sendmsg sendmmsg recvfrom recvmsg
    recvmmsg getsockopt setsockopt getsockname getpeername`,
  process: `clone clone3 fork vfork execve execveat exit exit_group kill tkill tgkill wait4 waitid
    ptrace prctl arch_prctl setuid setgid setreuid setregid setresuid setresgid setfsuid setfsgid
    getuid geteuid getgid getegid getresuid getresgid setsid setpgid getpgid getsid getpid getppid gettid
    capset capget setns unshare seccomp personality setrlimit getrlimit prlimit nice
    sched_setaffinity sched_getaffinity sched_yield pidfd_open pidfd_getfd process_vm_readv process_vm_writev`,
  system: `mount umount umount2 pivot_root init_module finit_module delete_module bpf perf_event_open
    reboot kexec_load kexec_file_load syslog sysinfo uname sethostname setdomainname quotactl
    keyctl add_key request_key iopl ioperm swapon swapoff acct settimeofday clock_settime`,
  ipc: `futex semop semget semctl msgget msgsnd msgrcv shmget shmat shmdt shmctl mq_open mq_unlink
    pipe io_uring_setup io_uring_enter io_uring_register`,
  wait: `select pselect6 poll ppoll epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait nanosleep
    clock_nanosleep pause alarm timerfd_create timerfd_settime timerfd_gettime`,
  memory: `brk mremap madvise mincore mbind`,
  signal: `rt_sigaction rt_sigprocmask rt_sigreturn rt_sigsuspend rt_sigtimedwait sigaltstack signalfd`,
};

/** Syscall types Falco skips unless -A: high-frequency I/O and waiting that rules rarely need. */
const SKIPPED = new Set(
  `read write pread64 pwrite64 readv writev preadv pwritev sendfile splice tee futex select pselect6 poll ppoll
   epoll_wait epoll_pwait nanosleep clock_nanosleep lseek llseek fstat getdents getdents64 mmap mmap2 munmap
   mprotect brk rt_sigaction rt_sigprocmask rt_sigreturn getuid geteuid getgid getegid getpid getppid gettid
   sched_yield ioctl fcntl`.split(/\s+/),
);

/** Events that are not syscalls (libsinsp meta events and plugin/async events). */
const NON_SYSCALL: [string, string, boolean][] = [
  ['procexit', 'process', false],
  ['procinfo', 'process', true],
  ['switch', 'scheduler', true],
  ['signaldeliver', 'signal', false],
  ['page_fault', 'memory', true],
  ['container', 'internal', false],
  ['notification', 'internal', true],
  ['infra', 'internal', true],
  ['drop', 'internal', true],
  ['cpu_hotplug', 'internal', true],
  ['pluginevent', 'plugin', false],
  ['asyncevent', 'internal', false],
  ['sysdigevent', 'internal', true],
  ['tracer', 'internal', true],
  ['k8s', 'internal', true],
  ['mesos', 'internal', true],
  ['scapevent', 'internal', true],
];

const TABLE: ReadonlyMap<string, EventTypeInfo> = (() => {
  const m = new Map<string, EventTypeInfo>();
  for (const [category, names] of Object.entries(SYSCALLS)) {
    for (const name of names.split(/\s+/).filter(Boolean)) {
      if (!m.has(name)) m.set(name, { name, syscall: true, category, skippedByDefault: SKIPPED.has(name) });
    }
  }
  for (const [name, category, skipped] of NON_SYSCALL) m.set(name, { name, syscall: false, category, skippedByDefault: skipped });
  return m;
})();

export function isKnownEventType(name: string): boolean {
  return TABLE.has(name);
}

export function eventTypeInfo(name: string): EventTypeInfo | undefined {
  return TABLE.get(name);
}

export function allEventTypes(): readonly EventTypeInfo[] {
  return [...TABLE.values()];
}
