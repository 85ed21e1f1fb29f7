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
#include <string.h>

#include <sqlite3.h>

#include "common/console_ring.h"
#include "common/metric_dirs.h"
#include "common/vblk_counters.h"
#include "common/verr.h"
#include "reports/stats.h"

/* {"vmorch_report": 2}, {"vmorch_diff": 2}, {"vmorch_history": 2}: doc/schema/. */
#define REPORT_JSON_VERSION 2

/* Repeats needed on both sides before a change must also pass Mann-Whitney. */
#define DIFF_MIN_REPEATS 5
#define DIFF_DEFAULT_THRESHOLD_PCT 5.0
#define DIFF_DEFAULT_ALPHA 0.05
#define DIFF_DEFAULT_CORRECTION STATS_CORRECT_BH

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

/*
 * One counter or metric of one job key, A against B.  Rows exist for keys
 * present in both runs; a key present in one run only is a diff_job with
 * verdict NEW or MISSING.  scenario/vm/params/params_key point into the
 * matching diff_job's strings (not separately owned); name is owned.
 */
struct diff_row {
	char *scenario, *vm, *params;	/* params: canonical JSON as stored */
	char *params_key;		/* the same as "bs=4k,qd=16" ("" without a matrix) */
	char *name;			/* counter ("reads_completed", summed over disks) or metric */
	const char *unit;
	enum vmorch_dir dir;
	bool is_counter;
	struct agg a, b;		/* n == 0 on the missing side */
	double delta;			/* mean(B) - mean(A) */
	double delta_pct;		/* 100 * delta / |mean(A)|; NAN when mean(A) == 0 */
	bool tested;			/* both sides had >= 5 repeats: Mann-Whitney applied */
	double p_value;			/* two-sided; NAN when not tested */
	/*
	 * Judged: its direction is known, it is in the judged set (the
	 * default one or --metric's) and its job's configuration did not
	 * change.  A row that is not judged is at most REPORTED.
	 */
	bool judged;
	/* Tested and judged rows form the family whose p-values are adjusted. */
	double p_adjusted;		/* NAN outside the family */
	/* Hodges-Lehmann shift B - A and its 1 - alpha interval, when tested. */
	bool has_ci;
	double hl_shift, ci_low, ci_high;
	enum diff_verdict verdict;
};

/* One job key: its verdicts on both sides (pass -> fail is a regression). */
struct diff_job {
	char *scenario, *vm, *params;
	char *params_key;
	size_t n_a, n_b;		/* repeats on each side */
	size_t pass_a, pass_b;		/* passing repeats on each side */
	enum diff_verdict verdict;	/* REGRESSED when A all passed and B has a failure,
					   IMPROVED the other way, NEW/MISSING, else UNCHANGED */
	bool newly_failing;		/* B fails, and A passed or did not have it */
	/*
	 * The job's stored configurations differ (results of schema 8 on both
	 * sides): its numbers are reported, not judged, unless
	 * --allow-config-change.  @config_keys names what differs
	 * ("workload, disks[0].throttle"), or NULL.
	 */
	bool config_changed;
	char *config_keys;
};

struct run_info {
	int64_t id;
	char *label;			/* or NULL */
	char *started_at, *ended_at, *status, *host, *vmorch_version;
	size_t jobs_total, jobs_passed, jobs_failed;
	size_t nresults;		/* results stored (may be < jobs_total) */
	/*
	 * The distinct "CPU model, kernel release" of the machines that ran
	 * it, sorted, "; "-separated; NULL for a run stored without facts.
	 */
	char *machines;
};

/* Both runs' machines are known and differ: comparisons may say so. */
static inline bool run_info_machines_differ(const struct run_info *a,
					    const struct run_info *b)
{
	return a->machines && b->machines && strcmp(a->machines, b->machines);
}

/*
 * A run that did not finish all its jobs: still running, interrupted,
 * ended in error or abandoned (any status but passed/failed), or with
 * fewer results stored than it planned.
 */
static inline bool run_info_incomplete(const struct run_info *ri)
{
	if (!ri->status || (strcmp(ri->status, "passed") &&
			    strcmp(ri->status, "failed")))
		return true;
	return ri->nresults < ri->jobs_total;
}

