/*
 * vm.h - one KVM virtual machine: guest memory, vCPU threads, devices, and
 * how it ended.  The worker's main() builds one from a job, runs it, and
 * turns its end into a VmResult.
 */
#ifndef VMORCH_VM_H
#define VMORCH_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "common/job.h"
#include "common/shm.h"
#include "common/verr.h"
#include "common/vm_result.h"
#include "vmm-worker/disk.h"
#include "vmm-worker/guest_mem.h"
#include "vmm-worker/exit_stats.h"
#include "vmm-worker/serial.h"
#include "vmm-worker/vblk.h"

#define VM_LOW_MEM_MAX	(3ULL << 30)	/* RAM stays below the MMIO hole */

struct vm;
struct linux_boot;

#define VM_MAX_DEVS	(JOB_MAX_DISKS + 1)	/* test disks and a rootfs */

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct shm_vcpu_exits *exits;	/* in shm */
};

/* How the VM ended; the first vCPU to decide wins (vm_finish). */
struct vm_end {
	enum vm_exit_kind kind;
	int64_t code;
	char detail[VM_ERROR_MAX + 1];
};

struct vm {
	int kvm_fd;
	int fd;
	int run_size;
	struct guest_mem mem;
	uint32_t nvcpus;
	uint32_t ncpus_planned;		/* the job's vCPUs, for the CPUID topology */
	struct vcpu vcpu[JOB_MAX_VCPUS];
	/*
	 * The virtio-blk devices: the job's test disks (@ndisks, counted in
	 * shm and the result), then a Linux guest's rootfs image if it has
	 * one (@ndevs counts both; its counters stay here).
	 */
	uint32_t ndisks, ndevs;
	struct vblk *disk[VM_MAX_DEVS];
	struct vblk_counters rootfs_counters;
	/* Disk files opened and checked before any KVM object, each taken over
	 * by its device; one still open here is closed by vm_destroy. */
	uint32_t nbacking;
	struct disk backing[VM_MAX_DEVS];
	struct serial serial;
	struct linux_boot *lboot;	/* a Linux guest's inputs until loaded, or NULL */
	struct shm_region *shm;
	uint64_t tsc_khz;
	uint64_t start_ns;		/* worker start, for wall/boot times */

	struct kvm_coalesced_mmio_ring *ring;	/* queued serial output, or NULL */
	uint32_t ring_max;
	pthread_mutex_t ring_lock;
	pthread_mutex_t coalesce_lock;		/* the next two */
	bool serial_uncoalesced;		/* THR writes exit (coalesced.c) */
	unsigned recoalesce_left;		/* times THR may rejoin the ring */
	struct exit_stats *xstats;		/* VMORCH_EXIT_STATS, or NULL */

	int done_fd;			/* eventfd: a vCPU decided how the VM ends */
	atomic_bool stopping;
	pthread_mutex_t end_lock;
	bool ended;
	struct vm_end end;
};

/* Build the VM for @job: memory, irqchip, vCPUs, devices, guest loaded. */
int vm_create(struct vm *vm, const struct job_spec *job, struct shm_region *shm,
	      uint64_t start_ns, struct verr *e);

/* Start the device threads, then the vCPU threads. */
int vm_start(struct vm *vm, struct verr *e);

/*
 * Record how the VM ends (first call wins) and wake whoever waits on
 * done_fd.  Safe from any thread.
 */
void vm_finish(struct vm *vm, enum vm_exit_kind kind, int64_t code,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Kick every vCPU out of KVM_RUN and join the threads. */
void vm_stop(struct vm *vm);

void vm_destroy(struct vm *vm);

/*
 * Like vm_destroy, for a process about to exit: everything is released
 * here except the KVM file descriptors, whose last close is handed to a
 * detached child that waits for this process to exit.  Destroying a VM
 * with an in-kernel PIC and IOAPIC waits for one SRCU grace period per
 * device (measured on PVM: 14-18 ms); the worker's result is out by then
 * and nobody should wait for that.
 */
void vm_destroy_detached(struct vm *vm);

#endif
