/*
 * render_html_charts.c - the HTML report's charts of a run's matrix and of
 * each job series.  A sweep is a metric against one numeric matrix key (x
 * in numeric order, a line per combination of the other keys, whiskers
 * from the repeats); a trend is one job key's metric over its recent runs
 * (report_series.c), by commit when every run recorded one, else by date.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/metric_dirs.h"
#include "reports/render_html.h"
#include "reports/svg.h"

#define SWEEP_KEYS_MAX	8	/* matrix keys of a job; more: no sweep */
#define SWEEP_X_MAX	32	/* values on an x axis; more: no sweep */
#define TIP_MAX		320
#define NAME_MAX_LEN	320

static const char whisker_note[] =
	"Whiskers: min-max of the repeats (passing results only).";

/* ---- matrix values ---- */

struct pval {
	char key[64];
	char text[64];		/* as the scenario wrote it: "4k", "16" */
	double num;		/* NAN: neither a number nor a size */
	bool size;		/* written with a size unit ("4k", "1MiB") */
};

/* One job and its matrix values, keys in the stored (sorted) order. */
struct pjob {
	const struct report_job *j;
	size_t nkeys;
	struct pval v[SWEEP_KEYS_MAX];
};

/* "16" -> 16, "4k" -> 4096 (a size, binary as in scenarios), "x" -> NAN. */
static double matrix_number(const char *s, bool *size)
{
	static const struct {
		const char *sfx;
		int shift;
	} u[] = {
		{ "k", 10 }, { "K", 10 }, { "KiB", 10 }, { "m", 20 }, { "M", 20 },
		{ "MiB", 20 }, { "g", 30 }, { "G", 30 }, { "GiB", 30 },
		{ "t", 40 }, { "T", 40 }, { "TiB", 40 },
	};
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;
	double v;

	*size = false;
	/* No "inf", "nan", " 1" or "0x10": strtod would take them. */
	if (!(*d >= '0' && *d <= '9') || strpbrk(s, "xX"))
		return NAN;
	v = strtod(s, &end);
	if (!isfinite(v))
		return NAN;
	if (!*end)
		return v;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (!strcmp(end, u[i].sfx)) {
			*size = true;
			return ldexp(v, u[i].shift);
		}
	}
	return NAN;
}

static int pval_set(struct pval *p, const char *key, json_t *v)
{
	char *dump = NULL;

	if (strlen(key) >= sizeof(p->key))
		return -E2BIG;
	snprintf(p->key, sizeof(p->key), "%s", key);
	if (json_is_string(v)) {
		snprintf(p->text, sizeof(p->text), "%s", json_string_value(v));
	} else {
		dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(p->text, sizeof(p->text), "%s", dump ? dump : "?");
		free(dump);
	}
	p->num = matrix_number(p->text, &p->size);
	return 0;
}

static int pjob_parse(struct pjob *p, const struct report_job *j)
{
	json_t *o = json_loads(j->params ? j->params : "", 0, NULL), *v;
	const char *key;
	int rc = 0;

	p->j = j;
	p->nkeys = 0;
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	json_object_foreach(o, key, v) {
		if (p->nkeys == SWEEP_KEYS_MAX) {
			rc = -E2BIG;
			break;
		}
		rc = pval_set(&p->v[p->nkeys++], key, v);
		if (rc)
			break;
	}
	json_decref(o);
	return rc;
}

/* Every job of a VM has the same matrix keys: what a scenario's matrix gives. */
static bool pjobs_same_keys(const struct pjob *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (p[i].nkeys != p[0].nkeys)
			return false;
		for (size_t k = 0; k < p[0].nkeys; k++)
			if (strcmp(p[i].v[k].key, p[0].v[k].key))
				return false;
	}
	return true;
}

/* A key that names bytes shows its values in binary units: bs=4096 is 4 KiB. */
static bool key_name_is_size(const char *k)
{
	static const char *const names[] = { "bs", "block_size", "blocksize", "size" };
	size_t len = strlen(k);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(k, names[i]))
			return true;
	return (len > 5 && !strcmp(k + len - 5, "_size")) ||
	       (len > 6 && !strcmp(k + len - 6, "_bytes"));
}

/* Key @k is numeric for every job, and a size by its name or its values. */
static bool key_is_size(const struct pjob *p, size_t n, size_t k)
{
	bool named = key_name_is_size(p[0].v[k].key), sized = false;

	for (size_t i = 0; i < n; i++) {
		if (isnan(p[i].v[k].num))
			return false;
		sized |= p[i].v[k].size;
	}
	return named || sized;
}

