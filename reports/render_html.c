/*
 * render_html.c - `vmorch report --format html`: one self-contained page
 * (inline CSS and SVG, no scripts, nothing fetched) with the run summary,
 * failures, the diff against another run with its delta chart, the matrix
 * sweeps and the trend of each job series (render_html_sweep.c,
 * render_html_trend.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/render_html.h"
#include "reports/report.h"
#include "reports/svg.h"

#define NAME_MAX_LEN 320
#define BARS_MAX 40		/* past this a bar chart stops being readable */

static const char html_css[] =
	"body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"DejaVu Sans\",sans-serif;margin:0;padding:24px 32px;color:#1f2328;"
	"background:#fff}\n"
	"h1{font-size:24px;margin:0 0 4px}\n"
	"h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;"
	"border-bottom:1px solid #d0d7de}\n"
	"h3{font-size:15px;margin:0 0 6px}\n"
	".sub{color:#656d76}\n"
	".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
	".card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;"
	"min-width:90px}\n"
	".card .k{font-size:11px;color:#656d76;text-transform:uppercase;"
	"letter-spacing:.04em}\n"
	".card .v{font-size:16px;font-weight:600}\n"
	".badge{display:inline-block;padding:1px 8px;border-radius:10px;"
	"font-size:12px;font-weight:600;color:#fff;vertical-align:middle}\n"
	".ok{background:#1a7f37}.bad{background:#cf222e}.warn{background:#9a6700}"
	".info{background:#0969da}.dim{background:#6e7781}\n"
	"table{border-collapse:collapse;font-size:13px;margin:8px 0}\n"
	"th,td{border-bottom:1px solid #d8dee4;padding:4px 8px;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#f6f8fa;font-weight:600}\n"
	"td.nw{white-space:nowrap}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
	"white-space:nowrap}\n"
	".fail{border:1px solid #ffcecb;border-left:4px solid #cf222e;"
	"border-radius:6px;padding:10px 14px;margin:10px 0;background:#fff8f7}\n"
	".fail ul{margin:4px 0 6px;padding-left:22px}\n"
	".err{color:#cf222e}\n"
	"code,pre{font:12px/1.4 ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
	"pre{background:#0d1117;color:#e6edf3;padding:10px;border-radius:6px;"
	"overflow:auto;max-height:320px;white-space:pre-wrap;margin:6px 0 0}\n"
	"summary{cursor:pointer;color:#0969da}\n"
	".charts{display:flex;flex-wrap:wrap;gap:16px;margin:8px 0}\n"
	"svg.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
	"font-family:inherit}\n"
	"svg .ct{font-size:14px;font-weight:600;fill:#1f2328}\n"
	"svg .tick{font-size:11px;fill:#57606a}\n"
	"svg .at{font-size:12px;fill:#1f2328}\n"
	"svg .grid{stroke:#eaeef2}\n"
	"svg .axis{stroke:#57606a}\n"
	"svg .zero{stroke:#1f2328;stroke-width:1.5}\n"
	/* A series' colour is its class, inherited by its line, points, whiskers. */
	"svg .s0{stroke:#0969da;fill:#0969da}svg .s1{stroke:#bc4c00;fill:#bc4c00}"
	"svg .s2{stroke:#1a7f37;fill:#1a7f37}svg .s3{stroke:#8250df;fill:#8250df}"
	"svg .s4{stroke:#bf3989;fill:#bf3989}svg .s5{stroke:#1b7c83;fill:#1b7c83}"
	"svg .s6{stroke:#9a6700;fill:#9a6700}svg .s7{stroke:#57606a;fill:#57606a}\n"
	"svg .line{fill:none;stroke-width:2}\n"
	"svg .pt{stroke:#fff;stroke-width:1.5}\n"
	"svg .wk{fill:none;stroke-width:1.2}\n"
	"svg .sw{stroke-width:3}svg .wk.sw{stroke:#1f2328;stroke-width:1.2}\n"
	"svg .pl{font-size:10px;fill:#1f2328;stroke:none}\n"
	"svg .lg{font-size:11px;fill:#1f2328;stroke:none}\n"
	"svg .bar.reg{fill:#cf222e}svg .bar.imp{fill:#1a7f37}"
	"svg .bar.neu{fill:#8c959f}"
	"svg .bar.ns{fill:#eaeef2;stroke:#8c959f;stroke-dasharray:3 2}\n"
	"svg .bars .wk{stroke:#1f2328}\n"
	"svg .bl,svg .bv{font-size:12px;fill:#1f2328}\n"
	"svg .nodata{font-size:14px;fill:#8c959f}\n";

