/*
 * report.h - the data that `vmorch diff`, `history`, `regressions` and
 * `report` compute from the database, kept apart from how it is rendered.
 * compute side: reports/diff.c, reports/history.c, reports/stats.c;
 * render side: reports/render_{text,markdown,json,junit,html}.c.
 */
#ifndef VMORCH_REPORT_H
#define VMORCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "common/vblk_counters.h"
#include "common/verr.h"

#define REPORT_JSON_VERSION 1

/* Repeats of one job aggregated: values in run order, then the summary. */
struct agg {
	size_t n;
	double *values;		/* n of them (owned) */
	double mean, median, stddev;	/* stddev: sample (n - 1), 0 when n < 2 */
};

enum diff_verdict {
	DIFF_UNCHANGED = 0,
	DIFF_IMPROVED,
	DIFF_REGRESSED,
	DIFF_NEW,		/* only in B */
	DIFF_MISSING,		/* only in A */
	DIFF_REPORTED,		/* neutral direction: changed or not, not judged */
};

/* One counter or metric of one job key, A against B. */
struct diff_row {
	char *scenario, *vm, *params;	/* params: canonical JSON as stored */
	char *name;			/* counter ("reads_completed", summed over disks) or metric */
	const char *unit;
	enum vmorch_dir dir;
	bool is_counter;
	struct agg a, b;		/* n == 0 on the missing side */
	double delta;			/* mean(B) - mean(A) */
	double delta_pct;		/* 100 * delta / |mean(A)|; NAN when mean(A) == 0 */
	bool tested;			/* both sides had >= 5 repeats: Mann-Whitney applied */
	double p_value;			/* two-sided; NAN when not tested */
	enum diff_verdict verdict;
};

/* One job key: its verdicts on both sides (pass -> fail is a regression). */
struct diff_job {
	char *scenario, *vm, *params;
	size_t n_a, n_b;		/* repeats on each side */
	size_t pass_a, pass_b;		/* passing repeats on each side */
	enum diff_verdict verdict;	/* REGRESSED when A all passed and B has a failure,
					   IMPROVED the other way, NEW/MISSING, else UNCHANGED */
};

struct run_info {
	int64_t id;
	char *label;			/* or NULL */
	char *started_at, *ended_at, *status, *host, *vmorch_version;
	size_t jobs_total, jobs_passed, jobs_failed;
};

struct diff {
	struct run_info a, b;
	double threshold_pct;		/* --threshold, default 5 */
	double alpha;			/* --alpha, default 0.05 */
	bool small_sample;		/* some compared key had < 5 repeats on a side */
	size_t njobs;
	struct diff_job *jobs;
	size_t nrows;
	struct diff_row *rows;		/* regressions first, then by key and name */
	size_t regressed, improved, unchanged, added, missing;	/* over rows + jobs */
};

struct diff_opts {
	double threshold_pct;
	double alpha;
};

/* Compute the diff of runs @a and @b (ids already resolved). */
int diff_compute(sqlite3 *db, int64_t a, int64_t b, const struct diff_opts *o,
		 struct diff **out, struct verr *e);
void diff_free(struct diff *d);
const char *diff_verdict_name(enum diff_verdict v);

/* One value per run for a scenario/VM/metric, oldest first. */
struct history_point {
	int64_t run_id;
	char *label;			/* or NULL */
	char *started_at;
	struct agg value;		/* over the repeats (and matrix params unless filtered) */
};

struct history {
	char *scenario, *vm, *metric;	/* vm NULL: all VMs */
	const char *unit;
	size_t npoints;
	struct history_point *points;
};

struct history_opts {
	const char *scenario;		/* required */
	const char *vm;			/* or NULL */
	const char *metric;		/* counter or metric name; default "iops" */
	unsigned last;			/* 0: all runs */
	const char *label_like;		/* GLOB on runs.label, or NULL */
};

int history_query(sqlite3 *db, const struct history_opts *o, struct history **out,
		  struct verr *e);
void history_free(struct history *h);

/* A run's jobs for `report`: one per result row. */
struct report_job {
	char *scenario, *vm, *params;
	unsigned repeat;
	bool pass;
	char *exit_kind, *error, *console_tail;
	double wall_s;
	size_t nfailed;
	char **failed;			/* "reads_completed == 1000 (actual 999)" */
	struct vblk_snapshot total;	/* counters summed over disks */
};

struct report {
	struct run_info run;
	size_t njobs;
	struct report_job *jobs;
	struct diff *diff;		/* --vs RUN, or NULL */
	size_t ntrends;
	struct history **trends;	/* recent runs of each scenario, for charts */
};

int report_build(sqlite3 *db, int64_t run, int64_t vs /* 0: none */,
		 const struct diff_opts *o, struct report **out, struct verr *e);
void report_free(struct report *r);

/* Renderers: write to @f; 0 or -errno. */
int render_text(const struct report *r, FILE *f);
int render_markdown(const struct report *r, FILE *f);
int render_json(const struct report *r, FILE *f);
int render_junit(const struct report *r, FILE *f);
int render_html(const struct report *r, FILE *f);

#endif
