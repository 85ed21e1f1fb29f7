/*
 * vm.c - building, running and tearing down one KVM VM (see vm.h).
 *
 * Machine layout follows QEMU's microvm so one guest binary runs on both:
 * RAM from 0, virtio-mmio windows from 0xfeb00000 (512 bytes apart, GSI 5
 * upwards), serial at 0x3f8, debug exit at 0xf4.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-worker/builtin_guest.h"
#include "vmm-worker/coalesced.h"
#include "vmm-worker/disk.h"
#include "vmm-worker/linux_boot.h"
#include "vmm-worker/pvh.h"
#include "vmm-worker/vcpu.h"
#include "vmm-worker/vm.h"

static void kick_handler(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN */
}

static int vm_open_kvm(struct vm *vm, struct verr *e)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return verr_errno(e, "cannot open /dev/kvm");
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		verr_set(e, "/dev/kvm speaks an unexpected API version");
		return -EPROTO;
	}
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return verr_errno(e, "KVM_CREATE_VM");
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < 0)
		return verr_errno(e, "KVM_GET_VCPU_MMAP_SIZE");
	if (vm->run_size == 0) {
		verr_set(e, "KVM_GET_VCPU_MMAP_SIZE: 0 bytes");
		return -EPROTO;
	}
	return 0;
}

/*
 * After the memory slot, on purpose: with an irqchip present, installing a
 * slot waits for an SRCU grace period; measured on PVM: 8-12 ms before,
 * 0.07 ms after.
 */
static int vm_create_irqchip(struct vm *vm, struct verr *e)
{
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return verr_errno(e, "KVM_CREATE_IRQCHIP");
	return 0;
}

#define VM_HUGE_ALIGN	(2ULL << 20)

/*
 * Untouched pages cost nothing: RSS grows only with what the guest uses.
 * The mapping is 2 MiB aligned so that transparent huge pages line up with
 * guest-physical 2 MiB frames and KVM can map them whole; a nested guest
 * otherwise takes a two-dimensional page fault per 4 KiB page it touches.
 */
