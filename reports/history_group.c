/*
 * history_group.c - `vmorch history --by commit|date`: the per-run points
 * of a history (reports/history.c) pooled into one point per commit (the
 * run's "commit" metadata, schema/006) or per UTC day.  A group's point
 * sits where its first run was, holds the repeats of all its runs, and
 * says a configuration change if any of its runs did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/history_group.h"
#include "reports/report.h"

const char *history_by_name(enum history_by by)
{
	switch (by) {
	case HISTORY_BY_RUN:	return "run";
	case HISTORY_BY_COMMIT:	return "commit";
	case HISTORY_BY_DATE:	return "date";
	}
	return "?";
}

int history_by_parse(const char *s, enum history_by *by)
{
	for (int i = HISTORY_BY_RUN; i <= HISTORY_BY_DATE; i++)
		if (!strcmp(s, history_by_name(i))) {
			*by = i;
			return 0;
		}
	return -EINVAL;
}

/* The commit of each point's run, into group (NULL: none recorded). */
static int groups_commit(sqlite3 *db, struct history *h, struct verr *e)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT run_id, value FROM run_meta WHERE"
				" key = 'commit' AND run_id BETWEEN ?1 AND ?2"
				" ORDER BY run_id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return report_sql_fail(db, rc, "history commits", e);
	sqlite3_bind_int64(st, 1, h->points[0].run_id);
	sqlite3_bind_int64(st, 2, h->points[h->npoints - 1].run_id);
	/* Both in run order: one merge walk. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t run = sqlite3_column_int64(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		while (i < h->npoints && h->points[i].run_id < run)
			i++;
		if (i == h->npoints)
			break;
		if (h->points[i].run_id == run && !(h->points[i].group = strdup(v ? v : ""))) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_NOMEM) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 :
	       report_sql_fail(db, rc, "history commits", e);
}

/* The UTC day of each point's run: started_at is ISO 8601 in UTC. */
static int groups_date(struct history *h, struct verr *e)
{
	for (size_t i = 0; i < h->npoints; i++) {
		h->points[i].group = strndup(h->points[i].started_at, 10);
		if (!h->points[i].group) {
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

struct member {
	const char *group;
	size_t idx;		/* in the per-run points, oldest first */
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Points of a group, by their first run. */
static int first_cmp(const void *a, const void *b)
{
	const struct history_point *x = a, *y = b;

	return x->run_id < y->run_id ? -1 : x->run_id > y->run_id;
}

static void point_clear(struct history_point *p)
{
	free(p->label);
	free(p->started_at);
	free(p->config_keys);
	free(p->group);
	agg_clear(&p->value);
}

/* Pool the points m[0..n) (one group, oldest first) into @out. */
static int group_pool(struct history_point *pts, const struct member *m, size_t n,
		      struct history_point *out)
{
	struct history_point *first = &pts[m[0].idx];
	size_t total = 0, k = 0;
	double *v;
	int rc;

	for (size_t i = 0; i < n; i++)
		total += pts[m[i].idx].value.n;
	v = malloc((total + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct agg *a = &pts[m[i].idx].value;

		memcpy(v + k, a->values, a->n * sizeof(*v));
		k += a->n;
	}
	memset(out, 0, sizeof(*out));
	rc = agg_fill(&out->value, v, total);
	free(v);
	if (rc)
		return -ENOMEM;
	/* The first run's identity; the group's name; the first change said. */
	out->run_id = first->run_id;
	out->label = first->label;
	out->started_at = first->started_at;
	out->group = first->group;
	first->label = first->started_at = first->group = NULL;
	for (size_t i = 0; i < n && !out->config_keys; i++) {
		out->config_keys = pts[m[i].idx].config_keys;
		pts[m[i].idx].config_keys = NULL;
	}
	out->nruns = n;
	return 0;
}

static int groups_pool(struct history *h, struct member *m, size_t nm)
{
	struct history_point *g = calloc(nm + 1, sizeof(*g));
	size_t ng = 0;
	int rc = 0;

	if (!g)
		return -ENOMEM;
	qsort(m, nm, sizeof(*m), member_cmp);
	for (size_t i = 0; i < nm && !rc;) {
		size_t j = i + 1;

		while (j < nm && !strcmp(m[j].group, m[i].group))
			j++;
		rc = group_pool(h->points, m + i, j - i, &g[ng]);
		ng += !rc;
		i = j;
	}
	qsort(g, ng, sizeof(*g), first_cmp);
	for (size_t i = 0; i < h->npoints; i++)
		point_clear(&h->points[i]);
	free(h->points);
	h->points = g;
	h->npoints = ng;
	return rc;
}

int history_group(sqlite3 *db, struct history *h, enum history_by by,
		  struct verr *e)
{
	struct member *m;
	size_t nm = 0;
	int rc;

	h->by = by;
	h->nruns = h->npoints;
	for (size_t i = 0; i < h->npoints; i++)
		h->points[i].nruns = 1;
	if (by == HISTORY_BY_RUN || !h->npoints)
		return 0;
	rc = by == HISTORY_BY_COMMIT ? groups_commit(db, h, e) : groups_date(h, e);
	if (rc)
		return rc;
	m = malloc((h->npoints + 1) * sizeof(*m));
	if (!m)
		goto oom;
	for (size_t i = 0; i < h->npoints; i++)
		if (h->points[i].group)
			m[nm++] = (struct member){ h->points[i].group, i };
	h->ungrouped = h->npoints - nm;
	h->nruns = nm;
	rc = groups_pool(h, m, nm);
	free(m);
	if (!rc)
		return 0;
oom:
	verr_set(e, "out of memory");
	return -ENOMEM;
}
