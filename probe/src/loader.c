// SPDX-License-Identifier: GPL-2.0
/*
 * harrier-probe: loads the eBPF program, marks the wanted syscalls, attaches it, and copies
 * frames from the per-CPU rings to stdout (probe/FORMAT.md), merged in timestamp order. Reads
 * commands from stdin, one per line:
 *   syscalls NAME,NAME,...   trace exactly these syscalls from now on
 *   exclude PID              never send events of PID (and its future children)
 *   stats                    write a stats frame now
 * While stdout is slow, frames wait in an output queue (--buffer-mb); when that is full too, the
 * rings fill, and the kernel side counts drops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "harrier.h"
#include "syscalls.h"
#include "harrier.skel.h"

/* The rings are polled: often while frames flow, less when idle (nothing wakes the loader). */
#define POLL_BUSY_MS 2
#define POLL_IDLE_MS 10
/*
 * A frame's timestamp is taken before it is published: frames newer than this wait for the next
 * poll, so one published later on another CPU with an earlier timestamp still comes first.
 */
#define HOLD_NS 1000000ULL
/* A frame in the building longer than this is not waited for (a program cannot take that long). */
#define STUCK_NS 100000000ULL
/* The program's frames stay below this (its offsets are masked to 32 KiB). */
#define HRR_MAX_FRAME 32768

struct syscall_def {
	const char *name;
	int nr;
	bool wanted;
	bool on;
};

#define DEF(fn, nm, number) {.name = #nm, .nr = number},
static struct syscall_def SYSCALLS[] = {HRR_SYSCALL_TABLE(DEF)};
#undef DEF
#define NSYSCALLS (sizeof(SYSCALLS) / sizeof(SYSCALLS[0]))

static struct harrier_bpf *skel;
static uint64_t frames_written, bytes_written;
static int ncpus;
static bool broken_pipe;
/* stdout's file status flags before the loader made it non-blocking; -1 while untouched. */
static int stdout_flags = -1;

static void die(const char *what, int err)
{
	fprintf(stderr, "harrier-probe: %s: %s\n", what, strerror(err < 0 ? -err : err));
	/* A terminal or file shared with others gets its mode back on every way out. */
	if (stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags);
	exit(1);
}

/*
 * The output queue: frames copied from the rings wait here for stdout, a byte ring of q_cap bytes
 * (--buffer-mb). stdout is non-blocking: while the reader is slow the loader keeps emptying the
 * kernel rings into the queue, so a burst on one CPU can use the whole queue rather than only its
 * own ring. When the queue is full the copying stops, the rings fill, and the kernel side counts
 * drops, as before. Positions restart at 0 whenever it empties, so a queue that keeps up touches
 * only its first pages; after a burst, the pages it used are handed back.
 */
static uint8_t *q_buf;
static size_t q_cap, q_start, q_len, q_high;
static bool q_stopped; /* the last drain left frames in the rings for want of room */
static bool stats_wanted; /* a stats frame is due (timer or command): written when the queue has room */

static size_t q_room(void)
{
	return q_cap - q_len;
}

static void q_put(const void *data, size_t len)
{
	size_t at = (q_start + q_len) % q_cap;
	size_t first = len < q_cap - at ? len : q_cap - at;
	memcpy(q_buf + at, data, first);
	memcpy(q_buf, (const uint8_t *)data + first, len - first);
	q_len += len;
	if (q_start + q_len > q_high)
		q_high = q_start + q_len < q_cap ? q_start + q_len : q_cap;
}

