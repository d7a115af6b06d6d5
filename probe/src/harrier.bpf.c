// SPDX-License-Identifier: GPL-2.0
/*
 * Harrier's kernel side: a BTF-enabled raw tracepoint on syscall exit that sends the syscalls the
 * loader marks as wanted, plus fork/exit tracepoints for process lifecycle and self-exclusion. Each
 * program builds one frame (harrier.h) in place in its CPU's ring, which the loader maps and reads.
 * (fentry/fexit would spare the syscalls outside the set even the tracepoint's cost, but they are
 * not allowed everywhere.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "harrier.h"
#include "syscalls.h"

char LICENSE[] SEC("license") = "GPL";

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define READ_ONCE_TAIL(r) (*(volatile __u64 *)&(r)->tail)

#define SCRATCH_SIZE 32768 /* frame lengths are masked to below this */
#define SCRATCH_MASK 16383 /* write offsets in a frame stay below this; each write is at most 4096 */
#define ITEM_LIMIT 12000   /* no new item starts past here */
#define MAX_STR 4096
_Static_assert(HRR_PAGE_SIZE - HRR_PAGE_DATA >= SCRATCH_MASK + 1 + MAX_STR, "a frame started at the end of a page's data part must fit in its slack");
#define MAX_COMPONENTS 48   /* path components put_path reads, at most */
#define MAX_CGROUP_LEVELS 24 /* cgroup levels put_cgroup reads, at most */
#define NAME_MAX_ 256
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10

/* A ring page (harrier.h): frames start in its first HRR_PAGE_DATA bytes, the slack takes the last one's end. */
struct ring_page {
	__u8 data[HRR_PAGE_SIZE];
};

/* Every CPU's ring, pages_per_cpu pages each; the loader sizes it and maps it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ring_page);
} rings SEC(".maps");

/* Pages per CPU ring, a power of two (set by the loader). */
const volatile __u32 pages_per_cpu = 1;

/* Each CPU ring's head (the program's) and tail (the loader's), on separate cache lines. */
struct hrr_ring_ctl ring_ctl[HRR_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hrr_stats);
} stats SEC(".maps");

/*
 * Processes (tgid) whose events are never sent: Harrier itself, its children, the NATS server. A
 * bitmap over every possible pid (PID_MAX_LIMIT, 512 KiB) in .bss: a global is addressed
 * directly, so the test per event is one load, where a hash map lookup cost a call and a hash.
 * The loader sets bits through the mmapped .bss; both sides change bits atomically.
 */
#define PID_LIMIT (4 * 1024 * 1024)
__u64 excluded_bits[PID_LIMIT / 64];

/* Syscall numbers to send (1) or not (0); the loader rewrites it when the rules change. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u8);
} wanted SEC(".maps");

/* Set by the loader: send process exits. */
const volatile bool send_procexit = true;

/* Set by the loader: how many bytes of the data a send or receive call moved go in its frame (Falco's snaplen). */
const volatile __u32 snaplen = 80;

/*
 * Threads whose last exec came through execveat with a file descriptor (bprm->fdpath set): a
 * successful exec returns with orig_ax set to __NR_execve, so sys_exit asks here which call it
 * was. The value is the task's self_exec_id after that exec, so an entry left by an exec whose
 * exit was never seen cannot name a later one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} via_execveat SEC(".maps");

/* The x86_64 number of each ia32 syscall the probe traces (syscalls.h), 0 for the rest. */
#define IA32_ENTRY(name32, nr32, name) [nr32] = NR_##name,
static const __u16 ia32_to_x64[HRR_IA32_NR_LIMIT] = {HRR_IA32_TABLE(IA32_ENTRY)};
#undef IA32_ENTRY

/* thread_info.status on x86: the current syscall came in through a 32-bit entry. */
#define TS_COMPAT_ 0x0002
/* Pid namespaces nest up to MAX_PID_NS_LEVEL (32) deep: struct pid has level + 1 numbers. */
#define PID_LEVEL(l) ((l) & 63)

static __always_inline struct hrr_stats *stat(void)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&stats, &k);
}

static __always_inline struct hrr_ring_ctl *ring(void)
{
	return &ring_ctl[bpf_get_smp_processor_id() & (HRR_MAX_CPUS - 1)];
}

/*
 * Where this CPU's frame is being built: at its ring's head. No other program writes this ring
 * meanwhile: the programs run with preemption off, and none runs in interrupt context.
 */
static __always_inline __u8 *buffer(void)
{
	__u32 cpu = bpf_get_smp_processor_id() & (HRR_MAX_CPUS - 1);
	__u64 head = ring_ctl[cpu].head;
	__u32 k = cpu * pages_per_cpu + (__u32)((head / HRR_PAGE_DATA) & (pages_per_cpu - 1));
	struct ring_page *pg = bpf_map_lookup_elem(&rings, &k);
	if (!pg)
		return NULL;
	return &pg->data[head & (HRR_PAGE_DATA - 1)];
}

/*
 * Room for one more frame: the page at the head holds no unread frame of the ring's last lap, and
 * no frame is being built on this CPU already (programs do not nest here; if one ever did, its
 * event would be counted as dropped rather than written over another).
 */
static __always_inline bool has_room(void)
{
	struct hrr_ring_ctl *r = ring();
	return r->building == 0 && r->head + HRR_PAGE_DATA - READ_ONCE_TAIL(r) <= (__u64)pages_per_cpu * HRR_PAGE_DATA;
}

/* Counts an event and returns where its frame goes; NULL when there is no room (counted as a drop). */
static __always_inline __u8 *begin_frame(struct hrr_stats *st)
{
	st->seen++;
	if (!has_room()) {
		st->dropped++;
		return NULL;
	}
	return buffer();
}

