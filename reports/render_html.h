/*
 * render_html.h - the sections of the HTML report (render_html.c) that
 * live in files of their own: the matrix sweeps and the trend of each job
 * series (render_html_charts.c).  Each writes an <h2> and its charts.
 */
#ifndef VMORCH_REPORTS_RENDER_HTML_H
#define VMORCH_REPORTS_RENDER_HTML_H

#include <stdio.h>

#include "reports/report.h"

#define HTML_SWEEPS_MAX 24	/* sweep charts on a page; the rest are counted */

int html_sweeps(FILE *f, const struct report *r);
int html_series_trends(FILE *f, const struct report *r);

#endif
