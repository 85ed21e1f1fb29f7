/*
 * svg_bar.c - the horizontal bar chart of the HTML report (the change of
 * each row of a diff), drawn with svg_draw.h's axes: whiskers for the
 * spread of repeats, a mark after a value, a legend for the colours.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/svg.h"
#include "reports/svg_draw.h"

enum {
	BC_W = 1080, BC_ROW = 22,
	BC_ML = 360, BC_MR = 90, BC_MT = 40, BC_MB = 50,
	BC_LABEL_MAX = 56,	/* characters of a row label before "…" */
	BC_CAP = 4,		/* half height of a whisker's caps */
	BC_LEGEND_X = 16,
};

static double bc_x(const struct svg_axis *a, double v)
{
	return svg_axis_map(a, v, BC_ML, BC_W - BC_MR);
}

static void bc_x_axis(FILE *f, const struct svg_axis *a, int y1, const char *unit)
{
	char buf[NUM_FMT_MAX + 8];
	double x;
	int i;

	for (i = 0; i < a->nticks; i++) {
		x = bc_x(a, svg_axis_tick(a, i));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\" data-v=\"%.6g\"/>\n", x, BC_MT, x, y1 + 5,
			svg_axis_tick(a, i));
		num_format_prec(buf, NUM_FMT_MAX, svg_axis_tick(a, i), a->prec);
		if (unit)
			svg_str_append(buf, sizeof(buf), unit);
		svg_text(f, "tick", x, y1 + 18, "middle", buf);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		BC_ML, y1, BC_W - BC_MR, y1);
	x = bc_x(a, 0);
	fprintf(f, "<line class=\"zero\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		"y2=\"%d\"/>\n", x, BC_MT, x, y1);
}

/* A row label, cut at a character boundary so that "…" ends valid UTF-8. */
static void bc_label(FILE *f, const char *label, double y)
{
	size_t len = label ? strlen(label) : 0, cut = len, chars = 0, i;

	for (i = 0; i < len; i++) {
		if (((unsigned char)label[i] & 0xc0) == 0x80)
			continue;
		if (chars++ == BC_LABEL_MAX) {
			cut = i;
			break;
		}
	}
	fprintf(f, "<text class=\"bl\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
		"<title>", BC_ML - 8, y);
	xml_put(f, label, XML_TEXT);
	fputs("</title>", f);
	xml_putn(f, label ? label : "", cut, XML_TEXT);
	if (cut < len)
		fputs("\xe2\x80\xa6", f);
	fputs("</text>\n", f);
}

static bool bar_whisker_ok(const struct chart_bar *b)
{
	return svg_value_ok(b->lo) && svg_value_ok(b->hi) && b->lo < b->hi;
}

/* From lo to hi across the bar, with caps; data-lo/hi: the values. */
static void bc_whisker(FILE *f, const struct svg_axis *a, const struct chart_bar *b,
		       double y)
{
	double x0 = bc_x(a, b->lo), x1 = bc_x(a, b->hi);

	fprintf(f, "<path class=\"wk\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f"
		"M%.1f %.1fV%.1f\" data-lo=\"%.6g\" data-hi=\"%.6g\"/>\n",
		x0, y, x1, x0, y - BC_CAP, y + BC_CAP, x1, y - BC_CAP, y + BC_CAP,
		b->lo, b->hi);
}

static void bc_bar(FILE *f, const struct svg_axis *a, const struct chart_bar *b,
		   const char *unit, int row)
{
	char buf[NUM_FMT_MAX + 24];
	double y = BC_MT + row * BC_ROW, x0, x1;

	bc_label(f, b->label, y + BC_ROW / 2.0 + 4);
	if (!svg_value_ok(b->value)) {
		svg_text(f, "bv", BC_W - BC_MR + 8, y + BC_ROW / 2.0 + 4, "start",
			 "n/a");
		return;
	}
	x0 = bc_x(a, fmin(0, b->value));
	x1 = bc_x(a, fmax(0, b->value));
	fprintf(f, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%d\"/>\n", b->cls ? b->cls : "", x0, y + 4,
		fmax(x1 - x0, 1), BC_ROW - 8);
	if (bar_whisker_ok(b))
		bc_whisker(f, a, b, y + BC_ROW / 2.0);
	buf[0] = b->value > 0 ? '+' : '\0';
	num_format(buf + (b->value > 0), NUM_FMT_MAX, b->value);
	if (unit)
		svg_str_append(buf, sizeof(buf), unit);
	if (b->mark) {
		svg_str_append(buf, sizeof(buf), " ");
		svg_str_append(buf, sizeof(buf), b->mark);
	}
	svg_text(f, "bv", BC_W - BC_MR + 8, y + BC_ROW / 2.0 + 4, "start", buf);
}

/* Zero, every bar and every whisker end. */
static void bc_range(const struct bar_chart *c, double *min, double *max)
{
	size_t i;

	*min = 0, *max = 0;
	for (i = 0; i < c->n; i++) {
		const struct chart_bar *b = &c->bars[i];

		if (!svg_value_ok(b->value))
			continue;
		*min = fmin(*min, b->value);
		*max = fmax(*max, b->value);
		if (bar_whisker_ok(b)) {
			*min = fmin(*min, b->lo);
			*max = fmax(*max, b->hi);
		}
	}
}

int svg_bar_chart(FILE *f, const struct bar_chart *c)
{
	int rows = c->n ? (int)c->n : 1;
	int y1 = BC_MT + rows * BC_ROW, h = y1 + BC_MB + (c->hidden ? 16 : 0);
	double min, max, lw = BC_W - 2 * BC_LEGEND_X;
	int lh = svg_legend(NULL, BC_LEGEND_X, 0, lw, c->keys, c->nkeys);
	char note[64];
	struct svg_axis a;
	size_t i;

	bc_range(c, &min, &max);
	svg_axis_fit(&a, min, max, 8);
	svg_open(f, BC_W, h + (lh ? lh + 6 : 0), "bars", c->title);
	bc_x_axis(f, &a, y1, c->unit);
	if (c->n == 0)
		svg_text(f, "nodata", (BC_ML + BC_W - BC_MR) / 2.0,
			 BC_MT + BC_ROW / 2.0 + 4, "middle", "no data");
	for (i = 0; i < c->n; i++)
		bc_bar(f, &a, &c->bars[i], c->unit, (int)i);
	svg_text(f, "at", (BC_ML + BC_W - BC_MR) / 2.0, y1 + 38, "middle",
		 c->x_title ? c->x_title : "");
	if (c->hidden) {
		snprintf(note, sizeof(note), "%zu more not shown", c->hidden);
		svg_text(f, "tick", BC_ML, y1 + BC_MB + 8, "start", note);
	}
	svg_legend(f, BC_LEGEND_X, h + 10, lw, c->keys, c->nkeys);
	return svg_close(f);
}