/* A value as the charts show it: "4 KiB" for a size, else as written. */
static void pval_format(char *buf, size_t cap, const struct pval *v, bool size)
{
	if (size)
		num_format_unit(buf, cap, v->num, "bytes");
	else
		snprintf(buf, cap, "%s", v->text);
}

/* ---- one sweep ---- */

struct sweep {
	const struct pjob *p;	/* the jobs of one scenario/VM */
	size_t n;
	size_t k;		/* the key on the x axis */
	bool size[SWEEP_KEYS_MAX];	/* which keys are sizes */
	size_t nx;
	const struct pval *x[SWEEP_X_MAX];	/* distinct values, ascending */
	size_t nlines;
	size_t *line;		/* per job: its line (n of them) */
	size_t *rep;		/* per line: a job on it, lines in display order */
};

/* The distinct values of key s->k, ascending; false if not a sweep. */
static bool sweep_find_x(struct sweep *s)
{
	size_t i, a;

	s->nx = 0;
	for (i = 0; i < s->n; i++) {
		const struct pval *v = &s->p[i].v[s->k];

		if (isnan(v->num))
			return false;
		for (a = 0; a < s->nx && s->x[a]->num != v->num; a++)
			;
		if (a < s->nx)
			continue;
		if (s->nx == SWEEP_X_MAX)
			return false;
		/* Insertion keeps them in numeric order. */
		for (a = s->nx++; a > 0 && s->x[a - 1]->num > v->num; a--)
			s->x[a] = s->x[a - 1];
		s->x[a] = v;
	}
	return s->nx >= 2;
}

/* Jobs @a and @b are on one line: every key but the x key agrees. */
static bool same_line(const struct sweep *s, size_t a, size_t b)
{
	for (size_t k = 0; k < s->p[a].nkeys; k++)
		if (k != s->k && strcmp(s->p[a].v[k].text, s->p[b].v[k].text))
			return false;
	return true;
}

/* Lines in the order of their values, numerically where both are numbers. */
static int line_cmp(const struct sweep *s, size_t a, size_t b)
{
	for (size_t k = 0; k < s->p[a].nkeys; k++) {
		const struct pval *x = &s->p[a].v[k], *y = &s->p[b].v[k];
		int c;

		if (k == s->k)
			continue;
		if (!isnan(x->num) && !isnan(y->num) && x->num != y->num)
			return x->num < y->num ? -1 : 1;
		c = strcmp(x->text, y->text);
		if (c)
			return c;
	}
	return 0;
}

static int sweep_find_lines(struct sweep *s)
{
	size_t i, l, a;

	s->nlines = 0;
	s->line = calloc(s->n, sizeof(*s->line));
	s->rep = calloc(s->n, sizeof(*s->rep));
	if (!s->line || !s->rep)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		for (l = 0; l < s->nlines && !same_line(s, s->rep[l], i); l++)
			;
		if (l == s->nlines) {
			for (a = s->nlines++; a > 0 && line_cmp(s, s->rep[a - 1], i) > 0; a--)
				s->rep[a] = s->rep[a - 1];
			s->rep[a] = i;
		}
	}
	for (i = 0; i < s->n; i++)
		for (l = 0; l < s->nlines; l++)
			if (same_line(s, s->rep[l], i))
				s->line[i] = l;
	return 0;
}

static void sweep_release(struct sweep *s)
{
	free(s->line);
	free(s->rep);
	s->line = s->rep = NULL;
}

/* "bs=4 KiB, qd=1": the other keys of line @l, or "" without any. */
static void line_name(char *buf, size_t cap, const struct sweep *s, size_t l)
{
	const struct pjob *p = &s->p[s->rep[l]];
	char v[NUM_FMT_MAX + 64];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < p->nkeys && len < cap; k++) {
		if (k == s->k)
			continue;
		pval_format(v, sizeof(v), &p->v[k], s->size[k]);
		len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s",
					len ? ", " : "", p->v[k].key, v);
	}
}

static bool job_metric(const struct report_job *j, const char *name, double *v)
{
	for (size_t i = 0; i < j->nmetrics; i++) {
		if (!strcmp(j->metrics[i].name, name)) {
			*v = j->metrics[i].value;
			return isfinite(*v);
		}
	}
	return false;
}

