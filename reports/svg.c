/*
 * svg.c - markup helpers for render_junit.c and render_html.c: XML escaping
 * that repairs any bytes into valid UTF-8, compact numbers ("1.2k"), job
 * names, and the two inline SVG charts (trend lines, delta bars).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reports/svg.h"

/* ---- escaping ---- */

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), its code point in *@cp; 0 if invalid.
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t v, min;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * XML 1.0 §2.2 Char, minus C1 controls: XML allows those but HTML calls them
 * parse errors, and in a console tail they are line noise anyway.
 */
static bool xml_char_ok(uint32_t cp)
{
	if (cp == 0x9 || cp == 0xa || cp == 0xd)
		return true;
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return false;
	return cp != 0xfffe && cp != 0xffff;
}

/* Markup for one ASCII byte, or NULL when it goes out as is. */
static const char *xml_entity(unsigned char c, enum xml_ctx ctx)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	/* Attribute-value normalisation (XML §3.3.3) would turn these into spaces. */
	case '\n': return ctx == XML_ATTR ? "&#10;" : NULL;
	case '\t': return ctx == XML_ATTR ? "&#9;" : NULL;
	/* A bare CR is a line break either way; &#13; is an HTML parse error. */
	case '\r': return ctx == XML_ATTR ? "" : NULL;
	default: return NULL;
	}
}

void xml_putn(FILE *f, const char *s, size_t len, enum xml_ctx ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *ent;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		n = utf8_decode(p, len, &cp);
		if (n == 0 || !xml_char_ok(cp)) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			n = n ? n : 1;
		} else if (n == 1 && (ent = xml_entity(*p, ctx))) {
			fputs(ent, f);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
		len -= n;
	}
}

void xml_put(FILE *f, const char *s, enum xml_ctx ctx)
{
	if (s)
		xml_putn(f, s, strlen(s), ctx);
}

/* ---- numbers and names ---- */

/* @v to @prec significant digits (at least 3), scaled by k, M, ... E. */
static void num_format_prec(char *buf, size_t cap, double v, int prec)
{
	static const char sfx[] = " kMGTPE";
	double s = v;
	int e = 0;

	if (!isfinite(v)) {
		snprintf(buf, cap, "n/a");
		return;
	}
	if (v == 0) {
		snprintf(buf, cap, "0");	/* and never "-0" */
		return;
	}
	prec = prec < 3 ? 3 : prec > 15 ? 15 : prec;
	for (;;) {
		while (fabs(s) >= 1000 && e < 6)
			s /= 1000, e++;
		if (fabs(s) >= 1000) {
			snprintf(buf, cap, "%.2e", v);
			return;
		}
		snprintf(buf, cap, "%.*g", prec, s);
		/* 999.7 prints as "1e+03": take the next suffix instead. */
		if (!strchr(buf, 'e') || fabs(s) < 1)
			break;
		if (e == 6) {
			snprintf(buf, cap, "%.2e", v);
			return;
		}
		s /= 1000, e++;
	}
	if (e > 0 && strlen(buf) + 2 <= cap)
		strncat(buf, &sfx[e], 1);
}

void num_format(char *buf, size_t cap, double v)
{
	num_format_prec(buf, cap, v, 3);
}

/* Append "%s" to @buf of @cap, keeping it terminated when it does not fit. */
static void str_append(char *buf, size_t cap, const char *s)
{
	size_t used = strlen(buf);

	if (used + 1 < cap)
		snprintf(buf + used, cap - used, "%s", s);
}

