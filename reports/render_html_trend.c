/*
 * render_html_trend.c - the HTML report's trend of each job series: one
 * job key's judged metric over its recent runs (report_series.c), y from
 * zero, by commit when every run recorded one (pooled per commit), else
 * one point per run labelled with its date.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/render_html.h"
#include "reports/svg.h"

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
			snprintf(ticks[i], sizeof(ticks[i]), "#%" PRId64,
				 h->points[i].run_id);
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
	struct html_spread a = { .n = p->value.n,
				 .sum = p->value.mean * (double)p->value.n };
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
		html_point_tip(buf, cap, where, &a, h->unit);
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
	char (*tips)[HTML_TIP_MAX] = calloc(h->npoints + 1, sizeof(*tips));
	const char **tickp = calloc(h->npoints + 1, sizeof(*tickp));
	char title[HTML_NAME_MAX + 64], name[HTML_NAME_MAX], x_title[64];
	struct chart_key note = { "wk", html_whisker_note };
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
			snprintf(ticks[i], sizeof(ticks[i]), "%.7s",
				 point_commit(r, h, p));
		tickp[i] = ticks[i];
		trend_tip(tips[i], HTML_TIP_MAX, r, h, p);
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
		"keys; y starts at zero.</p>\n<div class=\"charts\">\n",
		REPORT_SERIES_RUNS);
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
