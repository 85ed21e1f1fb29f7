/*
 * fleet_each.h - one short command run on every host of an inventory at
 * once: a connection per host, all on one poll loop, and once logged in
 * one exec channel whose whole output goes to the caller's reader.  The
 * host probe of `vmorch hosts check` (fleet_check.h) and the store's
 * collection of `vmorch hosts gc` (fleet_gc.h) run this way.
 */
#ifndef VMORCH_FLEET_EACH_H
#define VMORCH_FLEET_EACH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/verr.h"
#include "orchestrator/inventory.h"

#define FLEET_TEXT_MAX	256

/* What logging in to one host and running the command there gave. */
struct fleet_each_result {
	const struct inv_host *host;
	bool connected;				/* logged in */
	bool answered;				/* and the reader took the answer */
	char hostkey[FLEET_TEXT_MAX];		/* "ssh-ed25519 SHA256:..." */
	char hostkey_status[FLEET_TEXT_MAX];	/* "known (line 3)", "recorded", ... */
	char auth[FLEET_TEXT_MAX];		/* how it logged in */
	char error[VERR_MAX];			/* why not connected or answered */
	/* From the start of the run (staggered connects included): */
	unsigned login_ms;			/* logged in: TCP, key exchange, auth */
	unsigned answer_ms;			/* its command's whole answer in */
};

struct fleet_each_ops {
	const char *what;		/* the command, in messages: "host probe" */
	size_t answer_max;		/* stdout kept, at most (more is an error) */
	unsigned answer_timeout_ms;	/* after the connect timeout, for the answer */
	/* The command for host @i (malloc'd), or NULL with @e set. */
	char *(*command)(void *ctx, size_t i, struct verr *e);
	/* Host @i's whole stdout: 0 when it is an answer, or -errno with @e set. */
	int (*answer)(void *ctx, size_t i, const char *out, size_t len, struct verr *e);
	/* Where host @i's result goes (cleared first). */
	struct fleet_each_result *(*result)(void *ctx, size_t i);
};

/*
 * Run @ops' command on every host of @inv, each host's outcome in its
 * ops->result.  A host that cannot be reached or does not answer is a
 * result (its @error says why), not a failure of this call: 0, or -errno
 * with @e set when the loop itself cannot run.  @connect_timeout_ms 0
 * keeps the transport's default.
 */
int fleet_each_run(const struct inventory *inv, unsigned connect_timeout_ms,
		   const struct fleet_each_ops *ops, void *ctx, struct verr *e);

#endif