void params_format(char *buf, size_t cap, const char *params)
{
	const char *key;
	json_t *o, *v;
	char *dump;
	bool first = true;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (!params)
		return;
	o = json_loads(params, 0, NULL);
	if (!json_is_object(o)) {
		/* Not what the database promises: show it rather than hide it. */
		snprintf(buf, cap, "%s", params);
		json_decref(o);
		return;
	}
	json_object_foreach(o, key, v) {
		if (!first)
			str_append(buf, cap, ", ");
		first = false;
		str_append(buf, cap, key);
		str_append(buf, cap, "=");
		if (json_is_string(v)) {
			str_append(buf, cap, json_string_value(v));
			continue;
		}
		dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		str_append(buf, cap, dump ? dump : "?");
		free(dump);
	}
	json_decref(o);
}

void job_name_format(char *buf, size_t cap, const char *scenario, const char *vm,
		     const char *params_key, unsigned repeat)
{
	const char *pk = params_key ? params_key : "";

	snprintf(buf, cap, "%s/%s%s%s%s#%u", scenario ? scenario : "?", vm ? vm : "?",
		 *pk ? "[" : "", pk, *pk ? "]" : "", repeat);
}

/* ---- axes ---- */

/* A value a chart can place: beyond ±1e300 the axis arithmetic overflows. */
static bool chart_value_ok(double v)
{
	return isfinite(v) && fabs(v) < 1e300;
}

struct axis {
	double lo, hi, step;
	int nticks;		/* ticks at lo + i * step, i in [0, nticks) */
	int prec;		/* significant digits that tell ticks apart */
};

/* Round [min, max] out to 1-2-5 steps, about @want of them. */
static void axis_fit(struct axis *a, double min, double max, int want)
{
	double rough, mag, norm, big;

	if (!(min <= max))
		min = 0, max = 1;
	if (max - min <= fabs(max) * 1e-9) {
		/* All equal: a band around the value; zero stays the floor. */
		double pad = max == 0 ? 1 : fabs(max) * 0.1;

		min = min == 0 ? 0 : min - pad;
		max += pad;
	}
	rough = (max - min) / want;
	mag = pow(10, floor(log10(rough)));
	norm = rough / mag;
	a->step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
	a->lo = floor(min / a->step) * a->step;
	a->hi = ceil(max / a->step) * a->step;
	a->nticks = (int)lround((a->hi - a->lo) / a->step) + 1;
	if (a->nticks > 4 * want)	/* cannot happen, but bound the loop */
		a->nticks = 4 * want;
	big = fmax(fabs(a->lo), fabs(a->hi));
	a->prec = (int)ceil(log10(big / a->step)) + 1;
}

static double axis_tick(const struct axis *a, int i)
{
	double v = a->lo + i * a->step;

	return fabs(v) < a->step * 1e-6 ? 0 : v;
}

/* Position of @v on an axis drawn from @p0 (at lo) to @p1 (at hi). */
static double axis_map(const struct axis *a, double v, double p0, double p1)
{
	return p0 + (v - a->lo) / (a->hi - a->lo) * (p1 - p0);
}

