/*
 * store_lock.h - a fleet host's store lock (<workdir>/lock) as a remote job
 * holds it: shared, from before the job touches anything (/dev/kvm, disks,
 * the sandbox) until the worker exits, so that `vmorch hosts gc`, which
 * takes it exclusively and never waits, deletes nothing a running job uses.
 */
#ifndef VMORCH_WORKER_STORE_LOCK_H
#define VMORCH_WORKER_STORE_LOCK_H

#include "common/verr.h"

/*
 * How long a job waits for a gc to let go.  A gc holds the lock for the
 * time it takes to list and delete files, well under a second; 8 s stays
 * below the orchestrator's 10 s stall limit (a waiting worker sends no
 * heartbeat), so the job ends with this lock's message, not a stall.
 */
#define STORE_LOCK_WAIT_MS	8000
#define STORE_LOCK_RETRY_MS	50

/*
 * Open @path (created 0644 when missing, close-on-exec) and take a shared
 * flock(2) on it, trying again every STORE_LOCK_RETRY_MS while another
 * holds it exclusively, for at most @wait_ms.  Between two tries
 * @pause(@ctx, ms) waits (NULL: a plain sleep); its -errno, with @e set,
 * ends the wait.  0 with the descriptor in *@fd (the
 * lock lasts as long as it is open), or -errno with @e naming @path:
 * -ETIMEDOUT when the lock stayed taken.
 */
int store_lock_take(const char *path, unsigned wait_ms,
		    int (*pause)(void *ctx, unsigned ms, struct verr *e), void *ctx,
		    int *fd, struct verr *e);

#endif