struct acc {
	double sum, min, max;
	size_t n;
};

static void acc_add(struct acc *a, double v)
{
	a->min = a->n ? fmin(a->min, v) : v;
	a->max = a->n ? fmax(a->max, v) : v;
	a->sum += v;
	a->n++;
}

/* Index of job @i's x value. */
static size_t sweep_x_of(const struct sweep *s, size_t i)
{
	size_t a = 0;

	while (a < s->nx && s->x[a]->num != s->p[i].v[s->k].num)
		a++;
	return a;
}

/* Each line's points for @metric from the passing repeats; false if none. */
static bool sweep_collect(const struct sweep *s, const char *metric, struct acc *acc)
{
	bool any = false;
	double v;

	memset(acc, 0, s->nlines * s->nx * sizeof(*acc));
	for (size_t i = 0; i < s->n; i++) {
		if (!s->p[i].j->pass || !job_metric(s->p[i].j, metric, &v))
			continue;
		acc_add(&acc[s->line[i] * s->nx + sweep_x_of(s, i)], v);
		any = true;
	}
	return any;
}

/* The tip of a point: "qd=4, bs=4 KiB: 5.2k ops/s, mean of 3 (min 5.1k, max 5.3k)". */
static void point_tip(char *buf, size_t cap, const char *where, const struct acc *a,
		      const char *unit)
{
	char m[NUM_FMT_MAX + 8], lo[NUM_FMT_MAX + 8], hi[NUM_FMT_MAX + 8];

	num_format_unit(m, sizeof(m), a->sum / (double)a->n, unit);
	num_format_unit(lo, sizeof(lo), a->min, unit);
	num_format_unit(hi, sizeof(hi), a->max, unit);
	if (a->n == 1)
		snprintf(buf, cap, "%s: %s%s%s", where, m,
			 unit_is_bytes(unit) ? "" : " ", unit_is_bytes(unit) ? "" : unit);
	else
		snprintf(buf, cap, "%s: %s%s%s, mean of %zu (min %s, max %s)", where, m,
			 unit_is_bytes(unit) ? "" : " ", unit_is_bytes(unit) ? "" : unit,
			 a->n, lo, hi);
}

struct sweep_draw {
	struct chart_point *pts;	/* nlines * nx */
	struct chart_series *series;
	char (*names)[NAME_MAX_LEN];
	char (*tips)[TIP_MAX];
	char (*ticks)[NUM_FMT_MAX + 64];
	const char **tickp;
	struct acc *acc;
};

static void sweep_draw_free(struct sweep_draw *d)
{
	free(d->pts);
	free(d->series);
	free(d->names);
	free(d->tips);
	free(d->ticks);
	free(d->tickp);
	free(d->acc);
}

static int sweep_draw_alloc(struct sweep_draw *d, const struct sweep *s)
{
	size_t np = s->nlines * s->nx;

	memset(d, 0, sizeof(*d));
	d->pts = calloc(np, sizeof(*d->pts));
	d->series = calloc(s->nlines, sizeof(*d->series));
	d->names = calloc(s->nlines, sizeof(*d->names));
	d->tips = calloc(np, sizeof(*d->tips));
	d->ticks = calloc(s->nx, sizeof(*d->ticks));
	d->tickp = calloc(s->nx, sizeof(*d->tickp));
	d->acc = calloc(np, sizeof(*d->acc));
	if (!d->pts || !d->series || !d->names || !d->tips || !d->ticks ||
	    !d->tickp || !d->acc) {
		sweep_draw_free(d);
		return -ENOMEM;
	}
	return 0;
}

/* The points of line @l: mean, min-max whisker, and a tip saying both. */
static void sweep_line_points(struct sweep_draw *d, const struct sweep *s,
			      size_t l, const char *unit)
{
	char where[NAME_MAX_LEN + NUM_FMT_MAX + 80];

	for (size_t x = 0; x < s->nx; x++) {
		const struct acc *a = &d->acc[l * s->nx + x];
		struct chart_point *p = &d->pts[l * s->nx + x];

		*p = (struct chart_point){ .y = NAN, .lo = NAN, .hi = NAN };
		if (!a->n)
			continue;
		snprintf(where, sizeof(where), "%s=%s%s%s", s->p[0].v[s->k].key,
			 d->ticks[x], d->names[l][0] ? ", " : "", d->names[l]);
		point_tip(d->tips[l * s->nx + x], TIP_MAX, where, a, unit);
		*p = (struct chart_point){ .y = a->sum / (double)a->n,
			.lo = a->min, .hi = a->max, .tip = d->tips[l * s->nx + x] };
	}
}

