/*
 * svg.h - markup helpers shared by the XML renderers (render_junit.c,
 * render_html.c): escaping that always yields valid UTF-8 XML 1.0, compact
 * number formatting, job names, and the inline SVG charts of the HTML report.
 */
#ifndef VMORCH_REPORTS_SVG_H
#define VMORCH_REPORTS_SVG_H

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

/* Canonical params JSON ({"bs":"4k","qd":16}) as "bs=4k, qd=16"; "" for {}. */
void params_format(char *buf, size_t cap, const char *params);

/* "scenario/vm[bs=4k,qd=16]#2": a job's one name (orchestrator/jobname.h). */
void job_name_format(char *buf, size_t cap, const char *scenario, const char *vm,
		     const char *params_key, unsigned repeat);

/* One x position of a line chart: a run. */
struct chart_point {
	const char *tick;	/* short x tick label ("#42") */
	const char *tip;	/* hover text, or NULL */
	double y;		/* not finite: no point at this x */
};

struct line_chart {
	const char *title;
	const char *unit;	/* y axis unit, or NULL */
	const char *x_title;	/* "run" */
	size_t n;
	const struct chart_point *pts;
};

/* One bar of a horizontal bar chart; @cls is a CSS class for its colour. */
struct chart_bar {
	const char *label;
	const char *cls;
	double value;		/* not finite: bar skipped */
};

struct bar_chart {
	const char *title;
	const char *unit;	/* of the values ("%"), after each tick and value */
	const char *x_title;	/* under the value axis */
	size_t n;
	const struct chart_bar *bars;
	size_t hidden;		/* bars the caller left out, said under the chart */
};

/* Inline <svg> elements (no xmlns: HTML5 implies it); 0 or -EIO. */
int svg_line_chart(FILE *f, const struct line_chart *c);
int svg_bar_chart(FILE *f, const struct bar_chart *c);

#endif
