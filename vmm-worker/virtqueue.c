/*
 * virtqueue.c - device side of a split virtqueue (virtio 1.2 §2.7).  The
 * guest owns this memory and may change it under our feet, so every access
 * goes through gmem_ptr(), each field is read once into a local copy, and
 * every loop is bounded by the queue (or indirect table) size.
 */
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "vmm-worker/virtqueue.h"

struct vq_desc {		/* §2.7.5, little-endian in guest memory */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VQ_DESC_SIZE 16
#define AVAIL_OFF_FLAGS 0
#define AVAIL_OFF_IDX	2
#define AVAIL_OFF_RING	4
#define USED_OFF_FLAGS	0
#define USED_OFF_IDX	2
#define USED_OFF_RING	4
#define USED_ELEM_SIZE	8

static uint64_t vq_avail_size(uint16_t num)
{
	return AVAIL_OFF_RING + 2ULL * num + 2;	/* + used_event */
}

static uint64_t vq_used_size(uint16_t num)
{
	return USED_OFF_RING + (uint64_t)USED_ELEM_SIZE * num + 2; /* + avail_event */
}

/* Ring fields are naturally aligned (checked by vq_validate), so the
 * atomic accesses below are plain aligned loads and stores. */
static uint16_t *vq_u16(const struct vq *q, uint64_t gpa)
{
	return gmem_ptr(q->mem, gpa, 2);
}

static int vq_load16(const struct vq *q, uint64_t gpa, int order, uint16_t *v)
{
	uint16_t *p = vq_u16(q, gpa);

	if (!p)
		return -EFAULT;
	*v = le16toh(__atomic_load_n(p, order));
	return 0;
}

static int vq_store16(const struct vq *q, uint64_t gpa, int order, uint16_t v)
{
	uint16_t *p = vq_u16(q, gpa);

	if (!p)
		return -EFAULT;
	__atomic_store_n(p, htole16(v), order);
	return 0;
}

void vq_reset(struct vq *q, const struct guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
}

int vq_validate(const struct vq *q)
{
	uint16_t n = q->num;

	/* §2.7: split queue sizes are powers of 2. */
	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	if (!gmem_ptr(q->mem, q->desc_gpa, (uint64_t)VQ_DESC_SIZE * n) ||
	    !gmem_ptr(q->mem, q->avail_gpa, vq_avail_size(n)) ||
	    !gmem_ptr(q->mem, q->used_gpa, vq_used_size(n)))
		return -EFAULT;
	return 0;
}

int vq_start(struct vq *q)
{
	int rc = vq_validate(q);

	if (rc)
		return rc;
	q->last_avail = 0;
	q->shadow_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->poisoned = false;
	q->poison_reported = false;
	q->ready = true;
	return 0;
}

/*
 * Refresh shadow_avail.  The acquire load orders the ring entries and
 * descriptors we read next after the guest's publication of the index.
 */
static int vq_fetch_avail_idx(struct vq *q)
{
	uint16_t idx;
	int rc = vq_load16(q, q->avail_gpa + AVAIL_OFF_IDX, __ATOMIC_ACQUIRE, &idx);

	if (rc)
		return rc;
	/*
	 * A guest can have at most num buffers outstanding; an index further
	 * ahead than that is nonsense and trusting it would make us consume
	 * stale slots forever.  Poison the queue until the device is reset.
	 */
	if ((uint16_t)(idx - q->last_avail) > q->num) {
		q->poisoned = true;
		return -EOVERFLOW;
	}
	q->shadow_avail = idx;
	return 0;
}

int vq_pop(struct vq *q, uint16_t *head)
{
	uint64_t slot;
	int rc;

	if (!q->ready)
		return 0;
	if (!q->poisoned && q->last_avail == q->shadow_avail) {
		rc = vq_fetch_avail_idx(q);
		if (rc && rc != -EOVERFLOW)
			return rc;
		if (!rc && q->last_avail == q->shadow_avail)
			return 0;
	}
	if (q->poisoned) {
		/* Report once; afterwards the queue is simply dead. */
		if (q->poison_reported)
			return 0;
		q->poison_reported = true;
		return -EOVERFLOW;
	}
	slot = q->avail_gpa + AVAIL_OFF_RING + 2ULL * (q->last_avail % q->num);
	rc = vq_load16(q, slot, __ATOMIC_RELAXED, head);
	if (rc)
		return rc;
	q->last_avail++;
	return 1;
}

void vq_unpop(struct vq *q)
{
	q->last_avail--;
}

static int vq_desc_read(const struct vq *q, uint64_t table, uint16_t i,
			struct vq_desc *d)
{
	const uint8_t *p = gmem_ptr(q->mem, table + (uint64_t)VQ_DESC_SIZE * i,
				    VQ_DESC_SIZE);

