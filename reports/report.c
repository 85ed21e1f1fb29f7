/*
 * report.c - `vmorch report RUN`: gather one run's jobs (verdicts, failed
 * expectations, console tails, guest metrics), its diff against a
 * baseline and the recent trends of each job series (report_series.c)
 * into a struct report for the renderers.
 * Also the small helpers the compute side shares (run headers, aggregates).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/sql_err.h"
#include "reports/report.h"
#include "reports/stats.h"


static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "";
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL :
	       strdup(col_text(st, col));
}

int report_sql_fail(sqlite3 *db, int rc, const char *what, struct verr *e)
{
	return sql_fail(db, rc, what, e);
}

int report_prepare_run_rows(sqlite3 *db, int64_t run, const char *cols,
			    const char *what, sqlite3_stmt **st, struct verr *e)
{
	char counters[1024], *sql = NULL;
	int rc;

	if (report_counter_columns(counters, sizeof(counters), "c.")) {
		verr_set(e, "counter list too long");
		return -ENAMETOOLONG;
	}
	/* Ordered like vm_results_run (rowid last): no sort step. */
	if (asprintf(&sql, "SELECT %s, c.disk_idx, %s"
		     " FROM vm_results r LEFT JOIN blk_counters c"
		     " ON c.result_id = r.id WHERE r.run_id = ?"
		     " ORDER BY r.scenario, r.vm, r.params_key, r.repeat_idx, r.id",
		     cols, counters) < 0) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, what, e);
	sqlite3_bind_int64(*st, 1, run);
	return 0;
}

/* ---- shared helpers ---- */

int report_counter_columns(char *buf, size_t size, const char *prefix)
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		int n = snprintf(buf + len, size - len, "%s%s%s", i ? ", " : "",
				 prefix, vblk_fields[i].name);

		if (n < 0 || (size_t)n >= size - len)
			return -ENAMETOOLONG;
		len += (size_t)n;
	}
	return 0;
}

int agg_fill(struct agg *a, const double *v, size_t n)
{
	memset(a, 0, sizeof(*a));
	if (!n)
		return 0;
	a->values = malloc(n * sizeof(*v));
	if (!a->values)
		return -ENOMEM;
	memcpy(a->values, v, n * sizeof(*v));
	a->n = n;
	a->mean = stats_mean(v, n);
	a->median = stats_median(v, n);
	a->stddev = stats_stddev(v, n);
	return 0;
}

void agg_clear(struct agg *a)
{
	free(a->values);
	memset(a, 0, sizeof(*a));
}

/* A run still 'running' (or killed) has its counts only in vm_results. */
#define RUN_LIVE_COUNT(verdict)						\
	"(SELECT count(*) FROM vm_results v WHERE v.run_id = runs.id"	\
	" AND v.verdict = '" verdict "')"

int run_info_load(sqlite3 *db, int64_t id, struct run_info *out, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_prepare_v2(db, "SELECT id, label, started_at, ended_at,"
				" status, host, vmorch_version, jobs_total,"
				" CASE status WHEN 'running' THEN "
				RUN_LIVE_COUNT("pass") " ELSE jobs_passed END,"
				" CASE status WHEN 'running' THEN "
				RUN_LIVE_COUNT("fail") " ELSE jobs_failed END,"
				" (SELECT count(*) FROM vm_results v"
				" WHERE v.run_id = runs.id),"
				" (SELECT group_concat(m, '; ') FROM"
				"  (SELECT DISTINCT cpu_model || ', kernel ' ||"
				"   kernel_release AS m FROM host_facts h"
				"   WHERE h.run_id = runs.id ORDER BY m))"
				" FROM runs WHERE id = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "run", e);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->label = col_dup(st, 1);
		out->started_at = col_dup(st, 2);
		out->ended_at = col_dup(st, 3);
		out->status = col_dup(st, 4);
		out->host = col_dup(st, 5);
		out->vmorch_version = col_dup(st, 6);
		out->jobs_total = (size_t)sqlite3_column_int64(st, 7);
		out->jobs_passed = (size_t)sqlite3_column_int64(st, 8);
		out->jobs_failed = (size_t)sqlite3_column_int64(st, 9);
		out->nresults = (size_t)sqlite3_column_int64(st, 10);
		out->machines = col_dup(st, 11);
		rc = out->status ? 0 : -ENOMEM;
		if (rc)
			verr_set(e, "out of memory");
	} else if (rc == SQLITE_DONE) {
		verr_set(e, "no run %" PRId64, id);
		rc = -ENOENT;
	} else {
		rc = report_sql_fail(db, rc, "run", e);
	}
	sqlite3_finalize(st);
	return rc;
}

void run_info_clear(struct run_info *ri)
{
	free(ri->label);
	free(ri->started_at);
	free(ri->ended_at);
	free(ri->status);
	free(ri->host);
	free(ri->vmorch_version);
	free(ri->machines);
	memset(ri, 0, sizeof(*ri));
}

