/*
 * The syscalls the probe can trace: x86_64 numbers, and the kernel function each fexit program
 * attaches to (__x64_sys_<fn>). One list feeds the programs, the loader's name table and the docs.
 */
#ifndef HARRIER_SYSCALLS_H
#define HARRIER_SYSCALLS_H

/* X(kernel function, syscall name, x86_64 number) */
#define HRR_SYSCALL_TABLE(X)          \
	X(open, open, 2)              \
	X(close, close, 3)            \
	X(pipe, pipe, 22)             \
	X(dup, dup, 32)               \
	X(dup2, dup2, 33)             \
	X(socket, socket, 41)         \
	X(connect, connect, 42)       \
	X(accept, accept, 43)         \
	X(sendto, sendto, 44)         \
	X(recvfrom, recvfrom, 45)     \
	X(sendmsg, sendmsg, 46)       \
	X(recvmsg, recvmsg, 47)       \
	X(bind, bind, 49)             \
	X(listen, listen, 50)         \
	X(socketpair, socketpair, 53) \
	X(clone, clone, 56)           \
	X(fork, fork, 57)             \
	X(vfork, vfork, 58)           \
	X(execve, execve, 59)         \
	X(fcntl, fcntl, 72)           \
	X(chdir, chdir, 80)           \
	X(fchdir, fchdir, 81)         \
	X(rename, rename, 82)         \
	X(mkdir, mkdir, 83)           \
	X(rmdir, rmdir, 84)           \
	X(creat, creat, 85)           \
	X(link, link, 86)             \
	X(unlink, unlink, 87)         \
	X(symlink, symlink, 88)       \
	X(chmod, chmod, 90)           \
	X(fchmod, fchmod, 91)         \
	X(chown, chown, 92)           \
	X(fchown, fchown, 93)         \
	X(lchown, lchown, 94)         \
	X(ptrace, ptrace, 101)        \
	X(setuid, setuid, 105)        \
	X(setgid, setgid, 106)        \
	X(setresuid, setresuid, 117)  \
	X(setresgid, setresgid, 119)  \
	X(prctl, prctl, 157)          \
	X(mount, mount, 165)          \
	X(umount, umount2, 166)       \
	X(init_module, init_module, 175) \
	X(unshare, unshare, 272)      \
	X(openat, openat, 257)        \
	X(mkdirat, mkdirat, 258)      \
	X(fchownat, fchownat, 260)    \
	X(unlinkat, unlinkat, 263)    \
	X(renameat, renameat, 264)    \
	X(linkat, linkat, 265)        \
	X(symlinkat, symlinkat, 266)  \
	X(fchmodat, fchmodat, 268)    \
	X(accept4, accept4, 288)      \
	X(dup3, dup3, 292)            \
	X(pipe2, pipe2, 293)          \
	X(setns, setns, 308)          \
	X(finit_module, finit_module, 313) \
	X(renameat2, renameat2, 316)  \
	X(memfd_create, memfd_create, 319) \
	X(bpf, bpf, 321)              \
	X(execveat, execveat, 322)    \
	X(userfaultfd, userfaultfd, 323) \
	X(openat2, openat2, 437)      \
	X(clone3, clone3, 435)

#define HRR_NR_ENUM(fn, name, nr) NR_##name = nr,
enum { HRR_SYSCALL_TABLE(HRR_NR_ENUM) };


#endif
