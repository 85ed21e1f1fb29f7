/*
 * vblk_internal.h - the inside of one virtio-blk device, shared by the
 * transport (virtio_mmio.c) and the block device (virtio_blk.c), and the
 * hooks unit tests and the fuzzer use to drive it without KVM.
 */
#ifndef VMORCH_VBLK_INTERNAL_H
#define VMORCH_VBLK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm-worker/disk.h"
#include "vmm-worker/throttle.h"
#include "vmm-worker/vblk.h"
#include "vmm-worker/virtio_blk.h"
#include "vmm-worker/virtqueue.h"

/* One request, parsed from its chain (guest buffers already bounds-checked). */
struct vblk_req {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;	/* host address of the status byte, or NULL */
	int niov;
	uint64_t data_len;
	struct iovec iov[VQ_MAX_SIZE];
};

struct vblk {
	/* Fixed at creation. */
	struct vblk_counters *counters;
	const struct guest_mem *mem;
	int vm_fd;
	uint64_t mmio_base;
	uint32_t gsi;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct disk disk;
	uint64_t device_features;
	uint8_t config[VBLK_CONFIG_SIZE];

	int kick_fd;		/* QueueNotify: ioeventfd, or kicked by hand */
	int irq_fd;		/* used-buffer interrupt: irqfd, or read by tests */
	int timer_fd;		/* throttle retry */
	int stop_fd;
	int epoll_fd;
	bool ioeventfd_on, irqfd_on;
	bool thread_on;
	pthread_t thread;

	/*
	 * Transport and queue state.  The vCPU thread (register writes) and
	 * the device thread (a queue pass) take @lock; InterruptStatus/ACK
	 * are atomics so an interrupt handler never waits behind disk I/O.
	 */
	pthread_mutex_t lock;
	uint32_t status;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
	uint64_t driver_features;
	_Atomic uint32_t isr;
	struct vq vq;
	struct throttle throttle;
	bool stalled;		/* a request waits for tokens (gauge holds 1) */

	/* Scratch for the request in flight (under @lock). */
	struct vq_chain chain;
	struct vblk_req req;
};

/* Reset the device (Status 0): queue and negotiation gone, counters kept.
 * Caller holds d->lock. */
void vblk_reset_locked(struct vblk *d);

/*
 * vblk_create without the device thread: nothing runs until the caller
 * invokes vblk_process_queue().  For the fuzzer and synchronous tests.
 */
int vblk_create_sync(const struct vblk_config *cfg, struct vblk **out,
		     struct verr *e);

/* One pass over the queue, as the device thread does after a kick. */
void vblk_process_queue(struct vblk *d);

/* What a guest write to QueueNotify does (the ioeventfd, by hand). */
void vblk_kick(struct vblk *d);

/* The eventfd signalled on every used-buffer or config interrupt (with
 * vm_fd < 0 nothing consumes it: tests read it to count interrupts). */
int vblk_irq_fd(const struct vblk *d);

#endif