static int sweep_chart(FILE *f, const struct sweep *s, const char *metric)
{
	const struct vm_metric_info *mi = vm_metric_find(metric);
	const char *unit = mi ? mi->unit : NULL;
	const struct report_job *j = s->p[0].j;
	struct chart_key note = { "wk", whisker_note };
	struct line_chart c = { .kind = "sweep", .unit = unit, .nkeys = 1,
				.keys = &note };
	char title[NAME_MAX_LEN];
	struct sweep_draw d;
	size_t l, x;
	int rc;

	if (sweep_draw_alloc(&d, s))
		return -ENOMEM;
	if (!sweep_collect(s, metric, d.acc)) {
		sweep_draw_free(&d);
		return 0;	/* nothing to draw for this metric */
	}
	for (x = 0; x < s->nx; x++) {
		pval_format(d.ticks[x], sizeof(d.ticks[x]), s->x[x], s->size[s->k]);
		d.tickp[x] = d.ticks[x];
	}
	c.nseries = s->nlines < CHART_COLOURS ? s->nlines : CHART_COLOURS;
	c.hidden = s->nlines - c.nseries;
	for (l = 0; l < c.nseries; l++) {
		line_name(d.names[l], sizeof(d.names[l]), s, l);
		sweep_line_points(&d, s, l, unit);
		d.series[l] = (struct chart_series){ d.names[l][0] ? d.names[l] : NULL,
						     &d.pts[l * s->nx] };
	}
	snprintf(title, sizeof(title), "%s · %s · %s by %s", j->scenario, j->vm,
		 metric, s->p[0].v[s->k].key);
	c.title = title;
	c.x_title = s->p[0].v[s->k].key;
	c.n = s->nx;
	c.ticks = d.tickp;
	c.series = d.series;
	rc = svg_line_chart(f, &c);
	sweep_draw_free(&d);
	return rc < 0 ? rc : 1;
}

/* ---- every sweep of the run ---- */

struct sweeps {
	FILE *f;
	size_t shown, hidden;
};

/* Each numeric key of the jobs [@p, @p + @n) of one VM, each chart metric. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The chart metrics a passing job of the VM reported other than zero, by name. */
static size_t vm_metrics(const struct pjob *p, size_t n, const char **names)
{
	size_t c = 0, k;

	for (size_t i = 0; i < n; i++) {
		const struct report_job *j = p[i].j;

		for (size_t x = 0; j->pass && x < j->nmetrics; x++) {
			if (j->metrics[x].value == 0 || !report_chart_metric(j->metrics[x].name))
				continue;
			for (k = 0; k < c && strcmp(names[k], j->metrics[x].name); k++)
				;
			if (k == c && c < REPORT_KEY_METRICS_MAX)
				names[c++] = j->metrics[x].name;
		}
	}
	qsort(names, c, sizeof(*names), name_cmp);
	return c;
}

/* Each numeric key of the jobs [@p, @p + @n) of one VM, each chart metric. */
static int sweeps_of_vm(struct sweeps *w, const struct pjob *p, size_t n)
{
	const char *names[REPORT_KEY_METRICS_MAX];
	size_t nm = vm_metrics(p, n, names);
	struct sweep s = { .p = p, .n = n };
	int rc = 0;

	for (size_t k = 0; k < p[0].nkeys; k++)
		s.size[k] = key_is_size(p, n, k);
	for (s.k = 0; s.k < p[0].nkeys && nm && rc >= 0; s.k++) {
		if (!sweep_find_x(&s))
			continue;
		rc = sweep_find_lines(&s);
		for (size_t m = 0; m < nm && rc >= 0; m++) {
			if (w->shown == HTML_SWEEPS_MAX) {
				w->hidden++;	/* counted, not drawn */
				continue;
			}
			rc = sweep_chart(w->f, &s, names[m]);
			w->shown += rc > 0;
		}
		sweep_release(&s);
	}
	return rc < 0 ? rc : 0;
}

static bool same_vm(const struct report_job *a, const struct report_job *b)
{
	return !strcmp(a->scenario ? a->scenario : "", b->scenario ? b->scenario : "") &&
	       !strcmp(a->vm ? a->vm : "", b->vm ? b->vm : "");
}

