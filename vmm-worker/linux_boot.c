/*
 * linux_boot.c - loading a Linux guest (see linux_boot.h).
 *
 * Guest physical layout: boot structures below 1 MiB (bootparams.h), ACPI
 * tables in the reserved 0xe0000-0xfffff, the kernel at its preferred
 * address (16 MiB for distribution kernels), the initramfs as high in RAM
 * as the kernel allows.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-worker/acpi.h"
#include "vmm-worker/initramfs.h"
#include "common/file_read.h"
#include "vmm-worker/linux_boot.h"
#include "vmm-worker/pvh.h"
#include "vmm-worker/vcpu.h"
#include "vmm-worker/vm.h"

#define KERNEL_MAX	(512ULL << 20)	/* an uncompressed vmlinux with debug info fits */
#define TSS_GPA		0xfffbd000ULL	/* 3 pages under the BIOS area, as QEMU */

int linux_boot_cmdline(const struct job_spec *job, char *buf, size_t cap,
		       struct verr *e)
{
	int n = snprintf(buf, cap, "%s%s%s%s%s", LINUX_CMDLINE_BASE,
			 job->guest.cmdline ? " " : "",
			 job->guest.cmdline ? job->guest.cmdline : "",
			 job->workload ? " " : "", job->workload ? job->workload : "");

	if (n < 0 || (size_t)n >= cap) {
		verr_set(e, "kernel command line longer than %zu bytes", cap - 1);
		return -E2BIG;
	}
	return 0;
}

static int linux_boot_detect(struct linux_boot *lb, const char *path, struct verr *e)
{
	if (lb->kernel_len >= SELFMAG && memcmp(lb->kernel, ELFMAG, SELFMAG) == 0) {
		lb->format = LINUX_PVH_ELF;
		return 0;
	}
	if (bzimage_detect(lb->kernel, lb->kernel_len)) {
		lb->format = LINUX_BZIMAGE;
		if (bzimage_parse(lb->kernel, lb->kernel_len, &lb->bz, e)) {
			verr_prefix(e, "kernel %s", path);
			return -ENOEXEC;
		}
		if (strlen(lb->cmdline) > lb->bz.cmdline_size) {
			verr_set(e, "kernel command line is %zu bytes; %s takes at most %u",
				 strlen(lb->cmdline), path, lb->bz.cmdline_size);
			return -E2BIG;
		}
		return 0;
	}
	verr_set(e, "not a kernel: %s (neither a bzImage nor an ELF vmlinux)", path);
	return -ENOEXEC;
}

int linux_boot_open(struct linux_boot *lb, const struct job_spec *job, struct verr *e)
{
	struct stat st;
	int rc;

	memset(lb, 0, sizeof(*lb));
	if (!job->guest.kernel) {
		verr_set(e, "a linux guest needs a kernel");
		return -EINVAL;
	}
	rc = linux_boot_cmdline(job, lb->cmdline, sizeof(lb->cmdline), e);
	if (rc)
		return rc;
	rc = file_read_all(job->guest.kernel, KERNEL_MAX, &lb->kernel, &lb->kernel_len, e);
	if (rc) {
		verr_prefix(e, "kernel");
		return rc;
	}
	rc = linux_boot_detect(lb, job->guest.kernel, e);
	if (rc)
		return rc;
	rc = initramfs_get(&job->guest, lb->initrd_path, sizeof(lb->initrd_path), e);
	if (rc)
		return rc;	/* its messages name the file or directory */
	if (stat(lb->initrd_path, &st) < 0)
		return verr_errno(e, "initramfs %s", lb->initrd_path);
	if (!S_ISREG(st.st_mode)) {
		verr_set(e, "initramfs %s: not a regular file", lb->initrd_path);
		return -EINVAL;
	}
	lb->initrd_file_size = lb->initrd_size = (uint64_t)st.st_size;
	if (job->guest.initramfs && !job->guest.initramfs_agent)
		return 0;	/* the user's own: no job file (job.c refuses a run) */
	/* The agent's initramfs: the job file goes after it, 4-byte aligned. */
	rc = guest_job_build(&lb->job, job, e);
	if (rc)
		return rc;
	lb->has_job = true;
	lb->initrd_size = ((lb->initrd_file_size + 3) & ~3ULL) + lb->job.cpio_len;
	return 0;
}

void linux_boot_free(struct linux_boot *lb)
{
	free(lb->kernel);
	lb->kernel = NULL;
	guest_job_free(&lb->job);
}

