/*
 * vblk_counters.h - the one list of virtio-blk counters and every mirror of it.
 *
 * The worker's device threads bump the atomic block through the record_*
 * helpers; the orchestrator copies it into a plain snapshot.  Everything that
 * names a counter (JSON keys, SQL columns, expectations, report columns, diff
 * directions) is expanded from VBLK_COUNTERS below, so adding a counter is one
 * line here plus a schema migration.
 */
#ifndef VMORCH_VBLK_COUNTERS_H
#define VMORCH_VBLK_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Which way a change in a counter is good, for `vmorch diff`. */
enum vmorch_dir {
	VMORCH_DIR_NEUTRAL = 0,	/* only reported */
	VMORCH_DIR_HIGHER,	/* more is better */
	VMORCH_DIR_LOWER,	/* more is worse */
};

/* Which kind of value a counter holds (see DESIGN.md "One list of counters"). */
enum vblk_kind {
	VBLK_CUMULATIVE = 0,	/* only grows for the device's lifetime */
	VBLK_GAUGE,		/* live level, may fall */
};

/*
 * X(name, unit, direction, kind).  Field order follows the seed
 * (shared/seed/VirtioBlkCountersSnapshot.txt).
 */
#define VBLK_COUNTERS(X)                                                          \
	X(reads_completed,           "requests", VMORCH_DIR_NEUTRAL, VBLK_CUMULATIVE) \
	X(writes_completed,          "requests", VMORCH_DIR_NEUTRAL, VBLK_CUMULATIVE) \
	X(flushes_completed,         "requests", VMORCH_DIR_NEUTRAL, VBLK_CUMULATIVE) \
	X(bytes_read,                "bytes",    VMORCH_DIR_NEUTRAL, VBLK_CUMULATIVE) \
	X(bytes_written,             "bytes",    VMORCH_DIR_NEUTRAL, VBLK_CUMULATIVE) \
	X(throttled_count,           "events",   VMORCH_DIR_LOWER,   VBLK_CUMULATIVE) \
	X(io_errors,                 "events",   VMORCH_DIR_LOWER,   VBLK_CUMULATIVE) \
	X(currently_throttled_gauge, "requests", VMORCH_DIR_NEUTRAL, VBLK_GAUGE)      \
	X(invalid_avail_idx_count,   "events",   VMORCH_DIR_LOWER,   VBLK_CUMULATIVE)

#define VBLK_X_COUNT(name, unit, dir, kind) +1
enum { VBLK_NR_COUNTERS = 0 VBLK_COUNTERS(VBLK_X_COUNT) };
#undef VBLK_X_COUNT

/* Live counters: written by a device thread, read by anyone, lock-free. */
struct vblk_counters {
#define VBLK_X_ATOMIC(name, unit, dir, kind) _Atomic uint64_t name;
	VBLK_COUNTERS(VBLK_X_ATOMIC)
#undef VBLK_X_ATOMIC
};

/* Plain copy of one disk's counters, taken at one moment. */
struct vblk_snapshot {
#define VBLK_X_PLAIN(name, unit, dir, kind) uint64_t name;
	VBLK_COUNTERS(VBLK_X_PLAIN)
#undef VBLK_X_PLAIN
};

/* One row of the counter table, for code that walks the list at run time. */
struct vblk_field {
	const char *name;
	const char *unit;
	enum vmorch_dir dir;
	enum vblk_kind kind;
	size_t atomic_off;	/* offset in struct vblk_counters */
	size_t plain_off;	/* offset in struct vblk_snapshot */
};

extern const struct vblk_field vblk_fields[VBLK_NR_COUNTERS];

/* Index of the field called @name, or -1. */
int vblk_field_find(const char *name);

static inline uint64_t vblk_snapshot_get(const struct vblk_snapshot *s, int i)
{
	return *(const uint64_t *)((const char *)s + vblk_fields[i].plain_off);
}

static inline _Atomic uint64_t *vblk_counters_at(struct vblk_counters *c, int i)
{
	return (_Atomic uint64_t *)((char *)c + vblk_fields[i].atomic_off);
}

/*
 * Mutators.  Relaxed ordering is enough: each counter is independent, and the
 * reader only needs eventually consistent values while the VM runs; the final
 * snapshot is ordered by the worker's exit (or the result flag's release).
 */
#define VBLK_ADD(c, field, n) \
	atomic_fetch_add_explicit(&(c)->field, (uint64_t)(n), memory_order_relaxed)

/* A read request completed and moved @bytes; both fields move together. */
static inline void record_read(struct vblk_counters *c, uint64_t bytes)
{
	VBLK_ADD(c, reads_completed, 1);
	VBLK_ADD(c, bytes_read, bytes);
}

static inline void record_write(struct vblk_counters *c, uint64_t bytes)
{
	VBLK_ADD(c, writes_completed, 1);
	VBLK_ADD(c, bytes_written, bytes);
}

static inline void record_flush(struct vblk_counters *c)
{
	VBLK_ADD(c, flushes_completed, 1);
}

static inline void record_io_error(struct vblk_counters *c)
{
	VBLK_ADD(c, io_errors, 1);
}

static inline void record_throttled_event(struct vblk_counters *c)
{
	VBLK_ADD(c, throttled_count, 1);
}

static inline void record_invalid_avail_idx(struct vblk_counters *c)
{
	VBLK_ADD(c, invalid_avail_idx_count, 1);
}

static inline void record_throttled_gauge_inc(struct vblk_counters *c)
{
	VBLK_ADD(c, currently_throttled_gauge, 1);
}

/* Decrement the gauge, but never below zero (a stray dec must not wrap). */
static inline void record_throttled_gauge_dec(struct vblk_counters *c)
{
	uint64_t v = atomic_load_explicit(&c->currently_throttled_gauge,
					  memory_order_relaxed);

	while (v > 0 &&
	       !atomic_compare_exchange_weak_explicit(&c->currently_throttled_gauge,
						      &v, v - 1,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

#undef VBLK_ADD

void vblk_counters_init(struct vblk_counters *c);
void vblk_counters_snapshot(const struct vblk_counters *c, struct vblk_snapshot *out);

#endif