/* Writes what stdout takes; with `block`, everything (stdout blocking meanwhile). */
static void q_pump(bool block)
{
	int flags = -1;
	if (block && q_len > 0) {
		flags = fcntl(STDOUT_FILENO, F_GETFL);
		if (flags >= 0 && (flags & O_NONBLOCK))
			fcntl(STDOUT_FILENO, F_SETFL, flags & ~O_NONBLOCK);
	}
	while (q_len > 0) {
		size_t n = q_len < q_cap - q_start ? q_len : q_cap - q_start;
		ssize_t w = write(STDOUT_FILENO, q_buf + q_start, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == EPIPE)
				broken_pipe = true;
			else
				fprintf(stderr, "harrier-probe: writing frames: %s\n", strerror(errno));
			q_len = 0;
			break;
		}
		q_start = (q_start + (size_t)w) % q_cap;
		q_len -= (size_t)w;
	}
	if (flags >= 0 && (flags & O_NONBLOCK))
		fcntl(STDOUT_FILENO, F_SETFL, flags);
	if (q_len == 0) {
		q_start = 0;
		/* A burst used more than the first MiB: give those pages back. */
		const size_t keep = (size_t)1 << 20;
		if (q_high > keep + ((size_t)4 << 20)) {
			madvise(q_buf + keep, q_high - keep, MADV_DONTNEED);
			q_high = keep;
		}
	}
}

static void release_all(void);

/* Queues a frame the loader makes (hello, stats): the callers make room first; if not, this waits. */
static void emit(const void *data, size_t len)
{
	if (q_room() < len) {
		release_all();
		q_pump(true);
	}
	q_put(data, len);
	frames_written++;
	bytes_written += len;
}

/* The rings, mapped read-only: CPU c's page i at (c * pages_per_cpu + i) * HRR_PAGE_SIZE. */
static const uint8_t *ring_mem;
static uint32_t pages_per_cpu;
static uint64_t ring_pos[HRR_MAX_CPUS];
static bool ring_broken[HRR_MAX_CPUS];

static const uint8_t *ring_at(int cpu, uint64_t p)
{
	size_t page = (size_t)cpu * pages_per_cpu + (size_t)((p / HRR_PAGE_DATA) & (pages_per_cpu - 1));
	return ring_mem + page * HRR_PAGE_SIZE + (p & (HRR_PAGE_DATA - 1));
}

static uint64_t released[HRR_MAX_CPUS];

static void release(int cpu)
{
	__atomic_store_n(&skel->bss->ring_ctl[cpu].tail, ring_pos[cpu], __ATOMIC_RELEASE);
	released[cpu] = ring_pos[cpu];
}

/* Every frame copied so far is the loader's: hand the space back (before a write that may block). */
static void release_all(void)
{
	if (!ring_mem)
		return;
	for (int c = 0; c < ncpus; c++)
		if (released[c] != ring_pos[c])
			release(c);
}

/* A frame as the program writes it, wholly published; anything else means the ring is not ours to parse. */
static bool frame_ok(int cpu, const struct hrr_hdr *h, uint64_t head, uint64_t now)
{
	uint64_t p = ring_pos[cpu];
	return h->len >= HRR_HDR_SIZE && h->len <= HRR_MAX_FRAME && (h->kind == HRR_KIND_SYSCALL || h->kind == HRR_KIND_PROCEXIT) &&
	       (p & (HRR_PAGE_DATA - 1)) + h->len <= HRR_PAGE_SIZE && hrr_next_pos(p, h->len) <= head && h->ts <= now + 1000000000ULL;
}

/*
 * Copies out the published frames, lowest timestamp first across CPUs (each ring is in order
 * already), up to a cut: frames younger than HOLD_NS, or than a frame still being built on any
 * CPU, wait for the next call. `all` takes everything (after detaching). Returns true when frames
 * were copied or are waiting.
 */
