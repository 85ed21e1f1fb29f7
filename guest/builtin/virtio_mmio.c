/*
 * virtio_mmio.c - the virtio-mmio version 2 transport (virtio 1.2 §4.2.2)
 * seen from the driver: probing a window, reset, the §3.1.1 initialization
 * sequence with feature negotiation, queue 0 setup, notify and interrupt
 * acknowledge.  All registers are 32-bit.
 */
#include "guest.h"

static uint32_t reg_read(struct disk *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}

static void reg_write(struct disk *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

bool vmmio_is_blk(uintptr_t base, uint32_t *version)
{
	if (mmio_read32(base + VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE)
		return false;
	if (mmio_read32(base + VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
		return false;
	*version = mmio_read32(base + VIRTIO_MMIO_VERSION);
	return true;
}

/* §4.2.3.1: writing 0 resets; the driver waits until Status reads 0. */
int vmmio_reset(struct disk *d)
{
	struct deadline dl;

	reg_write(d, VIRTIO_MMIO_STATUS, 0);
	deadline_start(&dl, WAIT_MS);
	while (reg_read(d, VIRTIO_MMIO_STATUS) != 0)
		if (deadline_passed(&dl))
			return fail("disk %u: reset not acknowledged", d->index);
	return 0;
}

static void status_set(struct disk *d, uint32_t bits)
{
	reg_write(d, VIRTIO_MMIO_STATUS, reg_read(d, VIRTIO_MMIO_STATUS) | bits);
}

static uint64_t features_read(struct disk *d)
{
	uint64_t f;

	reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	reg_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | reg_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void features_write(struct disk *d, uint64_t f)
{
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

static void reg_write64(struct disk *d, uint32_t lo_off, uint64_t v)
{
	reg_write(d, lo_off, (uint32_t)v);
	reg_write(d, lo_off + 4, (uint32_t)(v >> 32));
}

static int queue_setup(struct disk *d)
{
	uint32_t max, num = QUEUE_MAX;

	reg_write(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	if (reg_read(d, VIRTIO_MMIO_QUEUE_READY))
		return fail("disk %u: queue 0 ready before setup", d->index);
	max = reg_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0)
		return fail("disk %u: queue 0 not available", d->index);
	while (num > max)	/* split rings want a power of two */
		num >>= 1;
	d->qsize = num;
	vq_init(&d->vq, num, d->ring_mem,
		(d->features >> VIRTIO_F_EVENT_IDX) & 1, d->irq_mode);
	reg_write(d, VIRTIO_MMIO_QUEUE_NUM, num);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uintptr_t)d->vq.desc);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uintptr_t)d->vq.avail);
	reg_write64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uintptr_t)d->vq.used);
	reg_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

/* §3.1.1 driver initialization; "wanted" are the optional features we
 * take when offered.  VERSION_1 is required. */
int vmmio_init(struct disk *d, uint64_t wanted)
{
	int rc;

	if ((rc = vmmio_reset(d)))
		return rc;
	status_set(d, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(d, VIRTIO_STATUS_DRIVER);
	d->offered = features_read(d);
	if (!(d->offered & (1ull << VIRTIO_F_VERSION_1)))
		return fail("disk %u: device lacks VIRTIO_F_VERSION_1", d->index);
	d->features = d->offered & (wanted | (1ull << VIRTIO_F_VERSION_1));
	features_write(d, d->features);
	status_set(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(reg_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return fail("disk %u: device refused features %lx", d->index,
			    (unsigned long)d->features);
	if ((rc = queue_setup(d)))
		return rc;
	status_set(d, VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

void vmmio_notify(struct disk *d)
{
	reg_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Acknowledge both defined causes without reading InterruptStatus first:
 * one register access instead of two (each is an exit to the VMM). */
void vmmio_irq_ack_all(struct disk *d)
{
	reg_write(d, VIRTIO_MMIO_INTERRUPT_ACK,
		  VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
}

uint32_t vmmio_irq_ack(struct disk *d)
{
	uint32_t st = reg_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (st)
		reg_write(d, VIRTIO_MMIO_INTERRUPT_ACK, st);
	return st;
}

/* A 64-bit config field read as two 32-bit halves, retried while the
 * config generation changes (§4.2.2.2). */
uint64_t vmmio_config_read64(struct disk *d, uint32_t off)
{
	uint32_t gen, lo, hi;
	int tries = 100;

	do {
		gen = reg_read(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = reg_read(d, VIRTIO_MMIO_CONFIG + off);
		hi = reg_read(d, VIRTIO_MMIO_CONFIG + off + 4);
	} while (gen != reg_read(d, VIRTIO_MMIO_CONFIG_GENERATION) && --tries);
	return ((uint64_t)hi << 32) | lo;
}
