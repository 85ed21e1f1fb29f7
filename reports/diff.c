/*
 * diff.c - `vmorch diff A B`: match the results of two runs by (scenario,
 * VM, matrix parameters), aggregate the repeats of each counter and metric,
 * and judge every change (doc/reports.md "Verdicts").  Each run is read
 * with two queries that walk the vm_results_run index in matching order.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metric_dirs.h"
#include "reports/diff_judge.h"
#include "reports/report.h"
#include "reports/stats.h"

/* A growable array of values: one counter or metric over a key's repeats. */
struct series {
	char *name;		/* guest metrics only; NULL for fixed series */
	double *v;
	size_t n, cap;
};

/*
 * One job key of one run.  The fixed series are the counters (summed over
 * disks, only from results that have disks), then wall_us and boot_us;
 * guest metrics follow in the order they were first seen.
 */
#define FIXED_WALL	VBLK_NR_COUNTERS
#define FIXED_BOOT	(VBLK_NR_COUNTERS + 1)
#define NR_FIXED	(VBLK_NR_COUNTERS + 2)

struct run_key {
	char *scenario, *vm, *params, *params_key;
	char *config, *config_hash;	/* of its first result; "" unknown */
	size_t nres, npass;
	struct series fixed[NR_FIXED];
	size_t nmetrics;
	struct series *metrics;
};

/*
 * One vm_results row while its disks are being summed.  A failed result
 * adds to its key's verdicts only: its numbers (zeros from a VM that never
 * booted) are not compared, or a fix would show as a regression.
 */
struct run_res {
	int64_t id;
	size_t key;
	bool pass;
};

struct run_data {
	size_t nkeys, capkeys;
	struct run_key *keys;
	size_t nres, capres;
	struct run_res *res;
};