static bool drain(uint64_t now, bool all)
{
	q_stopped = false;
	uint64_t cut = all ? UINT64_MAX : now - HOLD_NS;
	uint64_t head[HRR_MAX_CPUS];
	int live[HRR_MAX_CPUS], nlive = 0;
	for (int c = 0; c < ncpus; c++) {
		/* The frame being built is read before the head: published meanwhile, it is still held back. */
		uint64_t b = __atomic_load_n(&skel->bss->ring_ctl[c].building, __ATOMIC_ACQUIRE);
		if (!all && b != 0 && b + STUCK_NS > now && b - 1 < cut)
			cut = b - 1;
		head[c] = __atomic_load_n(&skel->bss->ring_ctl[c].head, __ATOMIC_ACQUIRE);
		if (head[c] != ring_pos[c])
			live[nlive++] = c;
	}
	bool any = nlive > 0;
	while (nlive > 0) {
		int best = -1, at = -1;
		uint64_t best_ts = 0;
		for (int i = 0; i < nlive; i++) {
			int c = live[i];
			const struct hrr_hdr *h = (const void *)ring_at(c, ring_pos[c]);
			if (!frame_ok(c, h, head[c], now)) {
				/* Not a frame the program writes: skip what this ring holds rather than guess. */
				if (!ring_broken[c])
					fprintf(stderr, "harrier-probe: CPU %d ring: the frame at position %llu (%u bytes, kind %u) is not valid; skipping to the head\n",
						c, (unsigned long long)ring_pos[c], h->len, h->kind);
				ring_broken[c] = true;
				ring_pos[c] = head[c];
				release(c);
				live[i--] = live[--nlive];
				continue;
			}
			if (h->ts <= cut && (best < 0 || h->ts < best_ts)) {
				best = c;
				at = i;
				best_ts = h->ts;
			}
		}
		if (best < 0)
			break;
		const struct hrr_hdr *h = (const void *)ring_at(best, ring_pos[best]);
		if (q_room() < h->len) {
			q_pump(false);
			if (q_room() < h->len) {
				/* The queue is full: the rest waits in the rings (which count drops if they fill). */
				q_stopped = true;
				break;
			}
		}
		q_put(h, h->len);
		frames_written++;
		bytes_written += h->len;
		uint64_t from = ring_pos[best];
		ring_pos[best] = hrr_next_pos(from, h->len);
		if (ring_pos[best] == head[best]) {
			release(best);
			live[at] = live[--nlive];
		} else if (ring_pos[best] / HRR_PAGE_DATA != from / HRR_PAGE_DATA) {
			/* The kernel side's room is counted in pages: hand each one back as soon as it is read. */
			release(best);
		}
	}
	release_all();
	return any;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void write_hello(void)
{
	struct hrr_hello h = {.len = sizeof(h), .kind = HRR_KIND_HELLO, .version = HRR_FORMAT_VERSION};
	uint64_t boot = clock_ns(CLOCK_BOOTTIME), real = clock_ns(CLOCK_REALTIME);
	h.ts = boot;
	h.boot_epoch = real - boot;
	h.ncpus = (uint32_t)ncpus;
	h.pid = (uint32_t)getpid();
	emit(&h, sizeof(h));
}

static unsigned attached_count(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < NSYSCALLS; i++)
		n += SYSCALLS[i].on;
	return n;
}

static void write_stats(void)
{
	struct hrr_stats_frame f = {.len = sizeof(f), .kind = HRR_KIND_STATS};
	struct hrr_stats per[ncpus];
	__u32 key = 0;
	f.ts = clock_ns(CLOCK_BOOTTIME);
	f.attached = (__u16)attached_count();
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key, per) == 0) {
		for (int i = 0; i < ncpus; i++) {
			f.k.seen += per[i].seen;
			f.k.sent += per[i].sent;
			f.k.dropped += per[i].dropped;
			f.k.excluded += per[i].excluded;
		}
	}
	/*
	 * A pid's bit outlives its process (the kernel side clears it when a new process takes the
	 * pid): count the marked pids that are a running process (pidfd_open takes only a
	 * thread-group leader, zombie leaders with live threads included).
	 */
	const size_t words = sizeof(skel->bss->excluded_bits) / sizeof(skel->bss->excluded_bits[0]);
	for (size_t i = 0; i < words; i++) {
		__u64 w = __atomic_load_n(&skel->bss->excluded_bits[i], __ATOMIC_RELAXED);
		for (; w; w &= w - 1) {
			int fd = (int)syscall(SYS_pidfd_open, (pid_t)(i * 64 + (size_t)__builtin_ctzll(w)), 0);
			if (fd >= 0) {
				f.excluded_pids++;
				close(fd);
			}
		}
	}
	f.frames = frames_written + 1;
	f.bytes = bytes_written + sizeof(f);
	emit(&f, sizeof(f));
}

