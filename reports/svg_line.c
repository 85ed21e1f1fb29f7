/*
 * svg_line.c - the line chart of the HTML report: one or more series over
 * evenly spaced x positions (the runs of a trend, the matrix values of a
 * sweep), y from zero, whiskers for the spread of repeats, a legend.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/svg.h"
#include "reports/svg_draw.h"

enum {
	LC_W = 540, LC_H = 280,
	LC_ML = 74, LC_MR = 24, LC_MT = 40, LC_MB = 56,
	LC_PAD = 18,		/* keeps end points off the axes */
	LC_TICK_GAP = 10,	/* px between two x tick labels */
	LC_CHAR = 7,		/* px per character of a tick label, generous */
	LC_MAX_LABELS = 12,	/* above that, label first, last, min, max only */
	LC_CAP = 3,		/* half width of a whisker's caps */
	LC_LEGEND_X = 16,
};

static double lc_x(const struct line_chart *c, size_t i)
{
	double x0 = LC_ML + LC_PAD, x1 = LC_W - LC_MR - LC_PAD;

	if (c->n < 2)
		return (x0 + x1) / 2;
	return x0 + (double)i * (x1 - x0) / (double)(c->n - 1);
}

static double lc_y(const struct svg_axis *a, double v)
{
	return svg_axis_map(a, v, LC_H - LC_MB, LC_MT);
}

static bool whisker_ok(const struct chart_point *p)
{
	return svg_value_ok(p->lo) && svg_value_ok(p->hi) && p->lo < p->hi;
}

/* Every value and whisker end, and zero: magnitudes are read from zero. */
static void lc_range(const struct line_chart *c, double *min, double *max,
		     bool *any)
{
	size_t s, i;

	*min = 0, *max = 0, *any = false;
	for (s = 0; s < c->nseries; s++) {
		for (i = 0; i < c->n; i++) {
			const struct chart_point *p = &c->series[s].pts[i];

			if (!svg_value_ok(p->y))
				continue;
			*any = true;
			*min = fmin(*min, p->y);
			*max = fmax(*max, p->y);
			if (whisker_ok(p)) {
				*min = fmin(*min, p->lo);
				*max = fmax(*max, p->hi);
			}
		}
	}
}

static void lc_y_axis(FILE *f, const struct svg_axis *a, const char *unit)
{
	char buf[NUM_FMT_MAX + 8];
	double y;
	int i;

	for (i = 0; i < a->nticks; i++) {
		y = lc_y(a, svg_axis_tick(a, i));
		/* data-v: the value of the line, for readers of the markup. */
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
			"y2=\"%.1f\" data-v=\"%.6g\"/>\n", LC_ML, y, LC_W - LC_MR, y,
			svg_axis_tick(a, i));
		svg_axis_label(a, i, buf, sizeof(buf));
		svg_text(f, "tick", LC_ML - 6, y + 4, "end", buf);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		LC_ML, LC_MT, LC_ML, LC_H - LC_MB);
	fprintf(f, "<text class=\"at\" transform=\"translate(14 %d) rotate(-90)\" "
		"text-anchor=\"middle\">", (LC_MT + LC_H - LC_MB) / 2);
	xml_put(f, unit ? unit : "value", XML_TEXT);
	fputs("</text>\n", f);
}

/* Label every k-th x tick so that the widest label fits between two. */
static size_t lc_tick_every(const struct line_chart *c)
{
	double room = LC_W - LC_ML - LC_MR - 2 * LC_PAD, need;
	size_t i, widest = 1, every;

	for (i = 0; i < c->n; i++) {
		size_t len = c->ticks && c->ticks[i] ? strlen(c->ticks[i]) : 0;

		widest = len > widest ? len : widest;
	}
	if (c->n < 2)
		return 1;
	need = (double)(widest * LC_CHAR + LC_TICK_GAP);
	every = (size_t)ceil(need / (room / (double)(c->n - 1)));
	return every ? every : 1;
}