static int series_push(struct series *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4;
		double *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static void run_key_clear(struct run_key *k)
{
	free(k->scenario);
	free(k->vm);
	free(k->params);
	free(k->params_key);
	free(k->config);
	free(k->config_hash);
	for (int f = 0; f < NR_FIXED; f++)
		free(k->fixed[f].v);
	for (size_t m = 0; m < k->nmetrics; m++) {
		free(k->metrics[m].name);
		free(k->metrics[m].v);
	}
	free(k->metrics);
}

static void run_data_free(struct run_data *rd)
{
	for (size_t i = 0; i < rd->nkeys; i++)
		run_key_clear(&rd->keys[i]);
	free(rd->keys);
	free(rd->res);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "";
}

/* ---- loading one run ---- */

enum {
	RQ_ID, RQ_SCENARIO, RQ_VM, RQ_PARAMS, RQ_PARAMS_KEY, RQ_VERDICT,
	RQ_WALL, RQ_BOOT, RQ_CONFIG_HASH, RQ_CONFIG, RQ_DISK, RQ_COUNTERS
};

static bool key_same(const struct run_key *k, sqlite3_stmt *st)
{
	return strcmp(k->scenario, col_text(st, RQ_SCENARIO)) == 0 &&
	       strcmp(k->vm, col_text(st, RQ_VM)) == 0 &&
	       strcmp(k->params_key, col_text(st, RQ_PARAMS_KEY)) == 0;
}

/* A new, uninitialised key at the end of @rd's list, or NULL. */
static struct run_key *run_data_slot(struct run_data *rd)
{
	if (rd->nkeys == rd->capkeys) {
		size_t cap = rd->capkeys ? 2 * rd->capkeys : 64;
		struct run_key *nk = realloc(rd->keys, cap * sizeof(*nk));

		if (!nk)
			return NULL;
		rd->keys = nk;
		rd->capkeys = cap;
	}
	return &rd->keys[rd->nkeys++];
}

static int key_add(struct run_data *rd, sqlite3_stmt *st)
{
	struct run_key *k = run_data_slot(rd);

	if (!k)
		return -ENOMEM;
	memset(k, 0, sizeof(*k));
	k->scenario = strdup(col_text(st, RQ_SCENARIO));
	k->vm = strdup(col_text(st, RQ_VM));
	k->params = strdup(col_text(st, RQ_PARAMS));
	k->params_key = strdup(col_text(st, RQ_PARAMS_KEY));
	k->config = strdup(col_text(st, RQ_CONFIG));
	k->config_hash = strdup(col_text(st, RQ_CONFIG_HASH));
	if (!k->scenario || !k->vm || !k->params || !k->params_key || !k->config ||
	    !k->config_hash)
		return -ENOMEM;
	return 0;
}

static int res_add(struct run_data *rd, int64_t id, bool pass)
{
	if (rd->nres == rd->capres) {
		size_t cap = rd->capres ? 2 * rd->capres : 256;
		struct run_res *nr = realloc(rd->res, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		rd->res = nr;
		rd->capres = cap;
	}
	rd->res[rd->nres++] = (struct run_res){ id, rd->nkeys - 1, pass };
	return 0;
}

/* A new result row: its key (new when it differs), verdict and timings. */
static int result_begin(struct run_data *rd, sqlite3_stmt *st)
{
	bool pass = strcmp(col_text(st, RQ_VERDICT), "pass") == 0;
	struct run_key *k;
	int rc;

	if (!rd->nkeys || !key_same(&rd->keys[rd->nkeys - 1], st)) {
		rc = key_add(rd, st);
		if (rc)
			return rc;
	}
	rc = res_add(rd, sqlite3_column_int64(st, RQ_ID), pass);
	if (rc)
		return rc;
	k = &rd->keys[rd->nkeys - 1];
	k->nres++;
	if (!pass)
		return 0;
	k->npass++;
	rc = series_push(&k->fixed[FIXED_WALL], sqlite3_column_double(st, RQ_WALL));
	if (!rc)
		rc = series_push(&k->fixed[FIXED_BOOT], sqlite3_column_double(st, RQ_BOOT));
	return rc;
}

/*
 * Sum a result's disks: its first disk row starts a new repeat in every
 * counter series, the others add to it.
 */
static int result_disk(struct run_data *rd, sqlite3_stmt *st, bool first)
{
	struct run_key *k = &rd->keys[rd->nkeys - 1];

	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		struct series *s = &k->fixed[i];
		double v = sqlite3_column_double(st, RQ_COUNTERS + i);

		if (first) {
			int rc = series_push(s, v);

			if (rc)
				return rc;
		} else {
			s->v[s->n - 1] += v;
		}
	}
	return 0;
}

static int run_load_results(sqlite3 *db, int64_t run, struct run_data *rd,
			    struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int64_t last = -1;
	int rc;

	/* Both runs come in the same key order, so A and B merge. */
	rc = report_prepare_run_rows(db, run, "r.id, r.scenario, r.vm, r.params,"
				     " r.params_key, r.verdict, r.wall_us, r.boot_us,"
				     " r.config_hash, r.config",
				     "diff", &st, e);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, RQ_ID);
		bool first = id != last;

		if (first && (rc = result_begin(rd, st)))
			goto oom;
		last = id;
		/* LEFT JOIN: a VM without disks is one row of NULLs. */
		if (rd->res[rd->nres - 1].pass &&
		    sqlite3_column_type(st, RQ_DISK) != SQLITE_NULL &&
		    (rc = result_disk(rd, st, first)))
			goto oom;
	}
	rc = rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, "diff", e);
	sqlite3_finalize(st);
	return rc;
oom:
	sqlite3_finalize(st);
	verr_set(e, "out of memory");
	return -ENOMEM;
}

static struct series *key_metric(struct run_key *k, const char *name)
{
	struct series *m;