/* The kernel side's exclusion bitmap covers pids below this (the kernel's PID_MAX_LIMIT). */
#define EXCLUDE_PID_LIMIT (sizeof(((struct harrier_bpf__bss *)0)->excluded_bits) * 8)

static void exclude(uint32_t pid)
{
	/* The kernel side sets and clears bits of the same words: an atomic or keeps both. */
	if (pid < EXCLUDE_PID_LIMIT)
		__atomic_fetch_or(&skel->bss->excluded_bits[pid / 64], 1ULL << (pid % 64), __ATOMIC_RELAXED);
}

/* Excludes each given pid and every process already below it (later children follow in the kernel). */
static void exclude_trees(const uint32_t *roots, int nroots)
{
	enum { MAXP = 1 << 16 };
	static uint32_t pids[MAXP], ppids[MAXP];
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < MAXP) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		char *rp = strrchr(buf, ')');
		int ppid;
		if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
			continue;
		pids[n] = (uint32_t)pid;
		ppids[n] = (uint32_t)ppid;
		n++;
	}
	if (d)
		closedir(d);
	static uint8_t mark[MAXP];
	memset(mark, 0, sizeof(mark));
	for (int i = 0; i < n; i++)
		for (int r = 0; r < nroots; r++)
			if (pids[i] == roots[r])
				mark[i] = 1;
	for (int r = 0; r < nroots; r++)
		exclude(roots[r]);
	for (bool grew = true; grew;) {
		grew = false;
		for (int i = 0; i < n; i++) {
			if (mark[i])
				continue;
			for (int j = 0; j < n; j++)
				if (mark[j] && pids[j] == ppids[i]) {
					mark[i] = 1;
					grew = true;
					break;
				}
		}
	}
	for (int i = 0; i < n; i++)
		if (mark[i])
			exclude(pids[i]);
}

static struct syscall_def *find_syscall(const char *name)
{
	for (size_t i = 0; i < NSYSCALLS; i++)
		if (strcmp(SYSCALLS[i].name, name) == 0)
			return &SYSCALLS[i];
	return NULL;
}

/* Marks the wanted set from "a,b,c" ("all" for every syscall); unknown names are reported. */
static int parse_set(char *list)
{
	for (size_t i = 0; i < NSYSCALLS; i++)
		SYSCALLS[i].wanted = false;
	int bad = 0;
	for (char *tok = strtok(list, ", \t\n"); tok; tok = strtok(NULL, ", \t\n")) {
		if (strcmp(tok, "all") == 0) {
			for (size_t i = 0; i < NSYSCALLS; i++)
				SYSCALLS[i].wanted = true;
			continue;
		}
		struct syscall_def *s = find_syscall(tok);
		if (!s) {
			fprintf(stderr, "harrier-probe: unknown syscall '%s' (harrier-probe --list shows the supported ones)\n", tok);
			bad++;
			continue;
		}
		s->wanted = true;
	}
	return bad;
}

static void apply_set(void)
{
	int fd = bpf_map__fd(skel->maps.wanted);
	for (size_t i = 0; i < NSYSCALLS; i++) {
		struct syscall_def *s = &SYSCALLS[i];
		__u32 key = (__u32)s->nr;
		__u8 v = s->wanted;
		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
			fprintf(stderr, "harrier-probe: cannot update the syscall set for %s: %s\n", s->name, strerror(errno));
		else
			s->on = s->wanted;
	}
}

