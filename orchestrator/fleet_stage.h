/*
 * fleet_stage.h - put a file on a fleet host under its sha256, as the
 * host's store names it: the worker at <workdir>/bin/<sha256>/vmm-worker,
 * any other artifact at <workdir>/cas/<sha256>.  The bytes go through one
 * exec channel into a temporary name beside the destination; the host
 * checks their sha256 and only then renames, so a reader never sees a
 * partial or wrong file, and a failure leaves nothing behind.
 */
#ifndef VMORCH_FLEET_STAGE_H
#define VMORCH_FLEET_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "orchestrator/ssh.h"

enum fleet_stage_kind {
	FLEET_STAGE_WORKER,	/* bin/<sha256>/vmm-worker, mode 0755 */
	FLEET_STAGE_CAS,	/* cas/<sha256>, mode 0644 */
};

/*
 * A workdir and sha256 the host's store takes: an absolute path of
 * letters, digits and . _ + - / (the inventory's rule, so it needs no
 * quoting in sh), and 64 lowercase hex digits.  0, or -EINVAL with @e set.
 */
int fleet_stage_check(const char *workdir, const char *sha256, struct verr *e);

/* The host's path of a staged file (malloc'd), or NULL with @e set. */
char *fleet_stage_path(const char *workdir, const char *sha256,
		       enum fleet_stage_kind kind, struct verr *e);

/* The sh command that receives @size bytes on stdin (malloc'd), or NULL. */
char *fleet_stage_command(const char *workdir, const char *sha256, uint64_t size,
			  enum fleet_stage_kind kind, struct verr *e);

/*
 * Send @len bytes (whose sha256 is @sha256) to host @c and wait, at most
 * @timeout_ms, for the host to say it stored them.  0, or -errno with @e
 * naming the host and the reason (a sha256 mismatch, no space, no right
 * to write the workdir, the host lost).
 */
int fleet_stage(struct ssh_loop *l, struct ssh_conn *c, const char *workdir,
		const void *data, size_t len, const char *sha256,
		enum fleet_stage_kind kind, unsigned timeout_ms, struct verr *e);

/*
 * The same in two steps, so that many stages run at once (ssh_run_all):
 * @q made ready to send @len bytes at @data to @c, then its outcome
 * judged (and its command and output freed).  Each 0 or -errno with @e.
 */
int fleet_stage_prepare(struct ssh_run_req *q, struct ssh_conn *c, const char *workdir,
			const void *data, size_t len, const char *sha256,
			enum fleet_stage_kind kind, struct verr *e);
int fleet_stage_finish(struct ssh_run_req *q, const char *sha256, struct verr *e);

#endif
