/*
 * fuzz_vblk.c - libFuzzer target for the virtio-blk request path.  Each
 * input is a few transport register accesses plus a guest RAM image holding
 * the descriptor table, the rings and the buffers; the device then serves
 * the queue synchronously (no thread, no KVM).  Build: make fuzz.
 *
 * Input layout (little-endian, missing bytes read as zero):
 *   u8  queue size log2 (mod 9)      u8  flags: 1 EVENT_IDX, 2 INDIRECT_DESC,
 *                                            4 read-only disk, 8 second pass,
 *                                            16 template mode
 *   u16 desc gpa   u16 avail gpa   u16 used gpa
 *   u8  n register ops (mod 5), each: u16 offset, u8 width, u32 value, u8 is_write
 *   the rest: guest RAM from gpa 0 (FUZZ_MEM bytes), or in template mode a
 *   list of (u16 gpa, u8 value) patches over valid IN/OUT/FLUSH/GET_ID
 *   requests the harness lays out itself, so mutations start from requests
 *   that succeed (random bytes alone almost never form one).
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm-worker/vblk_internal.h"
#include "vmm-worker/virtio_mmio.h"

#define FUZZ_MEM  (64u << 10)
#define FUZZ_DISK (64u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;
static struct vblk_counters counters;
static struct job_disk disks[2];
static struct vblk *dev[2];	/* read-write, read-only */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct cursor *c, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (c->left) {
			v |= (uint64_t)*c->p << (8 * i);
			c->p++;
			c->left--;
		}
	}
	return v;
}

/* FUZZ_VBLK_STATS=1: show which request outcomes the corpus reaches. */
static void fuzz_print_stats(void)
{
	struct vblk_snapshot s;

	vblk_counters_snapshot(&counters, &s);
	fprintf(stderr, "fuzz_vblk: reads %llu writes %llu flushes %llu "
		"io_errors %llu invalid_avail_idx %llu\n",
		(unsigned long long)s.reads_completed,
		(unsigned long long)s.writes_completed,
		(unsigned long long)s.flushes_completed,
		(unsigned long long)s.io_errors,
		(unsigned long long)s.invalid_avail_idx_count);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vblk_config cfg = { .counters = &counters, .mem = &mem, .vm_fd = -1 };
	struct verr e;

	/* fdatasync on tmpfs costs nothing: FLUSH stays fast. */
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	if (getenv("FUZZ_VBLK_STATS"))
		atexit(fuzz_print_stats);
	mem.host = aligned_alloc(4096, FUZZ_MEM);
	mem.size = FUZZ_MEM;
	for (int i = 0; i < 2; i++) {
		disks[i].size = FUZZ_DISK;
		disks[i].read_only = i == 1;
		strcpy(disks[i].serial, "fuzz-serial-01234567");
		cfg.disk = &disks[i];
		if (vblk_create_sync(&cfg, &dev[i], &e))
			abort();
	}
	return 0;
}

static void w32(struct vblk *d, uint64_t off, uint32_t v)
{
	v = htole32(v);
	vblk_mmio_access(d, off, (uint8_t *)&v, 4, true);
}