/* ---- the run's jobs ---- */

enum {
	JQ_ID, JQ_SCENARIO, JQ_VM, JQ_PARAMS, JQ_PARAMS_KEY, JQ_REPEAT,
	JQ_VERDICT, JQ_EXIT_KIND, JQ_ERROR, JQ_CONSOLE, JQ_WALL, JQ_DISK,
	JQ_COUNTERS
};

struct job_list {
	size_t n, cap;
	struct report_job *v;
	int64_t *ids;		/* result id of each job, for the expectations */
};

static int job_add(struct job_list *l, sqlite3_stmt *st)
{
	struct report_job *j;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct report_job *nv = realloc(l->v, cap * sizeof(*nv));
		int64_t *ni;

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		ni = realloc(l->ids, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		l->ids = ni;
		l->cap = cap;
	}
	l->ids[l->n] = sqlite3_column_int64(st, JQ_ID);
	j = &l->v[l->n++];
	memset(j, 0, sizeof(*j));
	j->result_id = l->ids[l->n - 1];
	j->scenario = strdup(col_text(st, JQ_SCENARIO));
	j->vm = strdup(col_text(st, JQ_VM));
	j->params = strdup(col_text(st, JQ_PARAMS));
	j->params_key = strdup(col_text(st, JQ_PARAMS_KEY));
	j->repeat = (unsigned)sqlite3_column_int64(st, JQ_REPEAT);
	j->pass = strcmp(col_text(st, JQ_VERDICT), "pass") == 0;
	j->exit_kind = strdup(col_text(st, JQ_EXIT_KIND));
	j->error = strdup(col_text(st, JQ_ERROR));
	j->console_tail = strdup(col_text(st, JQ_CONSOLE));
	j->wall_s = sqlite3_column_double(st, JQ_WALL) / 1e6;
	if (!j->scenario || !j->vm || !j->params || !j->params_key ||
	    !j->exit_kind || !j->error || !j->console_tail)
		return -ENOMEM;
	return 0;
}

static void job_add_disk(struct report_job *j, sqlite3_stmt *st)
{
	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		*(uint64_t *)((char *)&j->total + vblk_fields[i].plain_off) +=
			(uint64_t)sqlite3_column_int64(st, JQ_COUNTERS + i);
}

static int report_load_jobs(sqlite3 *db, int64_t run, struct job_list *l,
			    struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int64_t last = -1;
	int rc;

	rc = report_prepare_run_rows(db, run, "r.id, r.scenario, r.vm, r.params,"
				     " r.params_key, r.repeat_idx, r.verdict, r.exit_kind,"
				     " r.error, r.console_tail, r.wall_us", "report", &st, e);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, JQ_ID);

		if (id != last && job_add(l, st)) {
			verr_set(e, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		last = id;
		if (sqlite3_column_type(st, JQ_DISK) != SQLITE_NULL)
			job_add_disk(&l->v[l->n - 1], st);
	}
	rc = rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, "report", e);
out:
	sqlite3_finalize(st);
	return rc;
}

/* "reads_completed >= 1000 (actual 999)", or "(missing)". */
static char *expect_text(sqlite3_stmt *st)
{
	char actual[REPORT_NUM_MAX], *s = NULL;

	if (sqlite3_column_int(st, 4))
		snprintf(actual, sizeof(actual), "missing");
	else
		report_format_value(actual, sizeof(actual),
				    sqlite3_column_double(st, 3));
	if (asprintf(&s, "%s %s (%s%s)", col_text(st, 1), col_text(st, 2),
		     sqlite3_column_int(st, 4) ? "" : "actual ", actual) < 0)
		return NULL;
	return s;
}

static int job_add_failed(struct report_job *j, char *text)
{
	char **v = realloc(j->failed, (j->nfailed + 1) * sizeof(*v));

	if (!v || !text) {
		free(text);
		return -ENOMEM;
	}
	j->failed = v;
	j->failed[j->nfailed++] = text;
	return 0;
}

/*
 * Rows that belong to the run's results, in the results' order (@st's
 * first column is the result id): each goes to its job through @add,
 * with one cursor over the job list.  @what names the rows in errors.
 */
