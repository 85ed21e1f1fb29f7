/*
 * svg.c - markup helpers for render_junit.c and render_html.c: XML escaping
 * that repairs any bytes into valid UTF-8, compact numbers ("1.2k", "4 KiB"),
 * job names, and the drawing primitives of the charts (svg_line.c,
 * svg_bar.c): axes, the <svg> frame, text and legends.
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
#include "reports/svg_draw.h"

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
void num_format_prec(char *buf, size_t cap, double v, int prec)
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

static const char *const iec_prefix[] = {
	"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
};

bool unit_is_bytes(const char *unit)
{
	return unit && (!strcmp(unit, "bytes") || !strcmp(unit, "bytes/s"));
}

/* The power of 1024 that brings @v under 1024 ("KiB" is 1), at most EiB's. */
static int iec_exponent(double v)
{
	int e = 0;

	for (v = fabs(v); v >= 1024 && e < 6; v /= 1024)
		e++;
	return e;
}

/* @v bytes (per second with @per "/s") in IEC units: "512 B", "4 KiB". */
static void num_format_iec(char *buf, size_t cap, double v, const char *per)
{
	char num[NUM_FMT_MAX];
	int e = iec_exponent(v);

	if (v == 0) {
		snprintf(buf, cap, "0 B%s", per);	/* and never "-0" */
		return;
	}
	snprintf(num, sizeof(num), "%.3g", v / pow(1024, e));
	/* 1023.9 KiB prints as "1.02e+03": take the next prefix instead. */
	if (strchr(num, 'e') && e < 6)
		snprintf(num, sizeof(num), "%.3g", v / pow(1024, ++e));
	snprintf(buf, cap, "%s %s%s", num, iec_prefix[e], per);
}

void num_format_unit(char *buf, size_t cap, double v, const char *unit)
{
	if (!unit_is_bytes(unit) || !isfinite(v) || fabs(v) >= 1e300)
		num_format(buf, cap, v);
	else
		num_format_iec(buf, cap, v, strcmp(unit, "bytes") ? "/s" : "");
}

void svg_str_append(char *buf, size_t cap, const char *s)
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
			svg_str_append(buf, cap, ", ");
		first = false;
		svg_str_append(buf, cap, key);
		svg_str_append(buf, cap, "=");
		if (json_is_string(v)) {
			svg_str_append(buf, cap, json_string_value(v));
			continue;
		}
		dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		svg_str_append(buf, cap, dump ? dump : "?");
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

bool svg_value_ok(double v)
{
	return isfinite(v) && fabs(v) < 1e300;
}

void svg_axis_fit(struct svg_axis *a, double min, double max, int want)
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
	a->scale = 1;
	a->iec = NULL;
	a->per = "";
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

void svg_axis_fit_unit(struct svg_axis *a, double min, double max, int want,
		       const char *unit)
{
	int e;

	if (!unit_is_bytes(unit) || !(min <= max)) {
		svg_axis_fit(a, min, max, want);
		return;
	}
	/* Steps of 1, 2, 5 KiB (or MiB...), not 1.02 KiB: fit in the unit. */
	e = iec_exponent(fmax(fabs(min), fabs(max)));
	svg_axis_fit(a, min / pow(1024, e), max / pow(1024, e), want);
	a->scale = pow(1024, e);
	a->lo *= a->scale;
	a->hi *= a->scale;
	a->step *= a->scale;
	a->iec = iec_prefix[e];
	a->per = strcmp(unit, "bytes") ? "/s" : "";
}

void svg_axis_label(const struct svg_axis *a, int i, char *buf, size_t cap)
{
	double v = svg_axis_tick(a, i);

	if (!a->iec || v == 0) {
		num_format_prec(buf, cap, v, a->prec);
		return;
	}
	snprintf(buf, cap, "%.*g %s%s", a->prec < 3 ? 3 : a->prec > 15 ? 15 : a->prec,
		 v / a->scale, a->iec, a->per);
}

double svg_axis_tick(const struct svg_axis *a, int i)
{
	double v = a->lo + i * a->step;

	return fabs(v) < a->step * 1e-6 ? 0 : v;
}

double svg_axis_map(const struct svg_axis *a, double v, double p0, double p1)
{
	return p0 + (v - a->lo) / (a->hi - a->lo) * (p1 - p0);
}

