/*
 * vcpu.h - vCPU set-up and the KVM_RUN loop, one thread per vCPU.
 */
#ifndef VMORCH_VCPU_H
#define VMORCH_VCPU_H

#include <stdbool.h>

#include "vmm-worker/vm.h"

/* Create vCPU @id of @vm (fd, kvm_run mapping, CPUID). */
int vcpu_create(struct vm *vm, int id, struct verr *e);

/*
 * Put vCPU 0 at a PVH entry: 32-bit protected mode, flat, paging off;
 * @preset_lme sets EFER.LME for guests that cannot write EFER on PVM.
 */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info,
		       bool preset_lme, struct verr *e);

/* The 64-bit boot protocol's entry state (Documentation/arch/x86/boot.rst). */
struct vcpu_long_mode {
	uint64_t rip, rsi;		/* entry, boot_params */
	uint64_t cr3;			/* identity-mapping page tables */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds;		/* flat 64-bit code, flat data */
};

/* Put a vCPU in long mode at @lm's entry, paging on, interrupts off. */
int vcpu_set_long_mode_entry(struct vcpu *v, const struct vcpu_long_mode *lm,
			     struct verr *e);

/* Firmware-like MSR defaults for a Linux guest (fast strings, MTRRs on). */
void vcpu_set_firmware_msrs(struct vcpu *v);

/* Thread body: KVM_RUN until the VM ends or vm_stop kicks it. */
void *vcpu_thread(void *arg);

void vcpu_destroy(struct vcpu *v);

#endif
