/*
 * render_html_sweep.c - the HTML report's matrix sweeps: for each VM of
 * the run, a judged metric against each numeric matrix key (x in numeric
 * order, sizes in binary units), a line per combination of the other
 * keys, each point the mean of its passing repeats with a min-max whisker.
 */
#include <errno.h>
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

const char html_whisker_note[] =
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
			a = s->nlines++;
			for (; a > 0 && line_cmp(s, s->rep[a - 1], i) > 0; a--)
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

static void spread_add(struct html_spread *a, double v)
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
static bool sweep_collect(const struct sweep *s, const char *metric,
			  struct html_spread *acc)
{
	bool any = false;
	double v;

	memset(acc, 0, s->nlines * s->nx * sizeof(*acc));
	for (size_t i = 0; i < s->n; i++) {
		if (!s->p[i].j->pass || !job_metric(s->p[i].j, metric, &v))
			continue;
		spread_add(&acc[s->line[i] * s->nx + sweep_x_of(s, i)], v);
		any = true;
	}
	return any;
}

void html_point_tip(char *buf, size_t cap, const char *where,
		    const struct html_spread *a, const char *unit)
{
	char m[NUM_FMT_MAX + 8], lo[NUM_FMT_MAX + 8], hi[NUM_FMT_MAX + 8];
	/* A bytes unit is in the number already ("4 KiB"). */
	const char *u = unit_is_bytes(unit) || !unit ? "" : unit;

	num_format_unit(m, sizeof(m), a->sum / (double)a->n, unit);
	num_format_unit(lo, sizeof(lo), a->min, unit);
	num_format_unit(hi, sizeof(hi), a->max, unit);
	if (a->n == 1)
		snprintf(buf, cap, "%s: %s%s%s", where, m, *u ? " " : "", u);
	else
		snprintf(buf, cap, "%s: %s%s%s, mean of %zu (min %s, max %s)", where,
			 m, *u ? " " : "", u, a->n, lo, hi);
}

struct sweep_draw {
	struct chart_point *pts;	/* nlines * nx */
	struct chart_series *series;
	char (*names)[HTML_NAME_MAX];
	char (*tips)[HTML_TIP_MAX];
	char (*ticks)[NUM_FMT_MAX + 64];
	const char **tickp;
	struct html_spread *acc;
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
	char where[HTML_NAME_MAX + NUM_FMT_MAX + 80];

	for (size_t x = 0; x < s->nx; x++) {
		const struct html_spread *a = &d->acc[l * s->nx + x];
		struct chart_point *p = &d->pts[l * s->nx + x];

		*p = (struct chart_point){ .y = NAN, .lo = NAN, .hi = NAN };
		if (!a->n)
			continue;
		snprintf(where, sizeof(where), "%s=%s%s%s", s->p[0].v[s->k].key,
			 d->ticks[x], d->names[l][0] ? ", " : "", d->names[l]);
		html_point_tip(d->tips[l * s->nx + x], HTML_TIP_MAX, where, a, unit);
		*p = (struct chart_point){ .y = a->sum / (double)a->n,
			.lo = a->min, .hi = a->max, .tip = d->tips[l * s->nx + x] };
	}
}

static int sweep_chart(FILE *f, const struct sweep *s, const char *metric)
{
	const struct vm_metric_info *mi = vm_metric_find(metric);
	const char *unit = mi ? mi->unit : NULL;
	const struct report_job *j = s->p[0].j;
	struct chart_key note = { "wk", html_whisker_note };
	struct line_chart c = { .kind = "sweep", .unit = unit, .nkeys = 1,
				.keys = &note };
	char title[HTML_NAME_MAX];
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
			const struct report_metric *m = &j->metrics[x];

			if (m->value == 0 || !report_chart_metric(m->name))
				continue;
			for (k = 0; k < c && strcmp(names[k], m->name); k++)
				;
			if (k == c && c < REPORT_KEY_METRICS_MAX)
				names[c++] = m->name;
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

static bool str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool same_vm(const struct report_job *a, const struct report_job *b)
{
	return str_same(a->scenario, b->scenario) && str_same(a->vm, b->vm);
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
		end = i + 1;
		while (end < r->njobs && same_vm(&r->jobs[i], &r->jobs[end]))
			end++;
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
