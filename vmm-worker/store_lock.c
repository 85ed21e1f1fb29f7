/*
 * store_lock.c - taking a fleet host's store lock for a remote job (see
 * store_lock.h).  LOCK_NB tries with pauses rather than a blocking flock:
 * the wait is bounded, and the pause lets the job's channel end it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "vmm-worker/store_lock.h"


static int store_lock_sleep(void *ctx, unsigned ms, struct verr *e)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	(void)ctx;
	(void)e;
	nanosleep(&ts, NULL);
	return 0;
}

int store_lock_take(const char *path, unsigned wait_ms,
		    int (*pause)(void *ctx, unsigned ms, struct verr *e), void *ctx,
		    int *fd, struct verr *e)
{
	uint64_t end = clock_ms() + wait_ms;
	int lfd, rc;

	*fd = -1;
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (lfd < 0)
		return verr_errno(e, "store lock %s", path);
	for (;;) {
		if (flock(lfd, LOCK_SH | LOCK_NB) == 0) {
			*fd = lfd;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rc = verr_errno(e, "store lock %s", path);
			goto fail;
		}
		if (clock_ms() >= end) {
			verr_set(e, "store lock %s: still held exclusively after %u ms (by"
				 " `vmorch hosts gc`, which holds it only briefly: is one"
				 " stuck?); the job did not start", path, wait_ms);
			rc = -ETIMEDOUT;
			goto fail;
		}
		rc = (pause ? pause : store_lock_sleep)(ctx, STORE_LOCK_RETRY_MS, e);
		if (rc) {
			verr_prefix(e, "store lock %s: while waiting for it", path);
			goto fail;
		}
	}
fail:
	close(lfd);
	return rc;
}
