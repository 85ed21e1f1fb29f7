/*
 * svg.c - markup helpers for render_junit.c and render_html.c: XML escaping
 * that repairs any bytes into valid UTF-8, compact numbers ("1.2k"), job
 * names, and the drawing primitives of the charts (svg_line.c, svg_bar.c).
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

double svg_axis_tick(const struct svg_axis *a, int i)
{
	double v = a->lo + i * a->step;

	return fabs(v) < a->step * 1e-6 ? 0 : v;
}

double svg_axis_map(const struct svg_axis *a, double v, double p0, double p1)
{
	return p0 + (v - a->lo) / (a->hi - a->lo) * (p1 - p0);
}

void svg_open(FILE *f, int w, int h, const char *title)
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
