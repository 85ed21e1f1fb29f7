/*
 * fleet_run.h - the fleet hosts of one `vmorch run --hosts`: the inventory,
 * one SSH loop, and per host its connections, what its probe said and
 * whether it takes jobs.  Bring-up logs in to every host at once, probes
 * each, and stages this vmorch's static worker where it is missing; the
 * pool (pool.c) then runs jobs on the hosts that came up, one exec channel
 * each, and hears of their channels and of lost hosts through the events
 * it sets here.
 */
#ifndef VMORCH_FLEET_RUN_H
#define VMORCH_FLEET_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/verr.h"
#include "orchestrator/fleet_files.h"
#include "orchestrator/host_probe.h"
#include "orchestrator/inventory.h"
#include "orchestrator/jobdesc.h"
#include "orchestrator/ssh.h"

struct fleet_host {
	const struct inv_host *ih;
	struct ssh_host *sh;
	bool up;			/* takes jobs */
	bool lost;			/* was up, lost during the run */
	struct host_probe probe;
	unsigned running;		/* its jobs now */
	char why[VERR_MAX];		/* why it is not up */
	/* A lost host is probed again after 2, 4, 8 s (FLEET_REVIVE_MAX tries). */
	unsigned revivals;
	uint64_t revive_at_ms;
	bool reviving;			/* its probe runs */
	bool restage;			/* it answered without the worker: stage again */
	/* Its store: which of the run's files (fleet_run.files) it holds. */
	bool *staged;
	unsigned nstaged;		/* sent by this run, and their bytes */
	uint64_t staged_bytes, stage_ms;
	char stage_err[VERR_MAX];	/* the first file it could not take */
};

#define FLEET_REVIVE_MAX	3
#define FLEET_REVIVE_BASE_MS	2000

struct fleet_run {
	struct inventory inv;
	struct ssh_loop *loop;
	struct fleet_host *h;
	size_t n;
	char *worker_path;		/* vmm-worker-static, as given */
	char worker_sha[65];
	/* The run's jobs and the files of this machine they name. */
	const struct job_desc *jobs;
	size_t njobs;
	struct fleet_files files;
	/* Channel and host events during the run (the pool's). */
	struct ssh_loop_ops ev;
	void *ev_ctx;
	bool running;			/* bring-up is over: events go to ev */
};

struct fleet_run_opts {
	const char *inventory;
	const char *limit;		/* --limit, or NULL */
	bool allow_unchecked;		/* --allow-unchecked-host-keys */
	const char *worker_path;	/* vmm-worker-static */
	unsigned connect_timeout_ms;	/* 0: the transport's default */
};

/*
 * Load the inventory and the worker, make the loop.  Usage problems (a bad
 * inventory, host_key_check: off without the flag) are -EINVAL; the
 * message is in @e either way.
 */
int fleet_run_open(struct fleet_run *f, const struct fleet_run_opts *o,
		   struct verr *e);

/*
 * The run's jobs (kept, not copied): hashes the files they name, building
 * Linux guests' initramfs archives with @local_worker.  0 or -errno with
 * @e naming the job and the file.
 */
int fleet_run_set_jobs(struct fleet_run *f, const struct job_desc *jobs, size_t njobs,
		       const char *local_worker, struct verr *e);

/*
 * Log in to every host, probe it, stage the worker where it is missing,
 * then the files of the jobs it can take that its store lacks.  Returns
 * how many hosts are up; each other host's @why says why not.  A host
 * that could not take a file stays up for the jobs that do not need it
 * (its @stage_err says which).
 */
size_t fleet_run_bring_up(struct fleet_run *f, unsigned timeout_ms);

void fleet_run_close(struct fleet_run *f);

/*
 * Job @job of the run names a file that cannot travel (a block device,
 * the result database): it runs only in a local slot.
 */
bool fleet_job_local_only(const struct fleet_run *f, size_t job);

/* The host has every placement label of job @job and every file it needs. */
bool fleet_host_fits(const struct fleet_run *f, const struct fleet_host *h, size_t job);

/* fleet_host_fits, and the host is up. */
bool fleet_host_takes(const struct fleet_run *f, const struct fleet_host *h, size_t job);

/* The spec job @job runs with on host @h (fleet_files_job_spec).  0 or -ENOMEM. */
int fleet_job_spec(const struct fleet_run *f, const struct fleet_host *h, size_t job,
		   struct job_spec *out);

/* A lost host: not used until its next probe at @now_ms + backoff. */
void fleet_host_lost(struct fleet_host *h, uint64_t now_ms, const char *why);

/* A lost host that may still come back (a probe runs or is due). */
bool fleet_host_may_return(const struct fleet_host *h);

/*
 * Probe the lost hosts whose time has come, over a new connection; a host
 * whose probe answers is up again, after its worker and files are staged
 * again if its store lost the worker.  Called from the pool's loop, not
 * from a callback.
 */
void fleet_run_revive(struct fleet_run *f, uint64_t now_ms);

/*
 * "exec <workdir>/bin/<sha256>/vmm-worker --remote --store-lock
 * <workdir>/lock" (malloc'd) or NULL; for job @job naming store files,
 * after "touch -c FILE...;" so a gc spares them until the lock is held.
 */
char *fleet_job_command(const struct fleet_run *f, const struct fleet_host *h, size_t job);

/* The transport's policy for an inventory's host_key_check. */
enum kh_policy fleet_policy(enum inv_host_key_check k);

/*
 * The SSH loop's options for @inv: the transport keeps one keepalive
 * timing, so the inventory's shortest interval and count; @connect_ms 0
 * keeps the default connect timeout.
 */
void fleet_loop_opts(const struct inventory *inv, unsigned connect_ms,
		     struct ssh_loop_opts *lo);

/*
 * The hosts' states for a progress line: "a:2 b:0 c:down" (running jobs,
 * or down) while it fits @cap, else "12 up (30 running), 2 down".
 */
void fleet_run_status(const struct fleet_run *f, char *buf, size_t cap);


/* The fleet host @c belongs to. */
struct fleet_host *fleet_conn_host(const struct ssh_conn *c);

#endif