static void *vm_mmap_aligned(uint64_t size)
{
	uint8_t *p = mmap(NULL, size + VM_HUGE_ALIGN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t head;

	if (p == MAP_FAILED)
		return p;
	head = (VM_HUGE_ALIGN - (uintptr_t)p % VM_HUGE_ALIGN) % VM_HUGE_ALIGN;
	if (head)
		munmap(p, head);
	munmap(p + head + size, VM_HUGE_ALIGN - head);
	madvise(p + head, size, MADV_HUGEPAGE);
	return p + head;
}

static int vm_map_memory(struct vm *vm, uint64_t size, struct verr *e)
{
	struct kvm_userspace_memory_region region = { 0 };
	void *p;

	if (size > VM_LOW_MEM_MAX) {
		verr_set(e, "memory %llu MiB: this worker supports at most %llu MiB "
			 "(RAM below the MMIO hole)", (unsigned long long)(size >> 20),
			 (unsigned long long)(VM_LOW_MEM_MAX >> 20));
		return -E2BIG;
	}
	p = vm_mmap_aligned(size);
	if (p == MAP_FAILED)
		return verr_errno(e, "cannot map %llu MiB of guest memory",
				  (unsigned long long)(size >> 20));
	vm->mem.host = p;
	vm->mem.size = size;
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = size;
	region.userspace_addr = (uint64_t)(uintptr_t)p;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return verr_errno(e, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

/*
 * The guest's command line: the workload words, the job's extra words, and
 * one virtio_mmio.device= word per disk (the form QEMU's microvm and Linux
 * use), so the guest learns each window's interrupt line.
 */
static int vm_build_cmdline(const struct job_spec *job, char *buf, size_t cap,
			    struct verr *e)
{
	size_t n = 0;
	int w;

	buf[0] = 0;
	if (job->workload)
		n += (size_t)snprintf(buf + n, cap - n, "%s", job->workload);
	if (job->guest.cmdline && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "",
				      job->guest.cmdline);
	for (uint32_t i = 0; i < job->ndisks && n < cap; i++) {
		w = snprintf(buf + n, cap - n, "%svirtio_mmio.device=512@0x%llx:%u",
			     n ? " " : "",
			     (unsigned long long)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE),
			     VIRTIO_MMIO_GSI0 + i);
		n += (size_t)w;
	}
	if (n >= cap) {
		verr_set(e, "guest command line longer than %zu bytes", cap - 1);
		return -E2BIG;
	}
	return 0;
}

/*
 * PVM (a KVM without hardware virtualization) needs EFER.LME preset for a
 * PVH entry (see vcpu_set_pvh_entry); hardware KVM must not get it: QEMU's
 * emulated SVM loses L1's CR0 on the first exit from such a guest.
 */
static bool kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static int vm_load_guest(struct vm *vm, const struct job_spec *job, struct verr *e)
{
	char cmdline[PVH_CMDLINE_MAX + 1];
	uint64_t start_info;
	uint32_t entry;
	int rc;

	if (vm->lboot) {
		rc = linux_boot_load(vm->lboot, vm, e);
		linux_boot_free(vm->lboot);
		free(vm->lboot);
		vm->lboot = NULL;
		return rc;
	}
	rc = pvh_load_elf(&vm->mem, builtin_guest_elf,
			  (size_t)(builtin_guest_elf_end - builtin_guest_elf), &entry, e);
	if (rc) {
		verr_prefix(e, "built-in guest");
		return rc;
	}
	rc = vm_build_cmdline(job, cmdline, sizeof(cmdline), e);
	if (!rc)
		rc = pvh_write_start_info(&vm->mem, cmdline, &start_info, e);
	if (!rc)
		rc = vcpu_set_pvh_entry(&vm->vcpu[0], entry, (uint32_t)start_info,
					kvm_is_pvm(), e);
	return rc;
}

/* The block devices: the job's disks, then its rootfs image if it has one. */
static uint32_t vm_dev_count(const struct job_spec *job)
{
	return job->ndisks + (job->guest.rootfs ? 1 : 0);
}

/* Device @i's disk: the job's, or for i == ndisks its rootfs image, read-only. */
static const struct job_disk *vm_dev_disk(const struct job_spec *job, uint32_t i,
					  struct job_disk *rootfs)
{
	if (i < job->ndisks)
		return &job->disk[i];
	*rootfs = (struct job_disk){ .path = job->guest.rootfs, .read_only = true };
	return rootfs;
}

/* Say which device @e is about. */
static void vm_dev_prefix(const struct job_spec *job, uint32_t i, struct verr *e)
{
	if (i < job->ndisks)
		verr_prefix(e, "disk %u", i);
	else
		verr_prefix(e, "rootfs");
}

/*
 * Open (or create) every disk's backing store and check what was opened
 * against the job's protected files: before any KVM object exists, so a
 * refused disk or a full $TMPDIR costs no VM, and is reported as such even
 * where /dev/kvm is missing.
 */
static int vm_open_backing(struct vm *vm, const struct job_spec *job, struct verr *e)
{
	const struct disk_guard guard = {
		.protect = job->protect,
		.nprotect = job->nprotect,
	};

	for (uint32_t i = 0; i < vm_dev_count(job); i++) {
		struct job_disk rootfs;
		int rc = disk_open(&vm->backing[i], vm_dev_disk(job, i, &rootfs), &guard, e);

		if (rc) {
			vm_dev_prefix(job, i, e);
			return rc;
		}
		vm->nbacking = i + 1;
	}
	return 0;
}

static int vm_add_disks(struct vm *vm, const struct job_spec *job, struct verr *e)
{
	for (uint32_t i = 0; i < vm_dev_count(job); i++) {
		struct job_disk rootfs;
		struct vblk_config cfg = {
			.disk = vm_dev_disk(job, i, &rootfs),
			.counters = i < job->ndisks ? &vm->shm->disk[i] : &vm->rootfs_counters,
			.mem = &vm->mem,
			.vm_fd = vm->fd,
			.mmio_base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE,
			.gsi = VIRTIO_MMIO_GSI0 + i,
		};
		int rc = vblk_prepare(&cfg, &vm->backing[i], &vm->disk[i], e);

		if (rc) {
			vm_dev_prefix(job, i, e);
			return rc;
		}
		vm->ndevs = i + 1;
		vm->ndisks = i < job->ndisks ? i + 1 : job->ndisks;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct job_spec *job, struct shm_region *shm,
	      uint64_t start_ns, struct verr *e)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->fd = vm->done_fd = -1;
	vm->shm = shm;
	vm->start_ns = start_ns;
	pthread_mutex_init(&vm->end_lock, NULL);
	pthread_mutex_init(&vm->ring_lock, NULL);
	pthread_mutex_init(&vm->coalesce_lock, NULL);
	serial_init(&vm->serial, -1);
	sigaction(SIGUSR1, &sa, NULL);

	vm->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->done_fd < 0)
		return verr_errno(e, "eventfd");
	/* A Linux guest's files and the disks are checked before any KVM
	 * object exists. */
	if (job->guest.kind == JOB_GUEST_LINUX) {
		vm->lboot = calloc(1, sizeof(*vm->lboot));
		if (!vm->lboot) {
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
		if ((rc = linux_boot_open(vm->lboot, job, e)))
			return rc;
		if (vm->lboot->has_job)
			serial_set_nonce(&vm->serial, vm->lboot->job.nonce);
	}
	if ((rc = vm_open_backing(vm, job, e)))
		return rc;
	vm->ncpus_planned = job->vcpus;
	if ((rc = vm_open_kvm(vm, e)) || (rc = vm_map_memory(vm, job->memory, e)) ||
	    (rc = vm_create_irqchip(vm, e)))
		return rc;
	for (uint32_t i = 0; i < job->vcpus; i++) {
		rc = vcpu_create(vm, (int)i, e);
		if (rc)
			return rc;
		vm->nvcpus = i + 1;
	}
	coalesced_init(vm);
	vm->tsc_khz = (uint64_t)ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
	if ((int64_t)vm->tsc_khz < 0)
		vm->tsc_khz = 0;
	atomic_store(&shm->nvcpus, vm->nvcpus);
	if ((rc = vm_add_disks(vm, job, e)))
		return rc;
	atomic_store(&shm->ndisks, vm->ndisks);
	return vm_load_guest(vm, job, e);
}

int vm_start(struct vm *vm, struct verr *e)
{
	sigset_t kick;

	/* Only vCPU threads take SIGUSR1: block it here, they unblock it. */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);
	for (uint32_t i = 0; i < vm->ndevs; i++) {
		int rc = vblk_start(vm->disk[i], e);

		if (rc) {
			verr_prefix(e, "disk %u", i);
			return rc;
		}
	}
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		int rc = pthread_create(&vm->vcpu[i].thread, NULL, vcpu_thread,
					&vm->vcpu[i]);

		if (rc) {
			verr_set(e, "cannot start vCPU %u: %s", i, strerror(rc));
			return -rc;
		}
		vm->vcpu[i].started = true;
	}
	return 0;
}

