/*
 * result.h - turning a finished VM into its VmResult: how it ended, the
 * counters from shm, the guest's own figures and the console tail.
 */
#ifndef VMORCH_WORKER_RESULT_H
#define VMORCH_WORKER_RESULT_H

#include "common/vm_result.h"
#include "vmm-worker/vm.h"

/*
 * Parse the guest's result payload (flat JSON: numbers become metrics,
 * "status" and "reason" say whether and why it failed).  Returns 0, or
 * -EINVAL with @e set when the payload is not such an object.
 */
int result_parse_guest_line(const char *json, struct vm_result *r, bool *guest_ok,
			    char *reason, size_t reason_cap, struct verr *e);

/* Fill @r from the stopped @vm. */
void result_build(struct vm *vm, struct vm_result *r);

#endif