/* How each verdict looks: CSS class and words. */
static const struct {
	const char *cls, *word, *bar;
} verdict_look[] = {
	[DIFF_UNCHANGED] = { "dim",  "unchanged", "ns" },
	[DIFF_IMPROVED]  = { "ok",   "improved",  "imp" },
	[DIFF_REGRESSED] = { "bad",  "regressed", "reg" },
	[DIFF_NEW]       = { "info", "new",       "neu" },
	[DIFF_MISSING]   = { "warn", "missing",   "neu" },
	[DIFF_REPORTED]  = { "dim",  "reported",  "neu" },
};

static unsigned verdict_index(enum diff_verdict v)
{
	return (unsigned)v < sizeof(verdict_look) / sizeof(verdict_look[0]) ? v
									      : DIFF_UNCHANGED;
}

static void html_badge(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<span class=\"badge %s\">", cls);
	xml_put(f, text, XML_TEXT);
	fputs("</span>", f);
}

static void html_verdict(FILE *f, enum diff_verdict v)
{
	unsigned i = verdict_index(v);

	html_badge(f, verdict_look[i].cls, verdict_look[i].word);
}

/* Run statuses are a closed set in the schema; anything else looks neutral. */
static const char *status_class(const char *status)
{
	if (!status)
		return "dim";
	if (strcmp(status, "passed") == 0)
		return "ok";
	if (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0)
		return "bad";
	if (strcmp(status, "interrupted") == 0)
		return "warn";
	return "dim";
}

/* Element @tag around escaped @text, with an optional class. */
static void html_elem(FILE *f, const char *tag, const char *cls, const char *text)
{
	if (cls)
		fprintf(f, "<%s class=\"%s\">", tag, cls);
	else
		fprintf(f, "<%s>", tag);
	xml_put(f, text ? text : "", XML_TEXT);
	fprintf(f, "</%s>", tag);
}

/* A number, in binary units when @unit counts bytes ("3.2 GiB"). */
static void html_num_cell(FILE *f, double v, const char *unit)
{
	char buf[NUM_FMT_MAX + 8];

	num_format_unit(buf, sizeof(buf), v, unit);
	html_elem(f, "td", "n", buf);
}

static void run_title(char *buf, size_t cap, const struct run_info *run)
{
	if (run->label)
		snprintf(buf, cap, "run #%" PRId64 " (%s)", run->id, run->label);
	else
		snprintf(buf, cap, "run #%" PRId64, run->id);
}

static void html_head(FILE *f, const struct report *r)
{
	char title[NAME_MAX_LEN];

	run_title(title, sizeof(title), &r->run);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<title>vmorch ", f);
	xml_put(f, title, XML_TEXT);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", html_css);
}

/*
 * "2024-05-01T12:00:00.123Z" as "2024-05-01 12:00:00 UTC"; anything else as
 * it is.  Sets *@t to the time for durations, or -1.
 */
static void time_format(char *buf, size_t cap, const char *iso, time_t *t)
{
	struct tm tm = { 0 };
	const char *end;

	*t = -1;
	if (!iso) {
		snprintf(buf, cap, "-");
		return;
	}
	end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end) {
		snprintf(buf, cap, "%s", iso);
		return;
	}
	*t = timegm(&tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	if (strchr(end, 'Z'))
		strncat(buf, " UTC", cap - strlen(buf) - 1);
}

static void html_card(FILE *f, const char *key, const char *value)
{
	fputs("<div class=\"card\">", f);
	html_elem(f, "div", "k", key);
	html_elem(f, "div", "v", value ? value : "-");
	fputs("</div>\n", f);
}

