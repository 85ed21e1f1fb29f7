/*
 * hostile.c - hostile=MODE: one deliberately broken request to disk 0, then
 * a check of the device's visible reaction (status byte, used entry, or
 * silence).  The VMM's side of each mode is in README.md; QEMU reacts
 * differently to some of them (it marks the device broken instead).
 */
#include "guest.h"

#define STATUS_UNWRITTEN	0xee

struct hostile_req {
	struct virtio_blk_hdr hdr;
	uint8_t status;
} __attribute__((aligned(32)));

static struct hostile_req req;

/* Poll (whatever the completion mode) for the one used entry. */
static bool used_arrives(struct disk *d, uint32_t ms, uint32_t *len)
{
	struct deadline dl;
	int id;

	deadline_start(&dl, ms);
	while (!vq_has_used(&d->vq))
		if (deadline_passed(&dl))
			return false;
	id = vq_pop_used(&d->vq, len);
	return id != -1;
}

static int send(struct disk *d, uint32_t type, uint32_t hdr_len,
		const struct vq_seg *data, bool with_status)
{
	struct vq_seg seg[3];
	unsigned n = 0;
	int head;

	req.hdr.type = type;
	req.hdr.reserved = 0;
	req.hdr.sector = 0;
	req.status = STATUS_UNWRITTEN;
	seg[n++] = (struct vq_seg){ (uintptr_t)&req.hdr, hdr_len, false };
	if (data)
		seg[n++] = *data;
	if (with_status)
		seg[n++] = (struct vq_seg){ (uintptr_t)&req.status, 1, true };
	head = vq_add(&d->vq, seg, n, NULL);
	if (head < 0)
		return fail("hostile: virtqueue full");
	vq_publish(&d->vq, (uint16_t)head);
	vmmio_notify(d);
	return 0;
}

/* Send, then require a used entry and (if expected >= 0) that status. */
static int send_expect(struct disk *d, uint32_t type, uint32_t hdr_len,
		       const struct vq_seg *data, bool with_status, int expected)
{
	uint32_t len = 0;
	int rc;

	if ((rc = send(d, type, hdr_len, data, with_status)))
		return rc;
	if (!used_arrives(d, HOSTILE_WAIT_MS, &len))
		return fail("hostile: no used entry from disk 0");
	serial_printf("vmorch-guest: hostile reaction: used len %u status %u\n",
		      len, req.status);
	if (expected >= 0 && req.status != expected)
		return fail("hostile: status %u, expected %d", req.status, expected);
	return 0;
}

static int desc_loop(struct disk *d, uint8_t *buf)
{
	struct vq *vq = &d->vq;
	uint32_t len = 0;

	/* header -> data -> header -> ...: a chain that never ends (§2.7.5.2
	 * says the device must bound it by the queue size). */
	req.hdr.type = VIRTIO_BLK_T_IN;
	req.hdr.sector = 0;
	vq->desc[0] = (struct vring_desc){ (uintptr_t)&req.hdr, sizeof(req.hdr),
					   VRING_DESC_F_NEXT, 1 };
	vq->desc[1] = (struct vring_desc){ (uintptr_t)buf, SECTOR_SIZE,
					   VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0 };
	vq->free_head = 2;
	vq->num_free = (uint16_t)(vq->num - 2);
	vq->chain_len[0] = 2;
	vq_publish(vq, 0);
	vmmio_notify(d);
	if (!used_arrives(d, HOSTILE_WAIT_MS, &len))
		return fail("hostile: no used entry for the descriptor loop");
	serial_printf("vmorch-guest: hostile reaction: used len %u\n", len);
	return 0;
}

/* avail.idx jumps more than a queue ahead: the device must stop (no used
 * entry), and a reset must bring it back (one good read proves it). */
