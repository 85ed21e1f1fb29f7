/*
 * report_series.c - the trends of the HTML report: the recent runs of the
 * run's job keys (scenario, VM, matrix point), one history per key and
 * judged metric, never an average across keys, and the commit each of
 * those runs was of (run_meta), so that a trend can be drawn by commit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reports/history_group.h"
#include "reports/report.h"

static bool job_same_key(const struct report_job *a, const struct report_job *b)
{
	return !strcmp(a->scenario, b->scenario) && !strcmp(a->vm, b->vm) &&
	       !strcmp(a->params_key, b->params_key);
}

static bool row_same_key(const struct diff_row *w, const struct report_job *j)
{
	return !strcmp(w->scenario, j->scenario) && !strcmp(w->vm, j->vm) &&
	       !strcmp(w->params_key, j->params_key);
}

/* One past the last job of the key that starts at @i (jobs are in key order). */
static size_t key_end(const struct report *r, size_t i)
{
	size_t k = i + 1;

	while (k < r->njobs && job_same_key(&r->jobs[i], &r->jobs[k]))
		k++;
	return k;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The chart metrics some repeat of the key at [@i, @end) reported other
 * than zero (verify_errors of a clean run is no chart), by name.
 */
static size_t key_metrics(const struct report *r, size_t i, size_t end,
			  const char **names)
{
	size_t n = 0, k;

	for (; i < end; i++) {
		for (size_t x = 0; x < r->jobs[i].nmetrics; x++) {
			const struct report_metric *m = &r->jobs[i].metrics[x];

			if (m->value == 0 || !report_chart_metric(m->name))
				continue;
			for (k = 0; k < n && strcmp(names[k], m->name); k++)
				;
			if (k == n && n < REPORT_KEY_METRICS_MAX)
				names[n++] = m->name;
		}
	}
	qsort(names, n, sizeof(*names), name_cmp);
	return n;
}

static bool verdict_changed(enum diff_verdict v)
{
	return v == DIFF_REGRESSED || v == DIFF_IMPROVED;
}

/* The diff's rows that regressed or improved: few, so a list is enough. */
static const struct diff_row **flagged_rows(const struct diff *d, size_t *n)
{
	const struct diff_row **v;

	*n = 0;
	v = calloc(d ? d->nrows + 1 : 1, sizeof(*v));
	for (size_t i = 0; v && d && i < d->nrows; i++)
		if (verdict_changed(d->rows[i].verdict))
			v[(*n)++] = &d->rows[i];
	return v;
}

/* A number of the key changed, or its jobs went from pass to fail or back. */
static bool key_flagged(const struct diff *d, const struct diff_row **rows,
			size_t n, const struct report_job *j)
{
	for (size_t i = 0; i < n; i++)
		if (row_same_key(rows[i], j))
			return true;
	for (size_t i = 0; d && i < d->njobs; i++)
		if (verdict_changed(d->jobs[i].verdict) &&
		    !strcmp(d->jobs[i].scenario, j->scenario) &&
		    !strcmp(d->jobs[i].vm, j->vm) &&
		    !strcmp(d->jobs[i].params_key, j->params_key))
			return true;
	return false;
}

/*
 * The first job of each key to chart, in r->jobs order: keys that changed
 * in the diff first, then the others, at most REPORT_SERIES_MAX of the
 * keys that report a chart metric.
 */
static size_t *series_pick(struct report *r, size_t *n)
{
	const char *names[REPORT_KEY_METRICS_MAX];
	const struct diff_row **rows;
	size_t nrows, *pick, i, end;
	int pass;

	*n = 0;
	rows = flagged_rows(r->diff, &nrows);
	pick = calloc(REPORT_SERIES_MAX, sizeof(*pick));
	if (!rows || !pick) {
		free(rows);
		free(pick);
		return NULL;
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->njobs; i = end) {
			end = key_end(r, i);
			if (!key_metrics(r, i, end, names) ||
			    key_flagged(r->diff, rows, nrows, &r->jobs[i]) != (pass == 0))
				continue;
			if (*n < REPORT_SERIES_MAX)
				pick[(*n)++] = i;
			else
				r->series_hidden++;
		}
	}
	free(rows);
	return pick;
}

