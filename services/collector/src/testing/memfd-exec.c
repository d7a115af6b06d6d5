/*
 * Test support: runs a program from an anonymous memory file, as fileless malware does. The
 * program's bytes are copied into a memfd, which is then executed through /proc/self/fd. Built
 * static, so it also runs inside the busybox test containers.
 *
 * usage: memfd-exec PROGRAM ARGV0 [ARG...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: memfd-exec PROGRAM ARGV0 [ARG...]\n");
		return 2;
	}
	int in = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		perror(argv[1]);
		return 1;
	}
	int mem = memfd_create("harrier", 0);
	if (mem < 0) {
		perror("memfd_create");
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(mem, buf, (size_t)n) != n) {
			perror("write");
			return 1;
		}
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mem);
	execv(path, argv + 2);
	perror("execv");
	return 1;
}
