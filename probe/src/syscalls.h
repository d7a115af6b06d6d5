/*
 * The syscalls the probe can trace: x86_64 numbers, and the kernel function each fexit program
 * attaches to (__x64_sys_<fn>). One list feeds the programs, the loader's name table and the docs;
 * a second one maps the ia32 numbers onto it.
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

/*
 * ia32 (int 0x80, compat) syscalls that are the same call as one above: X(i386 name, i386 number,
 * x86_64 name). The program reports them under the x86_64 number. Special cases it handles itself:
 * the 16-bit-uid calls (chown, lchown, fchown, setuid, setgid, setresuid, setresgid: uid -1 is
 * 0xffff), umount (no flags argument), clone (tls and child_tid swapped) and socketcall (102, not
 * listed: the call is its first argument).
 */
#define HRR_IA32_TABLE(X)               \
	X(fork, 2, fork)                \
	X(open, 5, open)                \
	X(close, 6, close)              \
	X(creat, 8, creat)              \
	X(link, 9, link)                \
	X(unlink, 10, unlink)           \
	X(execve, 11, execve)           \
	X(chdir, 12, chdir)             \
	X(chmod, 15, chmod)             \
	X(lchown, 16, lchown)           \
	X(mount, 21, mount)             \
	X(umount, 22, umount2)          \
	X(setuid, 23, setuid)           \
	X(ptrace, 26, ptrace)           \
	X(rename, 38, rename)           \
	X(mkdir, 39, mkdir)             \
	X(rmdir, 40, rmdir)             \
	X(dup, 41, dup)                 \
	X(pipe, 42, pipe)               \
	X(setgid, 46, setgid)           \
	X(umount2, 52, umount2)         \
	X(fcntl, 55, fcntl)             \
	X(dup2, 63, dup2)               \
	X(symlink, 83, symlink)         \
	X(fchmod, 94, fchmod)           \
	X(fchown, 95, fchown)           \
	X(clone, 120, clone)            \
	X(init_module, 128, init_module) \
	X(fchdir, 133, fchdir)          \
	X(setresuid, 164, setresuid)    \
	X(setresgid, 170, setresgid)    \
	X(prctl, 172, prctl)            \
	X(chown, 182, chown)            \
	X(vfork, 190, vfork)            \
	X(lchown32, 198, lchown)        \
	X(fchown32, 207, fchown)        \
	X(setresuid32, 208, setresuid)  \
	X(setresgid32, 210, setresgid)  \
	X(chown32, 212, chown)          \
	X(setuid32, 213, setuid)        \
	X(setgid32, 214, setgid)        \
	X(fcntl64, 221, fcntl)          \
	X(openat, 295, openat)          \
	X(mkdirat, 296, mkdirat)        \
	X(fchownat, 298, fchownat)      \
	X(unlinkat, 301, unlinkat)      \
	X(renameat, 302, renameat)      \
	X(linkat, 303, linkat)          \
	X(symlinkat, 304, symlinkat)    \
	X(fchmodat, 306, fchmodat)      \
	X(unshare, 310, unshare)        \
	X(dup3, 330, dup3)              \
	X(pipe2, 331, pipe2)            \
	X(setns, 346, setns)            \
	X(finit_module, 350, finit_module) \
	X(renameat2, 353, renameat2)    \
	X(memfd_create, 356, memfd_create) \
	X(bpf, 357, bpf)                \
	X(execveat, 358, execveat)      \
	X(socket, 359, socket)          \
	X(socketpair, 360, socketpair)  \
	X(bind, 361, bind)              \
	X(connect, 362, connect)        \
	X(listen, 363, listen)          \
	X(accept4, 364, accept4)        \
	X(sendto, 369, sendto)          \
	X(sendmsg, 370, sendmsg)        \
	X(recvfrom, 371, recvfrom)      \
	X(recvmsg, 372, recvmsg)        \
	X(userfaultfd, 374, userfaultfd) \
	X(clone3, 435, clone3)          \
	X(openat2, 437, openat2)

#define HRR_IA32_NR_LIMIT 440 /* above every i386 number in the table */
#define HRR_IA32_SOCKETCALL 102

#endif