/*
 * The frame at the head has this timestamp until it is published: the loader copies no frame of
 * any CPU younger than it, so the merged stream stays in timestamp order even when an interrupt or
 * the hypervisor holds this CPU between taking the timestamp and publishing.
 */
static __always_inline void building(__u64 ts)
{
	*(volatile __u64 *)&ring()->building = ts;
}

static __always_inline bool is_excluded(__u32 tgid)
{
	return (excluded_bits[(tgid / 64) & (PID_LIMIT / 64 - 1)] >> (tgid & 63)) & 1;
}

static __always_inline void set_excluded(__u32 tgid, bool on)
{
	__u64 *w = &excluded_bits[(tgid / 64) & (PID_LIMIT / 64 - 1)];
	__u64 bit = 1ULL << (tgid & 63);
	if (on)
		__sync_fetch_and_or(w, bit);
	else
		__sync_fetch_and_and(w, ~bit);
}

/* kernfs_node.parent became __parent in 6.15. */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

struct item {
	__u16 tag;
	__u16 len;
};

/*
 * Item writers are global BPF functions: the verifier checks each once, not once per call site
 * (inlined, the syscall switch exceeds its budget). Each takes and returns the frame's write offset
 * in this CPU's ring, at the frame being built; an item that cannot be read is left out.
 */
#define ITEM_FN __attribute__((noinline))

/* A write position the verifier can bound (the barrier keeps clang from dropping the mask). */
static __always_inline __u32 at(__u64 o)
{
	__u64 x = o;
	barrier_var(x);
	return (__u32)(x & SCRATCH_MASK);
}

static __always_inline int item_end(__u8 *s, __u32 start, __u32 end, __u16 tag)
{
	struct item *it = (void *)&s[at(start)];
	it->tag = tag;
	it->len = (__u16)(end - start - sizeof(struct item));
	return (int)end;
}

/* A user string, NUL included. */
static __always_inline __u32 ustr_item(__u8 *s, __u32 off, __u16 tag, __u64 ptr)
{
	if (off > ITEM_LIMIT || !ptr)
		return off;
	long n = bpf_probe_read_user_str(&s[at(off + sizeof(struct item))], MAX_STR, (const void *)ptr);
	if (n <= 0)
		return off;
	return (__u32)item_end(s, off, off + sizeof(struct item) + (__u32)n, tag);
}

ITEM_FN int put_ustr(__u32 off, __u32 tag, __u64 ptr)
{
	__u8 *s = buffer();
	if (!s)
		return (int)off;
	return (int)ustr_item(s, off, (__u16)tag, ptr);
}

/* Raw user memory, less than 4096 bytes. */
ITEM_FN int put_umem(__u32 off, __u32 tag, __u64 ptr, __u64 len)
{
	__u8 *s = buffer();
	if (!s || off > ITEM_LIMIT || !ptr || !len)
		return (int)off;
	__u32 n = len >= MAX_STR ? MAX_STR - 1 : (__u32)len;
	__u32 p = at(off + sizeof(struct item));
	if (bpf_probe_read_user(&s[p], n & (MAX_STR - 1), (const void *)ptr))
		return (int)off;
	return item_end(s, off, off + sizeof(struct item) + (n & (MAX_STR - 1)), (__u16)tag);
}

/*
 * Path components from the executable (which 0) or the working directory (1) up to the task's root,
 * leaf first. A walk that stops short of the top (more than MAX_COMPONENTS steps, the frame's room
 * used up, a name it cannot read) ends the item with an empty component: what it has is the leaf
 * side of the path, which must not pass for the whole of it.
 */
ITEM_FN int put_path(__u32 off, __u32 which)
{
	__u8 *s = buffer();
	struct task_struct *task = bpf_get_current_task_btf();
	if (!s || off > ITEM_LIMIT)
		return (int)off;
	struct dentry *d;
	struct vfsmount *vm;
	if (which == 0) {
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);
		if (!exe)
			return (int)off;
		d = BPF_CORE_READ(exe, f_path.dentry);
		vm = BPF_CORE_READ(exe, f_path.mnt);
	} else {
		d = BPF_CORE_READ(task, fs, pwd.dentry);
		vm = BPF_CORE_READ(task, fs, pwd.mnt);
	}
	if (!d || !vm)
		return (int)off;
	__u32 o = off + sizeof(struct item);
	struct dentry *root_d = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_m = BPF_CORE_READ(task, fs, root.mnt);
	struct mount *mnt = container_of(vm, struct mount, mnt);
	bool whole = false;
	for (int i = 0; i <= MAX_COMPONENTS; i++) {
		if (d == root_d && vm == root_m) {
			whole = true;
			break;
		}
		struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
		if (d == mnt_root) {
			struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
			if (parent == mnt) {
				whole = true;
				break;
			}
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = parent;
			vm = &parent->mnt;
			continue;
		}
		struct dentry *up = BPF_CORE_READ(d, d_parent);
		/*
		 * A dentry that is its own parent below its mount's root: a pseudo file (memfd, pipe), no
		 * more to walk. Met first, it is the whole path: its own name (a memfd's "memfd:NAME", as
		 * libscap gives it), after an empty component that says so.
		 */
		if (up == d) {
			whole = true;
			if (o == off + sizeof(struct item)) {
				s[at(o++)] = 0;
				const unsigned char *own = BPF_CORE_READ(d, d_name.name);
				long n = bpf_probe_read_kernel_str(&s[at(o)], NAME_MAX_, own);
				/* Unreadable: the lone empty component reads as a cut path. */
				if (n > 1)
					o += (__u32)n;
			}
			break;
		}
		/* The last turn only looks whether the walk is done: it reads no name. */
		if (i == MAX_COMPONENTS || o > ITEM_LIMIT + 2048)
			break;
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		long n = bpf_probe_read_kernel_str(&s[at(o)], NAME_MAX_, name);
		if (n <= 1)
			break;
		o += (__u32)n;
		d = up;
	}
	if (!whole)
		s[at(o++)] = 0;
	return item_end(s, off, o, which == 0 ? HRR_ITEM_EXEPATH : HRR_ITEM_CWD);
}

