/*
 * vblk_counters.c - the run-time table of counter fields and the snapshot.
 */
#include <string.h>

#include "vblk_counters.h"

const struct vblk_field vblk_fields[VBLK_NR_COUNTERS] = {
#define VBLK_X_FIELD(n, u, d, k)                                 \
	{ .name = #n, .unit = u, .dir = d, .kind = k,            \
	  .atomic_off = offsetof(struct vblk_counters, n),       \
	  .plain_off = offsetof(struct vblk_snapshot, n) },
	VBLK_COUNTERS(VBLK_X_FIELD)
#undef VBLK_X_FIELD
};

int vblk_field_find(const char *name)
{
	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		if (strcmp(vblk_fields[i].name, name) == 0)
			return i;
	return -1;
}

void vblk_counters_init(struct vblk_counters *c)
{
#define VBLK_X_INIT(n, u, d, k) atomic_init(&c->n, 0);
	VBLK_COUNTERS(VBLK_X_INIT)
#undef VBLK_X_INIT
}

/* One relaxed load per field: the fields are independent counters. */
void vblk_counters_snapshot(const struct vblk_counters *c, struct vblk_snapshot *out)
{
#define VBLK_X_LOAD(n, u, d, k) \
	out->n = atomic_load_explicit(&c->n, memory_order_relaxed);
	VBLK_COUNTERS(VBLK_X_LOAD)
#undef VBLK_X_LOAD
}
