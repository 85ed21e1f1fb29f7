/*
 * pool.h - running jobs: one vmm-worker process per job (fork + exec, its
 * shm region passed as an inherited fd), at most N at once, supervised for
 * timeouts, crashes and stalled heartbeats.  The caller gets the results
 * that finished in one tick together, to store them in one transaction.
 */
#ifndef VMORCH_POOL_H
#define VMORCH_POOL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/console_ring.h"
#include "common/shm.h"
#include "common/verr.h"
#include "common/vm_result.h"
#include "orchestrator/jobdesc.h"

/* The --jobs limit, and so the most results one done() call carries. */
#define POOL_MAX_JOBS	64
/* Local and fleet slots together: jobs running at once. */
#define POOL_MAX_SLOTS	1024

/*
 * Descriptors vmorch holds for each running worker (its shm region and the
 * read end of its stderr pipe), and the most a start holds besides for a
 * moment (two pipes).
 */
#define POOL_FDS_PER_JOB	2
#define POOL_FDS_STARTING	4

/* --retries at most: a job is tried on at most this many hosts plus one. */
#define POOL_MAX_RETRIES	10
#define POOL_MAX_TRIES		(POOL_MAX_RETRIES + 1)

struct fleet_run;

struct pool_opts {
	unsigned max_jobs;		/* local workers at once, 0..POOL_MAX_JOBS
					   (0 only with a fleet) */
	const char *worker_path;	/* vmm-worker executable */
	double timeout_scale;		/* multiplies each job's timeout */
	unsigned grace_ms;		/* SIGTERM -> SIGKILL, and slack after a timeout */
	unsigned stall_ms;		/* heartbeat older than this: stalled */
	/* Fleet hosts that came up (fleet_run_bring_up), or NULL. */
	struct fleet_run *fleet;
	unsigned retries;		/* a job whose host is lost: tries again */
	/* A local job's console kept whole up to this many bytes, its tail past
	   them (at most VMORCH_CONSOLE_MAX); 0: only the VmResult's tail. */
	uint32_t console_max;
};

/* One try at a job on a fleet host. */
struct pool_attempt {
	const char *host;
	int64_t started_us, ended_us;	/* CLOCK_REALTIME */
	bool host_lost;			/* else: this try gave the result */
	char reason[256];
};

/* Live totals for a progress display. */
struct pool_progress {
	size_t total, started, done, failed, running;
	uint64_t ops;			/* reads + writes + flushes, all disks, all jobs */
	uint64_t bytes;			/* bytes read + written */
	uint64_t elapsed_ms;
};

/* A finished job (any verdict) and its complete result. */
struct pool_done {
	const struct job_desc *job;
	const struct vm_result *r;
	/* A local job's whole console (its last console_max bytes), or NULL:
	   fleet jobs have only the VmResult's tail. */
	const struct console_text *console;
	const char *host;		/* the fleet host's name; NULL: local */
	const struct pool_attempt *attempts;	/* fleet jobs: every try */
	size_t nattempts;
};

struct pool_ops {
	/*
	 * The @n >= 1 jobs that finished since the last call (at most
	 * max_jobs), in slot order; valid only during the call.  Non-zero
	 * stops the pool.
	 */
	int (*done)(void *ctx, const struct pool_done *d, size_t n);
	/* Called about 10 times a second and after each batch of finished jobs. */
	void (*progress)(void *ctx, const struct pool_progress *p);
};

/*
 * Run @jobs.  Returns 0 when every job ran to a result, 1 when
 * *@interrupted became non-zero (workers were stopped, their results not
 * reported), negative with @e set on an infrastructure failure.  A worker
 * that cannot start for want of descriptors or processes waits for a
 * running one to end; when one cannot start for another reason no more
 * start, and those running finish and are reported before the error is
 * returned.
 *
 * Each worker runs with /dev/null as stdout, its job on stdin, a pipe as
 * stderr, its shm region as fd 3 and no other descriptor, and is told
 * vmorch's pid (--parent-pid) so that it dies with vmorch.  A worker that
 * stays silent (no heartbeat) for stall_ms is killed as stalled unless its
 * main thread was waiting for a CPU (starved by the host, not stuck).
 */
int pool_run(const struct pool_opts *o, const struct job_desc *jobs, size_t njobs,
	     const struct pool_ops *ops, void *ctx,
	     volatile sig_atomic_t *interrupted, struct verr *e);

/* Find the vmm-worker next to @argv0's executable, in the build tree, or $PATH. */
const char *pool_find_worker(char *buf, size_t cap);
/*
 * The same for vmm-worker-static, the worker staged on fleet hosts
 * ($VMORCH_STATIC_WORKER overrides).
 */
const char *pool_find_static_worker(char *buf, size_t cap);

#endif
