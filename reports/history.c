/*
 * history.c - `vmorch history`: one counter or metric of one series (a
 * scenario's VM at one matrix point) per run, oldest first.  Four queries:
 * that the options select one series, the runs that have it (newest first,
 * for --last), the values, which walk the vm_results_series index
 * (doc/reports.md "History"), and the configurations of those runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metric_dirs.h"
#include "reports/history_group.h"
#include "reports/report.h"

/*
 * Up to this many runs the value query names them (run_id IN (...)), which
 * lets SQLite seek each run's results through vm_results_run: report
 * trends (20 runs) cost a few ms instead of a scan of the whole series.
 */
#define HISTORY_IN_LIST_MAX 64

enum history_src { SRC_METRIC, SRC_COUNTER, SRC_COLUMN };

struct hq {
	const struct history_opts *o;
	const char *metric;
	enum history_src src;
	int counter;			/* SRC_COUNTER: index in vblk_fields */
	struct history *h;
	size_t *cap;			/* per point: capacity of value.values */
	bool filtered;			/* only the listed runs */
};

static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "";
}

static void hq_classify(struct hq *q)
{
	const struct vm_metric_info *mi;

	q->counter = vblk_field_find(q->metric);
	if (q->counter >= 0) {
		q->src = SRC_COUNTER;
		q->h->unit = vblk_fields[q->counter].unit;
		return;
	}
	mi = vm_metric_find(q->metric);
	q->h->unit = mi ? mi->unit : "";
	q->src = !strcmp(q->metric, "wall_us") || !strcmp(q->metric, "boot_us") ?
		 SRC_COLUMN : SRC_METRIC;
}

/* ---- the runs: one point each ---- */

/*
 * The series every query of a history selects, of the results named r:
 * the scenario as ?1 (each query's own), the VM as ?2 and the matrix point
 * as ?6 when the options give them.  series_bind() binds all three.
 */
static const char *series_where(const struct history_opts *o)
{
	static const char *const where[] = {
		"", " AND r.vm = ?2", " AND r.params_key = ?6",
		" AND r.vm = ?2 AND r.params_key = ?6",
	};

	return where[(o->vm ? 1 : 0) | (o->params_key ? 2 : 0)];
}

static void series_bind(sqlite3_stmt *st, const struct history_opts *o)
{
	sqlite3_bind_text(st, 1, o->scenario, -1, SQLITE_STATIC);
	if (o->vm)
		sqlite3_bind_text(st, 2, o->vm, -1, SQLITE_STATIC);
	if (o->params_key)
		sqlite3_bind_text(st, 6, o->params_key, -1, SQLITE_STATIC);
}

static char *runs_sql(const struct history_opts *o)
{
	const char *runs_of_series;
	char *sql = NULL;

	/*
	 * All runs: the series' runs from the covering index vm_results_series
	 * as one sorted list, then each run by its key (8 ms for 10,000 runs,
	 * where testing each run took 35 ms).  --last N: test the runs newest
	 * first and stop after N, which never reads the series' older results
	 * (the report's trends ask for a whole scenario's last 20 runs: a list
	 * of all its results would be a million entries at 10M).
	 */
	if (o->last)
		runs_of_series = "EXISTS (SELECT 1 FROM vm_results r"
				 " WHERE r.run_id = ru.id AND r.scenario = ?1";
	else
		runs_of_series = "ru.id IN (SELECT r.run_id FROM vm_results r"
				 " WHERE r.scenario = ?1";
	if (asprintf(&sql, "SELECT ru.id, ru.label, ru.started_at FROM runs ru"
		     " WHERE %s%s%s%s) ORDER BY ru.id DESC LIMIT ?4",
		     o->until_run ? "ru.id <= ?3 AND " : "",
		     o->label_like ? "ru.label GLOB ?5 AND " : "",
		     runs_of_series, series_where(o)) < 0)
		return NULL;
	return sql;
}

static void runs_bind(sqlite3_stmt *st, const struct history_opts *o)
{
	series_bind(st, o);
	if (o->until_run)
		sqlite3_bind_int64(st, 3, o->until_run);
	sqlite3_bind_int64(st, 4, o->last ? (int64_t)o->last : -1);
	if (o->label_like)
		sqlite3_bind_text(st, 5, o->label_like, -1, SQLITE_STATIC);
}

