/*
 * expect.h - scenario expectations: "reads_completed: '>= 1000'" parsed into
 * a struct expect_check, and checked against a finished VM's result.
 * Counter names come from the one counter list (common/vblk_counters.h).
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
	EXPECT_METRIC,		/* "iops": a guest-reported metric */
};

struct expect_name {
	enum expect_target target;
	int field;		/* index in vblk_fields[], counters only */
	unsigned disk;		/* EXPECT_COUNTER_DISK only */
};

/*
 * Classify @name: a counter, "diskN.<counter>" (N < JOB_MAX_DISKS) or a
 * metric name ([a-z0-9_.]+).  0, or -EINVAL with a message in @e.
 */
int expect_name_parse(const char *name, struct expect_name *out, struct verr *e);

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
