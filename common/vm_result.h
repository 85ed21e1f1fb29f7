/*
 * vm_result.h - what one VM run produced: verdict, how it ended, timings,
 * per-disk counter snapshots, guest metrics and the console tail.
 *
 * Fixed-size on purpose: the worker builds it without allocating while the
 * VM tears down, and the same bytes' JSON form travels through the shm
 * result slot or an SSH channel.
 */
#ifndef VMORCH_VM_RESULT_H
#define VMORCH_VM_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "job.h"
#include "vblk_counters.h"
#include "verr.h"

#define VM_RESULT_VERSION	1
#define VM_RESULT_MAX_METRICS	256	/* the agent keeps 200 for a program's */
#define VM_METRIC_NAME_MAX	63
#define VM_CONSOLE_TAIL_MAX	4096
#define VM_ERROR_MAX		512

/*
 * X(enum suffix, JSON name).  The last three are failures of the host, not
 * of the code under test: INFRA is a host resource or file the worker could
 * not get (exit_code holds the errno: ENOSPC, EMFILE, ENOMEM, ENOENT...),
 * KILLED a worker ended by a signal vmorch did not send (the OOM killer,
 * an operator's kill), HOST_LOST a job whose fleet host was lost (the
 * connection dropped or went silent, the record never came) on its last
 * allowed attempt.  A run with any of them exits 3, not 1.
 */
#define VM_EXIT_KINDS(X)                       \
	X(GUEST_PASS,   "guest_pass")          \
	X(GUEST_FAIL,   "guest_fail")          \
	X(POWEROFF,     "poweroff")            \
	X(RESET,        "reset")               \
	X(TRIPLE_FAULT, "triple_fault")        \
	X(GUEST_PANIC,  "guest_panic")         \
	X(TIMEOUT,      "timeout")             \
	X(STALLED,      "stalled")             \
	X(CRASHED,      "crashed")             \
	X(VMM_ERROR,    "vmm_error")           \
	X(INFRA,        "infra_error")         \
	X(KILLED,       "killed")              \
	X(HOST_LOST,    "host_lost")

enum vm_exit_kind {
#define VM_X_ENUM(e, s) VM_EXIT_##e,
	VM_EXIT_KINDS(VM_X_ENUM)
#undef VM_X_ENUM
	VM_EXIT_NR
};

struct vm_metric {
	char name[VM_METRIC_NAME_MAX + 1];	/* [a-z0-9_.]+ */
	double value;
};

struct vm_result {
	bool success;
	enum vm_exit_kind exit_kind;
	int64_t exit_code;		/* guest's code, signal number, ... */
	uint64_t wall_us;		/* worker start to VM exit */
	uint64_t boot_us;		/* worker start to first guest output */
	uint32_t ndisks;
	struct vblk_snapshot disk[JOB_MAX_DISKS];
	uint32_t nmetrics;
	struct vm_metric metric[VM_RESULT_MAX_METRICS];
	char console_tail[VM_CONSOLE_TAIL_MAX + 1];
	char error[VM_ERROR_MAX + 1];	/* what went wrong, for vmm_error etc. */
};

const char *vm_exit_kind_name(enum vm_exit_kind k);
/* True for the kinds that are the host's failure, not the test's. */
static inline bool vm_exit_kind_is_infra(enum vm_exit_kind k)
{
	return k == VM_EXIT_INFRA || k == VM_EXIT_KILLED || k == VM_EXIT_HOST_LOST;
}
/* Returns the kind, or -1 for an unknown name. */
int vm_exit_kind_parse(const char *name);

/* Adds or replaces a metric; -E2BIG when full, -EINVAL for a bad name. */
int vm_result_set_metric(struct vm_result *r, const char *name, double value);

json_t *vm_result_to_json(const struct vm_result *r);
char *vm_result_encode(const struct vm_result *r);	/* malloc'd, compact */

int vm_result_from_json(const json_t *root, struct vm_result *out, struct verr *e);
int vm_result_decode(const char *text, size_t len, struct vm_result *out,
		     struct verr *e);

#endif