struct diff {
	struct run_info a, b;
	double threshold_pct;		/* --threshold, default 5 */
	double alpha;			/* --alpha, default 0.05 */
	enum stats_correction correction;	/* --correction, default bh */
	size_t family;			/* rows whose p-values were adjusted together */
	bool metrics_chosen;		/* --metric set the judged set */
	char *ab_a, *ab_b;		/* --ab: the two variants' components, or NULL */
	bool small_sample;		/* some compared key had < 5 repeats on a side */
	size_t njobs;
	struct diff_job *jobs;
	size_t nrows;
	struct diff_row *rows;		/* regressions first, then by key and name */
	size_t regressed, improved, unchanged, added, missing;	/* over rows + jobs */
	size_t reported;		/* neutral rows that changed (DIFF_REPORTED) */
	size_t missing_jobs;		/* jobs of A that B does not have */
	size_t failing_jobs;		/* jobs with newly_failing */
	size_t config_changed;		/* jobs with config_changed */
	bool b_incomplete;		/* run_info_incomplete(&b) */
};

/* A --metric: judge this one, in its known direction or the one given. */
struct diff_metric_sel {
	char *name;
	enum vmorch_dir dir;		/* NEUTRAL: the one metric_dirs.h declares */
};

struct diff_opts {
	double threshold_pct;
	double alpha;
	bool allow_config_change;	/* judge jobs whose configuration changed too */
	enum stats_correction correction;
	size_t nmetrics;		/* 0: the default judged set */
	struct diff_metric_sel *metrics;
	size_t nparams;			/* 0: every matrix point */
	char **params;			/* canonical params keys ("bs=4k,qd=16") */
	/*
	 * --ab KEY=a,KEY=b: A and B are one run, its jobs with KEY=a against
	 * those with KEY=b, matched by everything else.  ab_a and ab_b are the
	 * params-key components as stored ("kernel=old.bzImage"), malloc'd.
	 */
	char *ab_key, *ab_a, *ab_b;
};

/* Defaults of every field; diff_opts_release() frees the lists. */
void diff_opts_init(struct diff_opts *o);
void diff_opts_release(struct diff_opts *o);

/*
 * Compute the diff of runs @a and @b (ids already resolved).  -ENOENT when
 * a --metric names nothing either run has (e says which).
 */
int diff_compute(sqlite3 *db, int64_t a, int64_t b, const struct diff_opts *o,
		 struct diff **out, struct verr *e);
void diff_free(struct diff *d);
const char *diff_verdict_name(enum diff_verdict v);
/* The verdict of a job as shown: "new, failing" for a new job that fails. */
const char *diff_job_verdict_name(const struct diff_job *j);

/*
 * The CI gate (`regressions`, `diff --fail-on-regression`): why B fails
 * against A, as DIFF_GATE_* bits; 0 when it passes.  A regression (a
 * metric, or a job from pass to fail) and a newly failing job always
 * fail it; a job of A missing from B and an incomplete B do unless
 * @allow_missing.
 */
#define DIFF_GATE_REGRESSED	1u
#define DIFF_GATE_FAILING	2u
#define DIFF_GATE_MISSING	4u
#define DIFF_GATE_INCOMPLETE	8u
unsigned diff_gate(const struct diff *d, bool allow_missing);

/* One value per run for a scenario/VM/metric, oldest first. */
struct history_point {
	int64_t run_id;
	char *label;			/* or NULL */
	char *started_at;
	struct agg value;		/* over the repeats (and matrix params unless filtered) */
	/* Where the job's configuration differs from the point before, or NULL. */
	char *config_keys;
	/*
	 * --by commit or date: the commit or the UTC day (YYYY-MM-DD) whose
	 * runs this point pools, and how many; run_id, label and started_at
	 * are then its first run's.  NULL and 1 for a point per run.
	 */
	char *group;
	size_t nruns;
};

/*
 * Where two stored configurations (vm_results.config, canonical JSON)
 * differ: "workload, disks[0].throttle" (leaf paths, shortened past
 * ~500 bytes), "(unknown)" when either cannot be read.  Malloc'd, or NULL.
 */
char *config_diff(const char *a, const char *b);

/* What a history point is: a run, a commit or a day. */
enum history_by { HISTORY_BY_RUN = 0, HISTORY_BY_COMMIT, HISTORY_BY_DATE };

struct history {
	char *scenario, *vm, *metric;	/* vm NULL: all VMs */
	const char *unit;
	size_t npoints;
	struct history_point *points;
	char *params_key;		/* the matrix point ("bs=4k"), or NULL */
	enum history_by by;
	size_t nruns;			/* runs in the points */
	size_t ungrouped;		/* --by commit: runs without a commit, left out */
};