static void command(char *line)
{
	line[strcspn(line, "\r\n")] = 0;
	if (strncmp(line, "syscalls ", 9) == 0) {
		if (parse_set(line + 9) == 0)
			apply_set();
	} else if (strncmp(line, "exclude ", 8) == 0) {
		char *end;
		unsigned long pid = strtoul(line + 8, &end, 10);
		if (pid > 1 && pid < EXCLUDE_PID_LIMIT && *end == 0) {
			uint32_t p = (uint32_t)pid;
			exclude_trees(&p, 1);
		} else {
			fprintf(stderr, "harrier-probe: exclude %s: give a process id above 1 and below %zu\n", line + 8, (size_t)EXCLUDE_PID_LIMIT);
		}
	} else if (strcmp(line, "stats") == 0) {
		stats_wanted = true;
	} else if (*line) {
		fprintf(stderr, "harrier-probe: unknown command '%s' (syscalls LIST | exclude PID | stats)\n", line);
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !getenv("HARRIER_PROBE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: harrier-probe [--syscalls LIST|all] [--exclude-pid PID]... [--ringbuf-mb N (per CPU, 0 auto)]\n"
		"                     [--buffer-mb N (output queue, default 32)] [--snaplen N (data bytes of send/recv calls, default 80)]\n"
		"                     [--stats-ms N] [--no-procexit] [--list] [--check]\n"
		"Writes framed syscall events to stdout (see probe/FORMAT.md). Needs root.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"syscalls", required_argument, 0, 's'}, {"exclude-pid", required_argument, 0, 'x'},
		{"ringbuf-mb", required_argument, 0, 'r'}, {"stats-ms", required_argument, 0, 't'},
		{"buffer-mb", required_argument, 0, 'b'}, {"snaplen", required_argument, 0, 'n'},
		{"no-procexit", no_argument, 0, 'p'},      {"list", no_argument, 0, 'l'},
		{"check", no_argument, 0, 'c'},            {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	char *set = NULL;
	enum { MAX_ROOTS = 64 };
	uint32_t roots[MAX_ROOTS];
	int nroots = 0;
	long ring_mb = 0, stats_ms = 1000; /* ring_mb 0: chosen from the CPU count below */
	long snaplen = 80;
	long buffer_mb = 32;
	bool procexit = true, check = false;
	int c;
	roots[nroots++] = (uint32_t)getpid();
	while ((c = getopt_long(argc, argv, "s:x:r:b:t:plch", opts, NULL)) != -1) {
		switch (c) {
		case 's': set = optarg; break;
		case 'x': {
			char *end;
			unsigned long pid = strtoul(optarg, &end, 10);
			if (pid <= 1 || *end) {
				fprintf(stderr, "harrier-probe: --exclude-pid %s: give a process id above 1 (excluding init would hide every process)\n", optarg);
				return 2;
			}
			if (pid >= EXCLUDE_PID_LIMIT) {
				fprintf(stderr, "harrier-probe: --exclude-pid %s: no process id reaches %zu (the kernel's limit)\n", optarg, (size_t)EXCLUDE_PID_LIMIT);
				return 2;
			}
			if (nroots == MAX_ROOTS) {
				fprintf(stderr, "harrier-probe: --exclude-pid %s: at most %d --exclude-pid options (exclude a common parent, or send `exclude PID` on stdin)\n",
					optarg, MAX_ROOTS - 1);
				return 2;
			}
			roots[nroots++] = (uint32_t)pid;
			break;
		}
		case 'r': ring_mb = strtol(optarg, NULL, 10); break;
		case 'b': buffer_mb = strtol(optarg, NULL, 10); break;
		case 'n': snaplen = strtol(optarg, NULL, 10); break;
		case 't': stats_ms = strtol(optarg, NULL, 10); break;
		case 'p': procexit = false; break;
		case 'l':
			for (size_t i = 0; i < NSYSCALLS; i++)
				printf("%s\n", SYSCALLS[i].name);
			return 0;
		case 'c': check = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (ring_mb < 0 || ring_mb > 256 || (ring_mb & (ring_mb - 1))) {
		fprintf(stderr, "harrier-probe: --ringbuf-mb (MiB per CPU) must be a power of two up to 256, or 0 to choose by CPU count (got %ld)\n", ring_mb);
		return 2;
	}
	if (snaplen < 0 || snaplen > 4095) {
		fprintf(stderr, "harrier-probe: --snaplen (bytes of the data of a send or receive call in its frame) must be 0 to 4095 (got %ld)\n", snaplen);
		return 2;
	}
	if (buffer_mb < 1 || buffer_mb > 1024) {
		fprintf(stderr, "harrier-probe: --buffer-mb (MiB of frames held while stdout is slow) must be 1 to 1024 (got %ld)\n", buffer_mb);
		return 2;
	}
	if (stats_ms < 10)
		stats_ms = 10;
	char all[] = "all";
	if (parse_set(set ? set : all))
		return 2;

	/*
	 * SIGTERM and SIGINT wait from here until the main loop reads them from a signalfd: one that
	 * comes while the program loads and attaches still ends in a clean exit (detach, drain, exit 0).
	 */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(libbpf_print);
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later ones ignore it. */
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	int memlock_err = setrlimit(RLIMIT_MEMLOCK, &rl) ? errno : 0;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		die("counting CPUs", ncpus);
	skel = harrier_bpf__open();
	if (!skel)
		die("opening the eBPF object (is /sys/kernel/btf/vmlinux there?)", errno);
	if (ncpus > HRR_MAX_CPUS) {
		fprintf(stderr, "harrier-probe: %d CPUs: this build handles up to %d\n", ncpus, HRR_MAX_CPUS);
		return 1;
	}
	skel->rodata->send_procexit = procexit;
	skel->rodata->snaplen = (__u32)snaplen;
	/*
	 * A storm from one process fills one CPU's ring: rings must be large enough to ride out a
	 * consumer's pause on their own. 16 MiB each up to 4 CPUs, then 64 MiB in all, at least 4 each.
	 */
	if (ring_mb == 0)
		for (ring_mb = 16; ring_mb > 4 && ring_mb * ncpus > 64; ring_mb /= 2)
			;
	pages_per_cpu = (uint32_t)((ring_mb << 20) / HRR_PAGE_DATA);
	if (pages_per_cpu == 0)
		pages_per_cpu = 1;
	skel->rodata->pages_per_cpu = pages_per_cpu;
	bpf_map__set_max_entries(skel->maps.rings, (__u32)ncpus * pages_per_cpu);
	int err = harrier_bpf__load(skel);
	if (err) {
		if (memlock_err)
			fprintf(stderr, "harrier-probe: note: RLIMIT_MEMLOCK could not be raised (%s)\n", strerror(memlock_err));
		die("loading the eBPF program (needs root, CAP_BPF and CAP_PERFMON, and a kernel with BTF)", err);
	}
	if (check) {
		printf("ok: loaded, %zu syscalls supported\n", NSYSCALLS);
		harrier_bpf__destroy(skel);
		return 0;
	}
	exclude_trees(roots, nroots);
	/* The links go into the skeleton, so that harrier_bpf__detach detaches them. */
	skel->links.on_fork = bpf_program__attach(skel->progs.on_fork);
	if (procexit)
		skel->links.on_exit_thread = bpf_program__attach(skel->progs.on_exit_thread);
	/* Before sys_exit: a successful execveat's exit asks what on_exec noted. */
	skel->links.on_exec = bpf_program__attach(skel->progs.on_exec);
	if (!skel->links.on_fork || (procexit && !skel->links.on_exit_thread) || !skel->links.on_exec)
		die("attaching the process tracepoints", errno);
	apply_set();
	skel->links.sys_exit = bpf_program__attach(skel->progs.sys_exit);
	if (!skel->links.sys_exit)
		die("attaching the sys_exit tracepoint", errno);

	q_cap = (size_t)buffer_mb << 20;
	q_buf = mmap(NULL, q_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q_buf == MAP_FAILED)
		die("allocating the output queue", errno);
	/* Writes that would block return at once: the rings keep being emptied into the queue. */
	stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
	if (stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags | O_NONBLOCK);
	size_t ring_bytes = (size_t)ncpus * pages_per_cpu * HRR_PAGE_SIZE;
	void *mem = mmap(NULL, ring_bytes, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.rings), 0);
	if (mem == MAP_FAILED)
		die("mapping the rings", errno);
	ring_mem = mem;

	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = {{stats_ms / 1000, (stats_ms % 1000) * 1000000}, {stats_ms / 1000, (stats_ms % 1000) * 1000000}};
	timerfd_settime(tfd, 0, &its, NULL);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	/* A reader that makes room wakes the loader at once (files cannot be watched, nor need it). */
	struct epoll_event oev = {.events = EPOLLOUT | EPOLLET};
	oev.data.fd = STDOUT_FILENO;
	epoll_ctl(ep, EPOLL_CTL_ADD, STDOUT_FILENO, &oev);
	ev.data.fd = STDIN_FILENO;
	bool have_stdin = epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0;
	char line[8192];
	size_t line_len = 0;

	write_hello();
	write_stats();
	q_pump(false);
	fprintf(stderr, "harrier-probe: tracing %u syscalls, %d CPUs, a ring of %ld MiB each\n", attached_count(), ncpus, ring_mb);

	bool running = true, busy = false;
	while (running && !broken_pipe) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, busy ? POLL_BUSY_MS : POLL_IDLE_MS);
		if (n < 0 && errno != EINTR)
			die("waiting for events", errno);
		/* Drain the rings on every wake-up: it is the hot path. */
		busy = drain(clock_ns(CLOCK_BOOTTIME), false);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
				running = false;
			} else if (fd == tfd) {
				uint64_t ticks;
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					stats_wanted = true;
			} else if (fd == STDIN_FILENO && have_stdin) {
				ssize_t r = read(STDIN_FILENO, line + line_len, sizeof(line) - 1 - line_len);
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue; /* stdin shares stdout's non-blocking file (a terminal) */
				if (r <= 0) {
					/* The collector closed our stdin: no more commands, keep tracing. */
					epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					have_stdin = false;
					continue;
				}
				line_len += (size_t)r;
				line[line_len] = 0;
				char *nl;
				while ((nl = memchr(line, '\n', line_len))) {
					*nl = 0;
					command(line);
					size_t used = (size_t)(nl - line) + 1;
					memmove(line, nl + 1, line_len - used);
					line_len -= used;
				}
				if (line_len == sizeof(line) - 1)
					line_len = 0; /* an over-long line: drop it */
			}
		}
		/* With the queue full (a stalled reader) stats wait for room; requests meanwhile give one frame. */
		if (stats_wanted && q_room() >= sizeof(struct hrr_stats_frame)) {
			write_stats();
			stats_wanted = false;
		}
		q_pump(false);
	}
	/*
	 * Detach, then wait out programs still running (they run in RCU read-side sections, which a
	 * global membarrier waits for): the rings then hold the last frames there will be.
	 */
	harrier_bpf__detach(skel);
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
		usleep(50000);
	if (!broken_pipe) {
		/* Everything left, through the queue as often as it takes, then the last stats. */
		do {
			drain(clock_ns(CLOCK_BOOTTIME), true);
			q_pump(true);
		} while (q_stopped && !broken_pipe);
		write_stats();
		q_pump(true);
	}
	/* A terminal or file shared with others gets its mode back. */
	if (stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags);
	munmap(mem, ring_bytes);
	harrier_bpf__destroy(skel);
	fprintf(stderr, "harrier-probe: %s, detached\n", broken_pipe ? "output closed" : "stopped");
	return 0;
}