static void lc_x_axis(FILE *f, const struct line_chart *c)
{
	size_t i, every = lc_tick_every(c);
	double x;

	fprintf(f, "<line class=\"axis xa\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		LC_ML, LC_H - LC_MB, LC_W - LC_MR, LC_H - LC_MB);
	for (i = 0; i < c->n; i++) {
		/* The last tick is always labelled: drop the one it would hit. */
		if (i % every != 0 && i != c->n - 1)
			continue;
		if (i != c->n - 1 && i + every > c->n - 1 && every > 1)
			continue;
		x = lc_x(c, i);
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\"/>\n", x, LC_H - LC_MB, x, LC_H - LC_MB + 5);
		svg_text(f, "tick xt", x, LC_H - LC_MB + 18, "middle",
			 c->ticks && c->ticks[i] ? c->ticks[i] : "");
	}
	svg_text(f, "at", (LC_ML + LC_W - LC_MR) / 2.0, LC_H - 12, "middle",
		 c->x_title ? c->x_title : "");
}

/* The line, broken where an x has no value; a lone point gets no line. */
static void lc_line(FILE *f, const struct line_chart *c,
		    const struct chart_point *pts, const struct svg_axis *a)
{
	size_t s = 0, e, i;

	while (s < c->n) {
		for (e = s; e < c->n && svg_value_ok(pts[e].y); e++)
			;
		if (e - s >= 2) {
			fputs("<polyline class=\"line\" points=\"", f);
			for (i = s; i < e; i++)
				fprintf(f, "%s%.1f,%.1f", i > s ? " " : "", lc_x(c, i),
					lc_y(a, pts[i].y));
			fputs("\"/>\n", f);
		}
		s = e + 1;
	}
}

/* From min to max of the repeats, with caps; data-lo/hi: the values. */
static void lc_whisker(FILE *f, double x, const struct chart_point *p,
		       const struct svg_axis *a)
{
	double y0 = lc_y(a, p->lo), y1 = lc_y(a, p->hi);

	fprintf(f, "<path class=\"wk\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1f"
		"M%.1f %.1fH%.1f\" data-lo=\"%.6g\" data-hi=\"%.6g\"/>\n",
		x, y0, y1, x - LC_CAP, y0, x + LC_CAP, x - LC_CAP, y1, x + LC_CAP,
		p->lo, p->hi);
}

static void lc_points(FILE *f, const struct line_chart *c,
		      const struct chart_point *pts, const struct svg_axis *a)
{
	double x, y;

	for (size_t i = 0; i < c->n; i++) {
		if (!svg_value_ok(pts[i].y))
			continue;
		x = lc_x(c, i);
		y = lc_y(a, pts[i].y);
		if (whisker_ok(&pts[i]))
			lc_whisker(f, x, &pts[i], a);
		fprintf(f, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">"
			"<title>", x, y);
		xml_put(f, pts[i].tip, XML_TEXT);
		fputs("</title></circle>\n", f);
	}
}

/*
 * Which points get a value label, most wanted first: all of a few, else
 * the last, the first, the highest and the lowest.
 */
static size_t lc_label_order(const struct line_chart *c, const struct chart_point *pts,
			     size_t *order)
{
	size_t i, n = 0, first = SIZE_MAX, last = 0, imin = 0, imax = 0, k;
	size_t want[4];

	for (i = 0; i < c->n; i++) {
		if (!svg_value_ok(pts[i].y))
			continue;
		if (first == SIZE_MAX || pts[i].y < pts[imin].y)
			imin = i;
		if (first == SIZE_MAX || pts[i].y > pts[imax].y)
			imax = i;
		if (first == SIZE_MAX)
			first = i;
		last = i;
		if (n < LC_MAX_LABELS)
			order[n] = i;
		n++;
	}
	if (n <= LC_MAX_LABELS)
		return n;
	want[0] = last, want[1] = first, want[2] = imax, want[3] = imin;
	for (i = 0, n = 0; i < 4; i++) {
		for (k = 0; k < n && order[k] != want[i]; k++)
			;
		if (k == n)
			order[n++] = want[i];
	}
	return n;
}