const char *history_by_name(enum history_by by);
/* "run", "commit" or "date"; 0 or -EINVAL. */
int history_by_parse(const char *s, enum history_by *by);

struct history_opts {
	const char *scenario;		/* required */
	const char *vm;			/* or NULL */
	const char *metric;		/* counter or metric name; default "iops" */
	unsigned last;			/* 0: all runs */
	const char *label_like;		/* GLOB on runs.label, or NULL */
	int64_t until_run;		/* only runs with id <= this; 0: no bound */
	const char *params_key;		/* one matrix point (db_params_key_parse), or NULL */
	/*
	 * Pool the runs of one commit (run_meta "commit") or one day into a
	 * point, in the order of their first run; --last still counts runs.
	 */
	enum history_by by;
};

/*
 * A history is one series: one VM, one matrix point.  history_query refuses
 * (-EDOM, @e listing the series) options that select several, never
 * averaging across them.
 */
#define HISTORY_SERIES_LISTED	8

int history_query(sqlite3 *db, const struct history_opts *o, struct history **out,
		  struct verr *e);
void history_free(struct history *h);
/* EXPLAIN QUERY PLAN of the statements history_query runs for @o, to @f. */
int history_explain(sqlite3 *db, const struct history_opts *o, FILE *f,
		    struct verr *e);

/* A guest metric of one result ("iops" 5200), for the sweep charts. */
struct report_metric {
	char *name;
	double value;
};

/* A run's jobs for `report`: one per result row. */
struct report_job {
	int64_t result_id;		/* vm_results.id: what report.console_load takes */
	char *scenario, *vm, *params;
	char *params_key;
	unsigned repeat;
	bool pass;
	char *exit_kind, *error, *console_tail;
	double wall_s;
	size_t nfailed;
	char **failed;			/* "reads_completed == 1000 (actual 999)" */
	struct vblk_snapshot total;	/* counters summed over disks */
	size_t nmetrics;		/* guest metrics by name (REPORT_WANT_SERIES) */
	struct report_metric *metrics;
};

/* The commit a run was of (its run_meta "commit"), for trends by commit. */
struct report_commit {
	int64_t run_id;
	char *commit;
};

struct report {
	struct run_info run;
	size_t njobs;
	struct report_job *jobs;
	/*
	 * A job's whole stored console, for the renderers that print one
	 * (JUnit): 0 with @out filled, or -ENOENT when only its tail is stored.
	 * Set by the caller that holds the database, and called while the
	 * report is rendered, one job at a time, so that building a report
	 * reads no console and rendering holds one.  NULL: tails only.
	 */
	int (*console_load)(void *ctx, int64_t result_id, struct console_text *out);
	void *console_ctx;
	struct diff *diff;		/* --vs RUN, or NULL */
	/*
	 * REPORT_WANT_SERIES: the recent runs of the run's job keys, one
	 * history per key (scenario, VM, matrix point) and chart metric it
	 * reported non-zero, never averaged across keys; keys with a changed
	 * verdict in the diff first, at most REPORT_SERIES_MAX keys,
	 * @series_hidden more left out.  A history whose every run recorded a
	 * commit is pooled by commit (HISTORY_BY_COMMIT, as `history --by
	 * commit`).  @commits: the commit of each of their runs, by run id.
	 */
	size_t nseries, series_hidden;
	struct history **series;
	size_t ncommits;
	struct report_commit *commits;
};

/*
 * What report_build_for gathers besides the run, its jobs and its diff:
 * the trends (text, Markdown, JSON, HTML; JUnit shows none).
 */
#define REPORT_WANT_SERIES	2u	/* @series, @commits, jobs' metrics */

#define REPORT_SERIES_MAX	16	/* job keys with trend charts */
#define REPORT_SERIES_RUNS	20	/* runs per trend, up to the reported one */

/*
 * A metric the HTML report's sweeps and trends draw: a guest metric of the
 * set `diff` judges by default (common/metric_dirs.h: throughput, latency,
 * verify_errors).  The counters and run timings stay in the tables.
 */
static inline bool report_chart_metric(const char *name)
{
	const struct vm_metric_info *mi = vm_metric_find(name);

	return mi && mi->judged;
}

#define REPORT_KEY_METRICS_MAX	8	/* charted metrics of one job key or VM */

