/*
 * vcpu.h - vCPU set-up and the KVM_RUN loop, one thread per vCPU.
 */
#ifndef VMORCH_VCPU_H
#define VMORCH_VCPU_H

#include "vmm-worker/vm.h"

/* Create vCPU @id of @vm (fd, kvm_run mapping, CPUID). */
int vcpu_create(struct vm *vm, int id, struct verr *e);

/* Put vCPU 0 at a PVH entry: 32-bit protected mode, flat, paging off. */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info,
		       struct verr *e);

/* Thread body: KVM_RUN until the VM ends or vm_stop kicks it. */
void *vcpu_thread(void *arg);

void vcpu_destroy(struct vcpu *v);

#endif