void svg_open(FILE *f, int w, int h, const char *kind, const char *title)
{
	fprintf(f, "<svg class=\"chart %s\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", kind, w, h, w, h);
	xml_put(f, title, XML_ATTR);
	fputs("\">\n<title>", f);
	xml_put(f, title, XML_TEXT);
	fprintf(f, "</title>\n<text class=\"ct\" x=\"%d\" y=\"22\" "
		"text-anchor=\"middle\">", w / 2);
	xml_put(f, title, XML_TEXT);
	fputs("</text>\n", f);
}

int svg_close(FILE *f)
{
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

void svg_text(FILE *f, const char *cls, double x, double y,
	      const char *anchor, const char *s)
{
	fprintf(f, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
		cls, x, y, anchor);
	xml_put(f, s, XML_TEXT);
	fputs("</text>\n", f);
}

/* ---- legends ---- */

enum {
	LG_ROW = 16,		/* px per legend line */
	LG_COL = 250,		/* px per swatch entry: two beside each other in 540 */
	LG_SWATCH = 22,		/* px from an entry's swatch to its text */
	LG_CHAR = 6,		/* px per character at 11 px, a little generous */
};

/* Bytes of @s that fit in @max characters, broken after a space when it can. */
static size_t legend_line_len(const char *s, size_t max)
{
	size_t i, chars = 0, brk = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars++ == max)
			return brk ? brk : i;
		if (s[i] == ' ')
			brk = i + 1;
	}
	return i;
}

/* Lines a text-only entry takes at @w px, drawn from (@x, @y) when @f. */
static int legend_text(FILE *f, double x, double y, double w, const char *s)
{
	size_t max = (size_t)(w / LG_CHAR), n;
	int lines = 0;

	while (s && *s) {
		n = legend_line_len(s, max ? max : 1);
		if (f) {
			fprintf(f, "<text class=\"lg\" x=\"%.1f\" y=\"%.1f\">", x,
				y + lines * LG_ROW);
			xml_putn(f, s, n, XML_TEXT);
			fputs("</text>\n", f);
		}
		lines++;
		s += n;
	}
	return lines;
}

/* A swatch at (@x, @y): a bar's rectangle, a whisker or a line of a series. */
static void legend_swatch(FILE *f, const char *cls, double x, double y)
{
	if (!strncmp(cls, "bar", 3))
		fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
			"height=\"10\"/>\n", cls, x, y - 9);
	else if (!strcmp(cls, "wk"))
		fprintf(f, "<path class=\"wk sw\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f"
			"M%.1f %.1fH%.1f\"/>\n", x + 4, y - 10, x + 10, x + 7, y - 10,
			y + 1, x + 4, y + 1, x + 10);
	else
		fprintf(f, "<line class=\"sw %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\"/>\n", cls, x, y - 4, x + 16, y - 4);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int svg_legend(FILE *f, double x, double y, double w,
	       const struct chart_key *k, size_t n)
{
	int cols = w >= 2 * LG_COL ? (int)(w / LG_COL) : 1, col = 0, rows = 0;
	size_t i, fit = (size_t)((w / cols - LG_SWATCH - 8) / LG_CHAR);

	if (f && n)
		fputs("<g class=\"legend\">\n", f);
	for (i = 0; i < n; i++) {
		double ex = x + col * (w / cols);

		if (!k[i].cls || !k[i].text || utf8_chars(k[i].text) > fit) {
			/* Too long for a column: a row of its own, wrapped. */
			rows += col > 0;
			col = 0;
			if (k[i].cls && f)
				legend_swatch(f, k[i].cls, x, y + rows * LG_ROW);
			rows += legend_text(f, x + (k[i].cls ? LG_SWATCH : 0),
					    y + rows * LG_ROW,
					    w - (k[i].cls ? LG_SWATCH : 0), k[i].text);
			continue;
		}
		if (f) {
			legend_swatch(f, k[i].cls, ex, y + rows * LG_ROW);
			svg_text(f, "lg", ex + LG_SWATCH, y + rows * LG_ROW, "start",
				 k[i].text);
		}
		if (++col == cols) {
			col = 0;
			rows++;
		}
	}
	rows += col > 0;
	if (f && n)
		fputs("</g>\n", f);
	return rows * LG_ROW;
}