/* Path components of the cpuset (which 0) or unified (1) cgroup, leaf first; cut short the way put_path marks it. */
ITEM_FN int put_cgroup(__u32 off, __u32 which)
{
	__u8 *s = buffer();
	struct task_struct *task = bpf_get_current_task_btf();
	if (!s || off > ITEM_LIMIT)
		return (int)off;
	struct kernfs_node *kn;
	if (which == 0) {
		int cpuset = bpf_core_enum_value(enum cgroup_subsys_id, cpuset_cgrp_id);
		kn = BPF_CORE_READ(task, cgroups, subsys[cpuset & 15], cgroup, kn);
	} else {
		kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	}
	if (!kn)
		return (int)off;
	__u32 o = off + sizeof(struct item);
	bool whole = false;
	for (int i = 0; i <= MAX_CGROUP_LEVELS; i++) {
		struct kernfs_node *up = kn_parent(kn);
		/* The hierarchy's root has no parent and its name is not part of the path. */
		if (!up) {
			whole = true;
			break;
		}
		if (i == MAX_CGROUP_LEVELS || o > ITEM_LIMIT + 2048)
			break;
		const char *name = BPF_CORE_READ(kn, name);
		long n = bpf_probe_read_kernel_str(&s[at(o)], NAME_MAX_, name);
		if (n <= 1)
			break;
		o += (__u32)n;
		kn = up;
	}
	if (!whole)
		s[at(o++)] = 0;
	return item_end(s, off, o, which == 0 ? HRR_ITEM_CGROUP : HRR_ITEM_CGROUP2);
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	/* The kernel reads an fd argument as an int: the register's upper half is not part of it. */
	unsigned int i = (unsigned int)fd;
	if (!fdt || (int)i < 0 || i >= fdt->max_fds)
		return NULL;
	/* fdt->fd is an array of pointers, which BTF loads do not follow: view it as untrusted memory. */
	const __u64 *fds = bpf_rdonly_cast(fdt->fd, 0);
	struct file *f = (struct file *)fds[i];
	if (!f)
		return NULL;
	/* A BTF view of the pointer, so the fields below are cheap direct loads. */
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* The file behind fd: inode, device, flags, file system. */
static __always_inline __u32 file_item(__u8 *s, struct task_struct *task, __u32 off, __u16 tag, __s64 fd)
{
	if (off > ITEM_LIMIT)
		return off;
	struct file *f = fd_file(task, fd);
	if (!f)
		return off;
	struct hrr_file *hf = (void *)&s[at(off + sizeof(struct item))];
	struct inode *ino = f->f_inode;
	hf->ino = ino->i_ino;
	hf->dev = ino->i_sb->s_dev;
	hf->magic = (__u32)ino->i_sb->s_magic;
	hf->flags = f->f_flags;
	hf->fd = (__u32)fd;
	hf->fmode = f->f_mode;
	hf->pad = 0;
	return (__u32)item_end(s, off, off + sizeof(struct item) + sizeof(struct hrr_file), tag);
}

ITEM_FN int put_file(__u32 off, __u32 tag, __s64 fd)
{
	__u8 *s = buffer();
	if (!s)
		return (int)off;
	return (int)file_item(s, bpf_get_current_task_btf(), off, (__u16)tag, fd);
}

/* The local and remote ends of the socket behind fd. */
/* The socket behind fd, or NULL when fd is no socket. */
static __always_inline struct sock *sock_of(struct task_struct *task, __s64 fd)
{
	struct file *f = fd_file(task, fd);
	if (!f)
		return NULL;
	/* Only sockets: their file operations are socket_file_ops, whose inode is a socket inode. */
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & 00170000) != 0140000 /* S_IFSOCK */)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(sock, sk);
}

ITEM_FN int put_tuple(__u32 off, __s64 fd)
{
	__u8 *s = buffer();
	struct task_struct *task = bpf_get_current_task_btf();
	if (!s || off > ITEM_LIMIT)
		return (int)off;
	struct sock *sk = sock_of(task, fd);
	if (!sk)
		return (int)off;
	struct hrr_tuple *t = (void *)&s[at(off + sizeof(struct item))];
	__builtin_memset(t, 0, sizeof(*t));
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->family = (__u8)family;
	t->l4proto = (__u8)BPF_CORE_READ(sk, sk_protocol);
	if (family == AF_INET_) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
		t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		t->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (family == AF_INET6_) {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		t->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (family == AF_UNIX_) {
		struct unix_sock *us = (struct unix_sock *)sk;
		struct sock *peer = BPF_CORE_READ(us, peer);
		t->sk = (__u64)sk;
		t->peer = (__u64)peer;
		struct unix_address *addr = BPF_CORE_READ(us, addr);
		if (!addr && peer)
			addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
		if (addr && BPF_CORE_READ(addr, len) > 2)
			bpf_probe_read_kernel(t->path, sizeof(t->path), &addr->name[0].sun_path);
	} else {
		return (int)off;
	}
	return item_end(s, off, off + sizeof(struct item) + sizeof(struct hrr_tuple), HRR_ITEM_TUPLE);
}

/* The accept queue of the listening socket behind fd (libscap's queuelen and queuemax). */
ITEM_FN int put_backlog(__u32 off, __s64 fd)
{
	__u8 *s = buffer();
	if (!s || off > ITEM_LIMIT)
		return (int)off;
	struct sock *sk = sock_of(bpf_get_current_task_btf(), fd);
	if (!sk)
		return (int)off;
	struct hrr_backlog *b = (void *)&s[at(off + sizeof(struct item))];
	b->len = BPF_CORE_READ(sk, sk_ack_backlog);
	b->max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	return item_end(s, off, off + sizeof(struct item) + sizeof(struct hrr_backlog), HRR_ITEM_BACKLOG);
}

static __always_inline __u32 encode_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	int index = BPF_CORE_READ(tty, index);
	int major = BPF_CORE_READ(tty, driver, major);
	int minor = BPF_CORE_READ(tty, driver, minor_start);
	return ((__u32)major << 20) | (__u32)(minor + index);
}