	for (size_t i = 0; i < k->nmetrics; i++)
		if (strcmp(k->metrics[i].name, name) == 0)
			return &k->metrics[i];
	m = realloc(k->metrics, (k->nmetrics + 1) * sizeof(*m));
	if (!m)
		return NULL;
	k->metrics = m;
	m = &k->metrics[k->nmetrics];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	if (!m->name)
		return NULL;
	k->nmetrics++;
	return m;
}

/*
 * The metrics come in the same total order as the results, so one cursor
 * walks both.  wall_us and boot_us come from vm_results; a guest metric of
 * the same name would be counted twice and is skipped.
 */
static int run_load_metrics(sqlite3 *db, int64_t run, struct run_data *rd,
			    struct verr *e)
{
	sqlite3_stmt *st = NULL;
	size_t cur = 0;
	int rc;

	rc = report_prepare_run_metrics(db, run, &st, e);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *name = col_text(st, 1);
		struct series *s;

		while (cur < rd->nres && rd->res[cur].id != id)
			cur++;
		if (cur == rd->nres) {
			verr_set(e, "diff: metric of result %" PRId64
				 " out of order (concurrent write?)", id);
			rc = -EAGAIN;
			goto out;
		}
		if (!rd->res[cur].pass ||
		    !strcmp(name, "wall_us") || !strcmp(name, "boot_us"))
			continue;
		s = key_metric(&rd->keys[rd->res[cur].key], name);
		if (!s || series_push(s, sqlite3_column_double(st, 2))) {
			verr_set(e, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : report_sql_fail(db, rc, "diff metrics", e);
out:
	sqlite3_finalize(st);
	return rc;
}

static int run_load(sqlite3 *db, int64_t run, struct run_data *rd,
		    struct verr *e)
{
	int rc;

	rc = run_load_results(db, run, rd, e);
	if (!rc)
		rc = run_load_metrics(db, run, rd, e);
	if (rc)
		verr_prefix(e, "run %" PRId64, run);
	return rc;
}

/* ---- judging ---- */

static int key_cmp(const struct run_key *a, const struct run_key *b)
{
	int c = strcmp(a->scenario, b->scenario);

	if (!c)
		c = strcmp(a->vm, b->vm);
	if (!c)
		c = strcmp(a->params_key, b->params_key);
	return c;
}

struct row_list {
	size_t n, cap;
	struct diff_row *v;
};

static struct diff_row *row_new(struct row_list *l, const struct diff_job *j)
{
	struct diff_row *r;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct diff_row *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = cap;
	}
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->scenario = j->scenario;
	r->vm = j->vm;
	r->params = j->params;
	r->params_key = j->params_key;
	return r;
}

/*
 * Append the row of one series; @sa or @sb may be NULL or empty.  @judged:
 * whether the series is in the default judged set.
 */
static int row_add(struct row_list *l, const struct diff_job *j, const char *name,
		   const char *unit, enum vmorch_dir dir, bool is_counter,
		   bool judged, const struct series *sa, const struct series *sb,
		   const struct diff_opts *o, bool *small)
{
	struct diff_row *r;
	bool has_a = sa && sa->n, has_b = sb && sb->n;

	if (!has_a && !has_b)
		return 0;
	r = row_new(l, j);
	if (!r || !(r->name = strdup(name)))
		return -ENOMEM;
	r->unit = unit;
	r->dir = dir;
	r->is_counter = is_counter;
	r->p_value = NAN;
	r->p_adjusted = NAN;
	diff_row_choose(r, o, judged);
	if ((has_a && agg_fill(&r->a, sa->v, sa->n)) ||
	    (has_b && agg_fill(&r->b, sb->v, sb->n)))
		return -ENOMEM;
	r->delta = r->b.mean - r->a.mean;
	r->delta_pct = r->a.mean != 0 ? 100 * r->delta / fabs(r->a.mean) : NAN;
	if (!has_a)
		r->verdict = DIFF_NEW;
	else if (!has_b)
		r->verdict = DIFF_MISSING;
	else
		return diff_row_test(r, o, small);	/* verdict: diff_rows_judge() */
	return 0;
}

static int metric_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct series *metric_find(struct run_key *k, const char *name)
{
	for (size_t i = 0; i < k->nmetrics; i++)
		if (strcmp(k->metrics[i].name, name) == 0)
			return &k->metrics[i];
	return NULL;
}

/* Guest metric rows of a key, by name over the union of both sides. */
static int rows_metrics(struct row_list *l, const struct diff_job *j,
			struct run_key *ka, struct run_key *kb,
			const struct diff_opts *o, bool *small)
{
	size_t n = 0;
	char **names = malloc((ka->nmetrics + kb->nmetrics + 1) * sizeof(*names));
	int rc = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < ka->nmetrics; i++)
		names[n++] = ka->metrics[i].name;
	for (size_t i = 0; i < kb->nmetrics; i++)
		if (!metric_find(ka, kb->metrics[i].name))
			names[n++] = kb->metrics[i].name;
	qsort(names, n, sizeof(*names), metric_name_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct vm_metric_info *mi = vm_metric_find(names[i]);

		rc = row_add(l, j, names[i], mi ? mi->unit : "",
			     mi ? mi->dir : VMORCH_DIR_NEUTRAL, false,
			     mi && mi->judged, metric_find(ka, names[i]), metric_find(kb, names[i]),
			     o, small);
	}
	free(names);
	return rc;
}