static int point_add(struct hq *q, sqlite3_stmt *st)
{
	struct history *h = q->h;
	struct history_point *p;
	size_t cap = h->npoints + 1;

	p = realloc(h->points, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	h->points = p;
	p = &h->points[h->npoints++];
	memset(p, 0, sizeof(*p));
	p->run_id = sqlite3_column_int64(st, 0);
	p->label = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL :
		   strdup(col_text(st, 1));
	p->started_at = strdup(col_text(st, 2));
	return p->started_at ? 0 : -ENOMEM;
}

/* Newest first from SQL (for LIMIT), oldest first in the history. */
static void points_reverse(struct history *h)
{
	for (size_t i = 0, j = h->npoints; i + 1 < j; i++, j--) {
		struct history_point t = h->points[i];

		h->points[i] = h->points[j - 1];
		h->points[j - 1] = t;
	}
}

static int history_runs(sqlite3 *db, struct hq *q, struct verr *e)
{
	char *sql = runs_sql(q->o);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!sql) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "history runs", e);
	runs_bind(st, q->o);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (point_add(q, st)) {
			sqlite3_finalize(st);
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return report_sql_fail(db, rc, "history runs", e);
	points_reverse(q->h);
	q->filtered = q->o->last || q->o->label_like || q->o->until_run;
	return 0;
}

/* ---- the values ---- */

/* "AND r.run_id IN (3, 4, 5)" for few runs, a range for many, else "". */
static char *run_filter(const struct hq *q)
{
	const struct history *h = q->h;
	size_t cap = 32 + h->npoints * 22, len = 0;
	char *s;

	if (!q->filtered || !h->npoints)
		return strdup("");
	s = malloc(cap);
	if (!s)
		return NULL;
	if (h->npoints > HISTORY_IN_LIST_MAX) {
		snprintf(s, cap, " AND r.run_id BETWEEN %" PRId64 " AND %" PRId64,
			 h->points[0].run_id, h->points[h->npoints - 1].run_id);
		return s;
	}
	len = (size_t)snprintf(s, cap, " AND r.run_id IN (");
	for (size_t i = 0; i < h->npoints; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64,
					i ? ", " : "", h->points[i].run_id);
	snprintf(s + len, cap - len, ")");
	return s;
}

/*
 * Columns: run_id, result id, value.  Counters come one row per disk and
 * are summed per result by the caller (rows of a result are adjacent: the
 * disks are the inner loop).
 */
static char *values_sql(const struct hq *q)
{
	const char *series = series_where(q->o);
	char *filter = run_filter(q), *sql = NULL;
	int rc;

	if (!filter)
		return NULL;
	switch (q->src) {
	case SRC_COUNTER:
		rc = asprintf(&sql, "SELECT r.run_id, r.id, c.%s FROM vm_results r"
			      " JOIN blk_counters c ON c.result_id = r.id"
			      " WHERE r.scenario = ?1%s%s",
			      vblk_fields[q->counter].name, series, filter);
		break;
	case SRC_COLUMN:
		rc = asprintf(&sql, "SELECT r.run_id, r.id, r.%s FROM vm_results r"
			      " WHERE r.scenario = ?1%s%s",
			      !strcmp(q->metric, "wall_us") ? "wall_us" : "boot_us",
			      series, filter);
		break;
	default:
		rc = asprintf(&sql, "SELECT r.run_id, r.id, m.value FROM vm_results r"
			      " JOIN metrics m ON m.result_id = r.id AND m.name = ?3"
			      " WHERE r.scenario = ?1%s%s", series, filter);
		break;
	}
	free(filter);
	return rc < 0 ? NULL : sql;
}

static void values_bind(sqlite3_stmt *st, const struct hq *q)
{
	series_bind(st, q->o);
	if (q->src == SRC_METRIC)
		sqlite3_bind_text(st, 3, q->metric, -1, SQLITE_STATIC);
}