/* Before 6.2 the counters were atomics in a struct mm_rss_stat. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/*
 * An mm counter in pages, read as the kernel's get_mm_counter reads it: the shared count, which
 * does not yet hold each CPU's last few changes (less than the per-CPU batch, 32 pages or twice
 * the CPU count).
 */
static __always_inline long mm_counter(struct mm_struct *mm, int member)
{
	long v;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62))
		v = BPF_CORE_READ((struct mm_struct___pre62 *)mm, rss_stat.count[member & 3].counter);
	else
		v = BPF_CORE_READ(mm, rss_stat[member & 3].count);
	return v < 0 ? 0 : v;
}

/* When the init (child reaper) of the task's own pid namespace started: CLOCK_BOOTTIME ns. */
static __always_inline __u64 pidns_init_start(struct task_struct *task)
{
	struct pid *tp = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct pid_namespace *ns = BPF_CORE_READ(tp, numbers[PID_LEVEL(level)].ns);
	struct task_struct *reaper = BPF_CORE_READ(ns, child_reaper);
	return reaper ? BPF_CORE_READ(reaper, start_boottime) : 0;
}

/* Credentials, capabilities, tty and what the executable is. */
ITEM_FN int put_exec(__u32 off)
{
	__u8 *s = buffer();
	struct task_struct *task = bpf_get_current_task_btf();
	if (!s || off > ITEM_LIMIT)
		return (int)off;
	struct hrr_exec *x = (void *)&s[at(off + sizeof(struct item))];
	__builtin_memset(x, 0, sizeof(*x));
	const struct cred *cred = BPF_CORE_READ(task, cred);
	x->cap_inheritable = BPF_CORE_READ(cred, cap_inheritable.val);
	x->cap_permitted = BPF_CORE_READ(cred, cap_permitted.val);
	x->cap_effective = BPF_CORE_READ(cred, cap_effective.val);
	x->euid = BPF_CORE_READ(cred, euid.val);
	x->egid = BPF_CORE_READ(cred, egid.val);
	x->tty = encode_tty(task);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	if (exe) {
		struct inode *ino = BPF_CORE_READ(exe, f_inode);
		x->exe_ino = BPF_CORE_READ(ino, i_ino);
		/* Since 6.13 bit 31 of i_ctime_nsec is a flag (I_CTIME_QUERIED), not part of the time. */
		x->exe_ctime = BPF_CORE_READ(ino, i_ctime_sec) * 1000000000ULL + (BPF_CORE_READ(ino, i_ctime_nsec) & 0x7fffffffU);
		x->exe_mtime = BPF_CORE_READ(ino, i_mtime_sec) * 1000000000ULL + BPF_CORE_READ(ino, i_mtime_nsec);
		unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
		if (magic == 0x794c7630 /* OVERLAYFS_SUPER_MAGIC */) {
			struct ovl_inode *oi = container_of(ino, struct ovl_inode, vfs_inode);
			if (BPF_CORE_READ(oi, __upperdentry))
				x->flags |= HRR_EXE_UPPER_LAYER;
		}
		char pfx[8] = {};
		bpf_probe_read_kernel_str(pfx, sizeof(pfx), BPF_CORE_READ(exe, f_path.dentry, d_name.name));
		if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' && pfx[4] == 'd' && pfx[5] == ':')
			x->flags |= HRR_EXE_FROM_MEMFD;
		if (BPF_CORE_READ(ino, i_mode) & 0222)
			x->flags |= HRR_EXE_WRITABLE;
	}
	x->vm_size = (__u32)(BPF_CORE_READ(mm, total_vm) << 2);
	if (mm) {
		x->vm_rss = (__u32)((mm_counter(mm, MM_FILEPAGES) + mm_counter(mm, MM_ANONPAGES) + mm_counter(mm, MM_SHMEMPAGES)) << 2);
		x->vm_swap = (__u32)(mm_counter(mm, MM_SWAPENTS) << 2);
	}
	x->pidns_init_start = pidns_init_start(task);
	x->fdlimit = BPF_CORE_READ(task, signal, rlim[7].rlim_cur); /* RLIMIT_NOFILE */
	x->pgft_maj = BPF_CORE_READ(task, maj_flt);
	x->pgft_min = BPF_CORE_READ(task, min_flt);
	struct pid *pgrp = BPF_CORE_READ(task, signal, pids[PIDTYPE_PGID]);
	x->pgid = BPF_CORE_READ(pgrp, numbers[0].nr);
	return item_end(s, off, off + sizeof(struct item) + sizeof(struct hrr_exec), HRR_ITEM_EXEC);
}

/* The argument (which 0) or environment (1) area of the process. */
ITEM_FN int put_area(__u32 off, __u32 which)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (!mm)
		return (int)off;
	unsigned long from = which == 0 ? BPF_CORE_READ(mm, arg_start) : BPF_CORE_READ(mm, env_start);
	unsigned long to = which == 0 ? BPF_CORE_READ(mm, arg_end) : BPF_CORE_READ(mm, env_end);
	if (to <= from)
		return (int)off;
	return put_umem(off, which == 0 ? HRR_ITEM_ARGS : HRR_ITEM_ENV, from, to - from);
}