/* Every row of a key present in both runs, counters first. */
static int rows_key(struct row_list *l, const struct diff_job *j,
		    struct run_key *ka, struct run_key *kb,
		    const struct diff_opts *o, bool *small)
{
	const struct vm_metric_info *wall = vm_metric_find("wall_us");
	const struct vm_metric_info *boot = vm_metric_find("boot_us");
	int rc = 0;

	for (int i = 0; i < VBLK_NR_COUNTERS && !rc; i++)
		rc = row_add(l, j, vblk_fields[i].name, vblk_fields[i].unit,
			     vblk_fields[i].dir, true, true, &ka->fixed[i],
			     &kb->fixed[i], o, small);
	if (!rc)
		rc = row_add(l, j, "wall_us", wall->unit, wall->dir, false,
			     wall->judged, &ka->fixed[FIXED_WALL], &kb->fixed[FIXED_WALL],
			     o, small);
	if (!rc)
		rc = row_add(l, j, "boot_us", boot->unit, boot->dir, false,
			     boot->judged, &ka->fixed[FIXED_BOOT], &kb->fixed[FIXED_BOOT],
			     o, small);
	if (!rc)
		rc = rows_metrics(l, j, ka, kb, o, small);
	return rc;
}

/*
 * Pass -> fail is a regression whatever the numbers say, fail -> pass an
 * improvement; a job that fails now and did not before (or is new and
 * fails) is newly failing.
 */
static enum diff_verdict job_judge(const struct diff_job *j)
{
	if (!j->n_a)
		return DIFF_NEW;
	if (!j->n_b)
		return DIFF_MISSING;
	if (j->pass_a == j->n_a && j->pass_b < j->n_b)
		return DIFF_REGRESSED;
	if (j->pass_a < j->n_a && j->pass_b == j->n_b)
		return DIFF_IMPROVED;
	return DIFF_UNCHANGED;
}

/* The job's configurations, when both are known and differ. */
static int job_config(struct diff_job *j, const struct run_key *ka, const struct run_key *kb)
{
	if (!ka || !kb || !ka->config_hash[0] || !kb->config_hash[0] ||
	    !strcmp(ka->config_hash, kb->config_hash))
		return 0;
	j->config_changed = true;
	j->config_keys = config_diff(ka->config, kb->config);
	return j->config_keys ? 0 : -ENOMEM;
}

