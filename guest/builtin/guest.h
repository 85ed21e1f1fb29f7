/*
 * guest.h - the built-in guest's own interfaces: workload configuration,
 * disks, virtqueues and the result figures, shared by its subsystems.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "lib.h"
#include "ring.h"
#include "virtio.h"
#include "../pattern.h"

#define MAX_DISKS	VIRTIO_MMIO_MAX_WINDOWS
#define QUEUE_MAX	256
#define SECTOR_SIZE	512
#define WAIT_MS		10000		/* any device wait */
#define HOSTILE_WAIT_MS	2000		/* reaction to a hostile request */


enum hostile {
	HOSTILE_NONE, HOSTILE_INVALID_AVAIL_IDX, HOSTILE_DESC_LOOP,
	HOSTILE_OOB_ADDR, HOSTILE_BAD_TYPE, HOSTILE_SHORT_HEADER,
	HOSTILE_NO_STATUS, HOSTILE_RO_WRITE, HOSTILE_ZERO_LEN, HOSTILE_BAD_INSN,
};

struct mmio_hint {
	uint64_t addr;
	uint32_t irq;
};

/* cmdline.c: the workload, from key=value words. */
struct guest_cfg {
	enum pattern pattern;
	uint32_t bs;
	uint64_t ops;
	uint32_t qd;
	uint32_t rwmix;
	uint64_t flush_every;
	uint64_t seed;
	uint64_t span;			/* 0 = whole disk */
	bool verify;
	bool verify_pause;
	bool irq;
	bool event_idx;
	bool indirect;
	enum hostile hostile;
	uint64_t flood;			/* console bytes to print first */
	unsigned nhints;
	struct mmio_hint hints[MAX_DISKS];
};

int cfg_parse(struct guest_cfg *cfg, const char *cmdline);
const char *hostile_name(enum hostile h);

/* main.c: the reason a run failed (the first one wins) and the end of
 * the run: result line, then the debug-exit port. */
int fail(const char *f, ...) __attribute__((format(printf, 1, 2)));
void guest_finish(int rc) __attribute__((noreturn));
extern bool guest_in_ring0;		/* set by the exception handler */

/* mem.c: a bump allocator over the RAM above the image. */
void mem_init(uint64_t start, uint64_t end, uint64_t ram_top);
void *mem_alloc(uint64_t size, uint64_t align);
uint64_t mem_free_bytes(void);
uint64_t mem_ram_end(void);		/* highest RAM address + 1 */

/* serial.c */
#define SERIAL_FLOOD_LINE	30	/* "vmorch-flood " 16 hex digits "\n" */
void serial_write(const char *s);
void serial_flood(uint64_t bytes);
void serial_printf(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* virtqueue.c: one split virtqueue, driver side (virtio 1.2 §2.7). */
struct vq_seg {
	uint64_t addr;
	uint32_t len;
	bool device_writes;
};

struct vq {
	unsigned num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;		/* next avail index we publish */
	uint16_t kicked_idx;		/* avail_idx at the last notification */
	uint16_t last_used;
	bool event_idx;
	bool want_irq;
	uint16_t chain_len[QUEUE_MAX];
};

void vq_init(struct vq *vq, unsigned num, void *ring_mem, bool event_idx,
	     bool want_irq);
int vq_add(struct vq *vq, const struct vq_seg *seg, unsigned n,
	   struct vring_desc *indirect);
void vq_publish(struct vq *vq, uint16_t head);
bool vq_notify_needed(struct vq *vq);
bool vq_has_used(struct vq *vq);
int vq_pop_used(struct vq *vq, uint32_t *len);
void vq_rearm(struct vq *vq);

/* virtio_mmio.c + blk.c: one virtio-blk disk. */
struct disk {
	unsigned index;
	uintptr_t base;
	uint32_t irq;
	uint8_t vector;
	uint64_t offered;		/* device features */
	uint64_t features;		/* negotiated */
	uint64_t capacity;		/* sectors */
	unsigned qsize;
	bool irq_mode;
	bool indirect;
	struct vq vq;
	void *ring_mem;
	uint32_t irqs_seen;		/* irq_count[index] at the last wake */
	uint16_t head_slot[QUEUE_MAX];
};

bool vmmio_is_blk(uintptr_t base, uint32_t *version);
int vmmio_reset(struct disk *d);
int vmmio_init(struct disk *d, uint64_t wanted);
void vmmio_notify(struct disk *d);
uint32_t vmmio_irq_ack(struct disk *d);
void vmmio_irq_ack_all(struct disk *d);
uint64_t vmmio_config_read64(struct disk *d, uint32_t off);

int blk_open(struct disk *d, const struct guest_cfg *cfg);
int blk_submit(struct disk *d, unsigned slot, uint32_t type, uint64_t sector,
	       void *buf, uint32_t len);
void blk_kick(struct disk *d);
int blk_wait(struct disk *d, struct deadline *dl);
int blk_reap(struct disk *d, unsigned *slot, uint8_t *status, uint32_t *len);
uint8_t *blk_status_byte(unsigned slot);
struct virtio_blk_hdr *blk_header(unsigned slot);

/* The figures of the result line; the device counts the same things. */
struct run_stats {
	uint64_t ops;
	uint64_t reads, writes, flushes;
	uint64_t bytes_read, bytes_written;
	uint64_t verify_errors;
	uint64_t cycles;
};

/* workload.c, hostile.c (the verify pattern and offsets are in ../pattern.h) */
int workload_run_disk(struct disk *d, const struct guest_cfg *cfg,
		      struct run_stats *st);
int hostile_run(struct disk *d, const struct guest_cfg *cfg,
		struct run_stats *st);
void hostile_bad_insn(void);

/* irq.c; irq_count (entry.S) counts each disk's interrupts, bumped by
 * its ring-0 stub. */
extern volatile uint32_t irq_count[MAX_DISKS];
void irq_init(void);
void irq_start_controllers(void);
void irq_route_disk(struct disk *d);

/* The ring-0 service (entry.S), from ring 3: SVC_WAIT sleeps until the
 * next interrupt unless *p != v already; SVC_BAD_INSN runs int3 at CPL 0
 * with an empty IDT; SVC_HALT stops for good. */
void ring0_call(uint32_t fn, const volatile uint32_t *p, uint32_t v);

static inline void svc_wait(const volatile uint32_t *p, uint32_t v)
{
	ring0_call(SVC_WAIT, p, v);
}

static inline void svc_call(uint32_t fn)
{
	ring0_call(fn, NULL, 0);
}

#endif
