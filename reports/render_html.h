/*
 * render_html.h - the sections of the HTML report (render_html.c) that
 * live in files of their own: the matrix sweeps (render_html_sweep.c) and
 * the trend of each job series (render_html_trend.c), and what they share.
 * Each section writes an <h2> and its charts.
 */
#ifndef VMORCH_REPORTS_RENDER_HTML_H
#define VMORCH_REPORTS_RENDER_HTML_H

#include <stdio.h>

#include "reports/report.h"

#define HTML_SWEEPS_MAX	24	/* sweep charts on a page; the rest are counted */
#define HTML_TIP_MAX	320	/* a point's hover text */
#define HTML_NAME_MAX	320	/* a job key or a chart's title */

int html_sweeps(FILE *f, const struct report *r);
int html_series_trends(FILE *f, const struct report *r);

/* The legend line of every whisker: what its ends are. */
extern const char html_whisker_note[];

/* The repeats behind one point. */
struct html_spread {
	double sum, min, max;
	size_t n;
};

/*
 * A point's hover text: "@where: 5.2k ops/s, mean of 3 (min 5.1k, max
 * 5.3k)", or the one value.
 */
void html_point_tip(char *buf, size_t cap, const char *where,
		    const struct html_spread *a, const char *unit);

#endif