static bool history_has_value(const struct history *h)
{
	for (size_t i = 0; i < h->npoints; i++)
		if (h->points[i].value.n && h->points[i].value.mean != 0)
			return true;
	return false;
}

static int series_add(struct report *r, struct history *h)
{
	struct history **v = realloc(r->series, (r->nseries + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->series = v;
	r->series[r->nseries++] = h;
	return 0;
}

/* The chart metrics of the key at [@i, @end) over its recent runs. */
static int series_load_key(sqlite3 *db, struct report *r, size_t i, size_t end,
			   struct verr *e)
{
	const struct report_job *j = &r->jobs[i];
	const char *names[REPORT_KEY_METRICS_MAX];
	size_t n = key_metrics(r, i, end, names);
	struct history *h;
	int rc;

	for (size_t m = 0; m < n; m++) {
		struct history_opts ho = {
			.scenario = j->scenario,
			.vm = j->vm,
			.params_key = j->params_key,
			.metric = names[m],
			.last = REPORT_SERIES_RUNS,
			.until_run = r->run.id,
		};

		rc = history_query(db, &ho, &h, e);
		if (rc)
			return rc;
		if (!history_has_value(h)) {
			history_free(h);
			continue;
		}
		if (series_add(r, h)) {
			history_free(h);
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The distinct runs of every series, ascending. */
static int64_t *series_runs(const struct report *r, size_t *n)
{
	size_t cap = 0, k = 0, i, p;
	int64_t *ids;

	for (i = 0; i < r->nseries; i++)
		cap += r->series[i]->npoints;
	ids = malloc((cap + 1) * sizeof(*ids));
	if (!ids)
		return NULL;
	for (i = 0; i < r->nseries; i++)
		for (p = 0; p < r->series[i]->npoints; p++)
			ids[k++] = r->series[i]->points[p].run_id;
	qsort(ids, k, sizeof(*ids), id_cmp);
	for (i = 0, *n = 0; i < k; i++)
		if (!*n || ids[*n - 1] != ids[i])
			ids[(*n)++] = ids[i];
	return ids;
}

/* run_meta "commit" of each run of the series: one primary-key seek each. */
static int series_commits(sqlite3 *db, struct report *r, struct verr *e)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0, i;
	int64_t *ids = series_runs(r, &n);
	int rc = 0;

	r->commits = calloc(n + 1, sizeof(*r->commits));
	if (!ids || !r->commits) {
		verr_set(e, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = sqlite3_prepare_v2(db, "SELECT value FROM run_meta WHERE run_id = ?"
				" AND key = 'commit'", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = report_sql_fail(db, rc, "report commits", e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct report_commit *c = &r->commits[r->ncommits];

		sqlite3_bind_int64(st, 1, ids[i]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);

			c->run_id = ids[i];
			c->commit = strdup(t ? t : "");
			if (!c->commit) {
				verr_set(e, "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			r->ncommits++;
		} else if (rc != SQLITE_DONE) {
			rc = report_sql_fail(db, rc, "report commits", e);
			goto out;
		}
		sqlite3_reset(st);
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	free(ids);
	return rc;
}

/*
 * A history whose every run recorded a commit is drawn by commit: its runs
 * of one commit pooled into one point, as `history --by commit` does.
 */
static int series_by_commit(sqlite3 *db, struct report *r, struct verr *e)
{
	int rc = 0;

	for (size_t i = 0; i < r->nseries && !rc; i++) {
		struct history *h = r->series[i];
		size_t p = 0;

		while (p < h->npoints && report_commit_find(r, h->points[p].run_id))
			p++;
		if (h->npoints && p == h->npoints)
			rc = history_group(db, h, HISTORY_BY_COMMIT, e);
	}
	return rc;
}

int report_series_load(sqlite3 *db, struct report *r, struct verr *e)
{
	size_t n, k, *pick = series_pick(r, &n);
	int rc = 0;

	if (!pick) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	for (k = 0; k < n && !rc; k++)
		rc = series_load_key(db, r, pick[k], key_end(r, pick[k]), e);
	free(pick);
	if (!rc)
		rc = series_commits(db, r, e);
	return rc ? rc : series_by_commit(db, r, e);
}
