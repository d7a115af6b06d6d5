// Kernel values to libscap's (PPM_*) encodings, where the two differ: the event table's name tables
// and renderers speak libscap's values, the probe sends the kernel's.

import { FLAG_TABLES } from '@harrier/events';

const bit = (n: number): number => 2 ** n;

/** open(2) flags to PPM_O_*. */
export function openFlags(k: number, created = false): number {
  let p = 0;
  const acc = k & 3;
  if (acc === 0) p |= bit(0);
  else if (acc === 1) p |= bit(1);
  else if (acc === 2) p |= 3;
  if (k & 0o100) p |= bit(2); // O_CREAT
  if (k & 0o200) p |= bit(5); // O_EXCL
  if (k & 0o1000) p |= bit(8); // O_TRUNC
  if (k & 0o2000) p |= bit(3); // O_APPEND
  if (k & 0o4000) p |= bit(6); // O_NONBLOCK
  if (k & 0o10000) p |= bit(4); // O_DSYNC
  if (k & 0o4000000) p |= bit(7); // __O_SYNC
  if (k & 0o40000) p |= bit(9); // O_DIRECT
  if (k & 0o100000) p |= bit(11); // O_LARGEFILE
  if ((k & 0o20200000) === 0o20200000) p |= bit(13); // O_TMPFILE
  else if (k & 0o200000) p |= bit(10); // O_DIRECTORY
  if (k & 0o2000000) p |= bit(12); // O_CLOEXEC
  if (created) p |= bit(14); // PPM_O_F_CREATED
  return p >>> 0;
}

/** O_CLOEXEC/O_NONBLOCK style flags (pipe2, dup3, userfaultfd) to PPM_O_*, without the access mode. */
export function fdFlags(k: number): number {
  let p = 0;
  if (k & 0o4000) p |= bit(6);
  if (k & 0o2000000) p |= bit(12);
  return p;
}

/** The mode an open passes, as libscap keeps it: only when the open can create. */
export function openMode(flags: number, mode: number): number {
  return flags & 0o100 || (flags & 0o20200000) === 0o20200000 ? mode & 0o7777 : 0;
}

const CLONE: readonly (readonly [number, number])[] = [
  [0x400, 0], // CLONE_FILES
  [0x200, 1], // CLONE_FS
  [0x80000000, 2], // CLONE_IO
  [0x08000000, 3], // CLONE_NEWIPC
  [0x40000000, 4], // CLONE_NEWNET
  [0x20000, 5], // CLONE_NEWNS
  [0x20000000, 6], // CLONE_NEWPID
  [0x04000000, 7], // CLONE_NEWUTS
  [0x8000, 8], // CLONE_PARENT
  [0x100000, 9], // CLONE_PARENT_SETTID
  [0x2000, 10], // CLONE_PTRACE
  [0x800, 11], // CLONE_SIGHAND
  [0x40000, 12], // CLONE_SYSVSEM
  [0x10000, 13], // CLONE_THREAD
  [0x800000, 14], // CLONE_UNTRACED
  [0x100, 15], // CLONE_VM
  [0x10000000, 20], // CLONE_NEWUSER
  [0x200000, 23], // CLONE_CHILD_CLEARTID
  [0x1000000, 24], // CLONE_CHILD_SETTID
  [0x80000, 25], // CLONE_SETTLS
  [0x4000, 27], // CLONE_VFORK
  [0x02000000, 28], // CLONE_NEWCGROUP
];

/** clone/unshare/setns flags to PPM_CL_*. */
export function cloneFlags(k: number): number {
  let p = 0;
  for (const [kv, b] of CLONE) if ((k & kv) >>> 0) p |= bit(b);
  return p >>> 0;
}

const FCNTL: Readonly<Record<number, number>> = {
  0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 8, 7: 9, 8: 10, 9: 12, 10: 13, 11: 15, 15: 21, 16: 22,
  1024: 23, 1025: 24, 1026: 27, 1029: 25, 1030: 26, 1031: 28, 1032: 29, 36: 30, 37: 31, 38: 32,
};

/** fcntl commands to PPM_FCNTL_* (0: unknown). */
export function fcntlCmd(k: number): number {
  return FCNTL[k] ?? 0;
}

/** fchownat: libscap sends AT_SYMLINK_NOFOLLOW as PPM_AT_SYMLINK_FOLLOW's bit (0x400). */
export function fchownatFlags(k: number): number {
  return (k & 0x100 ? 0x400 : 0) | (k & 0x1000);
}

/** mount(2) flags without the legacy magic number in the high half. */
export function mountFlags(k: number): number {
  return ((k & 0xffff0000) >>> 0) === 0xc0ed0000 ? k & 0xffff : k >>> 0;
}

/** Kernel ptrace request numbers by name; libscap's values come from its name table. */
const PTRACE_KERNEL: Readonly<Record<string, number>> = {
  PTRACE_TRACEME: 0, PTRACE_PEEKTEXT: 1, PTRACE_PEEKDATA: 2, PTRACE_PEEKUSR: 3, PTRACE_POKETEXT: 4,
  PTRACE_POKEDATA: 5, PTRACE_POKEUSR: 6, PTRACE_CONT: 7, PTRACE_KILL: 8, PTRACE_SINGLESTEP: 9,
  PTRACE_GETREGS: 12, PTRACE_SETREGS: 13, PTRACE_GETFPREGS: 14, PTRACE_SETFPREGS: 15, PTRACE_ATTACH: 16,
  PTRACE_DETACH: 17, PTRACE_GETFPXREGS: 18, PTRACE_SETFPXREGS: 19, PTRACE_OLDSETOPTIONS: 21,
  PTRACE_SYSCALL: 24, PTRACE_GET_THREAD_AREA: 25, PTRACE_SET_THREAD_AREA: 26, PTRACE_ARCH_PRCTL: 30,
  PTRACE_SYSEMU: 31, PTRACE_SYSEMU_SINGLESTEP: 32, PTRACE_SINGLEBLOCK: 33, PTRACE_SETOPTIONS: 0x4200,
  PTRACE_GETEVENTMSG: 0x4201, PTRACE_GETSIGINFO: 0x4202, PTRACE_SETSIGINFO: 0x4203, PTRACE_GETREGSET: 0x4204,
  PTRACE_SETREGSET: 0x4205, PTRACE_SEIZE: 0x4206, PTRACE_INTERRUPT: 0x4207, PTRACE_LISTEN: 0x4208,
  PTRACE_PEEKSIGINFO: 0x4209, PTRACE_GETSIGMASK: 0x420a, PTRACE_SETSIGMASK: 0x420b,
};
const PTRACE = new Map<number, number>();
for (const [name, ppm] of FLAG_TABLES['ptrace_requests'] ?? []) {
  const k = PTRACE_KERNEL[name];
  if (k !== undefined) PTRACE.set(k, ppm);
}

/** ptrace requests to PPM_PTRACE_* (PPM_PTRACE_UNKNOWN, 0, for others). */
export function ptraceRequest(k: number): number {
  return PTRACE.get(k) ?? 0;
}

/** A kernel dev_t (major << 20 | minor) as libscap encodes it (new_encode_dev). */
export function encodeDev(dev: number): number {
  const major = dev >>> 20;
  const minor = dev & 0xfffff;
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