static int invalid_avail_idx(struct disk *d, const struct guest_cfg *cfg,
			     struct run_stats *st, uint8_t *buf)
{
	struct vq *vq = &d->vq;
	struct deadline dl;
	unsigned slot;
	uint8_t status;
	uint32_t len;
	int rc;

	WRITE_ONCE(vq->avail->idx, (uint16_t)(vq->avail_idx + vq->num + 1));
	vmmio_notify(d);
	delay_ms(50);
	if (READ_ONCE(vq->used->idx) != 0)
		return fail("hostile: device consumed a bogus avail idx");
	if ((rc = blk_open(d, cfg)))
		return rc;
	if ((rc = blk_submit(d, 0, VIRTIO_BLK_T_IN, 0, buf, SECTOR_SIZE)))
		return rc;
	vmmio_notify(d);
	deadline_start(&dl, HOSTILE_WAIT_MS);
	while ((rc = blk_reap(d, &slot, &status, &len)) == 1)
		if (deadline_passed(&dl))
			return fail("hostile: no read completion after reset");
	if (rc < 0)
		return rc;
	if (status != VIRTIO_BLK_S_OK)
		return fail("hostile: read after reset: status %u", status);
	st->reads++;
	st->bytes_read += SECTOR_SIZE;
	return 0;
}

static int hostile_send(struct disk *d, const struct guest_cfg *cfg,
			struct run_stats *st, uint8_t *buf)
{
	struct vq_seg rd = { (uintptr_t)buf, SECTOR_SIZE, true };
	struct vq_seg wr = { (uintptr_t)buf, SECTOR_SIZE, false };
	struct vq_seg zero = { (uintptr_t)buf, 0, true };
	struct vq_seg oob = { mem_ram_end() + (1 << 20), 4096, true };

	switch (cfg->hostile) {
	case HOSTILE_INVALID_AVAIL_IDX:
		return invalid_avail_idx(d, cfg, st, buf);
	case HOSTILE_DESC_LOOP:
		return desc_loop(d, buf);
	case HOSTILE_OOB_ADDR:
		return send_expect(d, VIRTIO_BLK_T_IN, 16, &oob, true, VIRTIO_BLK_S_IOERR);
	case HOSTILE_BAD_TYPE:
		return send_expect(d, 0xff, 16, NULL, true, VIRTIO_BLK_S_UNSUPP);
	case HOSTILE_SHORT_HEADER:
		return send_expect(d, VIRTIO_BLK_T_IN, 8, &rd, true, VIRTIO_BLK_S_IOERR);
	case HOSTILE_NO_STATUS:
		return send_expect(d, VIRTIO_BLK_T_IN, 16, NULL, false, -1);
	case HOSTILE_RO_WRITE:
		return send_expect(d, VIRTIO_BLK_T_OUT, 16, &wr, true, VIRTIO_BLK_S_IOERR);
	case HOSTILE_ZERO_LEN:
		return send_expect(d, VIRTIO_BLK_T_IN, 16, &zero, true, VIRTIO_BLK_S_IOERR);
	default:
		return fail("hostile: mode %s needs no disk", hostile_name(cfg->hostile));
	}
}

int hostile_run(struct disk *d, const struct guest_cfg *cfg,
		struct run_stats *st)
{
	uint8_t *buf = mem_alloc(4096, 4096);
	int rc;

	if (!buf)
		return fail("hostile: out of memory");
	serial_printf("vmorch-guest: hostile %s on disk 0\n",
		      hostile_name(cfg->hostile));
	rc = hostile_send(d, cfg, st, buf);
	/* Leave the device quiet whatever happened. */
	vmmio_reset(d);
	return rc;
}

/* An instruction PVM cannot emulate, with no IDT to catch it: the VMM must
 * report it (real KVM: a triple fault).  At CPL 0, through the service:
 * that is where PVM's emulator sees it. */
void hostile_bad_insn(void)
{
	serial_write("vmorch-guest: hostile bad_insn: int3 without an IDT\n");
	svc_call(SVC_BAD_INSN);
}