int html_sweeps(FILE *f, const struct report *r)
{
	struct sweeps w = { .f = f };
	struct pjob *p = calloc(r->njobs + 1, sizeof(*p));
	size_t i = 0, end, k;
	bool ok;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	fputs("<h2>Matrix sweeps</h2>\n<div class=\"charts\">\n", f);
	for (; i < r->njobs && rc >= 0; i = end) {
		for (end = i + 1; end < r->njobs && same_vm(&r->jobs[i], &r->jobs[end]); end++)
			;
		ok = true;
		for (k = i; k < end && ok; k++)
			ok = pjob_parse(&p[k - i], &r->jobs[k]) == 0;
		if (ok && p[0].nkeys && pjobs_same_keys(p, end - i))
			rc = sweeps_of_vm(&w, p, end - i);
	}
	fputs("</div>\n", f);
	if (!w.shown)
		fputs("<p>No VM of this run has a numeric matrix key with two or more "
		      "values and a judged metric (throughput, latency) to draw.</p>\n", f);
	if (w.hidden)
		fprintf(f, "<p class=\"sub\">%zu more sweep chart%s not shown.</p>\n",
			w.hidden, w.hidden == 1 ? "" : "s");
	free(p);
	return rc < 0 ? rc : 0;
}

/* ---- the trend of each job series ---- */

/* "scenario/vm[bs=4k,qd=16]": a job key, the job name without its repeat. */
static void key_name(char *buf, size_t cap, const struct history *h)
{
	const char *pk = h->params_key ? h->params_key : "";

	snprintf(buf, cap, "%s/%s%s%s%s", h->scenario ? h->scenario : "?",
		 h->vm ? h->vm : "?", *pk ? "[" : "", pk, *pk ? "]" : "");
}

/* The commit of a point: its group's when pooled by commit, else its run's. */
static const char *point_commit(const struct report *r, const struct history *h,
				const struct history_point *p)
{
	return h->by == HISTORY_BY_COMMIT ? p->group : report_commit_find(r, p->run_id);
}

/* Every point of the trend has a commit: then x is by commit. */
static bool trend_by_commit(const struct report *r, const struct history *h)
{
	for (size_t i = 0; i < h->npoints; i++)
		if (!point_commit(r, h, &h->points[i]))
			return false;
	return h->npoints > 0;
}

/*
 * x by date: "05-01" when each run has a day of its own ("2024-05-01"
 * across years), "12:00" when all ran on one day (said in the axis title),
 * else "05-01 12:00".
 */
static void trend_date_ticks(const struct history *h, char (*ticks)[24],
			     char *x_title, size_t cap)
{
	const char *first = h->points[0].started_at, *t, *prev = NULL;
	bool ok = true, one_day = true, one_year = true, distinct = true;
	size_t i;

	for (i = 0; i < h->npoints; i++) {
		t = h->points[i].started_at;
		if (!t || strlen(t) < 16 || !first || strlen(first) < 16) {
			ok = false;
			break;
		}
		one_day &= !strncmp(first, t, 10);
		one_year &= !strncmp(first, t, 4);
		distinct &= !prev || strncmp(prev, t, 10);
		prev = t;
	}
	snprintf(x_title, cap, "date of the run (UTC)");
	for (i = 0; i < h->npoints; i++) {
		t = h->points[i].started_at;
		if (!ok)
			snprintf(ticks[i], sizeof(ticks[i]), "#%" PRId64, h->points[i].run_id);
		else if (one_day)
			snprintf(ticks[i], sizeof(ticks[i]), "%.5s", t + 11);
		else if (distinct)
			snprintf(ticks[i], sizeof(ticks[i]), "%.*s", one_year ? 5 : 10,
				 t + (one_year ? 5 : 0));
		else
			snprintf(ticks[i], sizeof(ticks[i]), "%.5s %.5s", t + 5, t + 11);
	}
	if (!ok)
		snprintf(x_title, cap, "run");
	else if (one_day)
		snprintf(x_title, cap, "time on %.10s (UTC)", first);
}

/* min-max of the repeats as the whisker; NAN without two values. */
static void agg_range(const struct agg *a, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (a->n < 2 || !a->values)
		return;
	*lo = *hi = a->values[0];
	for (size_t i = 1; i < a->n; i++) {
		*lo = fmin(*lo, a->values[i]);
		*hi = fmax(*hi, a->values[i]);
	}
}

