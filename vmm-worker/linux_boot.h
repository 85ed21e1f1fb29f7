/*
 * linux_boot.h - a job's Linux guest, from files to the first instruction:
 * the kernel (bzImage through the 64-bit boot protocol, or an ELF vmlinux
 * through PVH; told apart by content), the initramfs (the job's, or the
 * one initramfs.c builds), the command line, ACPI tables and vCPU state.
 *
 * vm_create calls linux_boot_open before it touches /dev/kvm, so a bad
 * input fails with a clear message before any VM exists, and
 * linux_boot_load once guest memory and the vCPUs are there.
 */
#ifndef VMORCH_LINUX_BOOT_H
#define VMORCH_LINUX_BOOT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/job.h"
#include "common/verr.h"
#include "vmm-worker/bootparams.h"
#include "vmm-worker/bzimage.h"
#include "vmm-worker/guest_job.h"

struct vm;

/* Words every Linux guest gets before the job's own (which may override them). */
#define LINUX_CMDLINE_BASE "console=ttyS0 reboot=k panic=-1 pci=off"

enum linux_format { LINUX_BZIMAGE, LINUX_PVH_ELF };

struct linux_boot {
	enum linux_format format;
	uint8_t *kernel;		/* the whole file */
	size_t kernel_len;
	struct bzimage_info bz;		/* bzImage only */
	char initrd_path[PATH_MAX];
	uint64_t initrd_file_size;	/* the file's bytes */
	uint64_t initrd_size;		/* in guest memory: the file, padded, the job's archive */
	/* With the agent's initramfs: the job file archive and its nonce. */
	bool has_job;
	struct guest_job job;
	char cmdline[BOOT_CMDLINE_MAX + 1];
};

/*
 * Read and check the job's kernel, find the initramfs (checked to exist),
 * build the command line.  0, or -errno with @e saying which file and why
 * ("not a kernel: ...").
 */
int linux_boot_open(struct linux_boot *lb, const struct job_spec *job, struct verr *e);

/*
 * Put kernel, initramfs, boot parameters and ACPI tables into @vm's memory
 * and set vCPU 0 at the kernel's entry (the others wait for INIT/SIPI).
 */
int linux_boot_load(struct linux_boot *lb, struct vm *vm, struct verr *e);

void linux_boot_free(struct linux_boot *lb);

/* LINUX_CMDLINE_BASE, the job's cmdline, its workload words. */
int linux_boot_cmdline(const struct job_spec *job, char *buf, size_t cap,
		       struct verr *e);

#endif
