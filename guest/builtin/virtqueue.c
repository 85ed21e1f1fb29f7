/*
 * virtqueue.c - the driver side of one split virtqueue (virtio 1.2 §2.7):
 * descriptor free list, publishing to the available ring, notification and
 * interrupt suppression (flags or EVENT_IDX), and reaping the used ring.
 * Layout: descriptors, available ring and used ring each in their own page.
 */
#include "guest.h"

static uint16_t *used_event(struct vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *avail_event(struct vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

void vq_init(struct vq *vq, unsigned num, void *ring_mem, bool event_idx,
	     bool want_irq)
{
	uint8_t *m = ring_mem;

	vq->num = num;
	vq->desc = (struct vring_desc *)m;
	vq->avail = (struct vring_avail *)(m + 4096);
	vq->used = (struct vring_used *)(m + 8192);
	vq->free_head = 0;
	vq->num_free = (uint16_t)num;
	vq->avail_idx = 0;
	vq->kicked_idx = 0;
	vq->last_used = 0;
	vq->event_idx = event_idx;
	vq->want_irq = want_irq;
	for (unsigned i = 0; i < num; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	/* Without EVENT_IDX the flag is the only way to ask for silence. */
	vq->avail->flags = want_irq ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	vq->avail->idx = 0;
	*used_event(vq) = 0;
	/* The rest belongs to the device after a reset; only the indices
	 * matter (clearing 12 KiB costs milliseconds on PVM). */
	vq->used->flags = 0;
	vq->used->idx = 0;
	*avail_event(vq) = 0;
	memset(vq->chain_len, 0, sizeof(vq->chain_len));
}

static void desc_set(struct vring_desc *d, const struct vq_seg *s,
		     bool more, uint16_t next)
{
	d->addr = s->addr;
	d->len = s->len;
	d->flags = (uint16_t)((s->device_writes ? VRING_DESC_F_WRITE : 0) |
			      (more ? VRING_DESC_F_NEXT : 0));
	d->next = more ? next : 0;
}

/* Chain n segments; with an indirect table they take one ring slot
 * (§2.7.5.3).  Returns the head or -1 when the ring is full. */
int vq_add(struct vq *vq, const struct vq_seg *seg, unsigned n,
	   struct vring_desc *indirect)
{
	unsigned need = indirect ? 1 : n;
	uint16_t head = vq->free_head, i = head;

	if (n == 0 || vq->num_free < need)
		return -1;
	if (indirect) {
		for (unsigned k = 0; k < n; k++)
			desc_set(&indirect[k], &seg[k], k + 1 < n, (uint16_t)(k + 1));
		vq->free_head = vq->desc[head].next;
		vq->desc[head].addr = (uintptr_t)indirect;
		vq->desc[head].len = n * sizeof(struct vring_desc);
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
	} else {
		for (unsigned k = 0; k < n; k++) {
			uint16_t next = vq->desc[i].next;

			desc_set(&vq->desc[i], &seg[k], k + 1 < n, next);
			if (k + 1 < n)
				i = next;
			else
				vq->free_head = next;
		}
	}
	vq->num_free = (uint16_t)(vq->num_free - need);
	vq->chain_len[head] = (uint16_t)need;
	return head;
}

void vq_publish(struct vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	barrier();		/* x86 keeps stores in order; the compiler must too */
	vq->avail_idx++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
}

/* §2.7.10 / §2.7.7: should we write QueueNotify for what we published
 * since the last notification? */
bool vq_notify_needed(struct vq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	bool need;

	mb();			/* publish avail.idx before reading the device's wish */
	if (vq->event_idx) {
		uint16_t event = READ_ONCE(*avail_event(vq));

		need = (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	} else {
		need = !(READ_ONCE(vq->used->flags) & VRING_USED_F_NO_NOTIFY);
	}
	vq->kicked_idx = new;
	return need;
}

bool vq_has_used(struct vq *vq)
{
	return READ_ONCE(vq->used->idx) != vq->last_used;
}

/* Pops one used element and frees its chain.  Returns the head id, -1
 * when nothing is there, -2 when the device returned a bogus id. */
int vq_pop_used(struct vq *vq, uint32_t *len)
{
	struct vring_used_elem *e;
	uint16_t id, i;

	if (!vq_has_used(vq))
		return -1;
	barrier();		/* read the element after seeing the index */
	e = &vq->used->ring[vq->last_used % vq->num];
	id = (uint16_t)READ_ONCE(e->id);
	*len = READ_ONCE(e->len);
	vq->last_used++;
	if (id >= vq->num || !vq->chain_len[id])
		return -2;
	i = id;
	for (unsigned k = 1; k < vq->chain_len[id]; k++)
		i = vq->desc[i].next;
	vq->desc[i].next = vq->free_head;
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free + vq->chain_len[id]);
	vq->chain_len[id] = 0;
	return id;
}

/* Ask for an interrupt at the next used entry (EVENT_IDX, §2.7.10). */
void vq_rearm(struct vq *vq)
{
	if (vq->event_idx && vq->want_irq) {
		WRITE_ONCE(*used_event(vq), vq->last_used);
		mb();
	}
}
