/*
 * progress.h - what `vmorch run` shows while it works: on a terminal a live
 * bar (jobs done/total, failures, aggregate IOPS and bandwidth from the shm
 * counters, ETA, and with fleet hosts each host's state); otherwise one
 * line per finished job.
 */
#ifndef VMORCH_PROGRESS_H
#define VMORCH_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/vm_result.h"
#include "orchestrator/jobdesc.h"
#include "orchestrator/pool.h"

#define PROGRESS_HOSTS_MAX	96

struct progress {
	FILE *out;
	bool tty;		/* redraw a bar in place */
	bool color;
	bool quiet;		/* nothing but failures */
	bool bar_shown;
	uint64_t last_draw_ms;
	uint64_t last_ops, last_bytes, last_ms;	/* for rates */
	double iops, bps;	/* smoothed */
	char hosts[PROGRESS_HOSTS_MAX];	/* fleet hosts' states, or "" */
};

void progress_init(struct progress *pg, FILE *out, bool quiet);
void progress_update(struct progress *pg, const struct pool_progress *p);
void progress_job_done(struct progress *pg, const struct job_desc *job,
		       const struct vm_result *r, bool pass, const char *why);
void progress_end(struct progress *pg);

/* A fleet run's host states ("a:2 b:down"), shown after the bar. */
void progress_hosts(struct progress *pg, const char *text);

/* "4.2k", "1.5M": compact human numbers for bars and tables. */
void progress_human(double v, char *buf, size_t cap);

/* Colour escape for pass/fail when colour is on, else "". */
const char *progress_color(const struct progress *pg, bool pass);
const char *progress_reset(const struct progress *pg);

#endif