static int job_set(struct diff_job *j, const struct run_key *ka,
		   const struct run_key *kb, const struct diff_opts *o)
{
	const struct run_key *k = ka ? ka : kb;

	j->scenario = strdup(k->scenario);
	j->vm = strdup(k->vm);
	j->params = strdup(k->params);
	j->params_key = strdup(k->params_key);
	if (!j->scenario || !j->vm || !j->params || !j->params_key)
		return -ENOMEM;
	j->n_a = ka ? ka->nres : 0;
	j->pass_a = ka ? ka->npass : 0;
	j->n_b = kb ? kb->nres : 0;
	j->pass_b = kb ? kb->npass : 0;
	j->verdict = job_judge(j);
	j->newly_failing = j->pass_b < j->n_b &&
			   (j->verdict == DIFF_REGRESSED || j->verdict == DIFF_NEW);
	/* The variants of --ab differ in configuration by design. */
	return o->ab_key ? 0 : job_config(j, ka, kb);
}

/* Merge the two sorted key lists into jobs, and rows for common keys. */
static int diff_merge(struct diff *d, struct run_data *ra, struct run_data *rb,
		      const struct diff_opts *o, struct row_list *rows)
{
	size_t ia = 0, ib = 0;
	int rc = 0;

	d->jobs = calloc(ra->nkeys + rb->nkeys + 1, sizeof(*d->jobs));
	if (!d->jobs)
		return -ENOMEM;
	while (!rc && (ia < ra->nkeys || ib < rb->nkeys)) {
		struct run_key *ka = ia < ra->nkeys ? &ra->keys[ia] : NULL;
		struct run_key *kb = ib < rb->nkeys ? &rb->keys[ib] : NULL;
		int c = !ka ? 1 : !kb ? -1 : key_cmp(ka, kb);
		struct diff_job *j;

		if (c < 0)
			kb = NULL;
		else if (c > 0)
			ka = NULL;
		ia += ka != NULL;
		ib += kb != NULL;
		if (!diff_opts_params_selected(o, (ka ? ka : kb)->params_key))
			continue;
		j = &d->jobs[d->njobs++];
		rc = job_set(j, ka, kb, o);
		/* Numbers are compared between passing results only. */
		if (!rc && ka && kb && ka->npass && kb->npass) {
			size_t first = rows->n;

			rc = rows_key(rows, j, ka, kb, o, &d->small_sample);
			/* Another configuration is another experiment: not judged. */
			for (size_t i = first; !rc && j->config_changed &&
			     !o->allow_config_change && i < rows->n; i++)
				rows->v[i].judged = false;
		}
	}
	if (!rc)
		rc = diff_rows_judge(rows->v, rows->n, o, &d->family);
	return rc;
}

/* Each --params and --metric must name something the runs have. */
static int diff_check_selection(const struct diff *d, const struct row_list *rows,
				const struct diff_opts *o, struct verr *e)
{
	for (size_t k = 0; k < o->nparams; k++) {
		size_t i = 0;

		while (i < d->njobs && strcmp(d->jobs[i].params_key, o->params[k]))
			i++;
		if (i == d->njobs) {
			verr_set(e, "--params %s: no job of either run has these"
				 " parameters", o->params[k]);
			return -ENOENT;
		}
	}
	for (size_t k = 0; k < o->nmetrics; k++) {
		size_t i = 0;

		while (i < rows->n && strcmp(rows->v[i].name, o->metrics[k].name))
			i++;
		if (i == rows->n) {
			verr_set(e, "--metric %s: no compared job has it (a counter,"
				 " wall_us, boot_us or a guest metric)",
				 o->metrics[k].name);
			return -ENOENT;
		}
	}
	return 0;
}

/* ---- ordering and counting ---- */

static size_t *verdict_counter(struct diff *d, enum diff_verdict v)
{
	switch (v) {
	case DIFF_IMPROVED:	return &d->improved;
	case DIFF_REGRESSED:	return &d->regressed;
	case DIFF_NEW:		return &d->added;
	case DIFF_MISSING:	return &d->missing;
	case DIFF_REPORTED:	return &d->reported;
	default:		return &d->unchanged;
	}
}

