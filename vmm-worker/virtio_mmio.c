/*
 * virtio_mmio.c - the virtio-mmio version 2 transport (virtio 1.2 §4.2)
 * in front of one virtio-blk device: a table of register handlers, the
 * config space window, feature negotiation, and KVM eventfd wiring
 * (QueueNotify as an ioeventfd, the interrupt line as an irqfd).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm-worker/vblk_internal.h"
#include "vmm-worker/virtio_mmio.h"

struct vmmio_reg {
	uint32_t (*read)(struct vblk *d);
	void (*write)(struct vblk *d, uint32_t v);
	bool lockless;		/* hot path: must not wait behind a queue pass */
};

static uint32_t reg_magic_read(struct vblk *d)
{
	return VIRTIO_MMIO_MAGIC;
}

static uint32_t reg_version_read(struct vblk *d)
{
	return VIRTIO_MMIO_VERSION_2;
}

static uint32_t reg_device_id_read(struct vblk *d)
{
	return VIRTIO_ID_BLOCK;
}

static uint32_t reg_vendor_id_read(struct vblk *d)
{
	return VMORCH_VENDOR_ID;
}

static uint32_t reg_dev_features_read(struct vblk *d)
{
	if (d->dev_features_sel > 1)
		return 0;
	return (uint32_t)(d->device_features >> (32 * d->dev_features_sel));
}

static void reg_dev_features_sel_write(struct vblk *d, uint32_t v)
{
	d->dev_features_sel = v;
}

