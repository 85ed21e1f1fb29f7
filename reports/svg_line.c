/*
 * svg_line.c - the line chart of the HTML report: one value per x position
 * (a run of a trend), drawn with svg_draw.h's axes.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/svg.h"
#include "reports/svg_draw.h"

enum {
	LC_W = 540, LC_H = 280,
	LC_ML = 66, LC_MR = 24, LC_MT = 40, LC_MB = 56,
	LC_PAD = 18,		/* keeps end points off the axes */
	LC_MAX_XTICKS = 10,
	LC_MAX_LABELS = 12,	/* above that, label first, last, min, max only */
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

static void lc_y_axis(FILE *f, const struct svg_axis *a, const char *unit)
{
	char buf[NUM_FMT_MAX];
	double y;
	int i;

	for (i = 0; i < a->nticks; i++) {
		y = lc_y(a, svg_axis_tick(a, i));
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
			"y2=\"%.1f\"/>\n", LC_ML, y, LC_W - LC_MR, y);
		num_format_prec(buf, sizeof(buf), svg_axis_tick(a, i), a->prec);
		svg_text(f, "tick", LC_ML - 6, y + 4, "end", buf);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		LC_ML, LC_MT, LC_ML, LC_H - LC_MB);
	fprintf(f, "<text class=\"at\" transform=\"translate(14 %d) rotate(-90)\" "
		"text-anchor=\"middle\">", (LC_MT + LC_H - LC_MB) / 2);
	xml_put(f, unit ? unit : "value", XML_TEXT);
	fputs("</text>\n", f);
}

static void lc_x_axis(FILE *f, const struct line_chart *c)
{
	size_t i, every = (c->n + LC_MAX_XTICKS - 1) / LC_MAX_XTICKS;
	double x;

	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		LC_ML, LC_H - LC_MB, LC_W - LC_MR, LC_H - LC_MB);
	for (i = 0; i < c->n; i++) {
		if (i % every != 0 && i != c->n - 1)
			continue;
		x = lc_x(c, i);
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\"/>\n", x, LC_H - LC_MB, x, LC_H - LC_MB + 5);
		svg_text(f, "tick", x, LC_H - LC_MB + 18, "middle",
			 c->pts[i].tick ? c->pts[i].tick : "");
	}
	svg_text(f, "at", (LC_ML + LC_W - LC_MR) / 2.0, LC_H - 12, "middle",
		 c->x_title ? c->x_title : "");
}

/* The line, broken where a run has no value; a lone point gets no line. */
static void lc_series(FILE *f, const struct line_chart *c, const struct svg_axis *a)
{
	size_t s = 0, e, i;

	while (s < c->n) {
		for (e = s; e < c->n && svg_value_ok(c->pts[e].y); e++)
			;
		if (e - s >= 2) {
			fputs("<polyline class=\"line\" points=\"", f);
			for (i = s; i < e; i++)
				fprintf(f, "%s%.1f,%.1f", i > s ? " " : "", lc_x(c, i),
					lc_y(a, c->pts[i].y));
			fputs("\"/>\n", f);
		}
		s = e + 1;
	}
}

static bool lc_labelled(const struct line_chart *c, size_t i, size_t nok,
			size_t first, size_t last, size_t imin, size_t imax)
{
	return nok <= LC_MAX_LABELS || i == first || i == last || i == imin ||
	       i == imax;
}

static void lc_points(FILE *f, const struct line_chart *c, const struct svg_axis *a)
{
	size_t i, nok = 0, first = SIZE_MAX, last = 0, imin = 0, imax = 0;
	char buf[NUM_FMT_MAX];
	double x, y;

	for (i = 0; i < c->n; i++) {
		if (!svg_value_ok(c->pts[i].y))
			continue;
		if (first == SIZE_MAX || c->pts[i].y < c->pts[imin].y)
			imin = i;
		if (first == SIZE_MAX || c->pts[i].y > c->pts[imax].y)
			imax = i;
		if (first == SIZE_MAX)
			first = i;
		last = i;
		nok++;
	}
	for (i = 0; i < c->n; i++) {
		if (!svg_value_ok(c->pts[i].y))
			continue;
		x = lc_x(c, i);
		y = lc_y(a, c->pts[i].y);
		fprintf(f, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">"
			"<title>", x, y);
		xml_put(f, c->pts[i].tip, XML_TEXT);
		fputs("</title></circle>\n", f);
		if (!lc_labelled(c, i, nok, first, last, imin, imax))
			continue;
		num_format(buf, sizeof(buf), c->pts[i].y);
		svg_text(f, "pl", x, y - 8, "middle", buf);
	}
}

int svg_line_chart(FILE *f, const struct line_chart *c)
{
	double min = INFINITY, max = -INFINITY;
	struct svg_axis a;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!svg_value_ok(c->pts[i].y))
			continue;
		min = fmin(min, c->pts[i].y);
		max = fmax(max, c->pts[i].y);
	}
	svg_axis_fit(&a, min, max, 5);
	svg_open(f, LC_W, LC_H, c->title);
	lc_y_axis(f, &a, c->unit);
	lc_x_axis(f, c);
	if (min > max)
		svg_text(f, "nodata", (LC_ML + LC_W - LC_MR) / 2.0,
			 (LC_MT + LC_H - LC_MB) / 2.0, "middle", "no data");
	lc_series(f, c, &a);
	lc_points(f, c, &a);
	return svg_close(f);
}
