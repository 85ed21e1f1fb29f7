/*
 * virtio_mmio.h - virtio-mmio transport, version 2 (virtio 1.2 §4.2.2):
 * register offsets and status bits, plus the hooks the block device uses
 * (interrupts, eventfd registration with KVM, reset).
 */
#ifndef VMORCH_VIRTIO_MMIO_H
#define VMORCH_VIRTIO_MMIO_H

#include <stdint.h>

#include "common/verr.h"

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION_2	2
#define VMORCH_VENDOR_ID	0x4f4d5256	/* "VRMO" */

#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_INT_VRING	1	/* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG	2	/* configuration change */

/* §2.1 device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE	 1
#define VIRTIO_STATUS_DRIVER		 2
#define VIRTIO_STATUS_DRIVER_OK		 4
#define VIRTIO_STATUS_FEATURES_OK	 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED		 128

struct vblk;

/* Register QueueNotify as an ioeventfd and the gsi as an irqfd with KVM
 * (nothing when vm_fd < 0).  0 or -errno with @e set. */
int vmmio_notify_setup(struct vblk *d, struct verr *e);
void vmmio_notify_teardown(struct vblk *d);

/* Set InterruptStatus bit(s) @why and signal the interrupt line. */
void vmmio_raise_irq(struct vblk *d, uint32_t why);

#endif