static int report_walk(sqlite3 *db, sqlite3_stmt *st, struct job_list *l,
		       int (*add)(struct report_job *, sqlite3_stmt *),
		       const char *what, struct verr *e)
{
	size_t cur = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		while (cur < l->n && l->ids[cur] != id)
			cur++;
		if (cur == l->n) {
			verr_set(e, "report: %s of result %" PRId64 " out of order",
				 what, id);
			rc = -EAGAIN;
			goto out;
		}
		if (add(&l->v[cur], st)) {
			verr_set(e, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, what, e);
out:
	sqlite3_finalize(st);
	return rc;
}

static int failed_add(struct report_job *j, sqlite3_stmt *st)
{
	return job_add_failed(j, expect_text(st));
}

/* Failed expectations in the jobs' order. */
static int report_load_failed(sqlite3 *db, int64_t run, struct job_list *l,
			      struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT r.id, x.name, x.op_text, x.actual,"
				" x.missing FROM vm_results r"
				" JOIN expectations x ON x.result_id = r.id"
				" WHERE r.run_id = ? AND NOT x.passed"
				" ORDER BY r.scenario, r.vm, r.params_key,"
				" r.repeat_idx, r.id, x.idx", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "report expectations", e);
	sqlite3_bind_int64(st, 1, run);
	return report_walk(db, st, l, failed_add, "expectation", e);
}

static int job_add_metric(struct report_job *j, const char *name, double value)
{
	struct report_metric *v;

	if (!(j->nmetrics & (j->nmetrics - 1))) {	/* 0, 1, 2, 4...: grow */
		v = realloc(j->metrics, (j->nmetrics ? 2 * j->nmetrics : 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		j->metrics = v;
	}
	j->metrics[j->nmetrics].name = strdup(name);
	if (!j->metrics[j->nmetrics].name)
		return -ENOMEM;
	j->metrics[j->nmetrics++].value = value;
	return 0;
}

static int metric_add(struct report_job *j, sqlite3_stmt *st)
{
	return job_add_metric(j, col_text(st, 1), sqlite3_column_double(st, 2));
}

int report_prepare_run_metrics(sqlite3 *db, int64_t run, sqlite3_stmt **st,
			       struct verr *e)
{
	int rc = sqlite3_prepare_v2(db, "SELECT r.id, m.name, m.value FROM vm_results r"
				    " JOIN metrics m ON m.result_id = r.id"
				    " WHERE r.run_id = ? ORDER BY r.scenario, r.vm,"
				    " r.params_key, r.repeat_idx, r.id, m.name",
				    -1, st, NULL);

	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "metrics of a run", e);
	sqlite3_bind_int64(*st, 1, run);
	return 0;
}

/* Guest metrics in the jobs' order (the sweeps). */
static int report_load_metrics(sqlite3 *db, int64_t run, struct job_list *l,
			       struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int rc = report_prepare_run_metrics(db, run, &st, e);

	return rc ? rc : report_walk(db, st, l, metric_add, "metric", e);
}

static void report_job_clear(struct report_job *j)
{
	free(j->scenario);
	free(j->vm);
	free(j->params);
	free(j->params_key);
	free(j->exit_kind);
	free(j->error);
	free(j->console_tail);
	for (size_t i = 0; i < j->nfailed; i++)
		free(j->failed[i]);
	free(j->failed);
	for (size_t i = 0; i < j->nmetrics; i++)
		free(j->metrics[i].name);
	free(j->metrics);
}

static int report_collect(sqlite3 *db, struct report *r, int64_t run,
			  int64_t vs, const struct diff_opts *o, unsigned want,
			  struct verr *e)
{
	struct job_list l = { 0 };
	int rc;

	rc = run_info_load(db, run, &r->run, e);
	if (!rc)
		rc = report_load_jobs(db, run, &l, e);
	if (!rc)
		rc = report_load_failed(db, run, &l, e);
	if (!rc && (want & REPORT_WANT_SERIES))
		rc = report_load_metrics(db, run, &l, e);
	r->jobs = l.v;
	r->njobs = l.n;
	free(l.ids);
	if (!rc && vs)
		rc = diff_compute(db, vs, run, o, &r->diff, e);
	if (!rc && (want & REPORT_WANT_SERIES))
		rc = report_series_load(db, r, e);
	return rc;
}

int report_build(sqlite3 *db, int64_t run, int64_t vs,
		 const struct diff_opts *o, struct report **out, struct verr *e)
{
	return report_build_for(db, run, vs, o, REPORT_WANT_SERIES, out, e);
}

int report_build_for(sqlite3 *db, int64_t run, int64_t vs, const struct diff_opts *o,
		     unsigned want, struct report **out, struct verr *e)
{
	struct report *r = calloc(1, sizeof(*r));
	bool own_txn = sqlite3_get_autocommit(db);
	int rc;

	*out = NULL;
	if (!r) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	/* One read snapshot for everything the report shows. */
	if (own_txn)
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	rc = report_collect(db, r, run, vs, o, want, e);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc) {
		report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	run_info_clear(&r->run);
	for (size_t i = 0; i < r->njobs; i++)
		report_job_clear(&r->jobs[i]);
	free(r->jobs);
	diff_free(r->diff);
	for (size_t i = 0; i < r->nseries; i++)
		history_free(r->series[i]);
	free(r->series);
	for (size_t i = 0; i < r->ncommits; i++)
		free(r->commits[i].commit);
	free(r->commits);
	free(r);
}