/* What a driver does before its first kick (virtio 1.2 §3.1.1, §4.2.3.2). */
static void driver_init(struct vblk *d, unsigned int qlog, unsigned int flags,
			uint64_t desc, uint64_t avail, uint64_t used)
{
	uint64_t feat = 1ULL << VIRTIO_F_VERSION_1;

	if (flags & 1)
		feat |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (flags & 2)
		feat |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	w32(d, VIRTIO_MMIO_STATUS, 0);
	w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK);
	w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(d, VIRTIO_MMIO_QUEUE_NUM, 1u << qlog);
	w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	w32(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	w32(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

#define TPL_DESC  0x1000
#define TPL_AVAIL 0x2000
#define TPL_USED  0x3000
#define TPL_HDR	  0x4000
#define TPL_STAT  0x5000
#define TPL_DATA  0x8000

static void put(uint64_t gpa, const void *v, size_t n)
{
	memcpy(mem.host + gpa, v, n);
}

static void tpl_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	put(TPL_DESC + 16ULL * i, &a, 8);
	put(TPL_DESC + 16ULL * i + 8, &l, 4);
	put(TPL_DESC + 16ULL * i + 12, &f, 2);
	put(TPL_DESC + 16ULL * i + 14, &n, 2);
}

/* Up to four well-formed requests, three descriptors each. */
static void tpl_build(unsigned int num)
{
	static const uint32_t types[4] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
					   VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID };
	unsigned int n = num / 3 < 4 ? num / 3 : 4, i;
	uint16_t idx = htole16((uint16_t)n);

	memset(mem.host, 0, FUZZ_MEM);
	for (i = 0; i < n; i++) {
		uint16_t d0 = (uint16_t)(3 * i), head = htole16(d0);
		uint32_t type = htole32(types[i]);
		uint64_t sector = htole64(8 * i);
		bool out = types[i] == VIRTIO_BLK_T_OUT;

		put(TPL_HDR + 16ULL * i, &type, 4);
		put(TPL_HDR + 16ULL * i + 8, &sector, 8);
		tpl_desc(d0, TPL_HDR + 16ULL * i, 16, VIRTQ_DESC_F_NEXT, d0 + 1);
		tpl_desc(d0 + 1, TPL_DATA + 0x1000ULL * i, 4096,
			 VIRTQ_DESC_F_NEXT | (out ? 0 : VIRTQ_DESC_F_WRITE), d0 + 2);
		tpl_desc(d0 + 2, TPL_STAT + i, 1, VIRTQ_DESC_F_WRITE, 0);
		put(TPL_AVAIL + 4 + 2ULL * i, &head, 2);
	}
	put(TPL_AVAIL + 2, &idx, 2);
}

static void tpl_patch(struct cursor *c)
{
	while (c->left >= 3) {
		uint64_t gpa = take(c, 2) % FUZZ_MEM;

		mem.host[gpa] = (uint8_t)take(c, 1);
	}
}

static void register_ops(struct vblk *d, struct cursor *c)
{
	unsigned int n = (unsigned int)take(c, 1) % 5;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = take(c, 2) % (VIRTIO_MMIO_SIZE + 8);
		uint32_t width = 1u << (take(c, 1) % 4);
		uint64_t v = htole64(take(c, 4));
		bool wr = take(c, 1) & 1;

		vblk_mmio_access(d, off, (uint8_t *)&v, width, wr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	unsigned int qlog = (unsigned int)take(&c, 1) % 9;
	unsigned int flags = (unsigned int)take(&c, 1);
	uint64_t desc = take(&c, 2), avail = take(&c, 2), used = take(&c, 2);
	struct vblk *d = dev[(flags >> 2) & 1];
	bool tpl = flags & 16;
	uint64_t drain;

	if (tpl) {
		desc = TPL_DESC;
		avail = TPL_AVAIL;
		used = TPL_USED;
	}
	driver_init(d, qlog, flags, desc, avail, used);
	register_ops(d, &c);
	/* RAM is filled after QueueReady: the guest owns it, not us. */
	if (tpl) {
		tpl_build(1u << qlog);
		tpl_patch(&c);
	} else {
		memset(mem.host, 0, FUZZ_MEM);
		memcpy(mem.host, c.p, c.left < FUZZ_MEM ? c.left : FUZZ_MEM);
	}
	vblk_process_queue(d);
	if (flags & 8)
		vblk_process_queue(d);
	/* Nobody consumes these eventfds here; empty them between inputs. */
	if (read(vblk_irq_fd(d), &drain, sizeof(drain)) < 0 ||
	    read(d->kick_fd, &drain, sizeof(drain)) < 0) {
		/* nothing pending */
	}
	return 0;
}
