/*
 * vcpu.c - vCPU set-up and the KVM_RUN loop.  Each exit to user space is
 * counted in the shm region and dispatched to a device; anything the VMM
 * cannot handle ends the VM with a reason rather than a hang.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-worker/coalesced.h"
#include "vmm-worker/ports.h"
#include "vmm-worker/vcpu.h"

#define CPUID_MAX_ENTRIES 256
#define EFER_LME	(1ULL << 8)
#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LMA	(1ULL << 10)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff

/*
 * The hypervisor timing leaf (VMware's convention, which KVM guests read):
 * eax = TSC kHz, ebx = local APIC timer kHz (KVM's runs at 1 GHz).  With it
 * a guest needs no PIT calibration, and the built-in guest's cycle counts
 * turn into seconds.
 */
#define CPUID_TIMING_LEAF 0x40000010

static void cpuid_add_timing(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *ent;

	if (!tsc_khz || c->nent >= CPUID_MAX_ENTRIES)
		return;
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x40000000 &&
		    c->entries[i].eax < CPUID_TIMING_LEAF)
			c->entries[i].eax = CPUID_TIMING_LEAF;
	ent = &c->entries[c->nent++];
	memset(ent, 0, sizeof(*ent));
	ent->function = CPUID_TIMING_LEAF;
	ent->eax = tsc_khz;
	ent->ebx = 1000000;
}

/* Bits an APIC id needs to number @n CPUs: the topology leaves' shift. */
static uint32_t cpuid_id_bits(uint32_t n)
{
	uint32_t bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

/*
 * The CPU topology an SMP guest reads: @n single-thread cores in one
 * package, core i with APIC id i (the MADT says the same).  Intel's x2APIC
 * leaves (0xb, 0x1f) and AMD's (0x80000008, 0x8000001e) both, since KVM
 * hands out whichever the host has.
 */
static void cpuid_set_topology(struct kvm_cpuid_entry2 *ent, uint32_t id, uint32_t n)
{
	uint32_t bits = cpuid_id_bits(n);

	switch (ent->function) {
	case 1:
		ent->ecx |= 1U << 31;			/* running under a hypervisor */
		ent->ebx = (ent->ebx & 0x0000ffff) | (id << 24) | ((1U << bits) << 16);
		if (n > 1)
			ent->edx |= 1U << 28;		/* HTT: more than one logical CPU */
		break;
	case 4:
		if (ent->eax & 0x1f) {			/* a cache: who shares it */
			uint32_t share = ((ent->eax >> 5) & 7) >= 3 ? (1U << bits) - 1 : 0;

			ent->eax = (ent->eax & 0x3fff) | (share << 14) |
				   (((1U << bits) - 1) << 26);
		}
		break;
	case 0xb:
	case 0x1f:
		ent->edx = id;
		if (ent->index == 0) {			/* SMT level: one thread */
			ent->eax = 0;
			ent->ebx = 1;
			ent->ecx = 1U << 8;
		} else if (ent->index == 1) {		/* core level: all of them */
			ent->eax = bits;
			ent->ebx = n;
			ent->ecx = 2U << 8 | 1;
		} else {
			ent->eax = ent->ebx = 0;
			ent->ecx = ent->index;
		}
		break;
	case 0x80000001:
		if (n > 1)
			ent->ecx |= 1U << 1;		/* CmpLegacy: HTT counts cores */
		break;
	case 0x80000008:
		ent->ecx = (ent->ecx & ~0xf0ffU) | (bits << 12) | (n - 1);
		break;
	case 0x8000001e:
		ent->eax = id;				/* extended APIC id */
		ent->ebx = id & 0xff;			/* core id, one thread per core */
		ent->ecx = 0;				/* node 0 */
		break;
	default:
		break;
	}
}

/*
 * Give the vCPU what KVM supports, with its own APIC id and the machine's
 * topology, so an SMP guest tells its CPUs apart.
 */
static int vcpu_set_cpuid(struct vcpu *v, struct verr *e)
{
	struct kvm_cpuid2 *c;
	int tsc_khz, rc = 0;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	c->nent = CPUID_MAX_ENTRIES - 1;	/* room for the timing leaf */
	if (ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		rc = verr_errno(e, "KVM_GET_SUPPORTED_CPUID");
		goto out;
	}
	tsc_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	cpuid_add_timing(c, tsc_khz > 0 ? (uint32_t)tsc_khz : 0);
	for (uint32_t i = 0; i < c->nent; i++)
		cpuid_set_topology(&c->entries[i], (uint32_t)v->id,
				   v->vm->ncpus_planned ? v->vm->ncpus_planned : 1);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		rc = verr_errno(e, "KVM_SET_CPUID2");
	}
out:
	free(c);
	return rc;
}

