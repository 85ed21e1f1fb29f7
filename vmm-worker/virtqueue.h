/*
 * virtqueue.h - the device side of one split virtqueue (virtio 1.2 §2.7):
 * popping available heads, walking descriptor chains (direct and indirect)
 * into a flat segment list, publishing used entries, notification
 * suppression.  Knows nothing about block devices or counters.
 */
#ifndef VMORCH_VIRTQUEUE_H
#define VMORCH_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm-worker/guest_mem.h"

#define VQ_MAX_SIZE 256		/* QueueNumMax we offer; also the chain bound */

/* virtio 1.2 §2.7.5 descriptor flags, §2.7.6 / §2.7.8 ring flags */
#define VIRTQ_DESC_F_NEXT	  1
#define VIRTQ_DESC_F_WRITE	  2
#define VIRTQ_DESC_F_INDIRECT	  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	  1

/* One buffer of a chain, as the guest described it (not yet bounds-checked). */
struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable;		/* device-writable (VIRTQ_DESC_F_WRITE) */
};

struct vq_chain {
	uint16_t head;
	uint32_t nseg;
	struct vq_seg seg[VQ_MAX_SIZE];
};

struct vq {
	const struct guest_mem *mem;
	uint16_t num;		/* queue size, a power of 2 <= VQ_MAX_SIZE */
	bool ready;
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool poisoned;		/* the guest broke the avail index; wait for reset */
	bool poison_reported;	/* vq_pop has returned -EOVERFLOW once */
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	uint16_t last_avail;	/* next avail slot the device will read */
	uint16_t shadow_avail;	/* avail.idx as last read */
	uint16_t used_idx;	/* device's copy of used.idx */
	uint16_t signalled_used; /* used.idx when we last decided on an interrupt */
};

/* Forget everything the driver configured (device reset, virtio 1.2 §2.4). */
void vq_reset(struct vq *q, const struct guest_mem *mem);

/*
 * Check size, alignment (§2.7: desc 16, avail 2, used 4) and that all three
 * rings lie inside guest RAM.  0 or -EINVAL / -EFAULT.
 */
int vq_validate(const struct vq *q);

/* Make the queue live: validate and zero the device's ring indices. */
int vq_start(struct vq *q);

/*
 * Take the next available head.  1 and *head set, 0 when the ring is empty
 * (or the queue is not usable), -EOVERFLOW the one time the guest's avail.idx
 * is found more than a queue size ahead (the queue is then poisoned and every
 * later call returns 0 until vq_reset), -EFAULT if a ring left guest RAM.
 */
int vq_pop(struct vq *q, uint16_t *head);

/* Put the last popped head back (throttling: the request stays queued). */
void vq_unpop(struct vq *q);

/*
 * Walk the chain starting at @head into @c.  0, or -EINVAL (index out of
 * range, bad indirect table, nested indirect, indirect not negotiated),
 * -ELOOP (more descriptors than the queue or table holds: a loop), -EFAULT
 * (descriptor table outside RAM).  Buffer addresses are not checked here.
 */
int vq_chain_read(const struct vq *q, uint16_t head, struct vq_chain *c);

/* Publish one used element (release ordering on used.idx).  0 or -EFAULT. */
int vq_push_used(struct vq *q, uint16_t head, uint32_t len);

/*
 * Ask the driver to kick us for anything after last_avail (avail_event with
 * EVENT_IDX, else used.flags = 0), then look again.  true if more requests
 * arrived meanwhile, so the caller must keep going (virtio 1.2 §2.7.10).
 */
bool vq_enable_notify(struct vq *q);

/*
 * Whether the driver wants a used-buffer notification for the entries
 * published since the last call (§2.7.7: NO_INTERRUPT or used_event).
 */
bool vq_need_interrupt(struct vq *q);

#endif