static void trend_tip(char *buf, size_t cap, const struct report *r,
		      const struct history *h, const struct history_point *p)
{
	const char *commit = point_commit(r, h, p);
	struct acc a = { .n = p->value.n, .sum = p->value.mean * (double)p->value.n };
	char where[256], runs[96] = "";

	agg_range(&p->value, &a.min, &a.max);
	if (a.n < 2)
		a.min = a.max = p->value.mean;
	/* "commit 1a2b3c4d5e6f, 2 runs from run #47 (nightly) 2024-05-10T...". */
	if (commit && p->nruns > 1)
		snprintf(runs, sizeof(runs), "commit %.40s, %zu runs from ", commit,
			 p->nruns);
	else if (commit)
		snprintf(runs, sizeof(runs), "commit %.40s, ", commit);
	snprintf(where, sizeof(where), "%srun #%" PRId64 "%s%s%s %s", runs,
		 p->run_id, p->label ? " (" : "", p->label ? p->label : "",
		 p->label ? ")" : "", p->started_at ? p->started_at : "");
	if (p->value.n)
		point_tip(buf, cap, where, &a, h->unit);
	else
		snprintf(buf, cap, "%s: no result", where);
	if (p->config_keys)
		snprintf(buf + strlen(buf), cap - strlen(buf),
			 "; configuration changed: %s", p->config_keys);
}

static int html_series_trend(FILE *f, const struct report *r, const struct history *h)
{
	struct chart_point *pts = calloc(h->npoints + 1, sizeof(*pts));
	char (*ticks)[24] = calloc(h->npoints + 1, sizeof(*ticks));
	char (*tips)[TIP_MAX] = calloc(h->npoints + 1, sizeof(*tips));
	const char **tickp = calloc(h->npoints + 1, sizeof(*tickp));
	char title[NAME_MAX_LEN + 64], name[NAME_MAX_LEN], x_title[64];
	struct chart_key note = { "wk", whisker_note };
	struct chart_series one = { NULL, pts };
	struct line_chart c = { .kind = "trend", .unit = h->unit, .n = h->npoints,
				.nseries = 1, .series = &one, .labels = true,
				.nkeys = 1, .keys = &note };
	bool by_commit = trend_by_commit(r, h);
	int rc = -ENOMEM;

	if (!pts || !ticks || !tips || !tickp)
		goto out;
	if (!by_commit && h->npoints)
		trend_date_ticks(h, ticks, x_title, sizeof(x_title));
	for (size_t i = 0; i < h->npoints; i++) {
		const struct history_point *p = &h->points[i];

		if (by_commit)	/* git's short form */
			snprintf(ticks[i], sizeof(ticks[i]), "%.7s", point_commit(r, h, p));
		tickp[i] = ticks[i];
		trend_tip(tips[i], TIP_MAX, r, h, p);
		pts[i] = (struct chart_point){ .tip = tips[i],
			.y = p->value.n ? p->value.mean : NAN };
		agg_range(&p->value, &pts[i].lo, &pts[i].hi);
	}
	key_name(name, sizeof(name), h);
	snprintf(title, sizeof(title), "%s · %s", name, h->metric ? h->metric : "?");
	c.title = title;
	c.x_title = by_commit ? "commit" : x_title;
	c.ticks = tickp;
	rc = svg_line_chart(f, &c);
out:
	free(pts);
	free(ticks);
	free(tips);
	free(tickp);
	return rc;
}

int html_series_trends(FILE *f, const struct report *r)
{
	int rc;

	fputs("<h2>Trends of each job series</h2>\n", f);
	if (r->nseries == 0) {
		fputs("<p>No history for these job series.</p>\n", f);
		return 0;
	}
	fprintf(f, "<p class=\"sub\">Each chart is one job key (scenario, VM, matrix "
		"point) over its last %d runs up to this one, never an average across "
		"keys; y starts at zero.</p>\n<div class=\"charts\">\n", REPORT_SERIES_RUNS);
	for (size_t i = 0; i < r->nseries; i++) {
		rc = html_series_trend(f, r, r->series[i]);
		if (rc < 0)
			return rc;
	}
	fputs("</div>\n", f);
	if (r->series_hidden)
		fprintf(f, "<p class=\"sub\">%zu more job key%s not charted (at most %d, "
			"those that changed first).</p>\n", r->series_hidden,
			r->series_hidden == 1 ? "" : "s", REPORT_SERIES_MAX);
	return 0;
}
