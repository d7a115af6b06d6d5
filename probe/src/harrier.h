/* Frame layout shared by the eBPF program and the loader; probe/FORMAT.md describes it. */
#ifndef HARRIER_H
#define HARRIER_H

#define HRR_FORMAT_VERSION 1

/* Frame kinds. */
#define HRR_KIND_SYSCALL 1  /* a syscall exit */
#define HRR_KIND_PROCEXIT 2 /* a thread ended (sched_process_exit) */
#define HRR_KIND_STATS 3    /* loader: counters */
#define HRR_KIND_HELLO 4    /* loader: first frame, clock and format */

/* Item tags (each item: __u16 tag, __u16 len, then len bytes). */
#define HRR_ITEM_USTR0 1 /* 1..6: NUL-terminated user string at args[tag-1] */
#define HRR_ITEM_SOCKADDR 10 /* raw user sockaddr (connect, bind, sendto, recvfrom) */
#define HRR_ITEM_TUPLE 11    /* a socket's local and remote ends */
#define HRR_ITEM_FILE 12     /* the file behind an fd: struct hrr_file */
#define HRR_ITEM_UMEM 13     /* raw user memory (pipe fds, clone_args, ...) */
#define HRR_ITEM_EXEC 20     /* struct hrr_exec */
#define HRR_ITEM_ARGS 21     /* the argument area of the process (NUL-separated) */
#define HRR_ITEM_ENV 22      /* the environment area (NUL-separated) */
/*
 * Path items (23-26): components leaf first, each NUL-terminated. A walk cut short (too many
 * components, no room left in the frame) ends with an empty component: the path is not whole.
 */
#define HRR_ITEM_EXEPATH 23  /* path components of the executable */
#define HRR_ITEM_CWD 24      /* path components of the working directory */
#define HRR_ITEM_CGROUP 25   /* path components of the cpuset (v1) cgroup */
#define HRR_ITEM_CGROUP2 26  /* path components of the unified (v2) cgroup */
#define HRR_ITEM_FILE2 27    /* the second fd of a pair (pipe, socketpair): struct hrr_file */
#define HRR_ITEM_DATA 28     /* the first bytes sent or received (at most the snaplen): send/recv calls */
#define HRR_ITEM_BACKLOG 29  /* a successful accept's listening socket: struct hrr_backlog */

/* hrr_exec.flags */
#define HRR_EXE_UPPER_LAYER 1
#define HRR_EXE_FROM_MEMFD 2
#define HRR_EXE_WRITABLE 4

/* hrr_hdr.flags */
#define HRR_FLAG_IA32 1 /* an ia32 (int 0x80) syscall: nr and args translated to the x86_64 call */

#define HRR_HDR_SIZE 144

struct hrr_hdr {
	__u32 len;   /* whole frame, header included */
	__u16 kind;
	__u16 nr;    /* x86_64 syscall number */
	__u64 ts;    /* CLOCK_BOOTTIME ns; HELLO gives the offset to the epoch */
	__u32 tid, pid, ppid, uid, gid, loginuid;
	__u64 cgroup_id;
	__u32 pidns, mntns, netns, vtid, vpid, flags; /* flags: HRR_FLAG_* */
	__s64 ret;
	__u64 args[6];
	char comm[16];
};

struct hrr_file {
	__u64 ino;
	__u32 dev;     /* kernel-internal dev_t (major << 20 | minor) */
	__u32 flags;   /* f_flags */
	__u32 magic;   /* super block magic */
	__u32 fd;
	__u32 fmode;   /* f_mode (FMODE_CREATED: the open created the file) */
	__u32 pad;
};

struct hrr_tuple {
	__u8 family;   /* AF_INET, AF_INET6, AF_UNIX; 0 when the fd is no socket */
	__u8 l4proto;  /* IPPROTO_* */
	__u16 lport;   /* host order */
	__u16 rport;   /* host order */
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
	__u64 sk;      /* unix: this socket and its peer, as libscap names them */
	__u64 peer;
	char path[108];/* unix: the bound path of this socket, else of its peer */
};

/* The accept queue of a listening socket, after the accept took its connection. */
struct hrr_backlog {
	__u32 len;     /* sk_ack_backlog: connections waiting to be accepted */
	__u32 max;     /* sk_max_ack_backlog: the most it holds (listen's backlog, capped by somaxconn) */
};

struct hrr_exec {
	__u64 cap_inheritable, cap_permitted, cap_effective;
	__u64 exe_ino;
	__u64 exe_ctime, exe_mtime; /* ns since the epoch */
	__u64 pidns_init_start; /* CLOCK_BOOTTIME ns */
	__u32 tty;    /* kernel dev_t of the controlling tty, 0 without one */
	__u32 flags;  /* HRR_EXE_* */
	__u32 pgid;
	__u32 vm_size, vm_rss, vm_swap; /* KiB */
	__u64 fdlimit;
	__u64 pgft_maj, pgft_min;
	__u32 euid, egid;
};

/*
 * Per-CPU rings: the program builds each frame in place in its CPU's ring, a run of pages in the
 * mmapped array map `rings` (pages_per_cpu pages per CPU, CPU c's first page at index
 * c * pages_per_cpu). Positions count bytes from the ring's start and only grow; position p is in
 * page (p / HRR_PAGE_DATA) % pages_per_cpu at offset p % HRR_PAGE_DATA. A frame starts in the first
 * HRR_PAGE_DATA bytes of a page and may run into the page's slack; the next frame starts 8-aligned
 * after it, or at the next page when that would leave the data part.
 */
#define HRR_PAGE_DATA (256 * 1024)
#define HRR_PAGE_SIZE (HRR_PAGE_DATA + 32 * 1024)
#define HRR_MAX_CPUS 1024

struct hrr_ring_ctl {
	__u64 head;     /* written by the program: frames before it are complete */
	__u64 building; /* the timestamp of the frame being built at head, 0 when none */
	__u64 pad0[6];
	__u64 tail; /* written by the loader: frames before it are read */
	__u64 pad1[7];
};

static inline __u64 hrr_next_pos(__u64 p, __u32 len)
{
	__u64 o = p & (HRR_PAGE_DATA - 1), l8 = ((__u64)len + 7) & ~7ULL;
	return o + l8 < HRR_PAGE_DATA ? p + l8 : (p | (HRR_PAGE_DATA - 1)) + 1;
}

struct hrr_stats {
	__u64 seen;    /* events that passed the filters */
	__u64 sent;    /* written to the CPU's ring */
	__u64 dropped; /* lost: the CPU's ring was full */
	__u64 excluded;/* skipped: an excluded process */
};

#endif /* HARRIER_H */

#ifndef HARRIER_H_LOADER_FRAMES
#define HARRIER_H_LOADER_FRAMES
/* Frames the loader writes itself (same first 16 bytes as hrr_hdr). */
struct hrr_hello {
	__u32 len;
	__u16 kind;
	__u16 version;
	__u64 ts;          /* CLOCK_BOOTTIME ns when written */
	__u64 boot_epoch;  /* add to a frame's ts to get ns since the epoch */
	__u32 ncpus;
	__u32 pid;         /* the loader's pid */
};

struct hrr_stats_frame {
	__u32 len;
	__u16 kind;
	__u16 attached;    /* syscalls traced right now */
	__u64 ts;
	struct hrr_stats k; /* kernel counters, summed over CPUs, since start */
	__u64 frames;      /* frames written to stdout */
	__u64 bytes;       /* bytes written to stdout */
	__u64 excluded_pids; /* processes in the exclusion map */
};
#endif /* HARRIER_H_LOADER_FRAMES */