	if (!p)
		return -EFAULT;
	/* One copy: the guest may rewrite the descriptor while we look at it. */
	memcpy(d, p, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

/* Switch the walk into an indirect table (virtio 1.2 §2.7.5.3). */
static int vq_enter_indirect(const struct vq *q, const struct vq_desc *d,
			     bool nested, uint64_t *table, uint32_t *tsize)
{
	if (!q->indirect || nested)	/* §2.7.5.3.1: one level only */
		return -EINVAL;
	if (d->flags & VIRTQ_DESC_F_NEXT)	/* MUST NOT set both */
		return -EINVAL;
	if (d->len == 0 || d->len % VQ_DESC_SIZE || d->len / VQ_DESC_SIZE > q->num)
		return -EINVAL;
	if (!gmem_ptr(q->mem, d->addr, d->len))
		return -EFAULT;
	*table = d->addr;
	*tsize = d->len / VQ_DESC_SIZE;
	return 0;
}

int vq_chain_read(const struct vq *q, uint16_t head, struct vq_chain *c)
{
	uint64_t table = q->desc_gpa;
	uint32_t tsize = q->num, seen = 0;
	bool in_indirect = false;
	uint16_t i = head;
	struct vq_desc d;
	int rc;

	c->head = head;
	c->nseg = 0;
	for (;;) {
		if (i >= tsize)
			return -EINVAL;
		/* A table of n entries cannot hold a longer loop-free chain. */
		if (++seen > tsize)
			return -ELOOP;
		rc = vq_desc_read(q, table, i, &d);
		if (rc)
			return rc;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			rc = vq_enter_indirect(q, &d, in_indirect, &table, &tsize);
			if (rc)
				return rc;
			in_indirect = true;
			seen = 0;
			i = 0;
			continue;
		}
		/* §2.7.5.3.1 / §2.7.13.1: a chain never exceeds the queue size. */
		if (c->nseg >= q->num)
			return -ELOOP;
		c->seg[c->nseg].gpa = d.addr;
		c->seg[c->nseg].len = d.len;
		c->seg[c->nseg].writable = d.flags & VIRTQ_DESC_F_WRITE;
		c->nseg++;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int vq_push_used(struct vq *q, uint16_t head, uint32_t len)
{
	uint64_t slot = q->used_gpa + USED_OFF_RING +
			(uint64_t)USED_ELEM_SIZE * (q->used_idx % q->num);
	uint32_t elem[2] = { htole32(head), htole32(len) };
	uint8_t *p = gmem_ptr(q->mem, slot, sizeof(elem));

	if (!p)
		return -EFAULT;
	memcpy(p, elem, sizeof(elem));
	q->used_idx++;
	/* Release: the element (and the data it describes) before the index. */
	return vq_store16(q, q->used_gpa + USED_OFF_IDX, __ATOMIC_RELEASE, q->used_idx);
}

bool vq_enable_notify(struct vq *q)
{
	if (!q->ready || q->poisoned)
		return false;
	if (q->event_idx)
		vq_store16(q, q->used_gpa + vq_used_size(q->num) - 2,
			   __ATOMIC_RELAXED, q->last_avail);
	else
		vq_store16(q, q->used_gpa + USED_OFF_FLAGS, __ATOMIC_RELAXED, 0);
	/*
	 * Full fence: our avail_event store must be visible before we re-read
	 * avail.idx, or a kick racing with us could be lost (§2.7.10).
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (vq_fetch_avail_idx(q) < 0)
		return q->poisoned && !q->poison_reported; /* vq_pop reports it */
	return q->shadow_avail != q->last_avail;
}

bool vq_need_interrupt(struct vq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx, v;

	if (!q->ready || old == now)
		return false;
	q->signalled_used = now;
	/* The used.idx store must be visible before we read the driver's wish. */
	atomic_thread_fence(memory_order_seq_cst);
	if (q->event_idx) {
		if (vq_load16(q, q->avail_gpa + vq_avail_size(q->num) - 2,
			      __ATOMIC_RELAXED, &v))
			return true;
		/* §2.7.7.2: interrupt iff used_event lies in [old, now). */
		return (uint16_t)(now - v - 1) < (uint16_t)(now - old);
	}
	if (vq_load16(q, q->avail_gpa + AVAIL_OFF_FLAGS, __ATOMIC_RELAXED, &v))
		return true;
	return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}