/* The start of an ia32 process's msghdr (struct compat_msghdr): 32-bit pointers. */
struct compat_msghdr_head {
	__u32 msg_name;
	__s32 msg_namelen;
};

/* sendmsg/recvmsg: the address in the user's msghdr (ia32's layout for an ia32 call). */
ITEM_FN int put_msg_name(__u32 off, __u64 msg, __u32 ia32)
{
	__u64 name;
	__u32 len;
	if (!msg)
		return (int)off;
	if (ia32) {
		struct compat_msghdr_head m = {};
		if (bpf_probe_read_user(&m, sizeof(m), (void *)msg))
			return (int)off;
		name = m.msg_name;
		len = (__u32)m.msg_namelen;
	} else {
		struct user_msghdr m = {};
		if (bpf_probe_read_user(&m, sizeof(m), (void *)msg))
			return (int)off;
		name = (__u64)m.msg_name;
		len = (__u32)m.msg_namelen;
	}
	if (!name || !len)
		return (int)off;
	return put_umem(off, HRR_ITEM_SOCKADDR, name, len > 128 ? 128 : len);
}

/* The first bytes of a send's or receive's buffer: `len` of them, at most the snaplen. */
static __always_inline __u32 put_data(__u32 off, __u64 buf, __u64 len)
{
	return put_umem(off, HRR_ITEM_DATA, buf, len < snaplen ? len : snaplen);
}

struct compat_msghdr_iov {
	__u32 msg_name;
	__s32 msg_namelen;
	__u32 msg_iov;
	__u32 msg_iovlen;
};

struct compat_iovec_ {
	__u32 base;
	__u32 len;
};

#define MAX_IOV 8

/*
 * sendmsg/recvmsg: the first bytes of the data, gathered from the msghdr's first MAX_IOV iovecs
 * (ia32's layouts for an ia32 call): `total` of them, at most the snaplen.
 */
ITEM_FN int put_msg_data(__u32 off, __u64 msg, __u64 total, __u32 ia32)
{
	__u8 *s = buffer();
	if (!s || off > ITEM_LIMIT || !msg)
		return (int)off;
	__u64 iov, iovlen;
	if (ia32) {
		struct compat_msghdr_iov m = {};
		if (bpf_probe_read_user(&m, sizeof(m), (void *)msg))
			return (int)off;
		iov = m.msg_iov;
		iovlen = m.msg_iovlen;
	} else {
		struct user_msghdr m = {};
		if (bpf_probe_read_user(&m, sizeof(m), (void *)msg))
			return (int)off;
		iov = (__u64)m.msg_iov;
		iovlen = m.msg_iovlen;
	}
	__u32 want = total < snaplen ? (__u32)total : snaplen;
	__u32 p = off + sizeof(struct item);
	__u32 got = 0;
	for (int i = 0; i < MAX_IOV; i++) {
		if (i >= iovlen || got >= want)
			break;
		__u64 base, len;
		if (ia32) {
			struct compat_iovec_ v;
			if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
				break;
			base = v.base;
			len = v.len;
		} else {
			struct iovec v;
			if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
				break;
			base = (__u64)v.iov_base;
			len = v.iov_len;
		}
		__u32 n = want - got;
		if (len < n)
			n = (__u32)len;
		n &= MAX_STR - 1;
		if (n && bpf_probe_read_user(&s[at(p + got)], n, (void *)base))
			break;
		got += n;
	}
	if (!got)
		return (int)off;
	return item_end(s, off, p + (got & (MAX_STR - 1)), HRR_ITEM_DATA);
}

/* What a process looks like (args, env, exe, cwd, cgroups): clone and exec carry it. */
static __always_inline __u32 put_process(__u32 off, bool with_env)
{
	off = put_area(off, 0);
	if (with_env)
		off = put_area(off, 1);
	off = put_path(off, 0);
	off = put_path(off, 1);
	off = put_cgroup(off, 0);
	return put_cgroup(off, 1);
}

static __always_inline void fill_hdr(struct hrr_hdr *h, struct task_struct *task, __u16 kind, __u16 nr, long ret, __u32 flags)
{
	/*
	 * task is a BTF pointer: direct loads compile to fault-tolerant PROBE_MEM loads. Every field
	 * is read that way, helpers included where a load does the same (pid and tgid, uid and gid,
	 * the cgroup id, comm): this runs for every event, and with the kernel's return-thunk
	 * mitigations a helper call costs far more than a load (bpftool's run_time_ns showed the
	 * helpers' header at about 450 ns an event, the loads' at about 280 ns).
	 */
	h->kind = kind;
	h->nr = nr;
	h->ts = bpf_ktime_get_boot_ns();
	building(h->ts);
	h->tid = task->pid;
	h->pid = task->tgid;
	h->ppid = task->real_parent->tgid;
	/* The task's subjective credentials in the initial user namespace, as bpf_get_current_uid_gid gives them. */
	const struct cred *cred = task->cred;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->loginuid = task->loginuid.val;
	/* bpf_get_current_cgroup_id: the id of the task's cgroup v2 (default hierarchy) node. */
	h->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	/* comm is 16 bytes, NUL-terminated by the kernel: two 8-byte loads. */
	const __u64 *comm = (const __u64 *)task->comm;
	__u64 *out = (__u64 *)h->comm;
	out[0] = comm[0];
	out[1] = comm[1];
	struct nsproxy *ns = task->nsproxy;
	if (ns) {
		h->pidns = ns->pid_ns_for_children ? ns->pid_ns_for_children->ns.inum : 0;
		h->mntns = ns->mnt_ns->ns.inum;
		h->netns = ns->net_ns->ns.inum;
	} else {
		h->pidns = h->mntns = h->netns = 0;
	}
	/* Ids inside the task's own pid namespace: the same as the kernel's outside any. */
	struct pid *tp = task->thread_pid;
	unsigned int level = tp->level;
	h->vtid = level ? BPF_CORE_READ(tp, numbers[PID_LEVEL(level)].nr) : h->tid;
	struct pid *gp = task->group_leader->thread_pid;
	unsigned int glevel = gp->level;
	h->vpid = glevel ? BPF_CORE_READ(gp, numbers[PID_LEVEL(glevel)].nr) : h->pid;
	h->flags = flags;
	h->ret = ret;
}

