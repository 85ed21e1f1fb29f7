/*
 * expect.h - scenario expectations: "reads_completed: '>= 1000'" parsed into
 * a struct expect_check, and checked against a finished VM's result.
 * Counter names come from the one counter list (common/vblk_counters.h);
 * guest metric names from the one metric table (expect_metrics[] below).
 */
#ifndef VMORCH_EXPECT_H
#define VMORCH_EXPECT_H

#include <stddef.h>

#include "common/verr.h"
#include "common/vm_result.h"
#include "orchestrator/jobdesc.h"

/* What an expectation name refers to. */
enum expect_target {
	EXPECT_COUNTER_SUM,	/* "io_errors": summed over the VM's disks */
	EXPECT_COUNTER_DISK,	/* "disk1.io_errors": one disk */
	EXPECT_METRIC,		/* "iops": a metric of expect_metrics[] */
	EXPECT_USER_METRIC,	/* "user.x", "fio.r.read.iops": of the user's program */
};

/* The names a guest's program's figures take (metrics_from lines, fio-json). */
#define EXPECT_USER_PREFIX	"user."
#define EXPECT_FIO_PREFIX	"fio."

/* Bits of enum job_guest_kind: which guests report a metric. */
#define EXPECT_BUILTIN		(1U << JOB_GUEST_BUILTIN)
#define EXPECT_LINUX		(1U << JOB_GUEST_LINUX)

/*
 * The metrics a guest reports on its VMORCH-RESULT line (guest/builtin
 * main.c, guest/agent main.c) and those vmm-worker/result.c derives from
 * them.  An expectation may name only these, a counter, or user.<name>.
 */
struct expect_metric {
	const char *name;
	unsigned guests;	/* EXPECT_BUILTIN | EXPECT_LINUX */
};

extern const struct expect_metric expect_metrics[];
extern const size_t expect_nmetrics;

struct expect_name {
	enum expect_target target;
	int field;		/* index in vblk_fields[], counters only */
	unsigned disk;		/* EXPECT_COUNTER_DISK only */
};

/*
 * Classify @name: a counter, "diskN.<counter>" (N < JOB_MAX_DISKS), a metric
 * of expect_metrics[], or "user.<name>" ([a-z0-9_.]+ after the prefix).
 * 0, or -EINVAL with a message in @e that suggests the nearest known name
 * ("did you mean reads_completed?") when one is close.
 */
int expect_name_parse(const char *name, struct expect_name *out, struct verr *e);

/*
 * Does a guest of @kind report metric @name?  0; -EINVAL with a message in
 * @e when @name is a known metric that guest never reports.  Anything other
 * than EXPECT_METRIC names passes.
 */
int expect_name_check_guest(const char *name, enum job_guest_kind kind,
			    struct verr *e);

/*
 * Parse one expectation: @name as above, @text a comparison such as
 * ">= 1000", "== 0", "< 4M" (size units allowed on the number).
 * 0, or -EINVAL with a message in @e.
 */
int expect_parse(const char *name, const char *text, struct expect_check *out,
		 struct verr *e);

/*
 * Check @c against @r.  A counter on a VM without (that) disk, or a metric
 * the guest did not report, is missing: the check fails with missing=true.
 */
void expect_eval(const struct expect_check *c, const struct vm_result *r,
		 struct expect_outcome *out);

/* "==", "!=", "<", "<=", ">", ">=". */
const char *expect_op_str(enum expect_op op);

/*
 * One line for people: "PASS reads_completed >= 1000 (actual 1000)",
 * "FAIL iops > 0 (missing)".  Returns what snprintf returns.
 */
int expect_outcome_format(const struct expect_check *c,
			  const struct expect_outcome *o, char *buf, size_t len);

#endif
