/*
 * A syscall storm at a fixed rate: open/close pairs on one file, and one fork+exec of /bin/true
 * every EXEC_EVERY pairs. Paced in 1 ms steps; prints the events it caused (2 per pair, ~5 per exec).
 *   storm RATE_EVENTS_PER_S SECONDS [EXEC_EVERY]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: storm RATE SECONDS [EXEC_EVERY]\n");
		return 2;
	}
	double rate = atof(argv[1]), secs = atof(argv[2]);
	long exec_every = argc > 3 ? atol(argv[3]) : 0;
	double start = now();
	long pairs = 0, execs = 0;
	while (1) {
		double t = now() - start;
		if (t >= secs)
			break;
		long due = (long)(t * rate / 2);
		if (pairs >= due) {
			struct timespec sl = {0, 200000};
			nanosleep(&sl, NULL);
			continue;
		}
		while (pairs < due) {
			int fd = open("/etc/hostname", O_RDONLY);
			if (fd >= 0)
				close(fd);
			pairs++;
			if (exec_every && pairs % exec_every == 0) {
				pid_t p = fork();
				if (p == 0) {
					execl("/bin/true", "true", (char *)NULL);
					_exit(127);
				}
				if (p > 0)
					waitpid(p, NULL, 0);
				execs++;
			}
		}
	}
	double took = now() - start;
	printf("%ld %ld %.3f\n", pairs, execs, took);
	return 0;
}