/* Value labels over the points, leaving out any that would overlap another. */
static void lc_labels(FILE *f, const struct line_chart *c,
		      const struct chart_point *pts, const struct svg_axis *a)
{
	size_t order[LC_MAX_LABELS], n = lc_label_order(c, pts, order), i, k, nd = 0;
	double lx[LC_MAX_LABELS], ly[LC_MAX_LABELS], lw[LC_MAX_LABELS];
	char buf[NUM_FMT_MAX + 8];

	for (i = 0; i < n; i++) {
		double x = lc_x(c, order[i]), y = lc_y(a, pts[order[i]].y) - 8, w;

		num_format_unit(buf, sizeof(buf), pts[order[i]].y, c->unit);
		w = (double)strlen(buf) * 3 + 2;	/* half the width at 10 px */
		/* Inside the plot, off the y axis' tick labels. */
		x = fmax(x, LC_ML + w + 2);
		x = fmin(x, LC_W - LC_MR - w);

		for (k = 0; k < nd; k++)
			if (fabs(x - lx[k]) < w + lw[k] && fabs(y - ly[k]) < 12)
				break;
		if (k < nd)
			continue;
		lx[nd] = x, ly[nd] = y, lw[nd++] = w;
		svg_text(f, "pl", x, y, "middle", buf);
	}
}

/* The series' names (those that have one), the caller's keys, what is hidden. */
static struct chart_key *lc_legend_keys(const struct line_chart *c, size_t *n,
					char (*cls)[8], char *hidden, size_t hcap)
{
	struct chart_key *k = calloc(c->nseries + c->nkeys + 1, sizeof(*k));
	size_t s;

	*n = 0;
	if (!k)
		return NULL;
	for (s = 0; s < c->nseries; s++) {
		if (!c->series[s].name)
			continue;
		snprintf(cls[s % CHART_COLOURS], 8, "s%zu", s % CHART_COLOURS);
		k[(*n)++] = (struct chart_key){ cls[s % CHART_COLOURS],
						c->series[s].name };
	}
	for (s = 0; s < c->nkeys; s++)
		k[(*n)++] = c->keys[s];
	if (c->hidden) {
		snprintf(hidden, hcap, "%zu more not shown", c->hidden);
		k[(*n)++] = (struct chart_key){ NULL, hidden };
	}
	return k;
}

int svg_line_chart(FILE *f, const struct line_chart *c)
{
	char cls[CHART_COLOURS][8], hidden[48];
	double min, max, lw = LC_W - 2 * LC_LEGEND_X;
	struct chart_key *keys;
	struct svg_axis a;
	size_t s, nkeys;
	int lh;
	bool any;

	keys = lc_legend_keys(c, &nkeys, cls, hidden, sizeof(hidden));
	if (!keys)
		return -ENOMEM;
	lh = svg_legend(NULL, LC_LEGEND_X, 0, lw, keys, nkeys);
	lc_range(c, &min, &max, &any);
	svg_axis_fit_unit(&a, min, max, 5, c->unit);
	svg_open(f, LC_W, LC_H + (lh ? lh + 6 : 0), c->kind ? c->kind : "line",
		 c->title);
	lc_y_axis(f, &a, c->unit);
	lc_x_axis(f, c);
	if (!any)
		svg_text(f, "nodata", (LC_ML + LC_W - LC_MR) / 2.0,
			 (LC_MT + LC_H - LC_MB) / 2.0, "middle", "no data");
	for (s = 0; s < c->nseries; s++) {
		fprintf(f, "<g class=\"series s%zu\"", s % CHART_COLOURS);
		if (c->series[s].name) {
			fputs(" data-name=\"", f);
			xml_put(f, c->series[s].name, XML_ATTR);
			fputc('"', f);
		}
		fputs(">\n", f);
		lc_line(f, c, c->series[s].pts, &a);
		lc_points(f, c, c->series[s].pts, &a);
		if (c->labels)
			lc_labels(f, c, c->series[s].pts, &a);
		fputs("</g>\n", f);
	}
	svg_legend(f, LC_LEGEND_X, LC_H + 10, lw, keys, nkeys);
	free(keys);
	return svg_close(f);
}