/* The commit of run @id, or NULL. */
static inline const char *report_commit_find(const struct report *r, int64_t id)
{
	size_t lo = 0, hi = r->ncommits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->commits[mid].run_id == id)
			return r->commits[mid].commit;
		if (r->commits[mid].run_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Helpers the compute side shares (report.c). */
int run_info_load(sqlite3 *db, int64_t id, struct run_info *out, struct verr *e);
void run_info_clear(struct run_info *ri);
/* "p.reads_completed, p.writes_completed, ..." from vblk_fields[]; -ENAMETOOLONG. */
int report_counter_columns(char *buf, size_t size, const char *prefix);

/* Set @e to "@what: <SQLite's message>" and map @rc to a negative errno. */
int report_sql_fail(sqlite3 *db, int rc, const char *what, struct verr *e);

/*
 * Prepare "SELECT @cols, c.disk_idx, <every counter> FROM vm_results r
 * LEFT JOIN blk_counters c ..." for run @run, in vm_results_run index order
 * (scenario, vm, params_key, repeat_idx, id): one row per disk, one row of
 * NULL counters for a VM without disks.
 */
/*
 * The guest metrics of run @run, (result id, name, value), in the results'
 * total order (scenario, VM, params, repeat, id), then by name.
 */
int report_prepare_run_metrics(sqlite3 *db, int64_t run, sqlite3_stmt **st,
			       struct verr *e);
int report_prepare_run_rows(sqlite3 *db, int64_t run, const char *cols,
			    const char *what, sqlite3_stmt **st, struct verr *e);
/* Fill @a from @n values (copied); -ENOMEM. */
int agg_fill(struct agg *a, const double *v, size_t n);
void agg_clear(struct agg *a);

int report_build(sqlite3 *db, int64_t run, int64_t vs /* 0: none */,
		 const struct diff_opts *o, struct report **out, struct verr *e);
/* The same with REPORT_WANT_* bits; report_build wants REPORT_WANT_SERIES. */
int report_build_for(sqlite3 *db, int64_t run, int64_t vs, const struct diff_opts *o,
		     unsigned want, struct report **out, struct verr *e);
/* report_series.c: @r's series and commits, from its jobs (and diff). */
int report_series_load(sqlite3 *db, struct report *r, struct verr *e);
void report_free(struct report *r);

/* Renderers: write to @f; 0 or -errno. */
int render_text(const struct report *r, FILE *f);
int render_markdown(const struct report *r, FILE *f);
int render_json(const struct report *r, FILE *f);
int render_junit(const struct report *r, FILE *f);
int render_html(const struct report *r, FILE *f);

/*
 * `vmorch diff`, `regressions` and `history` on their own.  Text shows the
 * rows that changed (every row with @all); the JSON documents are versioned
 * like the report's (doc/reports.md).
 */
int render_diff_text(const struct diff *d, FILE *f, bool all);
int render_diff_json(const struct diff *d, FILE *f);
int render_regressions(const struct diff *d, FILE *f);	/* one per line */
int render_history_text(const struct history *h, FILE *f);
int render_history_csv(const struct history *h, FILE *f);
int render_history_json(const struct history *h, FILE *f);
/*
 * Shared by the text and Markdown renderers: a value as people read it
 * (integers in full, fractions to 3 significant digits or 1 decimal),
 * a percentage with its sign ("+5.2%", "n/a"), a job key ("vm bs=4k").
 */
#define REPORT_NUM_MAX 48
void report_format_value(char *buf, size_t cap, double v);
void report_format_pct(char *buf, size_t cap, double pct);
void report_format_key(char *buf, size_t cap, const char *scenario,
		       const char *vm, const char *params_key);
/* "102 \u00b1 1.58" (mean ± sample stddev), "102" for one value, "-" for none. */
void report_format_spread(char *buf, size_t cap, const struct agg *a);
/* The row's interval in % of mean(A) ("[+15.7%, +23.5%]"), absolute when it is 0, or "-". */
void report_format_ci(char *buf, size_t cap, const struct diff_row *r);
/* The p-value a row's verdict used: adjusted for a judged one. */
double report_row_p(const struct diff_row *r);
/* "judged: ...; p adjusted over N tests (...); intervals: Hodges-Lehmann 95%" */
void report_format_method(char *buf, size_t cap, const struct diff *d);

/* The 8-level sparkline of @h's means, in at most @width UTF-8 characters. */
int render_sparkline(const struct history *h, size_t width, FILE *f);

#endif