int vcpu_create(struct vm *vm, int id, struct verr *e)
{
	struct vcpu *v = &vm->vcpu[id];
	int rc;

	v->vm = vm;
	v->id = id;
	v->exits = &vm->shm->vcpu[id];
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return verr_errno(e, "KVM_CREATE_VCPU %d", id);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		rc = verr_errno(e, "mmap kvm_run of vCPU %d", id);
		v->run = NULL;
		return rc;
	}
	return vcpu_set_cpuid(v, e);
}

int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info,
		       bool preset_lme, struct verr *e)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 0xb,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		return verr_errno(e, "KVM_GET_SREGS");
	}
	data.type = 0x3;
	data.selector = 0x10;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 = CR0_PE | CR0_ET;
	sregs.cr4 = 0;
	/*
	 * PVH says paging is off and says nothing of EFER.  PVM's emulator
	 * triple-faults on a guest's own WRMSR to EFER, so on PVM the built-in
	 * guest gets LME set here (it has no effect until the guest enables
	 * paging, and the guest writes EFER only when LME is clear).  Never on
	 * hardware KVM: QEMU 7.2's emulated SVM silently fails to restore L1's
	 * CR0 when L2 exits with EFER.LME set and CR4.PAE clear, which left
	 * the L1 vCPU running with paging off (traced in the nested tests).
	 */
	sregs.efer = preset_lme ? EFER_LME : 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
		return verr_errno(e, "KVM_SET_SREGS");
	}
	regs.rip = entry;
	regs.rbx = start_info;
	regs.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		return verr_errno(e, "KVM_SET_REGS");
	}
	return 0;
}

int vcpu_set_long_mode_entry(struct vcpu *v, const struct vcpu_long_mode *lm,
			     struct verr *e)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = lm->cs, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = lm->ds, .type = 0x3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		return verr_errno(e, "KVM_GET_SREGS");
	}
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = lm->gdt_base;
	sregs.gdt.limit = lm->gdt_limit;
	sregs.cr3 = lm->cr3;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
		return verr_errno(e, "KVM_SET_SREGS");
	}
	regs.rip = lm->rip;
	regs.rsi = lm->rsi;
	regs.rflags = 0x2;			/* interrupts off */
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		return verr_errno(e, "KVM_SET_REGS");
	}
	return 0;
}

/*
 * What firmware would have set: fast strings, and MTRRs enabled with
 * write-back as the default type (a guest reading them disabled maps
 * everything uncached where the host honours guest MTRRs).  Best effort:
 * a KVM that refuses one keeps its own default.
 */
