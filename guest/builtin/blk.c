/*
 * blk.c - virtio-blk requests (virtio 1.2 §5.2.6): header, data, status
 * byte, built per request slot in static memory and chained through the
 * virtqueue (directly or via an indirect table); submission, notification
 * and waiting for completions by polling or by interrupt.
 */
#include "guest.h"

struct blk_slot_mem {
	struct virtio_blk_hdr hdr;
	uint8_t status;
} __attribute__((aligned(32)));

static struct blk_slot_mem slot_mem[QUEUE_MAX];
static struct vring_desc indirect_tables[QUEUE_MAX][4] __attribute__((aligned(64)));
static uint8_t ring_mem[MAX_DISKS][3 * 4096] __attribute__((aligned(4096)));

uint8_t *blk_status_byte(unsigned slot)
{
	return &slot_mem[slot].status;
}

struct virtio_blk_hdr *blk_header(unsigned slot)
{
	return &slot_mem[slot].hdr;
}

int blk_open(struct disk *d, const struct guest_cfg *cfg)
{
	uint64_t wanted = (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_RO) |
			  (1ull << VIRTIO_BLK_F_BLK_SIZE);
	int rc;

	if (cfg->event_idx)
		wanted |= 1ull << VIRTIO_F_EVENT_IDX;
	if (cfg->indirect)
		wanted |= 1ull << VIRTIO_F_INDIRECT_DESC;
	d->ring_mem = ring_mem[d->index];
	d->irq_mode = cfg->irq;
	if ((rc = vmmio_init(d, wanted)))
		return rc;
	if (cfg->event_idx && !(d->features & (1ull << VIRTIO_F_EVENT_IDX)))
		return fail("disk %u: device does not offer RING_EVENT_IDX", d->index);
	if (cfg->indirect && !(d->features & (1ull << VIRTIO_F_INDIRECT_DESC)))
		return fail("disk %u: device does not offer RING_INDIRECT_DESC", d->index);
	d->indirect = cfg->indirect;
	d->capacity = vmmio_config_read64(d, VIRTIO_BLK_CFG_CAPACITY);
	return 0;
}

/* Queue one request on slot; visible to the device, not yet notified. */
int blk_submit(struct disk *d, unsigned slot, uint32_t type, uint64_t sector,
	       void *buf, uint32_t len)
{
	struct blk_slot_mem *m = &slot_mem[slot];
	struct vq_seg seg[3];
	unsigned n = 0;
	int head;

	m->hdr.type = type;
	m->hdr.reserved = 0;
	m->hdr.sector = sector;
	m->status = 0xff;
	seg[n++] = (struct vq_seg){ (uintptr_t)&m->hdr, sizeof(m->hdr), false };
	if (len)
		seg[n++] = (struct vq_seg){ (uintptr_t)buf, len, type == VIRTIO_BLK_T_IN };
	seg[n++] = (struct vq_seg){ (uintptr_t)&m->status, 1, true };
	head = vq_add(&d->vq, seg, n, d->indirect ? indirect_tables[slot] : NULL);
	if (head < 0)
		return fail("disk %u: virtqueue full", d->index);
	d->head_slot[head] = (uint16_t)slot;
	vq_publish(&d->vq, (uint16_t)head);
	return 0;
}

void blk_kick(struct disk *d)
{
	if (vq_notify_needed(&d->vq))
		vmmio_notify(d);
}

/* Wait until the used ring may hold something: poll the index, or sleep
 * (ring-0 service) until the disk's interrupt stub has counted one more.
 * Bounded by dl either way: the LAPIC timer ends every sleep. */
int blk_wait(struct disk *d, struct deadline *dl)
{
	if (!d->irq_mode) {
		while (!vq_has_used(&d->vq)) {
			if (deadline_passed(dl))
				return fail("disk %u: no completion (device hung?)", d->index);
			cpu_relax();
		}
		return 0;
	}
	vq_rearm(&d->vq);
	if (d->vq.event_idx && vq_has_used(&d->vq))
		return 0;	/* completed before re-arming: no interrupt will come */
	for (;;) {
		uint32_t n = irq_count[d->index];

		if (n != d->irqs_seen) {
			/* Acknowledge before the caller reads the used ring, so
			 * a completion after this raises a new edge (QEMU's
			 * line stays high while InterruptStatus is nonzero).
			 * Both causes go (used buffer, config change, e.g.
			 * DEVICE_NEEDS_RESET), unread: one exit, not two. */
			d->irqs_seen = n;
			vmmio_irq_ack_all(d);
			return 0;
		}
		if (deadline_passed(dl))
			return fail("disk %u: irq timeout", d->index);
		svc_wait(&irq_count[d->index], n);
	}
}

/* One completed request: 0 and its slot, 1 when none is left, <0 on a
 * device that returns an id we never gave it. */
int blk_reap(struct disk *d, unsigned *slot, uint8_t *status, uint32_t *len)
{
	int id = vq_pop_used(&d->vq, len);

	if (id == -1)
		return 1;
	if (id < 0)
		return fail("disk %u: device returned a bogus used id", d->index);
	*slot = d->head_slot[id];
	*status = READ_ONCE(slot_mem[*slot].status);
	return 0;
}
