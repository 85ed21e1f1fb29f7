/*
 * fleet_check.h - every host of an inventory asked at once what it is
 * (orchestrator/host_probe.h), over fleet_each.h: the answer `vmorch hosts
 * check` prints, and what a fleet run needs to know before it gives a host
 * jobs.
 */
#ifndef VMORCH_FLEET_CHECK_H
#define VMORCH_FLEET_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/verr.h"
#include "orchestrator/fleet_each.h"
#include "orchestrator/host_probe.h"
#include "orchestrator/inventory.h"

struct fleet_check {
	struct fleet_each_result run;		/* login, and whether the probe answered */
	struct host_probe probe;
};

/* A host jobs can be sent to: logged in, probed, /dev/kvm usable. */
static inline bool fleet_check_usable(const struct fleet_check *c)
{
	return c->run.connected && c->run.answered && c->probe.kvm_usable;
}

struct fleet_check_opts {
	const char *worker_sha256;	/* the staged worker looked for */
	unsigned connect_timeout_ms;	/* 0: the transport's default */
	unsigned probe_timeout_ms;	/* 0: 20 s */
};

/*
 * Check every host of @inv; @out has inv->n entries, in inventory order.
 * A host that cannot be reached or probed is a result (its run.error says
 * why), not a failure of this call: 0, or -errno with @e set when the
 * loop itself cannot run.
 */
int fleet_check_run(const struct inventory *inv, const struct fleet_check_opts *o,
		    struct fleet_check *out, struct verr *e);

#endif