void vm_finish(struct vm *vm, enum vm_exit_kind kind, int64_t code,
	       const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (!vm->ended) {
		vm->ended = true;
		vm->end.kind = kind;
		vm->end.code = code;
		va_start(ap, fmt);
		vsnprintf(vm->end.detail, sizeof(vm->end.detail), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->end_lock);
	atomic_store(&vm->stopping, true);
	if (write(vm->done_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow at one write per call; nothing to do. */
	}
}

void vm_stop(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (!v->started)
			continue;
		/* immediate_exit covers a thread that is just about to enter KVM_RUN. */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
		vm->vcpu[i].started = false;
	}
	coalesced_drain(vm);	/* the guest's last words */
}

/*
 * Keep the KVM fds open in a child that outlives us by a moment: it waits
 * for our exit (EOF on a pipe only we hold the write end of), so its exit
 * is the last close and pays for the VM's destruction.  If the fork fails
 * we simply pay ourselves.
 */
static void vm_hand_off_fds(struct vm *vm)
{
	int p[2], keep_max = vm->kvm_fd;
	char c;
	pid_t pid;

	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid > 0) {
		close(p[0]);	/* p[1] stays open until we exit */
		vm->fd = vm->kvm_fd = -1;
		for (uint32_t i = 0; i < vm->nvcpus; i++)
			vm->vcpu[i].fd = -1;
		return;
	}
	/* Child: nothing but the KVM fds and the pipe; no stdio, no shm. */
	setsid();
	if (vm->fd > keep_max)
		keep_max = vm->fd;
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i].fd > keep_max)
			keep_max = vm->vcpu[i].fd;
	if (p[0] > keep_max)
		keep_max = p[0];
	for (int fd = 0; fd < keep_max; fd++) {
		bool keep = fd == p[0] || fd == vm->fd || fd == vm->kvm_fd;

		for (uint32_t i = 0; i < vm->nvcpus && !keep; i++)
			keep = fd == vm->vcpu[i].fd;
		if (!keep)
			close(fd);
	}
	close_range((unsigned)keep_max + 1, ~0U, 0);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

void vm_destroy_detached(struct vm *vm)
{
	vm_stop(vm);
	for (uint32_t i = 0; i < vm->ndevs; i++)
		vblk_forget_vm(vm->disk[i]);
	vm_hand_off_fds(vm);
	vm_destroy(vm);
}

void vm_destroy(struct vm *vm)
{
	vm_stop(vm);
	if (vm->lboot) {
		linux_boot_free(vm->lboot);
		free(vm->lboot);
		vm->lboot = NULL;
	}
	for (uint32_t i = 0; i < vm->ndevs; i++)
		vblk_destroy(vm->disk[i]);
	for (uint32_t i = 0; i < vm->nbacking; i++)
		disk_close(&vm->backing[i]);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpu[i]);
	if (vm->mem.host)
		munmap(vm->mem.host, vm->mem.size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->done_fd >= 0)
		close(vm->done_fd);
	serial_destroy(&vm->serial);
	pthread_mutex_destroy(&vm->end_lock);
	pthread_mutex_destroy(&vm->ring_lock);
	pthread_mutex_destroy(&vm->coalesce_lock);
	vm->mem.host = NULL;
	vm->fd = vm->kvm_fd = vm->done_fd = -1;
}