/* The frame built at the head is complete: move the head past it, which hands it to the loader. */
static __always_inline int submit(__u8 *s, __u32 off, struct hrr_stats *st)
{
	struct hrr_hdr *h = (void *)s;
	__u64 len = off & (SCRATCH_SIZE - 1);
	struct hrr_ring_ctl *r = ring();
	if (len < HRR_HDR_SIZE) {
		*(volatile __u64 *)&r->building = 0;
		return 0;
	}
	h->len = (__u32)len;
	__u64 next = hrr_next_pos(r->head, (__u32)len);
	/* x86 keeps stores in order; the barrier keeps the compiler from moving the frame's after this one. */
	barrier();
	*(volatile __u64 *)&r->head = next;
	barrier();
	*(volatile __u64 *)&r->building = 0;
	st->sent++;
	return 0;
}

static __always_inline int on_exit(struct task_struct *task, __u16 nr, const __u64 *a, long ret, __u32 flags)
{
	struct hrr_stats *st = stat();
	if (!st)
		return 0;
	__u32 tgid = task->tgid;
	if (is_excluded(tgid)) {
		st->excluded++;
		return 0;
	}
	__u8 *s = begin_frame(st);
	if (!s)
		return 0;
	struct hrr_hdr *h = (void *)s;
	fill_hdr(h, task, HRR_KIND_SYSCALL, nr, ret, flags);
	for (int i = 0; i < 6; i++)
		h->args[i] = a[i];
	__u32 off = HRR_HDR_SIZE;
	bool ret_file = false;
#define U(i) off = put_ustr(off, HRR_ITEM_USTR0 + (i), a[i])
	switch (nr) {
	/* The opens, the commonest events, write their path inline: no call, no second buffer lookup. */
	case NR_open:
	case NR_creat:
		off = ustr_item(s, off, HRR_ITEM_USTR0, a[0]);
		ret_file = true;
		break;
	case NR_openat:
	case NR_openat2:
		off = ustr_item(s, off, HRR_ITEM_USTR0 + 1, a[1]);
		if (nr == NR_openat2)
			off = put_umem(off, HRR_ITEM_UMEM, a[2], 24); /* struct open_how */
		ret_file = true;
		break;
	case NR_memfd_create:
	case NR_chdir:
	case NR_unlink:
	case NR_mkdir:
	case NR_rmdir:
	case NR_chmod:
	case NR_chown:
	case NR_lchown:
	case NR_umount2:
		U(0);
		break;
	case NR_execve:
	case NR_execveat:
		if (ret != 0) {
			if (nr == NR_execve)
				U(0);
			else
				U(1);
		}
		off = put_exec(off);
		off = put_process(off, true);
		break;
	case NR_clone:
	case NR_clone3:
	case NR_fork:
	case NR_vfork:
		if (nr == NR_clone3)
			off = put_umem(off, HRR_ITEM_UMEM, a[0], 8); /* clone_args.flags */
		off = put_exec(off);
		off = put_process(off, false);
		break;
	case NR_connect:
	case NR_bind:
		off = put_umem(off, HRR_ITEM_SOCKADDR, a[1], a[2] > 128 ? 128 : a[2]);
		off = put_tuple(off, a[0]);
		break;
	case NR_sendto:
		off = put_umem(off, HRR_ITEM_SOCKADDR, a[4], a[5] > 128 ? 128 : a[5]);
		off = put_tuple(off, a[0]);
		/* What was sent, else (a failed send) what the caller meant to send. */
		off = put_data(off, a[1], ret > 0 ? (__u64)ret : a[2]);
		break;
	case NR_recvfrom: {
		__u32 alen = 0;
		if (a[5])
			bpf_probe_read_user(&alen, sizeof(alen), (void *)a[5]);
		off = put_umem(off, HRR_ITEM_SOCKADDR, a[4], alen > 128 ? 128 : alen);
		off = put_tuple(off, a[0]);
		if (ret > 0)
			off = put_data(off, a[1], ret);
		break;
	}
	case NR_sendmsg:
	case NR_recvmsg:
		off = put_msg_name(off, a[1], flags & HRR_FLAG_IA32);
		off = put_tuple(off, a[0]);
		/* A receive's data only when it got some; a failed send's, as far as the snaplen. */
		if (ret > 0 || nr == NR_sendmsg)
			off = put_msg_data(off, a[1], ret > 0 ? (__u64)ret : snaplen, flags & HRR_FLAG_IA32);
		break;
	case NR_accept:
	case NR_accept4:
		off = put_tuple(off, ret);
		/* The listening socket's queue, as libscap reads it: for a connection taken only. */
		if (ret >= 0)
			off = put_backlog(off, a[0]);
		break;
	case NR_socket:
		off = put_tuple(off, ret);
		break;
	case NR_listen:
		off = put_tuple(off, a[0]);
		break;
	case NR_pipe:
	case NR_pipe2:
	case NR_socketpair: {
		__u64 p = nr == NR_socketpair ? a[3] : a[0];
		int fds[2] = {-1, -1};
		if (ret == 0 && p && bpf_probe_read_user(fds, sizeof(fds), (void *)p) == 0) {
			off = put_umem(off, HRR_ITEM_UMEM, p, 8);
			off = put_file(off, HRR_ITEM_FILE, fds[0]);
			off = put_file(off, HRR_ITEM_FILE2, fds[1]);
			if (nr == NR_socketpair)
				off = put_tuple(off, fds[0]);
		}
		break;
	}
	case NR_unlinkat:
	case NR_mkdirat:
	case NR_fchmodat:
	case NR_fchownat:
	case NR_finit_module:
		U(1);
		break;
	case NR_rename:
	case NR_symlink:
	case NR_link:
		U(0);
		U(1);
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		U(1);
		U(3);
		break;
	case NR_symlinkat:
		U(0);
		U(2);
		break;
	case NR_mount:
		U(0);
		U(1);
		U(2);
		break;
	case NR_init_module:
		U(2);
		break;
	case NR_prctl:
		/* libscap's arg2_str and arg2_int: the name set or got (read after the call), the reaper flag got. */
		if ((int)a[0] == 15 /* PR_SET_NAME */ || (int)a[0] == 16 /* PR_GET_NAME */)
			U(1);
		else if ((int)a[0] == 37 /* PR_GET_CHILD_SUBREAPER */)
			off = put_umem(off, HRR_ITEM_UMEM, a[1], 4);
		break;
	case NR_dup:
	case NR_dup2:
	case NR_dup3:
		ret_file = true;
		break;
	case NR_fcntl:
		/* Only F_DUPFD and F_DUPFD_CLOEXEC return an fd; F_GETFL and the rest return values. */
		ret_file = a[1] == 0 || a[1] == 1030;
		break;
	default:
		break;
	}
#undef U
	/* The file an open or dup returned: the common case, written inline (no call, no second lookup). */
	if (ret_file)
		off = file_item(s, task, off, HRR_ITEM_FILE, ret);
	/* The item writers used the same buffer: s still points at it. */
	return submit(s, off, st);
}