static void svg_open(FILE *f, int w, int h, const char *title)
{
	fprintf(f, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	xml_put(f, title, XML_ATTR);
	fputs("\">\n<title>", f);
	xml_put(f, title, XML_TEXT);
	fprintf(f, "</title>\n<text class=\"ct\" x=\"%d\" y=\"22\" "
		"text-anchor=\"middle\">", w / 2);
	xml_put(f, title, XML_TEXT);
	fputs("</text>\n", f);
}

static int svg_close(FILE *f)
{
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

static void svg_text(FILE *f, const char *cls, double x, double y,
		     const char *anchor, const char *s)
{
	fprintf(f, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
		cls, x, y, anchor);
	xml_put(f, s, XML_TEXT);
	fputs("</text>\n", f);
}

/* ---- line chart ---- */

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

static double lc_y(const struct axis *a, double v)
{
	return axis_map(a, v, LC_H - LC_MB, LC_MT);
}

static void lc_y_axis(FILE *f, const struct axis *a, const char *unit)
{
	char buf[NUM_FMT_MAX];
	double y;
	int i;

	for (i = 0; i < a->nticks; i++) {
		y = lc_y(a, axis_tick(a, i));
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
			"y2=\"%.1f\"/>\n", LC_ML, y, LC_W - LC_MR, y);
		num_format_prec(buf, sizeof(buf), axis_tick(a, i), a->prec);
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
static void lc_series(FILE *f, const struct line_chart *c, const struct axis *a)
{
	size_t s = 0, e, i;

	while (s < c->n) {
		for (e = s; e < c->n && chart_value_ok(c->pts[e].y); e++)
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

static void lc_points(FILE *f, const struct line_chart *c, const struct axis *a)
{
	size_t i, nok = 0, first = SIZE_MAX, last = 0, imin = 0, imax = 0;
	char buf[NUM_FMT_MAX];
	double x, y;

	for (i = 0; i < c->n; i++) {
		if (!chart_value_ok(c->pts[i].y))
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
		if (!chart_value_ok(c->pts[i].y))
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
	struct axis a;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!chart_value_ok(c->pts[i].y))
			continue;
		min = fmin(min, c->pts[i].y);
		max = fmax(max, c->pts[i].y);
	}
	axis_fit(&a, min, max, 5);
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

/* ---- horizontal bar chart ---- */

enum {
	BC_W = 1080, BC_ROW = 22,
	BC_ML = 360, BC_MR = 90, BC_MT = 40, BC_MB = 50,
	BC_LABEL_MAX = 56,	/* characters of a row label before "…" */
};

static double bc_x(const struct axis *a, double v)
{
	return axis_map(a, v, BC_ML, BC_W - BC_MR);
}

static void bc_x_axis(FILE *f, const struct axis *a, int y1, const char *unit)
{
	char buf[NUM_FMT_MAX + 8];
	double x;
	int i;

	for (i = 0; i < a->nticks; i++) {
		x = bc_x(a, axis_tick(a, i));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\"/>\n", x, BC_MT, x, y1 + 5);
		num_format_prec(buf, NUM_FMT_MAX, axis_tick(a, i), a->prec);
		if (unit)
			str_append(buf, sizeof(buf), unit);
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

static void bc_bar(FILE *f, const struct axis *a, const struct chart_bar *b,
		   const char *unit, int row)
{
	char buf[NUM_FMT_MAX + 8];
	double y = BC_MT + row * BC_ROW, x0, x1;

	bc_label(f, b->label, y + BC_ROW / 2.0 + 4);
	if (!chart_value_ok(b->value)) {
		svg_text(f, "bv", BC_W - BC_MR + 8, y + BC_ROW / 2.0 + 4, "start",
			 "n/a");
		return;
	}
	x0 = bc_x(a, fmin(0, b->value));
	x1 = bc_x(a, fmax(0, b->value));
	fprintf(f, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%d\"/>\n", b->cls ? b->cls : "", x0, y + 4,
		fmax(x1 - x0, 1), BC_ROW - 8);
	buf[0] = b->value > 0 ? '+' : '\0';
	num_format(buf + (b->value > 0), NUM_FMT_MAX, b->value);
	if (unit)
		str_append(buf, sizeof(buf), unit);
	svg_text(f, "bv", BC_W - BC_MR + 8, y + BC_ROW / 2.0 + 4, "start", buf);
}

int svg_bar_chart(FILE *f, const struct bar_chart *c)
{
	double min = 0, max = 0;
	int rows = c->n ? (int)c->n : 1;
	int y1 = BC_MT + rows * BC_ROW, h = y1 + BC_MB;
	char note[64];
	struct axis a;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!chart_value_ok(c->bars[i].value))
			continue;
		min = fmin(min, c->bars[i].value);
		max = fmax(max, c->bars[i].value);
	}
	axis_fit(&a, min, max, 8);
	svg_open(f, BC_W, h + (c->hidden ? 16 : 0), c->title);
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
		svg_text(f, "tick", BC_ML, h + 8, "start", note);
	}
	return svg_close(f);
}
