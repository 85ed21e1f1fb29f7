/*
 * result.h - turning a finished VM into its VmResult: how it ended, the
 * counters from shm, the guest's own figures and the console tail.
 */
#ifndef VMORCH_WORKER_RESULT_H
#define VMORCH_WORKER_RESULT_H

#include "common/vm_result.h"
#include "vmm-worker/vm.h"

/* Fill @r from the stopped @vm. */
void result_build(struct vm *vm, struct vm_result *r);

#endif
