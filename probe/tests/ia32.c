/*
 * Makes ia32 syscalls (int 0x80) from a 64-bit process, for run.py: the kernel treats them as
 * compat syscalls (i386 numbers and argument registers, TS_COMPAT). Every pointer they take lies in
 * a MAP_32BIT mapping. usage: ia32_test FILE UDP_PORT. run.py checks each call in the probe's frames.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long i386_call(long nr, long a, long b, long c, long d)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
	return r;
}

#define LOW(p) ((long)(uintptr_t)(p))

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	uint8_t *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (m == MAP_FAILED)
		return 2;
	char *path = (char *)m, *buf = (char *)m + 4096, *missing = (char *)m + 1024;
	strcpy(path, argv[1]);
	strcpy(missing, "/nonexistent-harrier-ia32");
	uint16_t port = (uint16_t)atoi(argv[2]);

	long fd = i386_call(5, LOW(path), 0, 0, 0);
	fd = fd < 0 ? 0 : fd;
	i386_call(3, fd, LOW(buf), 1, 0); /* i386 read is 3, x86_64 close */
	long d = i386_call(41, fd, 0, 0, 0);
	i386_call(6, d, 0, 0, 0);
	long hi = i386_call(221, fd, 0 /* F_DUPFD */, 100, 0);
	i386_call(6, hi, 0, 0, 0);
	i386_call(16, LOW(path), 0xffff, 0xffff, 0);
	i386_call(212, LOW(path), 0xffffffffL, 0xffffffffL, 0);
	i386_call(164, 0xffff, 0xffff, 0xffff, 0);
	i386_call(22, LOW(missing), 0, 0, 0);

	/* socketcall: socket, connect, send and sendmsg on a UDP socket (no server needed). */
	uint32_t *sa = (uint32_t *)(m + 2048); /* socketcall's argument array */
	struct sockaddr_in *to = (struct sockaddr_in *)(m + 2304), *other = (struct sockaddr_in *)(m + 2368);
	to->sin_family = AF_INET;
	to->sin_port = htons(port);
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*other = *to;
	other->sin_port = htons((uint16_t)(port + 1));
	sa[0] = AF_INET, sa[1] = SOCK_DGRAM, sa[2] = 0;
	long s = i386_call(102, 1, LOW(sa), 0, 0);
	sa[0] = (uint32_t)s, sa[1] = (uint32_t)LOW(to), sa[2] = sizeof(*to);
	i386_call(102, 3, LOW(sa), 0, 0);
	sa[0] = (uint32_t)s, sa[1] = (uint32_t)LOW(buf), sa[2] = 1, sa[3] = 0;
	i386_call(102, 9, LOW(sa), 0, 0);
	/* struct compat_msghdr: name, namelen, iov, iovlen, control, controllen, flags; then one compat_iovec. */
	uint32_t *mh = (uint32_t *)(m + 2560), *iov = mh + 8;
	iov[0] = (uint32_t)LOW(buf), iov[1] = 1;
	mh[0] = (uint32_t)LOW(other), mh[1] = sizeof(*other), mh[2] = (uint32_t)LOW(iov), mh[3] = 1, mh[4] = 0, mh[5] = 0, mh[6] = 0;
	sa[0] = (uint32_t)s, sa[1] = (uint32_t)LOW(mh), sa[2] = 0;
	i386_call(102, 16, LOW(sa), 0, 0);
	i386_call(11, LOW(missing), 0, 0, 0);
	return 0;
}
