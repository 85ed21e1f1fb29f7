/*
 * remote_harness.h - running `vmm-worker --remote` from a test the way a
 * fleet host's sshd would: pipes for stdin, stdout and stderr, the job as
 * the first line of stdin, and the frames read back with the orchestrator's
 * own splitter and decoder (common/remote_proto.h).
 */
#ifndef VMORCH_TEST_REMOTE_HARNESS_H
#define VMORCH_TEST_REMOTE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/job.h"
#include "common/remote_proto.h"

struct remote_run {
	pid_t pid;
	int in_fd;		/* the worker's stdin (write end), -1 once closed */
	int out_fd;		/* its stdout (read end), -1 at EOF */
	int err_fd;		/* its stderr (read end) */
	int status;		/* waitpid status */
	struct remote_lines lines;
	char stderr_text[4096];
};

/* What a worker said, in order, once its stdout ended. */
struct remote_transcript {
	uint32_t hello_pid;
	int nsnap;
	struct remote_snapshot *snap;	/* nsnap of them, malloc'd */
	struct vm_result result;
};

/*
 * Start @exe --remote with @snapshot_ms as VMORCH_SNAPSHOT_MS (0: unset);
 * the test keeps stdin open until remote_close_stdin.  0 or -errno.
 */
int remote_start(struct remote_run *w, const char *exe, unsigned snapshot_ms);

/* The same with --store-lock @store_lock (NULL: none). */
int remote_start_locked(struct remote_run *w, const char *exe, unsigned snapshot_ms,
			const char *store_lock);

/* Write @n bytes to the worker's stdin (all of them); 0 or -errno. */
int remote_send(struct remote_run *w, const void *p, size_t n);

/* The job as one compact line with its '\n'. */
int remote_send_job(struct remote_run *w, const struct job_spec *job);

void remote_close_stdin(struct remote_run *w);

/*
 * The next frame, waiting at most @timeout_ms: 1 and @f filled, 0 at the
 * end of stdout (nothing cut off), or negative with @e set (-ETIMEDOUT, a
 * refused or truncated frame).
 */
int remote_next_frame(struct remote_run *w, struct remote_frame *f,
		      unsigned timeout_ms, struct verr *e);

/*
 * Read frames until stdout ends (at most @timeout_ms in all) and check
 * their order: the hello first, then snapshots, then exactly one result,
 * then nothing.  0 and @t filled, or negative with @e saying what was wrong.
 */
int remote_collect(struct remote_run *w, struct remote_transcript *t,
		   unsigned timeout_ms, struct verr *e);

/* Wait (at most @timeout_ms) for the worker to exit; 0, or -ETIMEDOUT (then killed). */
int remote_wait(struct remote_run *w, unsigned timeout_ms);

void remote_transcript_release(struct remote_transcript *t);
void remote_cleanup(struct remote_run *w);

#endif
