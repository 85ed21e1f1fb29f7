/*
 * fleet_gc.h - every host's store trimmed at once (orchestrator/store_gc.h)
 * over fleet_each.h: what `vmorch hosts gc` prints.
 */
#ifndef VMORCH_FLEET_GC_H
#define VMORCH_FLEET_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/verr.h"
#include "orchestrator/fleet_each.h"
#include "orchestrator/inventory.h"
#include "orchestrator/store_gc.h"

struct fleet_gc {
	struct fleet_each_result run;	/* login, and whether the script answered */
	struct store_gc gc;
};

/* The host's store was collected: logged in, answered, not busy, no error. */
static inline bool fleet_gc_collected(const struct fleet_gc *g)
{
	return g->run.connected && g->run.answered && !g->gc.busy && !g->gc.error[0] &&
	       !store_gc_count(&g->gc, STORE_GC_FAILED);
}

struct fleet_gc_opts {
	const char *worker_sha256;	/* this vmorch's worker: kept */
	uint64_t max_bytes;
	uint64_t min_age_s;
	bool dry_run;
	unsigned connect_timeout_ms;	/* 0: the transport's default */
};

/*
 * Trim the store of every host of @inv; @out has inv->n entries, in
 * inventory order (release each with fleet_gc_release).  A host that
 * cannot be reached is a result, as in fleet_each_run: 0, or -errno with
 * @e set when the loop itself cannot run.
 */
int fleet_gc_run(const struct inventory *inv, const struct fleet_gc_opts *o,
		 struct fleet_gc *out, struct verr *e);

void fleet_gc_release(struct fleet_gc *g);

#endif