/* The point of @run_id, or NULL for a run the options left out. */
static struct history_point *point_find(struct history *h, int64_t run_id)
{
	size_t lo = 0, hi = h->npoints;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (h->points[mid].run_id == run_id)
			return &h->points[mid];
		if (h->points[mid].run_id < run_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int point_push(struct hq *q, struct history_point *p, double v)
{
	struct agg *a = &p->value;
	size_t *cap = &q->cap[p - q->h->points];

	if (a->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		double *nv = realloc(a->values, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->values = nv;
		*cap = ncap;
	}
	a->values[a->n++] = v;
	return 0;
}

static int values_collect(struct hq *q, sqlite3_stmt *st)
{
	struct history_point *p = NULL;
	int64_t last = -1;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 1);
		double v = sqlite3_column_double(st, 2);

		if (id == last) {	/* another disk of the same result */
			if (p)
				p->value.values[p->value.n - 1] += v;
			continue;
		}
		last = id;
		p = point_find(q->h, sqlite3_column_int64(st, 0));
		if (p && point_push(q, p, v))
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Turn each point's raw values into its aggregate (values kept, in order). */
static int points_aggregate(struct history *h)
{
	for (size_t i = 0; i < h->npoints; i++) {
		struct agg *a = &h->points[i].value;
		struct agg full;

		if (agg_fill(&full, a->values, a->n))
			return -ENOMEM;
		free(a->values);
		*a = full;
	}
	return 0;
}

static int history_values(sqlite3 *db, struct hq *q, struct verr *e)
{
	char *sql = values_sql(q);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!sql) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "history", e);
	values_bind(st, q);
	q->cap = calloc(q->h->npoints + 1, sizeof(*q->cap));
	rc = q->cap ? values_collect(q, st) : -ENOMEM;
	sqlite3_finalize(st);
	if (rc == -ENOMEM) {
		verr_set(e, "out of memory");
		return rc;
	}
	if (rc)
		return report_sql_fail(db, rc, "history", e);
	if (points_aggregate(q->h)) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int hq_init(struct hq *q, const struct history_opts *o, struct verr *e)
{
	memset(q, 0, sizeof(*q));
	q->o = o;
	q->metric = o->metric && *o->metric ? o->metric : "iops";
	if (!o->scenario || !*o->scenario) {
		verr_set(e, "history: a scenario is required");
		return -EINVAL;
	}
	q->h = calloc(1, sizeof(*q->h));
	if (!q->h)
		goto oom;
	q->h->scenario = strdup(o->scenario);
	q->h->vm = o->vm ? strdup(o->vm) : NULL;
	q->h->metric = strdup(q->metric);
	q->h->params_key = o->params_key && *o->params_key ? strdup(o->params_key) : NULL;
	if (!q->h->scenario || !q->h->metric || (o->vm && !q->h->vm) ||
	    (o->params_key && *o->params_key && !q->h->params_key))
		goto oom;
	hq_classify(q);
	return 0;
oom:
	verr_set(e, "out of memory");
	return -ENOMEM;
}

/*
 * The options must select one series (VM, matrix point) of the scenario:
 * -EDOM naming the first HISTORY_SERIES_LISTED of them when they do not.
 */
static int history_one_series(sqlite3 *db, const struct history_opts *o, struct verr *e)
{
	char list[VERR_MAX / 2];
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc, n = 0;
	char *sql;

	if (o->vm && o->params_key)
		return 0;	/* a VM and a matrix point: one series, or none */
	if (asprintf(&sql, "SELECT DISTINCT vm, params_key FROM vm_results r WHERE"
		     " r.scenario = ?1%s ORDER BY vm, params_key LIMIT %d",
		     series_where(o), HISTORY_SERIES_LISTED + 1) < 0) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "history series", e);
	series_bind(st, o);
	list[0] = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = col_text(st, 1);

		if (n++ < HISTORY_SERIES_LISTED && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s--vm %s%s%s",
						n > 1 ? ", " : "", col_text(st, 0),
						*key ? " --params " : "", key);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return report_sql_fail(db, rc, "history series", e);
	if (n <= 1)
		return 0;
	verr_set(e, "%s holds %s%d series for these options; a history is one, never an"
		 " average across VMs or matrix points: choose with %s%s", o->scenario,
		 n > HISTORY_SERIES_LISTED ? "more than " : "",
		 n > HISTORY_SERIES_LISTED ? HISTORY_SERIES_LISTED : n, list,
		 n > HISTORY_SERIES_LISTED ? ", ..." : "");
	return -EDOM;
}

/* The stored configuration of result @id, malloc'd; NULL when out of memory. */
static char *config_of(sqlite3_stmt *one, int64_t id)
{
	const char *text = NULL;
	char *copy;

	sqlite3_bind_int64(one, 1, id);
	if (sqlite3_step(one) == SQLITE_ROW)
		text = (const char *)sqlite3_column_text(one, 0);
	copy = strdup(text ? text : "");
	sqlite3_reset(one);
	return copy;
}

/*
 * Each point whose job configuration differs from the point before gets
 * config_keys: the first result of each run, the runs in the history's
 * order.  Results without a stored configuration break no chain.  Only
 * the runs from the last one with a configuration before the first point
 * to the last point are read: what is older or newer changes no point's
 * keys.  The hashes come from the covering index vm_results_config
 * (schema/010, only the results that have a configuration); the two
 * configurations are read, by id, only where the hash changes.
 */
static int history_configs(sqlite3 *db, struct hq *q, struct verr *e)
{
	const struct history *h = q->h;
	const char *series = series_where(q->o);
	sqlite3_stmt *st = NULL, *one = NULL;
	char *sql, *prev_hash = NULL;
	int64_t prev_id = 0;
	int rc;

	if (!h->npoints)
		return 0;
	/* The subquery's r is its own: the same series, before the first point. */
	if (asprintf(&sql, "SELECT run_id, id, config_hash FROM vm_results r WHERE"
		     " r.scenario = ?1%s AND config_hash IS NOT NULL AND r.run_id BETWEEN"
		     " coalesce((SELECT max(r.run_id) FROM vm_results r WHERE r.scenario = ?1%s"
		     " AND r.config_hash IS NOT NULL AND r.run_id < ?7), ?7) AND ?8"
		     " ORDER BY run_id, id", series, series) < 0) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT config FROM vm_results WHERE id = ?",
					-1, &one, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return report_sql_fail(db, rc, "history configurations", e);
	}
	series_bind(st, q->o);
	sqlite3_bind_int64(st, 7, h->points[0].run_id);
	sqlite3_bind_int64(st, 8, h->points[h->npoints - 1].run_id);
	for (int64_t last = -1; (rc = sqlite3_step(st)) == SQLITE_ROW;) {
		int64_t run = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 1);
		const char *hash = col_text(st, 2);
		struct history_point *p;