static void reg_drv_features_write(struct vblk *d, uint32_t v)
{
	unsigned int shift = 32 * d->drv_features_sel;

	/* §3.1.1: features are frozen once FEATURES_OK is accepted. */
	if (d->drv_features_sel > 1 || (d->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	d->driver_features &= ~(0xffffffffULL << shift);
	d->driver_features |= (uint64_t)v << shift;
}

static void reg_drv_features_sel_write(struct vblk *d, uint32_t v)
{
	d->drv_features_sel = v;
}

static void reg_queue_sel_write(struct vblk *d, uint32_t v)
{
	d->queue_sel = v;
}

/* We have one queue; any other selection reads as absent (QueueNumMax 0). */
static struct vq *vmmio_selected_vq(struct vblk *d)
{
	return d->queue_sel == 0 ? &d->vq : NULL;
}

/* Queue registers may only change while the queue is not live (§4.2.3.2). */
static struct vq *vmmio_configurable_vq(struct vblk *d)
{
	struct vq *q = vmmio_selected_vq(d);

	return q && !q->ready ? q : NULL;
}

static uint32_t reg_queue_num_max_read(struct vblk *d)
{
	return vmmio_selected_vq(d) ? VQ_MAX_SIZE : 0;
}

static void reg_queue_num_write(struct vblk *d, uint32_t v)
{
	struct vq *q = vmmio_configurable_vq(d);

	if (q)
		q->num = v > VQ_MAX_SIZE ? 0 : (uint16_t)v;
}

static uint32_t reg_queue_ready_read(struct vblk *d)
{
	struct vq *q = vmmio_selected_vq(d);

	return q && q->ready;
}

static void reg_queue_ready_write(struct vblk *d, uint32_t v)
{
	struct vq *q = vmmio_selected_vq(d);

	if (!q)
		return;
	if (!v) {
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	q->event_idx = d->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = d->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	/* Bad rings (size, alignment, outside RAM) leave QueueReady at 0, which
	 * the driver sees when it reads the register back. */
	vq_start(q);
}

static void reg_queue_notify_write(struct vblk *d, uint32_t v)
{
	vblk_kick(d);
}

static uint32_t reg_isr_read(struct vblk *d)
{
	return atomic_load_explicit(&d->isr, memory_order_acquire);
}

static void reg_isr_ack_write(struct vblk *d, uint32_t v)
{
	atomic_fetch_and_explicit(&d->isr, ~v, memory_order_acq_rel);
}

static uint32_t reg_status_read(struct vblk *d)
{
	return d->status;
}

/* §2.2.2: the device refuses FEATURES_OK for a set it cannot honour. */
static bool vmmio_features_acceptable(const struct vblk *d)
{
	uint64_t f = d->driver_features;

	return !(f & ~d->device_features) && (f & (1ULL << VIRTIO_F_VERSION_1));
}

static void reg_status_write(struct vblk *d, uint32_t v)
{
	uint32_t old = d->status;

	if (v == 0) {
		vblk_reset_locked(d);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !vmmio_features_acceptable(d))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	d->status = v | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Requests posted before DRIVER_OK were not ours to touch; now they are. */
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		vblk_kick(d);
}

/* The three ring addresses are 64-bit values split into Low/High halves. */
#define VMMIO_ADDR_HALF(name, field, shift)                                    \
	static uint32_t reg_##name##_read(struct vblk *d)                      \
	{                                                                      \
		struct vq *q = vmmio_selected_vq(d);                           \
		return q ? (uint32_t)(q->field >> (shift)) : 0;                \
	}                                                                      \
	static void reg_##name##_write(struct vblk *d, uint32_t v)             \
	{                                                                      \
		struct vq *q = vmmio_configurable_vq(d);                       \
		if (!q)                                                        \
			return;                                                \
		q->field &= ~(0xffffffffULL << (shift));                       \
		q->field |= (uint64_t)v << (shift);                            \
	}

VMMIO_ADDR_HALF(desc_lo, desc_gpa, 0)
VMMIO_ADDR_HALF(desc_hi, desc_gpa, 32)
VMMIO_ADDR_HALF(driver_lo, avail_gpa, 0)
VMMIO_ADDR_HALF(driver_hi, avail_gpa, 32)
VMMIO_ADDR_HALF(device_lo, used_gpa, 0)
VMMIO_ADDR_HALF(device_hi, used_gpa, 32)

static uint32_t reg_config_generation_read(struct vblk *d)
{
	return 0;		/* our config space never changes */
}

#define REG(off) [(off) >> 2]
static const struct vmmio_reg vmmio_regs[VIRTIO_MMIO_CONFIG >> 2] = {
	REG(VIRTIO_MMIO_MAGIC_VALUE) = { reg_magic_read, NULL, true },
	REG(VIRTIO_MMIO_VERSION) = { reg_version_read, NULL, true },
	REG(VIRTIO_MMIO_DEVICE_ID) = { reg_device_id_read, NULL, true },
	REG(VIRTIO_MMIO_VENDOR_ID) = { reg_vendor_id_read, NULL, true },
	REG(VIRTIO_MMIO_DEVICE_FEATURES) = { reg_dev_features_read, NULL, false },
	REG(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = { NULL, reg_dev_features_sel_write, false },
	REG(VIRTIO_MMIO_DRIVER_FEATURES) = { NULL, reg_drv_features_write, false },
	REG(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = { NULL, reg_drv_features_sel_write, false },
	REG(VIRTIO_MMIO_QUEUE_SEL) = { NULL, reg_queue_sel_write, false },
	REG(VIRTIO_MMIO_QUEUE_NUM_MAX) = { reg_queue_num_max_read, NULL, false },
	REG(VIRTIO_MMIO_QUEUE_NUM) = { NULL, reg_queue_num_write, false },
	REG(VIRTIO_MMIO_QUEUE_READY) = { reg_queue_ready_read, reg_queue_ready_write, false },
	REG(VIRTIO_MMIO_QUEUE_NOTIFY) = { NULL, reg_queue_notify_write, true },
	REG(VIRTIO_MMIO_INTERRUPT_STATUS) = { reg_isr_read, NULL, true },
	REG(VIRTIO_MMIO_INTERRUPT_ACK) = { NULL, reg_isr_ack_write, true },
	REG(VIRTIO_MMIO_STATUS) = { reg_status_read, reg_status_write, false },
	REG(VIRTIO_MMIO_QUEUE_DESC_LOW) = { reg_desc_lo_read, reg_desc_lo_write, false },
	REG(VIRTIO_MMIO_QUEUE_DESC_HIGH) = { reg_desc_hi_read, reg_desc_hi_write, false },
	REG(VIRTIO_MMIO_QUEUE_DRIVER_LOW) = { reg_driver_lo_read, reg_driver_lo_write, false },
	REG(VIRTIO_MMIO_QUEUE_DRIVER_HIGH) = { reg_driver_hi_read, reg_driver_hi_write, false },
	REG(VIRTIO_MMIO_QUEUE_DEVICE_LOW) = { reg_device_lo_read, reg_device_lo_write, false },
	REG(VIRTIO_MMIO_QUEUE_DEVICE_HIGH) = { reg_device_hi_read, reg_device_hi_write, false },
	REG(VIRTIO_MMIO_CONFIG_GENERATION) = { reg_config_generation_read, NULL, true },
};
#undef REG

/* Device-specific config: any width, read-only (we offer no writable field). */
static void vmmio_config_access(struct vblk *d, uint64_t off, uint8_t *data,
				uint32_t len, bool is_write)
{
	if (is_write)
		return;
	memset(data, 0, len);
	if (off < sizeof(d->config))
		memcpy(data, d->config + off,
		       len < sizeof(d->config) - off ? len : sizeof(d->config) - off);
}

void vblk_mmio_access(struct vblk *d, uint64_t off, uint8_t *data, uint32_t len,
		      bool is_write)
{
	const struct vmmio_reg *r;
	uint32_t v = 0;

	if (len == 0 || len > 8 || off >= VIRTIO_MMIO_SIZE ||
	    len > VIRTIO_MMIO_SIZE - off)
		return;
	if (off >= VIRTIO_MMIO_CONFIG) {
		vmmio_config_access(d, off - VIRTIO_MMIO_CONFIG, data, len, is_write);
		return;
	}
	if (!is_write)
		memset(data, 0, len);
	/* §4.2.2.2: registers are accessed as aligned 32-bit words only. */
	if (len != 4 || (off & 3))
		return;
	r = &vmmio_regs[off >> 2];
	if (is_write) {
		memcpy(&v, data, 4);
		v = le32toh(v);
	}
	if (!r->lockless)
		pthread_mutex_lock(&d->lock);
	if (is_write && r->write)
		r->write(d, v);
	else if (!is_write && r->read)
		v = htole32(r->read(d));
	if (!r->lockless)
		pthread_mutex_unlock(&d->lock);
	if (!is_write)
		memcpy(data, &v, 4);
}

void vmmio_raise_irq(struct vblk *d, uint32_t why)
{
	uint64_t one = 1;

	/* Status bit first, so the guest's handler finds the reason. */
	atomic_fetch_or_explicit(&d->isr, why, memory_order_release);
	if (write(d->irq_fd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN at a counter of 2^64-2: the line is already up. */
	}
}

int vmmio_notify_setup(struct vblk *d, struct verr *e)
{
	struct kvm_ioeventfd io = {
		.addr = d->mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = d->kick_fd,
	};
	struct kvm_irqfd irq = { .fd = (uint32_t)d->irq_fd, .gsi = d->gsi };
	int rc;

	if (d->vm_fd < 0)
		return 0;
	/* A guest kick then costs ~1 us in the kernel instead of a ~9 us exit. */
	if (ioctl(d->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		return verr_errno(e, "KVM_IOEVENTFD at 0x%llx",
				  (unsigned long long)io.addr);
	}
	d->ioeventfd_on = true;
	if (ioctl(d->vm_fd, KVM_IRQFD, &irq) < 0) {
		rc = verr_errno(e, "KVM_IRQFD on gsi %u", d->gsi);
		vmmio_notify_teardown(d);
		return rc;
	}
	d->irqfd_on = true;
	return 0;
}

void vmmio_notify_teardown(struct vblk *d)
{
	struct kvm_ioeventfd io = {
		.addr = d->mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = d->kick_fd,
		.flags = KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	struct kvm_irqfd irq = {
		.fd = (uint32_t)d->irq_fd,
		.gsi = d->gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (d->ioeventfd_on)
		ioctl(d->vm_fd, KVM_IOEVENTFD, &io);
	if (d->irqfd_on)
		ioctl(d->vm_fd, KVM_IRQFD, &irq);
	d->ioeventfd_on = false;
	d->irqfd_on = false;
}
