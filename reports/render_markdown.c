/*
 * render_markdown.c - `vmorch report --format markdown`, for pull-request
 * comments: a compact summary, the diff table (regressions first, unchanged
 * rows left out) and the failures with their console tails folded away.
 * GitHub-flavoured Markdown; every cell is escaped, and control
 * characters and invalid UTF-8 are first made visible (text_escape.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_escape.h"
#include "reports/report.h"

/* A PR comment stays readable: at most this many diff rows, then a count. */
#define MD_MAX_ROWS 100
#define MD_CONSOLE_LINES 20
#define MD_FENCE "````````````````````````````````"

/* @s with controls made visible, malloc'd (NULL when out of memory). */
static char *md_visible(const char *s, unsigned flags)
{
	size_t n = text_escape(NULL, 0, s ? s : "", flags);
	char *buf = malloc(n + 1);

	if (buf)
		text_escape(buf, n + 1, s ? s : "", flags);
	return buf;
}

/* Table cell text: pipes and backslashes escaped, newlines as spaces. */
static void md_cell(FILE *f, const char *text)
{
	char *v = md_visible(text, 0);

	for (const char *s = v; s && *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' ||
		    *s == '`' || *s == '<' || *s == '[')
			fputc('\\', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	free(v);
}

/* A code span in a table cell: only pipes need escaping, backticks are dropped. */
static void md_code(FILE *f, const char *text)
{
	char *v = md_visible(text, 0);

	fputc('`', f);
	for (const char *s = v; s && *s; s++) {
		if (*s == '`')
			continue;
		if (*s == '|')
			fputc('\\', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	fputc('`', f);
	free(v);
}

static void md_run_name(FILE *f, const struct run_info *ri)
{
	fprintf(f, "run %" PRId64, ri->id);
	if (ri->label) {
		fputs(" (", f);
		md_cell(f, ri->label);
		fputc(')', f);
	}
}

static void md_key(FILE *f, const char *scenario, const char *vm,
		   const char *params_key)
{
	char key[512];

	report_format_key(key, sizeof(key), scenario, vm, params_key);
	md_code(f, key);
}

static void md_summary(const struct report *r, FILE *f)
{
	const struct run_info *ri = &r->run;
	const struct diff *d = r->diff;

	fputs("## vmorch ", f);
	md_run_name(f, ri);
	fprintf(f, ": %s\n\n", ri->status);
	fprintf(f, "**%zu jobs: %zu passed, %zu failed**", ri->jobs_total,
		ri->jobs_passed, ri->jobs_failed);
	if (d) {
		fputs(" · vs ", f);
		md_run_name(f, &d->a);
		fprintf(f, ": **%zu regressed**, %zu improved, %zu new,"
			" %zu missing, %zu unchanged", d->regressed, d->improved,
			d->added, d->missing, d->unchanged);
	}
	fputs("\n", f);
	if (run_info_incomplete(ri))
		fprintf(f, "\n> **Incomplete run**: %s, %zu of %zu jobs stored.\n",
			ri->status, ri->nresults, ri->jobs_total);
	if (d && (d->missing_jobs || d->failing_jobs))
		fprintf(f, "\n> **Jobs**: %zu missing from this run, %zu newly"
			" failing.\n", d->missing_jobs, d->failing_jobs);
	if (d && run_info_machines_differ(&d->a, &d->b)) {
		fputs("\n> **Different machines**: A ran on ", f);
		md_cell(f, d->a.machines);
		fputs(", B on ", f);
		md_cell(f, d->b.machines);
		fputs(".\n", f);
	}
	if (d) {
		char method[256];

		report_format_method(method, sizeof(method), d);
		fprintf(f, "\n> Verdicts: a change of at least %g%%, significant"
			" by a Mann-Whitney U test at alpha %g where both sides"
			" have %d or more repeats; %s.\n", d->threshold_pct,
			d->alpha, DIFF_MIN_REPEATS, method);
	}
	if (d && d->small_sample)
		fprintf(f, "\n> Some jobs have fewer than %d repeats on a side:"
			" their verdicts come from the %g%% threshold alone,"
			" without a significance test.\n", DIFF_MIN_REPEATS,
			d->threshold_pct);
}

static void md_passes(FILE *f, size_t pass, size_t n)
{
	if (n)
		fprintf(f, "%zu/%zu passed", pass, n);
	else
		fputs("-", f);
}

static void md_job_verdicts(const struct diff *d, FILE *f, size_t *shown)
{
	for (size_t i = 0; i < d->njobs && *shown < MD_MAX_ROWS; i++) {
		const struct diff_job *j = &d->jobs[i];

		if (j->verdict == DIFF_UNCHANGED)
			continue;
		fprintf(f, "| %s%s%s | ", j->verdict == DIFF_REGRESSED ? "**" : "",
			diff_job_verdict_name(j),
			j->verdict == DIFF_REGRESSED ? "**" : "");
		md_key(f, j->scenario, j->vm, j->params_key);
		fputs(" | verdict | ", f);
		md_passes(f, j->pass_a, j->n_a);
		fputs(" | ", f);
		md_passes(f, j->pass_b, j->n_b);
		fputs(" | | | |\n", f);
		(*shown)++;
	}
}

static void md_row(const struct diff_row *r, FILE *f)
{
	char a[2 * REPORT_NUM_MAX], b[2 * REPORT_NUM_MAX], pct[REPORT_NUM_MAX];
	char ci[2 * REPORT_NUM_MAX];

	report_format_spread(a, sizeof(a), &r->a);
	report_format_spread(b, sizeof(b), &r->b);
	report_format_ci(ci, sizeof(ci), r);
	if (r->a.n && r->b.n)
		report_format_pct(pct, sizeof(pct), r->delta_pct);
	else
		snprintf(pct, sizeof(pct), "-");
	fprintf(f, "| %s%s%s | ", r->verdict == DIFF_REGRESSED ? "**" : "",
		diff_verdict_name(r->verdict),
		r->verdict == DIFF_REGRESSED ? "**" : "");
	md_key(f, r->scenario, r->vm, r->params_key);
	fputs(" | ", f);
	md_code(f, r->name);
	fprintf(f, " | %s | %s | %s | %s | ", a, b, pct, ci);
	if (r->tested)
		fprintf(f, "%.3g", report_row_p(r));
	fputs(" |\n", f);
}

static void md_diff(const struct diff *d, FILE *f)
{
	size_t shown = 0, changed = 0;

	for (size_t i = 0; i < d->njobs; i++)
		changed += d->jobs[i].verdict != DIFF_UNCHANGED;
	for (size_t i = 0; i < d->nrows; i++)
		changed += d->rows[i].verdict != DIFF_UNCHANGED;
	fputs("\n### Changes\n\n", f);
	if (!changed) {
		fputs("No changes beyond the threshold.\n", f);
		return;
	}
	fputs("| verdict | job | metric | ", f);
	md_run_name(f, &d->a);
	fputs(" | ", f);
	md_run_name(f, &d->b);
	fputs(" | Δ | CI | p |\n|---|---|---|---:|---:|---:|---:|---:|\n", f);
	md_job_verdicts(d, f, &shown);
	for (size_t i = 0; i < d->nrows && shown < MD_MAX_ROWS; i++) {
		if (d->rows[i].verdict == DIFF_UNCHANGED)
			continue;
		md_row(&d->rows[i], f);
		shown++;
	}
	if (changed > shown)
		fprintf(f, "\n%zu more changes not shown (see the JSON or HTML"
			" report).\n", changed - shown);
}

/* A fence longer than any run of backticks in @s, so the tail cannot end it. */
static unsigned md_fence_len(const char *s)
{
	unsigned run = 0, max = 0;

	for (; *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	return max < 3 ? 3 : max < sizeof(MD_FENCE) - 1 ? max + 1 :
	       sizeof(MD_FENCE) - 1;
}

static void md_console(const char *raw, FILE *f)
{
	char *tail = md_visible(raw, TEXT_KEEP_LINES);
	const char *end, *p;
	unsigned lines = 0, fence;

	if (!tail)
		return;
	end = tail + strlen(tail);
	fence = md_fence_len(tail);
	while (end > tail && end[-1] == '\n')
		end--;
	p = end;
	while (p > tail && lines < MD_CONSOLE_LINES)
		if (*--p == '\n')
			lines++;
	if (*p == '\n')
		p++;
	fprintf(f, "\n%.*s\n%.*s\n%.*s\n", (int)fence, MD_FENCE,
		(int)(end - p), p, (int)fence, MD_FENCE);
	free(tail);
}

/* Inside <summary> Markdown is not parsed: escape for HTML instead. */
static void md_html(FILE *f, const char *text)
{
	char *v = md_visible(text, 0);

	for (const char *s = v; s && *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s == '\n' ? ' ' : *s, f);
	}
	free(v);
}

static void md_failure(const struct report_job *j, FILE *f)
{
	char key[512];

	report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
	fputs("\n<details><summary>", f);
	md_html(f, key);
	fprintf(f, " #%u: ", j->repeat);
	md_html(f, j->exit_kind);
	fputs("</summary>\n\n", f);
	if (*j->error) {
		fputs("- error: ", f);
		md_cell(f, j->error);
		fputc('\n', f);
	}
	for (size_t k = 0; k < j->nfailed; k++) {
		fputs("- expected ", f);
		md_cell(f, j->failed[k]);
		fputc('\n', f);
	}
	if (*j->console_tail)
		md_console(j->console_tail, f);
	fputs("\n</details>\n", f);
}

int render_markdown(const struct report *r, FILE *f)
{
	bool any = false;

	md_summary(r, f);
	if (r->diff)
		md_diff(r->diff, f);
	for (size_t i = 0; i < r->njobs; i++) {
		if (r->jobs[i].pass)
			continue;
		if (!any)
			fputs("\n### Failures\n", f);
		any = true;
		md_failure(&r->jobs[i], f);
	}
	return ferror(f) ? -EIO : 0;
}