		if (run == last)
			continue;	/* the run's first result speaks for it */
		last = run;
		p = point_find(q->h, run);
		if (p && prev_hash && strcmp(prev_hash, hash)) {
			char *a = config_of(one, prev_id), *b = config_of(one, id);

			p->config_keys = a && b ? config_diff(a, b) : NULL;
			free(a);
			free(b);
			if (!p->config_keys) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		free(prev_hash);
		prev_hash = strdup(hash);
		prev_id = id;
		if (!prev_hash) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(one);
	free(prev_hash);
	if (rc == SQLITE_NOMEM) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, "history configurations", e);
}

int history_query(sqlite3 *db, const struct history_opts *o, struct history **out,
		  struct verr *e)
{
	bool own_txn = sqlite3_get_autocommit(db);
	struct hq q;
	int rc;

	*out = NULL;
	rc = hq_init(&q, o, e);
	if (rc)
		goto out;
	if (own_txn)
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	rc = history_one_series(db, o, e);
	if (!rc)
		rc = history_runs(db, &q, e);
	if (!rc)
		rc = history_values(db, &q, e);
	if (!rc)
		rc = history_configs(db, &q, e);
	if (!rc)
		rc = history_group(db, q.h, o->by, e);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
	free(q.cap);
	if (rc) {
		history_free(q.h);
		return rc;
	}
	*out = q.h;
	return 0;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->npoints; i++) {
		free(h->points[i].label);
		free(h->points[i].started_at);
		free(h->points[i].config_keys);
		free(h->points[i].group);
		agg_clear(&h->points[i].value);
	}
	free(h->points);
	free(h->scenario);
	free(h->vm);
	free(h->params_key);
	free(h->metric);
	free(h);
}

/* ---- EXPLAIN QUERY PLAN, for bench/db.sh and the curious ---- */

static int explain_one(sqlite3 *db, const char *sql, const struct hq *q,
		       bool values, FILE *f, struct verr *e)
{
	char *x = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if (asprintf(&x, "EXPLAIN QUERY PLAN %s", sql) < 0) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, x, -1, &st, NULL);
	free(x);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "explain", e);
	if (values)
		values_bind(st, q);
	else
		runs_bind(st, q->o);
	fprintf(f, "%s\n", sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(f, "  %s%s\n", sqlite3_column_int(st, 1) ? "  " : "",
			col_text(st, 3));
	rc = rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, "explain", e);
	sqlite3_finalize(st);
	return rc;
}

int history_explain(sqlite3 *db, const struct history_opts *o, FILE *f,
		    struct verr *e)
{
	char *sql = NULL;
	struct hq q;
	int rc;

	rc = hq_init(&q, o, e);
	if (!rc)
		rc = history_runs(db, &q, e);
	if (!rc && !(sql = runs_sql(o)))
		rc = -ENOMEM;
	if (!rc)
		rc = explain_one(db, sql, &q, false, f, e);
	free(sql);
	sql = NULL;
	if (!rc && !(sql = values_sql(&q)))
		rc = -ENOMEM;
	if (!rc)
		rc = explain_one(db, sql, &q, true, f, e);
	if (rc == -ENOMEM)
		verr_set(e, "out of memory");
	free(sql);
	history_free(q.h);
	return rc;
}