/* A run that did not finish says so before anything else is read. */
static void html_incomplete(FILE *f, const struct run_info *run)
{
	if (!run_info_incomplete(run))
		return;
	fputs("<p class=\"incomplete\">", f);
	html_badge(f, "bad", "incomplete");
	fprintf(f, " run #%" PRId64 " ", run->id);
	xml_put(f, run->status ? run->status : "unknown", XML_TEXT);
	fprintf(f, ": %zu of %zu jobs stored</p>\n", run->nresults, run->jobs_total);
}

static void html_summary(FILE *f, const struct report *r)
{
	const struct run_info *run = &r->run;
	time_t t0, t1;
	char buf[64];

	fprintf(f, "<h1>vmorch run #%" PRId64 " ", run->id);
	html_badge(f, status_class(run->status), run->status ? run->status : "unknown");
	fputs("</h1>\n<div class=\"sub\">", f);
	xml_put(f, run->label ? run->label : "no label", XML_TEXT);
	fputs(" · host ", f);
	xml_put(f, run->host ? run->host : "?", XML_TEXT);
	fputs(" · vmorch ", f);
	xml_put(f, run->vmorch_version ? run->vmorch_version : "?", XML_TEXT);
	fputs("</div>\n<div class=\"cards\">\n", f);
	snprintf(buf, sizeof(buf), "%zu", run->jobs_total);
	html_card(f, "jobs", buf);
	snprintf(buf, sizeof(buf), "%zu", run->jobs_passed);
	html_card(f, "passed", buf);
	snprintf(buf, sizeof(buf), "%zu", run->jobs_failed);
	html_card(f, "failed", buf);
	time_format(buf, sizeof(buf), run->started_at, &t0);
	html_card(f, "started", buf);
	time_format(buf, sizeof(buf), run->ended_at, &t1);
	html_card(f, "ended", buf);
	if (t0 != -1 && t1 != -1 && t1 >= t0) {
		snprintf(buf, sizeof(buf), "%ld s", (long)(t1 - t0));
		html_card(f, "duration", buf);
	}
	fputs("</div>\n", f);
	html_incomplete(f, run);
}

/* ---- failures ---- */

static void html_console(FILE *f, const char *tail)
{
	size_t lines = 1;
	const char *p;

	if (!tail || !tail[0])
		return;
	for (p = tail; *p; p++)
		lines += *p == '\n' && p[1];
	fprintf(f, "<details><summary>Console tail (%zu line%s)</summary><pre>",
		lines, lines == 1 ? "" : "s");
	xml_put(f, tail, XML_TEXT);
	fputs("</pre></details>\n", f);
}