/* A 16-bit uid or gid argument of the old ia32 calls: (u16)-1 means -1, as the kernel widens it. */
static __always_inline __u64 uid16(__u64 v)
{
	v &= 0xffff;
	return v == 0xffff ? 0xffffffffULL : v;
}

/* socketcall's calls (linux/net.h SYS_*): the x86_64 syscall and how many u32 arguments it reads. */
static __always_inline __u32 socketcall_nr(__u32 call, __u32 *nargs)
{
	switch (call) {
	case 1: *nargs = 3; return NR_socket;
	case 2: *nargs = 3; return NR_bind;
	case 3: *nargs = 3; return NR_connect;
	case 4: *nargs = 2; return NR_listen;
	case 5: *nargs = 3; return NR_accept;
	case 8: *nargs = 4; return NR_socketpair;
	case 9: *nargs = 4; return NR_sendto;   /* send: sendto without an address */
	case 10: *nargs = 4; return NR_recvfrom; /* recv: recvfrom without an address */
	case 11: *nargs = 6; return NR_sendto;
	case 12: *nargs = 6; return NR_recvfrom;
	case 16: *nargs = 3; return NR_sendmsg;
	case 17: *nargs = 3; return NR_recvmsg;
	case 18: *nargs = 4; return NR_accept4;
	default: return 0;
	}
}

/*
 * An ia32 syscall as the x86_64 call it is: its number (0 when the probe does not trace it) and
 * its arguments in the x86_64 order, read from the i386 argument registers (ebx, ecx, edx, esi,
 * edi, ebp), zero-extended.
 */
static __always_inline __u32 ia32_call(struct pt_regs *regs, __u64 *a)
{
	__u32 nr32 = (__u32)regs->orig_ax;
	a[0] = (__u32)regs->bx;
	a[1] = (__u32)regs->cx;
	a[2] = (__u32)regs->dx;
	a[3] = (__u32)regs->si;
	a[4] = (__u32)regs->di;
	a[5] = (__u32)regs->bp;
	if (nr32 == HRR_IA32_SOCKETCALL) {
		__u32 nargs = 0, v[6] = {};
		__u32 nr = socketcall_nr((__u32)a[0], &nargs);
		if (!nr)
			return 0;
		/* The arguments are an array of u32 in user memory; the kernel reads exactly nargs of them. */
		bpf_probe_read_user(v, (nargs & 7) * 4 > sizeof(v) ? sizeof(v) : (nargs & 7) * 4, (void *)a[1]);
		for (int i = 0; i < 6; i++)
			a[i] = v[i];
		return nr;
	}
	if (nr32 >= HRR_IA32_NR_LIMIT)
		return 0;
	switch (nr32) {
	case 16:  /* lchown (16-bit ids) */
	case 95:  /* fchown */
	case 182: /* chown */
		a[1] = uid16(a[1]);
		a[2] = uid16(a[2]);
		break;
	case 164: /* setresuid (16-bit ids) */
	case 170: /* setresgid */
		a[2] = uid16(a[2]);
		a[1] = uid16(a[1]);
		/* fall through */
	case 23: /* setuid (16-bit id) */
	case 46: /* setgid */
		a[0] = uid16(a[0]);
		break;
	case 22: /* umount: umount2 without flags */
		a[1] = 0;
		break;
	case 120: { /* clone: i386 passes tls before child_tid (CLONE_BACKWARDS) */
		__u64 tls = a[3];
		a[3] = a[4];
		a[4] = tls;
		break;
	}
	default:
		break;
	}
	return ia32_to_x64[nr32];
}

