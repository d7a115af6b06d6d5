/* The frame structs must have the offsets probe/FORMAT.md documents (the collector reads them by offset). */
#include <linux/types.h>
#include <stddef.h>
#include <stdio.h>
#include "harrier.h"

static int failures;
#define CHECK(expr, want)                                                                   \
	do {                                                                                \
		long got_ = (long)(expr);                                                   \
		if (got_ != (long)(want)) {                                                 \
			fprintf(stderr, "FAIL %s = %ld, FORMAT.md says %ld\n", #expr, got_, (long)(want)); \
			failures++;                                                         \
		}                                                                           \
	} while (0)

int main(void)
{
	CHECK(sizeof(struct hrr_hdr), HRR_HDR_SIZE);
	CHECK(offsetof(struct hrr_hdr, len), 0);
	CHECK(offsetof(struct hrr_hdr, kind), 4);
	CHECK(offsetof(struct hrr_hdr, nr), 6);
	CHECK(offsetof(struct hrr_hdr, ts), 8);
	CHECK(offsetof(struct hrr_hdr, tid), 16);
	CHECK(offsetof(struct hrr_hdr, pid), 20);
	CHECK(offsetof(struct hrr_hdr, ppid), 24);
	CHECK(offsetof(struct hrr_hdr, uid), 28);
	CHECK(offsetof(struct hrr_hdr, gid), 32);
	CHECK(offsetof(struct hrr_hdr, loginuid), 36);
	CHECK(offsetof(struct hrr_hdr, cgroup_id), 40);
	CHECK(offsetof(struct hrr_hdr, pidns), 48);
	CHECK(offsetof(struct hrr_hdr, vtid), 60);
	CHECK(offsetof(struct hrr_hdr, vpid), 64);
	CHECK(offsetof(struct hrr_hdr, ret), 72);
	CHECK(offsetof(struct hrr_hdr, args), 80);
	CHECK(offsetof(struct hrr_hdr, comm), 128);
	CHECK(sizeof(struct hrr_file), 32);
	CHECK(offsetof(struct hrr_file, dev), 8);
	CHECK(offsetof(struct hrr_file, flags), 12);
	CHECK(offsetof(struct hrr_file, magic), 16);
	CHECK(offsetof(struct hrr_file, fmode), 24);
	CHECK(offsetof(struct hrr_tuple, lport), 2);
	CHECK(offsetof(struct hrr_tuple, rport), 4);
	CHECK(offsetof(struct hrr_tuple, laddr), 8);
	CHECK(offsetof(struct hrr_tuple, raddr), 24);
	CHECK(offsetof(struct hrr_tuple, sk), 40);
	CHECK(offsetof(struct hrr_tuple, peer), 48);
	CHECK(offsetof(struct hrr_tuple, path), 56);
	CHECK(offsetof(struct hrr_exec, exe_ino), 24);
	CHECK(offsetof(struct hrr_exec, pidns_init_start), 48);
	CHECK(offsetof(struct hrr_exec, tty), 56);
	CHECK(offsetof(struct hrr_exec, flags), 60);
	CHECK(offsetof(struct hrr_exec, pgid), 64);
	CHECK(offsetof(struct hrr_exec, vm_size), 68);
	CHECK(offsetof(struct hrr_exec, fdlimit), 80);
	CHECK(offsetof(struct hrr_exec, pgft_maj), 88);
	CHECK(offsetof(struct hrr_exec, euid), 104);
	CHECK(sizeof(struct hrr_backlog), 8);
	CHECK(offsetof(struct hrr_backlog, max), 4);
	CHECK(sizeof(struct hrr_hello), 32);
	CHECK(offsetof(struct hrr_hello, boot_epoch), 16);
	CHECK(offsetof(struct hrr_hello, ncpus), 24);
	CHECK(sizeof(struct hrr_stats_frame), 72);
	CHECK(offsetof(struct hrr_stats_frame, k), 16);
	CHECK(offsetof(struct hrr_stats_frame, frames), 48);
	CHECK(offsetof(struct hrr_stats_frame, excluded_pids), 64);
	if (failures)
		return 1;
	printf("frame layout: ok\n");
	return 0;
}