void vcpu_set_firmware_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry ent[2];
	} m = {
		.hdr.nmsrs = 2,
		.ent = {
			{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },
			{ .index = MSR_MTRR_DEF_TYPE, .data = 0x806 },
		},
	};

	if (ioctl(v->fd, KVM_SET_MSRS, &m) < 0) {
		/* Nothing to undo: the guest runs with KVM's defaults. */
	}
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	atomic_fetch_add_explicit(&v->exits->io, 1, memory_order_relaxed);
	exit_stats_io(v->vm->xstats, run->io.port, is_write);
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		ports_io(v->vm, run->io.port, data, run->io.size, is_write);
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t addr = run->mmio.phys_addr;
	struct vm *vm = v->vm;

	atomic_fetch_add_explicit(&v->exits->mmio, 1, memory_order_relaxed);
	exit_stats_mmio(vm->xstats, addr, run->mmio.is_write);
	if (addr >= VIRTIO_MMIO_BASE) {
		uint64_t idx = (addr - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_STRIDE;
		uint64_t off = (addr - VIRTIO_MMIO_BASE) % VIRTIO_MMIO_STRIDE;

		if (idx < vm->ndevs && off + run->mmio.len <= VIRTIO_MMIO_SIZE) {
			vblk_mmio_access(vm->disk[idx], off, run->mmio.data,
					 run->mmio.len, run->mmio.is_write);
			return;
		}
	}
	/* Nothing there: reads see zeros (a probe finds no magic), writes vanish. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
}

/* Describe where the guest was when KVM gave up: RIP and instruction bytes. */
static void vcpu_describe_rip(struct vcpu *v, char *buf, size_t cap)
{
	struct kvm_translation tr = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	const uint8_t *insn;
	size_t n;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(buf, cap, "rip unknown");
		return;
	}
	n = (size_t)snprintf(buf, cap, "rip 0x%llx", (unsigned long long)regs.rip);
	tr.linear_address = sregs.cs.base + regs.rip;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return;
	insn = gmem_ptr(&v->vm->mem, tr.physical_address, 8);
	if (!insn || n >= cap)
		return;
	n += (size_t)snprintf(buf + n, cap - n, ", instruction bytes");
	for (int i = 0; i < 8 && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, " %02x", insn[i]);
}

static const char *internal_suberror_name(uint32_t sub)
{
	switch (sub) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "event delivery failed";
	default:
		return "unknown";
	}
}

/* Returns true when the loop should end. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	char where[160];

	/* Queued serial writes happened before this exit: replay them first. */
	coalesced_drain(vm);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		return false;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		return false;
	case KVM_EXIT_HLT:
		atomic_fetch_add_explicit(&v->exits->hlt, 1, memory_order_relaxed);
		vm_finish(vm, VM_EXIT_POWEROFF, 0, "vCPU %d halted", v->id);
		return true;
	case KVM_EXIT_SHUTDOWN:
		atomic_fetch_add_explicit(&v->exits->other, 1, memory_order_relaxed);
		vcpu_describe_rip(v, where, sizeof(where));
		vm_finish(vm, VM_EXIT_TRIPLE_FAULT, 0, "vCPU %d: triple fault (%s)",
			  v->id, where);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		atomic_fetch_add_explicit(&v->exits->other, 1, memory_order_relaxed);
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_finish(vm, VM_EXIT_RESET, 0, "guest requested a reset");
		else
			vm_finish(vm, VM_EXIT_POWEROFF, 0, "guest powered off");
		return true;
	case KVM_EXIT_INTERNAL_ERROR:
		atomic_fetch_add_explicit(&v->exits->other, 1, memory_order_relaxed);
		vcpu_describe_rip(v, where, sizeof(where));
		vm_finish(vm, VM_EXIT_VMM_ERROR, run->internal.suberror,
			  "KVM internal error on vCPU %d: suberror %u (%s), %s",
			  v->id, run->internal.suberror,
			  internal_suberror_name(run->internal.suberror), where);
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		atomic_fetch_add_explicit(&v->exits->other, 1, memory_order_relaxed);
		vm_finish(vm, VM_EXIT_VMM_ERROR, 0,
			  "KVM entry failed on vCPU %d: hardware reason 0x%llx",
			  v->id, (unsigned long long)
			  run->fail_entry.hardware_entry_failure_reason);
		return true;
	default:
		atomic_fetch_add_explicit(&v->exits->other, 1, memory_order_relaxed);
		vm_finish(vm, VM_EXIT_VMM_ERROR, run->exit_reason,
			  "vCPU %d: unhandled KVM exit reason %u", v->id,
			  run->exit_reason);
		return true;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t kick;

	/* SIGUSR1 (vm_stop's kick) must interrupt KVM_RUN on this thread. */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!atomic_load(&vm->stopping)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			if (err == EINTR || err == EAGAIN) {
				atomic_fetch_add_explicit(&v->exits->intr, 1,
							  memory_order_relaxed);
				continue;
			}
			/* The host ran out of memory for the guest: not the guest's doing. */
			vm_finish(vm, err == ENOMEM ? VM_EXIT_INFRA : VM_EXIT_VMM_ERROR, err,
				  "KVM_RUN on vCPU %d: %s", v->id, strerror(err));
			break;
		}
		if (vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