static void html_failure(FILE *f, const struct report_job *j)
{
	char name[NAME_MAX_LEN];
	size_t i;

	job_name_format(name, sizeof(name), j->scenario, j->vm, j->params_key, j->repeat);
	fputs("<div class=\"fail\">\n<h3>", f);
	xml_put(f, j->scenario, XML_TEXT);
	fputs(" · ", f);
	xml_put(f, name, XML_TEXT);
	fputs(" ", f);
	/* A clean guest exit means only expectations failed: say that instead. */
	if (!j->exit_kind || strcmp(j->exit_kind, "guest_pass") == 0)
		html_badge(f, "bad", "expectations failed");
	else
		html_badge(f, "bad", j->exit_kind);
	fputs("</h3>\n", f);
	if (j->nfailed) {
		fputs("<div>Failed expectations:</div>\n<ul>\n", f);
		for (i = 0; i < j->nfailed; i++) {
			fputs("<li><code>", f);
			xml_put(f, j->failed[i], XML_TEXT);
			fputs("</code></li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	if (j->error && j->error[0]) {
		fputs("<div class=\"err\">Error: ", f);
		xml_put(f, j->error, XML_TEXT);
		fputs("</div>\n", f);
	}
	html_console(f, j->console_tail);
	fputs("</div>\n", f);
}

static void html_failures(FILE *f, const struct report *r)
{
	size_t i, nfail = 0;

	for (i = 0; i < r->njobs; i++)
		nfail += !r->jobs[i].pass;
	fprintf(f, "<h2>Failures (%zu)</h2>\n", nfail);
	if (nfail == 0)
		fprintf(f, "<p>All %zu jobs passed.</p>\n", r->njobs);
	for (i = 0; i < r->njobs; i++)
		if (!r->jobs[i].pass)
			html_failure(f, &r->jobs[i]);
}

/* ---- diff ---- */

/* Display order of verdicts: what needs attention first. */
static int verdict_rank(enum diff_verdict v)
{
	switch (v) {
	case DIFF_REGRESSED: return 0;
	case DIFF_IMPROVED: return 1;
	case DIFF_NEW: return 2;
	case DIFF_MISSING: return 3;
	case DIFF_REPORTED: return 4;
	default: return 5;
	}
}

static void html_key_cells(FILE *f, const char *scenario, const char *vm,
			   const char *params)
{
	char p[256];

	params_format(p, sizeof(p), params);
	html_elem(f, "td", NULL, scenario);
	html_elem(f, "td", NULL, vm);
	html_elem(f, "td", NULL, p);
}

static void html_diff_jobs(FILE *f, const struct diff *d)
{
	const struct diff_job *j;
	bool any = false;
	size_t i;

	for (i = 0; i < d->njobs; i++) {
		j = &d->jobs[i];
		if (j->verdict == DIFF_UNCHANGED)
			continue;
		if (!any)
			fputs("<h3>Job verdicts that changed</h3>\n<table>\n<tr><th>"
			      "scenario</th><th>vm</th><th>params</th><th class=\"n\">"
			      "A passed</th><th class=\"n\">B passed</th><th>verdict"
			      "</th></tr>\n", f);
		any = true;
		fputs("<tr>", f);
		html_key_cells(f, j->scenario, j->vm, j->params);
		fprintf(f, "<td class=\"n\">%zu/%zu</td><td class=\"n\">%zu/%zu</td><td>",
			j->pass_a, j->n_a, j->pass_b, j->n_b);
		if (j->verdict == DIFF_NEW && j->newly_failing)
			html_badge(f, "bad", "new, failing");
		else
			html_verdict(f, j->verdict);
		fputs("</td></tr>\n", f);
	}
	if (any)
		fputs("</table>\n", f);
}

static void html_agg_cell(FILE *f, const struct agg *a, const char *unit)
{
	char m[NUM_FMT_MAX + 8], med[NUM_FMT_MAX + 8], sd[NUM_FMT_MAX + 8];

	if (a->n == 0) {
		fputs("<td class=\"n\">-</td>", f);
		return;
	}
	num_format_unit(m, sizeof(m), a->mean, unit);
	num_format_unit(med, sizeof(med), a->median, unit);
	num_format_unit(sd, sizeof(sd), a->stddev, unit);
	fprintf(f, "<td class=\"n\" title=\"median %s, sd %s\">%s "
		"<span class=\"sub\">n=%zu</span></td>", med, sd, m, a->n);
}

static void html_diff_row(FILE *f, const struct diff_row *row)
{
	char buf[NUM_FMT_MAX + 2], ci[2 * REPORT_NUM_MAX];

	fputs("<tr><td>", f);
	html_verdict(f, row->verdict);
	fputs("</td>", f);
	html_key_cells(f, row->scenario, row->vm, row->params);
	html_elem(f, "td", NULL, row->name);
	html_elem(f, "td", NULL, row->unit ? row->unit : "");
	html_agg_cell(f, &row->a, row->unit);
	html_agg_cell(f, &row->b, row->unit);
	html_num_cell(f, row->a.n && row->b.n ? row->delta : NAN, row->unit);
	buf[0] = row->delta_pct > 0 ? '+' : '\0';
	num_format(buf + (row->delta_pct > 0), NUM_FMT_MAX, row->delta_pct);
	if (isfinite(row->delta_pct))
		strcat(buf, "%");
	html_elem(f, "td", "n", buf);
	report_format_ci(ci, sizeof(ci), row);
	html_elem(f, "td", "n", ci);
	/* A judged row shows the p its verdict used: adjusted with the others. */
	if (row->tested)
		fprintf(f, "<td class=\"n\"%s>%.3g</td>", isfinite(row->p_adjusted) ?
			" title=\"adjusted for the judged rows tested together\"" : "",
			report_row_p(row));
	else
		fputs("<td class=\"n\">-</td>", f);
	fputs("</tr>\n", f);
}

static void html_diff_table_head(FILE *f)
{
	fputs("<table>\n<tr><th>verdict</th><th>scenario</th><th>vm</th>"
	      "<th>params</th><th>counter / metric</th><th>unit</th>"
	      "<th class=\"n\">A mean</th><th class=\"n\">B mean</th>"
	      "<th class=\"n\">delta</th><th class=\"n\">delta %</th>"
	      "<th class=\"n\">interval</th><th class=\"n\">p</th></tr>\n", f);
}

/* Rows in verdict rank; the quiet ones folded away below the rest. */
static void html_diff_rows(FILE *f, const struct diff *d)
{
	size_t i, quiet = 0;
	int rank;

	html_diff_table_head(f);
	for (rank = 0; rank < 4; rank++)
		for (i = 0; i < d->nrows; i++)
			if (verdict_rank(d->rows[i].verdict) == rank)
				html_diff_row(f, &d->rows[i]);
	fputs("</table>\n", f);
	for (i = 0; i < d->nrows; i++)
		quiet += verdict_rank(d->rows[i].verdict) >= 4;
	if (!quiet)
		return;
	fprintf(f, "<details><summary>%zu unchanged or neutral row%s</summary>\n",
		quiet, quiet == 1 ? "" : "s");
	html_diff_table_head(f);
	for (rank = 4; rank < 6; rank++)
		for (i = 0; i < d->nrows; i++)
			if (verdict_rank(d->rows[i].verdict) == rank)
				html_diff_row(f, &d->rows[i]);
	fputs("</table>\n</details>\n", f);
}

/* Bars: regressions, then improvements, then the rest; larger changes first. */
static int bar_order(const void *pa, const void *pb)
{
	const struct diff_row *a = *(const struct diff_row *const *)pa;
	const struct diff_row *b = *(const struct diff_row *const *)pb;
	int ra = verdict_rank(a->verdict), rb = verdict_rank(b->verdict);

	if (ra != rb)
		return ra - rb;
	return (fabs(b->delta_pct) > fabs(a->delta_pct)) -
	       (fabs(b->delta_pct) < fabs(a->delta_pct));
}

/*
 * The spread of B's repeats on the chart's scale: min and max of B as a
 * change from A's mean, in per cent.  NAN when there is nothing to spread.
 */
static void bar_whisker(const struct diff_row *row, double *lo, double *hi)
{
	double base = fabs(row->a.mean), min, max;

	*lo = *hi = NAN;
	if (row->b.n < 2 || !row->b.values || base == 0 || !isfinite(base))
		return;
	min = max = row->b.values[0];
	for (size_t i = 1; i < row->b.n; i++) {
		min = fmin(min, row->b.values[i]);
		max = fmax(max, row->b.values[i]);
	}
	*lo = 100 * (min - row->a.mean) / base;
	*hi = 100 * (max - row->a.mean) / base;
}

/* How the p-values of judged rows were adjusted, for the legend. */
static const char *correction_name(const struct diff *d)
{
	switch (d->correction) {
	case STATS_CORRECT_BH:		return "Benjamini-Hochberg";
	case STATS_CORRECT_HOLM:	return "Holm";
	default:			return NULL;
	}
}

/* What the colours, the pale bars and the whiskers mean. */
static void delta_legend(struct chart_key *k, char *ns, size_t cap,
			 const struct diff *d)
{
	const char *corr = correction_name(d);
	char adj[128] = "";

	if (corr && d->family)
		snprintf(adj, sizeof(adj), " (for judged rows p adjusted by %s over "
			 "%zu tests)", corr, d->family);
	snprintf(ns, cap, "n.s. = not significant: the change of the mean is under "
		 "the %.3g%% threshold or, with at least %d repeats on both sides, a "
		 "two-sided Mann-Whitney U test gives p >= %.3g%s. Such rows count "
		 "as unchanged.", d->threshold_pct, DIFF_MIN_REPEATS, d->alpha, adj);
	k[0] = (struct chart_key){ "bar reg", "regressed" };
	k[1] = (struct chart_key){ "bar imp", "improved" };
	k[2] = (struct chart_key){ "bar neu", "changed, not judged" };
	k[3] = (struct chart_key){ "bar ns", "n.s.: not significant" };
	k[4] = (struct chart_key){ "wk", "whiskers: min-max of B's repeats, "
				   "as a change from A's mean" };
	k[5] = (struct chart_key){ NULL, ns };
}

static int html_delta_chart(FILE *f, const struct diff *d)
{
	const struct diff_row **sel;
	struct chart_bar *bars;
	char (*labels)[NAME_MAX_LEN], ns[448];
	struct chart_key keys[6];
	struct bar_chart c = { .title = "Change of the mean, B against A",
			       .unit = "%", .x_title = "delta (%)",
			       .nkeys = 6, .keys = keys };
	size_t i, n = 0;
	char p[256];
	int ret = -ENOMEM;

	sel = calloc(d->nrows + 1, sizeof(*sel));
	bars = calloc(BARS_MAX, sizeof(*bars));
	labels = calloc(BARS_MAX, sizeof(*labels));
	if (!sel || !bars || !labels)
		goto out;
	for (i = 0; i < d->nrows; i++)
		if (d->rows[i].a.n && d->rows[i].b.n && isfinite(d->rows[i].delta_pct))
			sel[n++] = &d->rows[i];
	qsort(sel, n, sizeof(*sel), bar_order);
	c.n = n < BARS_MAX ? n : BARS_MAX;
	c.hidden = n - c.n;
	for (i = 0; i < c.n; i++) {
		params_format(p, sizeof(p), sel[i]->params);
		snprintf(labels[i], NAME_MAX_LEN, "%s/%s%s%s%s %s", sel[i]->scenario,
			 sel[i]->vm, p[0] ? " (" : "", p, p[0] ? ")" : "",
			 sel[i]->name);
		bars[i] = (struct chart_bar){ .label = labels[i],
			.cls = verdict_look[verdict_index(sel[i]->verdict)].bar,
			.value = sel[i]->delta_pct,
			.mark = sel[i]->verdict == DIFF_UNCHANGED ? "n.s." : NULL };
		bar_whisker(sel[i], &bars[i].lo, &bars[i].hi);
	}
	c.bars = bars;
	delta_legend(keys, ns, sizeof(ns), d);
	fputs("<div class=\"charts\">\n", f);
	ret = svg_bar_chart(f, &c);
	fputs("</div>\n", f);
out:
	free(sel);
	free(bars);
	free(labels);
	return ret;
}

static void html_diff_summary(FILE *f, const struct diff *d)
{
	char a[NAME_MAX_LEN], b[NAME_MAX_LEN];

	run_title(a, sizeof(a), &d->a);
	run_title(b, sizeof(b), &d->b);
	fputs("<h2>Changes: ", f);
	xml_put(f, b, XML_TEXT);
	fputs(" against ", f);
	xml_put(f, a, XML_TEXT);
	fputs("</h2>\n<p>", f);
	html_badge(f, d->regressed ? "bad" : "dim", "regressed");
	fprintf(f, " %zu &#160; ", d->regressed);
	html_badge(f, d->improved ? "ok" : "dim", "improved");
	fprintf(f, " %zu &#160; ", d->improved);
	html_badge(f, "info", "new");
	fprintf(f, " %zu &#160; ", d->added);
	html_badge(f, "warn", "missing");
	fprintf(f, " %zu &#160; ", d->missing);
	html_badge(f, "dim", "reported");
	fprintf(f, " %zu &#160; ", d->reported);
	html_badge(f, "dim", "unchanged");
	fprintf(f, " %zu</p>\n<p class=\"sub\">A = baseline, B = candidate. "
		"Threshold %.3g%%; with at least 5 repeats on both sides a change "
		"must also pass a two-sided Mann-Whitney U test at alpha %.3g.",
		d->unchanged, d->threshold_pct, d->alpha);
	if (d->small_sample)
		fputs(" Some keys had fewer than 5 repeats on a side: the threshold "
		      "alone decided those.", f);
	fputs("</p>\n", f);
	if (d->missing_jobs || d->failing_jobs)
		fprintf(f, "<p>Jobs: %zu missing from B, %zu newly failing.</p>\n",
			d->missing_jobs, d->failing_jobs);
	if (run_info_machines_differ(&d->a, &d->b)) {
		fputs("<p>", f);
		html_badge(f, "warn", "different machines");
		fputs(" A: ", f);
		xml_put(f, d->a.machines, XML_TEXT);
		fputs("; B: ", f);
		xml_put(f, d->b.machines, XML_TEXT);
		fputs("</p>\n", f);
	}
	html_incomplete(f, &d->b);
}

static int html_diff(FILE *f, const struct diff *d)
{
	html_diff_summary(f, d);
	html_diff_jobs(f, d);
	if (html_delta_chart(f, d) < 0)
		return -ENOMEM;
	html_diff_rows(f, d);
	return 0;
}

/* ---- every job ---- */

static void html_job_row(FILE *f, const struct report_job *j)
{
	char name[NAME_MAX_LEN], buf[32];
	int i;

	job_name_format(name, sizeof(name), j->scenario, j->vm, j->params_key, j->repeat);
	fputs("<tr>", f);
	html_elem(f, "td", NULL, j->scenario);
	html_elem(f, "td", "nw", name);
	fputs("<td>", f);
	html_badge(f, j->pass ? "ok" : "bad", j->pass ? "pass" : "fail");
	fputs("</td>", f);
	html_elem(f, "td", NULL, j->exit_kind);
	snprintf(buf, sizeof(buf), "%.3f", isfinite(j->wall_s) ? j->wall_s : 0);
	html_elem(f, "td", "n", buf);
	for (i = 0; i < VBLK_NR_COUNTERS; i++)
		html_num_cell(f, (double)vblk_snapshot_get(&j->total, i),
			      vblk_fields[i].unit);
	fputs("</tr>\n", f);
}

static void html_jobs(FILE *f, const struct report *r)
{
	const char *p;
	size_t i;
	int k;

	fprintf(f, "<h2>Jobs (%zu)</h2>\n", r->njobs);
	if (r->njobs == 0) {
		fputs("<p>This run has no jobs.</p>\n", f);
		return;
	}
	fprintf(f, "<details%s><summary>Every job with its counters, summed over "
		"disks</summary>\n<table>\n<tr><th>scenario</th><th>job</th>"
		"<th>verdict</th><th>exit</th><th class=\"n\">wall s</th>",
		r->njobs <= 50 ? " open=\"open\"" : "");
	for (k = 0; k < VBLK_NR_COUNTERS; k++) {
		/* Underscores become spaces so that long names wrap. */
		fputs("<th class=\"n\" style=\"white-space:normal\">", f);
		for (p = vblk_fields[k].name; *p; p++)
			fputc(*p == '_' ? ' ' : *p, f);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (i = 0; i < r->njobs; i++)
		html_job_row(f, &r->jobs[i]);
	fputs("</table>\n</details>\n", f);
}

int render_html(const struct report *r, FILE *f)
{
	int ret;

	html_head(f, r);
	html_summary(f, r);
	html_failures(f, r);
	if (r->diff) {
		ret = html_diff(f, r->diff);
		if (ret < 0)
			return ret;
	}
	ret = html_sweeps(f, r);
	if (ret < 0)
		return ret;
	ret = html_series_trends(f, r);
	if (ret < 0)
		return ret;
	html_jobs(f, r);
	fputs("<p class=\"sub\">Generated by vmorch report --format html.</p>\n"
	      "</body>\n</html>\n", f);
	return ferror(f) ? -EIO : 0;
}
