/*
 * virtio_blk.h - virtio-blk protocol constants (virtio 1.2 §5.2): feature
 * bits, request types and status codes, config space layout.  Shared by the
 * device (virtio_blk.c), its tests and the fuzzer.
 */
#ifndef VMORCH_VIRTIO_BLK_H
#define VMORCH_VIRTIO_BLK_H

#include <stdint.h>

#define VIRTIO_ID_BLOCK 2

/* §5.2.3 feature bits, plus the transport-independent ones of §6 */
#define VIRTIO_BLK_F_SIZE_MAX	     1
#define VIRTIO_BLK_F_SEG_MAX	     2
#define VIRTIO_BLK_F_RO		     5
#define VIRTIO_BLK_F_BLK_SIZE	     6
#define VIRTIO_BLK_F_FLUSH	     9
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32

/* §5.2.6 request header types */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_HDR_SIZE	16	/* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_ID_BYTES	20

/* §5.2.4 config space offsets (little-endian fields) */
#define VBLK_CFG_CAPACITY	0	/* le64, in 512-byte sectors */
#define VBLK_CFG_SIZE_MAX	8	/* le32 */
#define VBLK_CFG_SEG_MAX	12	/* le32 */
#define VBLK_CFG_BLK_SIZE	20	/* le32 */
#define VBLK_CFG_MIN_IO_SIZE	26	/* le16, in blk_size units */
#define VBLK_CFG_NUM_QUEUES	34	/* le16 */
#define VBLK_CONFIG_SIZE	64

/* What we advertise in size_max: one segment may be up to 1 MiB. */
#define VBLK_SIZE_MAX (1U << 20)

#endif