/* A successful execve exit: execveat when the exec came through one with a file descriptor. */
static __always_inline __u32 exec_nr(struct task_struct *task)
{
	__u32 tid = task->pid;
	__u64 *id = bpf_map_lookup_elem(&via_execveat, &tid);
	if (!id)
		return NR_execve;
	bool same = *id == task->self_exec_id;
	bpf_map_delete_elem(&via_execveat, &tid);
	return same ? NR_execveat : NR_execve;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	/*
	 * The cheapest possible no for 64-bit syscalls outside the set: one load for the compat
	 * test, one array lookup. An ia32 syscall's number is an i386 one: it is translated first.
	 */
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 a[6];
	__u32 flags = 0, nr;
	if (task->thread_info.status & TS_COMPAT_) {
		nr = ia32_call(regs, a);
		if (!nr)
			return 0;
		flags = HRR_FLAG_IA32;
	} else {
		nr = (__u32)regs->orig_ax;
	}
	/* A successful exec returns as execve (the kernel sets orig_ax so): which call was it? */
	if (nr == NR_execve && ret == 0)
		nr = exec_nr(task);
	__u8 *want = bpf_map_lookup_elem(&wanted, &nr);
	if (!want || !*want)
		return 0;
	if (!flags) {
		a[0] = regs->di;
		a[1] = regs->si;
		a[2] = regs->dx;
		a[3] = regs->r10;
		a[4] = regs->r8;
		a[5] = regs->r9;
	}
	return on_exit(task, (__u16)nr, a, ret, flags);
}

/* Notes which successful execs came through execveat with a file descriptor (see via_execveat). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!bpf_core_field_exists(bprm->fdpath) || !BPF_CORE_READ(bprm, fdpath))
		return 0;
	__u32 tid = BPF_CORE_READ(p, pid);
	__u64 id = BPF_CORE_READ(p, self_exec_id);
	bpf_map_update_elem(&via_execveat, &tid, &id, BPF_ANY);
	return 0;
}

/*
 * A new process is excluded exactly when its parent is: this also clears a bit left by an earlier
 * process with the same pid (bits are never cleared at exit, where other threads of an excluded
 * process may still run, and `exclude PID` may name a process that is already gone). A pid's
 * process starts here before it can run, so its events always meet its own bit.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ptgid == ctgid)
		return 0;
	bool ex = is_excluded(ptgid);
	if (is_excluded(ctgid) != ex)
		set_excluded(ctgid, ex);
	return 0;
}

#define REAPER_THREADS 30   /* threads of a group looked at for a live one */
#define REAPER_ANCESTORS 60 /* ancestors looked at for a child subreaper */
#define PF_EXITING_ 0x00000004

/*
 * A thread of task's group that is not exiting: its tid; 0 when there is none; -1 past
 * REAPER_THREADS. A global function (the task's address as a number, all reads probed): the
 * verifier checks its loop once, not once per ancestor exit_reaper looks at.
 */
ITEM_FN int alive_thread(__u64 task)
{
	struct task_struct *t = (struct task_struct *)task;
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	if (!sig)
		return 0;
	struct list_head *head = &sig->thread_head;
	struct list_head *next = BPF_CORE_READ(head, next);
	for (int i = 0; i < REAPER_THREADS; i++) {
		if (next == head)
			return 0;
		struct task_struct *th = container_of(next, struct task_struct, thread_node);
		if (!(BPF_CORE_READ(th, flags) & PF_EXITING_))
			return BPF_CORE_READ(th, pid);
		next = BPF_CORE_READ(th, thread_node.next);
	}
	return -1;
}

/*
 * The thread that takes the exiting thread's children, as the kernel's find_new_reaper picks it and
 * libscap reports it (reaper_tid): 0 when it has no children; else a live thread of its own group;
 * else, when an ancestor asked to be a child subreaper, the nearest such ancestor in its pid
 * namespace with a live thread; else the namespace's init (0 when that init is the one exiting).
 * -1 when the answer lies past the threads or ancestors looked at. Runs in the exiting thread.
 */
ITEM_FN int exit_reaper(void)
{
	struct task_struct *p = bpf_get_current_task_btf();
	struct list_head *kids = &p->children;
	if (BPF_CORE_READ(kids, next) == kids)
		return 0;
	/* The current task as a plain address: what alive_thread takes. */
	__s32 r = alive_thread(bpf_get_current_task());
	if (r != 0)
		return r;
	struct pid *tp = BPF_CORE_READ(p, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct pid_namespace *ns = BPF_CORE_READ(tp, numbers[PID_LEVEL(level)].ns);
	struct task_struct *init = BPF_CORE_READ(ns, child_reaper);
	if (init == p)
		return 0;
	__s32 init_tid = BPF_CORE_READ(init, pid);
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	if (!BPF_CORE_READ_BITFIELD_PROBED(sig, has_child_subreaper))
		return init_tid;
	struct task_struct *a = BPF_CORE_READ(p, real_parent);
	for (int i = 0; i < REAPER_ANCESTORS; i++) {
		/* Up to the namespace's init, never out of the namespace (setns + fork can put a parent outside it). */
		if (a == init || BPF_CORE_READ(a, thread_pid, level) != level)
			return init_tid;
		struct signal_struct *as = BPF_CORE_READ(a, signal);
		if (BPF_CORE_READ_BITFIELD_PROBED(as, is_child_subreaper)) {
			r = alive_thread((__u64)a);
			if (r != 0)
				return r;
		}
		a = BPF_CORE_READ(a, real_parent);
	}
	return -1;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_thread, struct task_struct *p)
{
	if (is_excluded(BPF_CORE_READ(p, tgid)))
		return 0;
	if (!send_procexit)
		return 0;
	struct hrr_stats *st = stat();
	if (!st)
		return 0;
	__u8 *s = begin_frame(st);
	if (!s)
		return 0;
	struct hrr_hdr *h = (void *)s;
	fill_hdr(h, p, HRR_KIND_PROCEXIT, 0, BPF_CORE_READ(p, exit_code), 0);
	for (int i = 0; i < 6; i++)
		h->args[i] = 0;
	/* args[0]: the reaper that takes the exiting thread's children (libscap's reaper_tid). */
	h->args[0] = (__u64)(__s64)exit_reaper();
	return submit(s, HRR_HDR_SIZE, st);
}
