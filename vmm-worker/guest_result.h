/*
 * guest_result.h - the payload of a guest's result line: flat JSON whose
 * "status" is the guest's verdict, "reason" says why it failed, and every
 * number is a figure (a metric of the VmResult).
 */
#ifndef VMORCH_GUEST_RESULT_H
#define VMORCH_GUEST_RESULT_H

#include <stddef.h>

#include "common/verr.h"
#include "common/vm_result.h"

enum guest_status {
	GUEST_STATUS_PASS,
	GUEST_STATUS_FAIL,
	GUEST_STATUS_TIMEOUT,	/* the agent stopped the program at its time limit */
};

/*
 * Parse @json into @status, @reason and @r's metrics.  An unknown status
 * is a failure.  0, or -EINVAL (not such an object) or -E2BIG (more
 * figures than a VmResult holds) with @e set.
 */
int guest_result_parse(const char *json, struct vm_result *r, enum guest_status *status,
		       char *reason, size_t reason_cap, struct verr *e);

#endif