/* Read the initramfs straight into guest memory at @gpa. */
static int linux_boot_read_initrd(struct linux_boot *lb, const struct guest_mem *mem,
				  uint64_t gpa, struct verr *e)
{
	uint8_t *dst = gmem_ptr(mem, gpa, lb->initrd_size);
	uint64_t n = 0;
	int fd, rc = 0;

	fd = open(lb->initrd_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = verr_errno(e, "initramfs %s", lb->initrd_path);
		goto out;
	}
	if (!dst) {
		verr_set(e, "initramfs %s: outside guest memory", lb->initrd_path);
		rc = -E2BIG;
		goto out;
	}
	while (n < lb->initrd_file_size) {
		ssize_t r = read(fd, dst + n, lb->initrd_file_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			verr_set(e, "initramfs %s: short read", lb->initrd_path);
			rc = -EIO;
			goto out;
		}
		n += (uint64_t)r;
	}
	if (lb->has_job) {
		uint64_t at = lb->initrd_size - lb->job.cpio_len;

		memset(dst + n, 0, at - n);
		memcpy(dst + at, lb->job.cpio, lb->job.cpio_len);
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Where an ELF's loaded image ends (headers already checked by pvh_load_elf). */
static uint64_t elf_image_end(const uint8_t *elf)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	uint64_t end = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, elf + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	return end;
}

static int linux_boot_acpi(struct vm *vm, struct verr *e)
{
	const struct acpi_config cfg = {
		.ncpus = vm->nvcpus,
		.ndisks = vm->ndevs,	/* the rootfs too */
		.mmio_base = VIRTIO_MMIO_BASE,
		.mmio_stride = VIRTIO_MMIO_STRIDE,
		.mmio_size = VIRTIO_MMIO_SIZE,
		.gsi0 = VIRTIO_MMIO_GSI0,
		.serial_port = SERIAL_PORT_BASE,
		.serial_irq = SERIAL_IRQ,
	};
	uint8_t *dst = gmem_ptr(&vm->mem, BOOT_ACPI_GPA, BOOT_ACPI_SIZE);
	size_t len;

	if (!dst) {
		verr_set(e, "guest memory too small for the ACPI tables");
		return -E2BIG;
	}
	return acpi_build(&cfg, BOOT_ACPI_GPA, dst, BOOT_ACPI_SIZE, &len, e);
}

static int linux_boot_bzimage(struct linux_boot *lb, struct vm *vm, struct verr *e)
{
	struct e820_entry map[BOOT_E820_ENTRIES];
	struct bzimage_params bp = {
		.cmdline_gpa = BOOT_CMDLINE_GPA,
		.rsdp_gpa = BOOT_ACPI_GPA,
		.e820 = map,
		.ne820 = BOOT_E820_ENTRIES,
	};
	struct vcpu_long_mode lm = {
		.rsi = BOOT_ZERO_PAGE_GPA,
		.cr3 = BOOT_PML4_GPA,
		.gdt_base = BOOT_GDT_GPA,
		.gdt_limit = 4 * 8 - 1,
		.cs = BOOT_CS,
		.ds = BOOT_DS,
	};
	uint64_t load;
	int rc;

	boot_e820(vm->mem.size, map);
	if ((rc = bzimage_load_addr(&lb->bz, vm->mem.size, &load, e)) ||
	    (rc = bzimage_load(&vm->mem, lb->kernel, &lb->bz, load, e)))
		return rc;
	if (lb->initrd_size) {
		rc = boot_place_initrd(vm->mem.size, lb->initrd_size, load + lb->bz.init_size,
				       (uint64_t)lb->bz.initrd_addr_max + 1,
				       &bp.initrd_gpa, e);
		if (rc || (rc = linux_boot_read_initrd(lb, &vm->mem, bp.initrd_gpa, e)))
			return rc;
		bp.initrd_size = lb->initrd_size;
	}
	memcpy(gmem_ptr(&vm->mem, BOOT_CMDLINE_GPA, sizeof(lb->cmdline)), lb->cmdline,
	       strlen(lb->cmdline) + 1);
	rc = bzimage_fill_zero_page(gmem_ptr(&vm->mem, BOOT_ZERO_PAGE_GPA, BOOT_PARAMS_SIZE),
				    lb->kernel, &lb->bz, &bp, e);
	if (rc || (rc = boot_write_long_mode_tables(&vm->mem, e)))
		return rc;
	lm.rip = load + BZ_ENTRY64_OFF;
	return vcpu_set_long_mode_entry(&vm->vcpu[0], &lm, e);
}

static int linux_boot_pvh(struct linux_boot *lb, struct vm *vm, struct verr *e)
{
	struct pvh_boot_info bi = {
		.cmdline = lb->cmdline,
		.rsdp_gpa = BOOT_ACPI_GPA,
	};
	uint64_t start_info;
	uint32_t entry;
	int rc;

	rc = pvh_load_elf(&vm->mem, lb->kernel, lb->kernel_len, &entry, e);
	if (rc)
		return rc;
	if (lb->initrd_size) {
		rc = boot_place_initrd(vm->mem.size, lb->initrd_size,
				       elf_image_end(lb->kernel), 1ULL << 32,
				       &bi.module_gpa, e);
		if (rc || (rc = linux_boot_read_initrd(lb, &vm->mem, bi.module_gpa, e)))
			return rc;
		bi.module_size = lb->initrd_size;
	}
	rc = pvh_write_boot_info(&vm->mem, &bi, &start_info, e);
	if (!rc)
		rc = vcpu_set_pvh_entry(&vm->vcpu[0], entry, (uint32_t)start_info, false, e);
	return rc;
}

/* The console's first panic line ends the job: no waiting for a timeout. */
static void linux_boot_on_panic(void *ctx, const char *line)
{
	const char *p = strstr(line, SERIAL_PANIC_TEXT);

	vm_finish(ctx, VM_EXIT_GUEST_PANIC, 0, "guest %s", p ? p : line);
}

int linux_boot_load(struct linux_boot *lb, struct vm *vm, struct verr *e)
{
	int rc;

	/* Intel without unrestricted guest needs it for real mode (AP start-up). */
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_GPA) < 0) {
		/* AMD and PVM have no use for it. */
	}
	rc = linux_boot_acpi(vm, e);
	if (!rc)
		rc = lb->format == LINUX_BZIMAGE ? linux_boot_bzimage(lb, vm, e)
						 : linux_boot_pvh(lb, vm, e);
	if (rc) {
		verr_prefix(e, "kernel %s", lb->format == LINUX_BZIMAGE ? "(bzImage)" :
			    "(ELF, PVH)");
		return rc;
	}
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_set_firmware_msrs(&vm->vcpu[i]);
	serial_enable_irq(&vm->serial, vm->fd);
	vm->serial.on_panic = linux_boot_on_panic;
	vm->serial.panic_ctx = vm;
	return 0;
}
