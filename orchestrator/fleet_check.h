/*
 * fleet_check.h - connect to every host of an inventory at once, over one
 * poll loop, and ask each what it is (orchestrator/host_probe.h): the
 * answer `vmorch hosts check` prints, and what a fleet run needs to know
 * before it gives a host jobs.
 */
#ifndef VMORCH_FLEET_CHECK_H
#define VMORCH_FLEET_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/verr.h"
#include "orchestrator/host_probe.h"
#include "orchestrator/inventory.h"

#define FLEET_TEXT_MAX	256

struct fleet_check {
	const struct inv_host *host;
	bool connected;				/* logged in */
	bool probed;				/* and the probe answered */
	char hostkey[FLEET_TEXT_MAX];		/* "ssh-ed25519 SHA256:..." */
	char hostkey_status[FLEET_TEXT_MAX];	/* "known (line 3)", "recorded", ... */
	char auth[FLEET_TEXT_MAX];		/* how it logged in */
	struct host_probe probe;
	char error[VERR_MAX];			/* why not connected or probed */
};

/* A host jobs can be sent to: logged in, probed, /dev/kvm usable. */
static inline bool fleet_check_usable(const struct fleet_check *c)
{
	return c->connected && c->probed && c->probe.kvm_usable;
}

struct fleet_check_opts {
	const char *worker_sha256;	/* the staged worker looked for */
	unsigned connect_timeout_ms;	/* 0: the transport's default */
	unsigned probe_timeout_ms;	/* 0: 20 s */
};

/*
 * Check every host of @inv; @out has inv->n entries, in inventory order.
 * A host that cannot be reached or probed is a result (its @error says
 * why), not a failure of this call: 0, or -errno with @e set when the
 * loop itself cannot run.
 */
int fleet_check_run(const struct inventory *inv, const struct fleet_check_opts *o,
		    struct fleet_check *out, struct verr *e);

#endif
