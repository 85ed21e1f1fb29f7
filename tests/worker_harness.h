/*
 * worker_harness.h - running the real vmm-worker binary from a test: fork +
 * exec with an inherited shm region, the way the orchestrator does it.
 */
#ifndef VMORCH_TEST_WORKER_HARNESS_H
#define VMORCH_TEST_WORKER_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/job.h"
#include "common/shm.h"
#include "common/vm_result.h"

struct worker_run {
	struct shm_map shm;
	pid_t pid;
	int status;		/* waitpid status */
	char stderr_text[4096];
	int stderr_fd;
};

/* Path of the built worker ($VMORCH_BUILDDIR/vmm-worker/vmm-worker). */
const char *harness_worker_path(void);

/* A builtin job with @ndisks sparse disks of @disk_mib MiB and @workload. */
void harness_job(struct job_spec *j, const char *workload, unsigned ndisks,
		 unsigned disk_mib);

/* Start the worker on @job; 0 or -errno. */
int harness_start(struct worker_run *w, const struct job_spec *job);

/*
 * The same, with the worker's real, effective and saved uid and gid set to
 * @uid (no supplementary groups) before the exec: a non-root worker.
 */
int harness_start_as(struct worker_run *w, const struct job_spec *job, uid_t uid);

/* Wait (at most @timeout_ms) for it to exit; 0, or -ETIMEDOUT (then killed). */
int harness_wait(struct worker_run *w, unsigned timeout_ms);

/* Start, wait, read the result from the shm slot; 0 or negative. */
int harness_run(const struct job_spec *job, struct vm_result *r, struct worker_run *w);

/*
 * The same with the region's console ring of @cap bytes, as vmorch sets
 * it: the whole console is then in w->shm (shm_read_console).
 */
int harness_run_console(const struct job_spec *job, uint32_t cap, struct vm_result *r,
			struct worker_run *w);

void harness_cleanup(struct worker_run *w);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t harness_now_ms(void);

/* The metric called @name, or -1. */
double harness_metric(const struct vm_result *r, const char *name);

#endif
