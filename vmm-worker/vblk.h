/*
 * vblk.h - one virtio-blk disk behind a virtio-mmio transport: the interface
 * the worker core (vm.c) uses.  Everything behind it (transport registers,
 * virtqueue parsing, request handling, throttling, the device thread) lives
 * in virtio_mmio.c, virtqueue.c, virtio_blk.c, throttle.c and disk.c.
 */
#ifndef VMORCH_VBLK_H
#define VMORCH_VBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/job.h"
#include "common/vblk_counters.h"
#include "common/verr.h"
#include "vmm-worker/guest_mem.h"

#define VIRTIO_MMIO_BASE   0xfeb00000ULL	/* QEMU microvm's first transport */
#define VIRTIO_MMIO_STRIDE 0x200ULL
#define VIRTIO_MMIO_SIZE   0x200ULL
#define VIRTIO_MMIO_GSI0   5			/* microvm's legacy IOAPIC pins */

struct vblk;
struct disk;

struct vblk_config {
	const struct job_disk *disk;	/* backing file or size, RO, serial, throttle */
	struct vblk_counters *counters;	/* in the shm region; bumped via record_* only */
	const struct guest_mem *mem;
	int vm_fd;			/* for KVM_IOEVENTFD / KVM_IRQFD */
	uint64_t mmio_base;		/* transport window, VIRTIO_MMIO_SIZE bytes */
	uint32_t gsi;			/* interrupt line for used-buffer notifications */
};

/*
 * Open or create the backing store, register the QueueNotify ioeventfd and
 * the irqfd, and start the device thread.  0 or -errno with @e set.
 */
int vblk_create(const struct vblk_config *cfg, struct vblk **out, struct verr *e);

/*
 * vblk_create in two steps, for the worker: vblk_prepare does all but the
 * thread, on a backing store the worker opened (and checked) before any KVM
 * object existed; the device takes @backing over (its fd becomes -1), and
 * a @backing still open after a failure stays the caller's to close.  vblk_start starts the thread.  The worker starts threads
 * only once its sandbox is in, so that each inherits the dropped
 * capabilities (they are per thread).  0 or -errno with @e set.
 */
int vblk_prepare(const struct vblk_config *cfg, struct disk *backing,
		 struct vblk **out, struct verr *e);
int vblk_start(struct vblk *d, struct verr *e);

/*
 * A guest access to the transport window that exited to user space
 * (everything but QueueNotify, which goes through the ioeventfd).  Called on
 * a vCPU thread; @off is relative to mmio_base; @len is 1, 2, 4 or 8.  Reads
 * fill @data (little-endian); bad offsets read as 0 and ignore writes.
 */
void vblk_mmio_access(struct vblk *d, uint64_t off, uint8_t *data, uint32_t len,
		      bool is_write);

/* Stop the device thread, unregister the eventfds, close (and remove a
 * temporary) backing file.  NULL is allowed. */
void vblk_destroy(struct vblk *d);

/*
 * The VM itself is about to go: vblk_destroy need not unregister the
 * eventfds (each unregistration waits for an SRCU grace period; the VM's
 * destruction drops them anyway).
 */
void vblk_forget_vm(struct vblk *d);

#endif