/*
 * Regressions first, everything else after in key order: a stable
 * partition, so rows of one key stay in counter-list order.
 */
static int diff_order_rows(struct diff *d, struct row_list *l)
{
	size_t n = 0;

	d->rows = malloc((l->n + 1) * sizeof(*d->rows));
	if (!d->rows)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < l->n; i++)
			if ((l->v[i].verdict == DIFF_REGRESSED) == (pass == 0))
				d->rows[n++] = l->v[i];
	d->nrows = n;
	free(l->v);
	l->v = NULL;
	l->n = 0;
	return 0;
}

static int diff_order_jobs(struct diff *d)
{
	struct diff_job *v = malloc((d->njobs + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->njobs; i++)
			if ((d->jobs[i].verdict == DIFF_REGRESSED) == (pass == 0))
				v[n++] = d->jobs[i];
	free(d->jobs);
	d->jobs = v;
	/* Rows point at their job's strings, which moved with the structs only. */
	return 0;
}

static void diff_count(struct diff *d)
{
	for (size_t i = 0; i < d->nrows; i++)
		(*verdict_counter(d, d->rows[i].verdict))++;
	for (size_t i = 0; i < d->njobs; i++) {
		(*verdict_counter(d, d->jobs[i].verdict))++;
		d->missing_jobs += d->jobs[i].verdict == DIFF_MISSING;
		d->failing_jobs += d->jobs[i].newly_failing;
		d->config_changed += d->jobs[i].config_changed;
	}
	d->b_incomplete = run_info_incomplete(&d->b);
}

/* ---- A/B inside one run ---- */

/*
 * Which side of --ab a params key is on: 'a', 'b' or 0, and where its
 * component ("kernel=old.bzImage", encoded as stored) is.
 */
static int ab_side(const char *pk, const struct diff_opts *o, const char **at,
		   size_t *len)
{
	for (const char *c = pk; *c;) {
		const char *end = strchr(c, ',');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		*at = c;
		*len = n;
		if (n == strlen(o->ab_a) && !strncmp(c, o->ab_a, n))
			return 'a';
		if (n == strlen(o->ab_b) && !strncmp(c, o->ab_b, n))
			return 'b';
		c += n + (end != NULL);
	}
	return 0;
}

/* @pk without its component at [at, at + len) and that component's comma. */
static char *pk_without(const char *pk, const char *at, size_t len)
{
	size_t head = (size_t)(at - pk), tail_at = head + len;
	char *s = malloc(strlen(pk) + 1);

	if (!s)
		return NULL;
	if (pk[tail_at] == ',')
		tail_at++;		/* "x,kernel=a,y" -> "x,y"; "kernel=a,y" -> "y" */
	else if (head)
		head--;			/* "x,kernel=a" -> "x" */
	memcpy(s, pk, head);
	strcpy(s + head, pk + tail_at);
	return s;
}

static int run_key_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static int run_data_take(struct run_data *rd, const struct run_key *k)
{
	struct run_key *slot = run_data_slot(rd);

	if (!slot)
		return -ENOMEM;
	*slot = *k;
	return 0;
}

/*
 * Deal the keys of one run out to the two variants of --ab: each key
 * that has the component goes to its side without it, so that the other
 * parameters match the two sides up; keys of neither are dropped.
 */
static int run_data_split(struct run_data *rd, const struct diff_opts *o,
			  struct run_data *ra, struct run_data *rb, struct verr *e)
{
	int rc = 0;

	for (size_t i = 0; i < rd->nkeys; i++) {
		struct run_key *k = &rd->keys[i];
		const char *at;
		size_t len;
		int side = ab_side(k->params_key, o, &at, &len);
		char *pk;

		if (!side || rc) {
			run_key_clear(k);
			continue;
		}
		pk = pk_without(k->params_key, at, len);
		if (!pk) {
			run_key_clear(k);
			rc = -ENOMEM;
			continue;
		}
		free(k->params_key);
		k->params_key = pk;
		if (run_data_take(side == 'a' ? ra : rb, k)) {
			run_key_clear(k);
			rc = -ENOMEM;
		}
	}
	rd->nkeys = 0;
	if (rc) {
		verr_set(e, "out of memory");
		return rc;
	}
	if (!ra->nkeys || !rb->nkeys) {
		verr_set(e, "--ab %s,%s: no job of the run has %s", o->ab_a, o->ab_b,
			 ra->nkeys ? o->ab_b : o->ab_a);
		return -ENOENT;
	}
	qsort(ra->keys, ra->nkeys, sizeof(*ra->keys), run_key_qcmp);
	qsort(rb->keys, rb->nkeys, sizeof(*rb->keys), run_key_qcmp);
	return 0;
}

static int diff_load_runs(sqlite3 *db, struct diff *d, int64_t a, int64_t b,
			  const struct diff_opts *o, struct run_data *ra,
			  struct run_data *rb, struct verr *e)
{
	struct run_data one = { 0 };
	int rc;

	rc = run_info_load(db, a, &d->a, e);
	if (!rc)
		rc = run_info_load(db, b, &d->b, e);
	if (!rc && o->ab_key) {
		rc = run_load(db, a, &one, e);
		if (!rc)
			rc = run_data_split(&one, o, ra, rb, e);
		run_data_free(&one);
		return rc;
	}
	if (!rc)
		rc = run_load(db, a, ra, e);
	if (!rc)
		rc = run_load(db, b, rb, e);
	return rc;
}

int diff_compute(sqlite3 *db, int64_t a, int64_t b, const struct diff_opts *o,
		 struct diff **out, struct verr *e)
{
	struct run_data ra = { 0 }, rb = { 0 };
	struct row_list rows = { 0 };
	struct diff *d;
	bool own_txn = sqlite3_get_autocommit(db);
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	d->threshold_pct = o->threshold_pct;
	d->alpha = o->alpha;
	/* One snapshot for both runs: a run storing results meanwhile is consistent. */
	if (own_txn)
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	rc = diff_load_runs(db, d, a, b, o, &ra, &rb, e);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc)
		goto fail;
	d->correction = o->correction;
	d->metrics_chosen = o->nmetrics > 0;
	if (o->ab_key && (!(d->ab_a = strdup(o->ab_a)) || !(d->ab_b = strdup(o->ab_b)))) {
		verr_set(e, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = diff_merge(d, &ra, &rb, o, &rows);
	if (rc) {
		verr_set(e, "out of memory");
		goto fail;
	}
	rc = diff_check_selection(d, &rows, o, e);
	if (rc)
		goto fail;
	rc = diff_order_rows(d, &rows);
	if (!rc)
		rc = diff_order_jobs(d);
	if (rc) {
		verr_set(e, "out of memory");
		goto fail;
	}
	diff_count(d);
	run_data_free(&ra);
	run_data_free(&rb);
	*out = d;
	return 0;
fail:
	for (size_t i = 0; i < rows.n; i++) {
		free(rows.v[i].name);
		agg_clear(&rows.v[i].a);
		agg_clear(&rows.v[i].b);
	}
	free(rows.v);
	run_data_free(&ra);
	run_data_free(&rb);
	diff_free(d);
	return rc;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	run_info_clear(&d->a);
	run_info_clear(&d->b);
	free(d->ab_a);
	free(d->ab_b);
	for (size_t i = 0; i < d->nrows; i++) {
		free(d->rows[i].name);
		agg_clear(&d->rows[i].a);
		agg_clear(&d->rows[i].b);
	}
	free(d->rows);
	for (size_t i = 0; i < d->njobs; i++) {
		free(d->jobs[i].scenario);
		free(d->jobs[i].vm);
		free(d->jobs[i].params);
		free(d->jobs[i].params_key);
		free(d->jobs[i].config_keys);
	}
	free(d->jobs);
	free(d);
}
