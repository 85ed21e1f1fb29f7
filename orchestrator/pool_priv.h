/*
 * pool_priv.h - what pool.c (the loop, local workers) and pool_remote.c
 * (jobs on fleet hosts) share: a slot is one running job of either kind;
 * supervision, progress and storing are the same for both.
 */
#ifndef VMORCH_POOL_PRIV_H
#define VMORCH_POOL_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/remote_proto.h"
#include "orchestrator/fleet_run.h"
#include "orchestrator/pool.h"

#define POOL_TICK_MS	100
#define POOL_ERR_MAX	2048

enum kill_reason { KILL_NONE = 0, KILL_TIMEOUT, KILL_STALL, KILL_INTERRUPT };

/* The worker's main thread as /proc (or its host's /proc) shows it. */
struct task_sample {
	uint64_t cpu_ns;		/* time on a CPU */
	uint64_t wait_ns;		/* time runnable but waiting for a CPU */
	char state;			/* R, S, D, T ... or 0 when unreadable */
};

/* A job on a fleet host: its channel and what came back on it. */
struct rslot {
	struct fleet_host *fh;		/* fixed: this slot is one of the host's */
	struct ssh_chan *ch;
	struct remote_lines lines;
	bool hello, have_result, ended, sent_eof;
	bool have_sched;
	struct remote_sched sched;	/* from the last snapshot */
	char why[VERR_MAX];		/* how the channel ended, without a result */
	struct vm_result result;
};

struct slot {
	const struct job_desc *job;
	size_t job_idx;
	bool busy;
	pid_t pid;			/* local: the worker */
	struct rslot *rs;		/* remote: NULL for a local slot */
	struct shm_map shm;		/* local: the worker's; remote: a mirror of its snapshots */
	int err_fd;
	char err[POOL_ERR_MAX];
	size_t err_len;
	uint64_t start_ms;
	int64_t start_us;		/* CLOCK_REALTIME, for the attempt's record */
	uint64_t deadline_ms;
	uint64_t term_ms;		/* when SIGTERM (or EOF) went out, 0 if not */
	enum kill_reason why;
	/* Heartbeat silence: watched since, time of it not explained by a wait for a CPU. */
	bool quiet;
	uint64_t stuck_ms;		/* silence not spent waiting for a CPU */
	uint64_t quiet_cpu_ns;		/* CPU time the main thread got while silent */
	uint64_t last_ms;		/* the last tick that sampled the main thread */
	struct task_sample last;
};

/* One job's tries so far (fleet runs). */
struct job_track {
	unsigned ntries;
	struct pool_attempt tries[POOL_MAX_TRIES];
	const struct fleet_host *avoid;	/* the host it was last lost on */
};

struct pool {
	const struct pool_opts *o;
	const struct pool_ops *ops;
	void *ctx;
	const struct job_desc *jobs;
	struct job_track *track;	/* njobs, fleet runs only */
	size_t *pend;			/* jobs waiting for a slot, in order */
	size_t npend;
	unsigned nslots;		/* o->max_jobs local, then the hosts' slots */
	struct slot *slot;
	struct vm_result *res;		/* POOL_MAX_JOBS: the results of one reap */
	struct console_text *cons;	/* POOL_MAX_JOBS: their consoles */
	struct pool_progress prog;
	uint64_t done_ops, done_bytes;	/* totals of finished jobs */
	uint64_t start_ms;
	int sig_fd;
	sigset_t old_mask;
};

int64_t pool_wall_us(void);
char *pool_job_text(const struct pool *p, const struct job_desc *job);
void pool_slot_counters(const struct slot *s, struct vm_result *r);

/* pool_remote.c */
int remote_slot_start(struct pool *p, struct slot *s, struct verr *e);
void remote_slot_sample(const struct slot *s, struct task_sample *t);
void remote_slot_stop(struct slot *s, bool hard);
/* 1: @r holds the job's result; 0: the host failed it (@why set). */
int remote_slot_result(struct pool *p, struct slot *s, struct vm_result *r,
		       char *why, size_t cap);
void remote_slot_release(struct slot *s);
void remote_events_install(struct pool *p);

#endif
