/*
 * svg.h - markup helpers shared by the XML renderers (render_junit.c,
 * render_html.c): escaping that always yields valid UTF-8 XML 1.0, compact
 * number formatting, job names, and the inline SVG charts of the HTML report.
 */
#ifndef VMORCH_REPORTS_SVG_H
#define VMORCH_REPORTS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Where escaped text goes: attribute values also keep their newlines/tabs. */
enum xml_ctx {
	XML_TEXT = 0,
	XML_ATTR,
};

/*
 * Write @len bytes of @s as XML character data.  Invalid UTF-8 and characters
 * XML 1.0 forbids (C0/C1 controls other than tab/LF/CR, U+FFFE/U+FFFF)
 * become U+FFFD, so a console tail with any bytes stays a valid document.
 */
void xml_putn(FILE *f, const char *s, size_t len, enum xml_ctx ctx);
/* The same for a C string; NULL writes nothing. */
void xml_put(FILE *f, const char *s, enum xml_ctx ctx);

#define NUM_FMT_MAX 32

/*
 * @v in at most three significant digits, with k/M/G/T/P/E above a thousand
 * ("1.23k", "-3.4M", "0.05", "12"); "n/a" when not finite.
 */
void num_format(char *buf, size_t cap, double v);

/* @unit counts bytes ("bytes", "bytes/s"): shown with binary prefixes. */
bool unit_is_bytes(const char *unit);

/*
 * @v as num_format() does, except for a bytes unit: IEC prefixes, three
 * significant digits ("512 B", "4 KiB", "3.45 GiB", "120 MiB/s").
 */
void num_format_unit(char *buf, size_t cap, double v, const char *unit);

/* Canonical params JSON ({"bs":"4k","qd":16}) as "bs=4k, qd=16"; "" for {}. */
void params_format(char *buf, size_t cap, const char *params);

/* "scenario/vm[bs=4k,qd=16]#2": a job's one name (orchestrator/jobname.h). */
void job_name_format(char *buf, size_t cap, const char *scenario, const char *vm,
		     const char *params_key, unsigned repeat);

/* One point of a series: a run of a trend, a matrix value of a sweep. */
struct chart_point {
	double y;		/* not finite: no point at this x */
	double lo, hi;		/* whisker (min-max of the repeats): drawn when lo < hi */
	const char *tip;	/* hover text, or NULL */
};

/* One line of a line chart; its colour is its index (CSS s0..s7). */
struct chart_series {
	const char *name;	/* legend text, or NULL */
	const struct chart_point *pts;	/* one per x position */
};

/* A swatch and what it means, in the legend under a chart. */
struct chart_key {
	const char *cls;	/* CSS class of the swatch ("bar reg"), NULL: none */
	const char *text;
};

#define CHART_COLOURS 8		/* series past this reuse the colours */

struct line_chart {
	const char *title;
	const char *kind;	/* class after "chart" on the <svg>: "trend", "sweep" */
	const char *unit;	/* of y, or NULL; a bytes unit gets binary prefixes */
	const char *x_title;	/* "run", "qd" */
	size_t n;		/* x positions, evenly spaced */
	const char *const *ticks;	/* n labels ("#42", "4 KiB") */
	size_t nseries;
	const struct chart_series *series;
	bool labels;		/* value labels over the points (best with one series) */
	size_t nkeys;		/* more legend lines after the series' names */
	const struct chart_key *keys;
	size_t hidden;		/* series the caller left out, said in the legend */
};

/* One bar of a horizontal bar chart; @cls is a CSS class for its colour. */
struct chart_bar {
	const char *label;
	const char *cls;
	double value;		/* not finite: bar skipped */
	double lo, hi;		/* whisker: drawn when lo < hi */
	const char *mark;	/* after the value ("n.s."), or NULL */
};

struct bar_chart {
	const char *title;
	const char *unit;	/* of the values ("%"), after each tick and value */
	const char *x_title;	/* under the value axis */
	size_t n;
	const struct chart_bar *bars;
	size_t hidden;		/* bars the caller left out, said under the chart */
	size_t nkeys;		/* the legend */
	const struct chart_key *keys;
};

/* Inline <svg> elements (no xmlns: HTML5 implies it); 0 or -EIO. */
int svg_line_chart(FILE *f, const struct line_chart *c);
int svg_bar_chart(FILE *f, const struct bar_chart *c);

#endif
