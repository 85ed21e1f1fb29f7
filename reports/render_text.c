/*
 * render_text.c - reports for a terminal: aligned tables for `vmorch report
 * --format text`, `vmorch diff`, `regressions` and `history` (with its
 * sparkline), plus the number formatting the Markdown renderer shares.
 * Output depends only on the data: no clock, no locale, no terminal width.
 * Every string from the database (labels, names, errors, console tails)
 * comes from users or guests and goes out through text_escape.h, so no
 * escape sequence reaches the terminal.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_escape.h"
#include "common/text_table.h"
#include "reports/report.h"

/* Lines of a failed job's console shown in the terminal report. */
#define TEXT_CONSOLE_LINES 10
/* Sparkline characters: wider histories are averaged into buckets. */
#define TEXT_SPARK_WIDTH 60

/* ---- untrusted text ---- */

/* @s (NULL: "") with controls and invalid UTF-8 made visible. */
static void put_safe(FILE *f, const char *s)
{
	text_fputs(s ? s : "", f, 0);
}

/* Set a table cell to @s made visible. */
static void cell_safe(struct text_table *t, unsigned col, const char *s)
{
	size_t n = text_escape(NULL, 0, s ? s : "", 0);
	char *buf = malloc(n + 1);

	if (!buf) {
		t->oom = true;
		return;
	}
	text_escape(buf, n + 1, s ? s : "", 0);
	text_table_set(t, col, "%s", buf);
	free(buf);
}

/* ---- formatting shared with render_markdown.c ---- */

void report_format_value(char *buf, size_t cap, double v)
{
	if (!isfinite(v))
		snprintf(buf, cap, "n/a");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, cap, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, cap, "%.1f", v);
	else
		snprintf(buf, cap, "%.3g", v);
}

void report_format_pct(char *buf, size_t cap, double pct)
{
	if (!isfinite(pct))
		snprintf(buf, cap, "n/a");
	else
		snprintf(buf, cap, "%+.1f%%", pct);
}

void report_format_spread(char *buf, size_t cap, const struct agg *a)
{
	char m[REPORT_NUM_MAX], sd[REPORT_NUM_MAX];

	if (!a->n) {
		snprintf(buf, cap, "-");
		return;
	}
	report_format_value(m, sizeof(m), a->mean);
	if (a->n < 2) {
		snprintf(buf, cap, "%s", m);
		return;
	}
	report_format_value(sd, sizeof(sd), a->stddev);
	snprintf(buf, cap, "%s \u00b1 %s", m, sd);
}

void report_format_ci(char *buf, size_t cap, const struct diff_row *r)
{
	char lo[REPORT_NUM_MAX], hi[REPORT_NUM_MAX];

	if (!r->has_ci) {
		snprintf(buf, cap, "-");
	} else if (r->a.mean != 0) {
		snprintf(buf, cap, "[%+.1f%%, %+.1f%%]",
			 100 * r->ci_low / fabs(r->a.mean),
			 100 * r->ci_high / fabs(r->a.mean));
	} else {
		report_format_value(lo, sizeof(lo), r->ci_low);
		report_format_value(hi, sizeof(hi), r->ci_high);
		snprintf(buf, cap, "[%s, %s]", lo, hi);
	}
}

double report_row_p(const struct diff_row *r)
{
	return isfinite(r->p_adjusted) ? r->p_adjusted : r->p_value;
}

void report_format_method(char *buf, size_t cap, const struct diff *d)
{
	snprintf(buf, cap, "judged: %s; p adjusted over %zu test%s (%s);"
		 " intervals: Hodges-Lehmann %g%%",
		 d->metrics_chosen ? "the --metric set" :
		 "throughput, latency, errors (default)", d->family,
		 d->family == 1 ? "" : "s",
		 d->correction == STATS_CORRECT_BH ? "Benjamini-Hochberg" :
		 d->correction == STATS_CORRECT_HOLM ? "Holm" : "not corrected",
		 100 * (1 - d->alpha));
}

void report_format_key(char *buf, size_t cap, const char *scenario,
		       const char *vm, const char *params_key)
{
	char sc[160], v[160], pk[160];

	text_escape(sc, sizeof(sc), scenario, 0);
	text_escape(v, sizeof(v), vm, 0);
	text_escape(pk, sizeof(pk), params_key ? params_key : "", 0);
	snprintf(buf, cap, "%s/%s%s%s%s", sc, v, *pk ? "[" : "", pk, *pk ? "]" : "");
}

/* ---- diff ---- */

static void run_name(char *buf, size_t cap, const struct run_info *ri)
{
	char label[128];

	text_escape(label, sizeof(label), ri->label ? ri->label : "", 0);
	snprintf(buf, cap, "run %" PRId64 "%s%s%s", ri->id,
		 ri->label ? " (" : "", label, ri->label ? ")" : "");
}

/* "run 3 (cand) is incomplete: interrupted, 14 of 60 jobs stored" */
static void run_print_incomplete(const struct run_info *ri, FILE *f)
{
	char name[160];

	run_name(name, sizeof(name), ri);
	fprintf(f, "INCOMPLETE: %s ", name);
	put_safe(f, ri->status);
	fprintf(f, ", %zu of %zu jobs stored\n", ri->nresults, ri->jobs_total);
}

/* "CONFIG-CHANGED job: keys" lines, greppable, for jobs of another configuration. */
static void config_lines(const struct diff *d, FILE *f)
{
	char key[512];

	for (size_t i = 0; i < d->njobs; i++) {
		const struct diff_job *j = &d->jobs[i];

		if (!j->config_changed)
			continue;
		report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
		fprintf(f, "CONFIG-CHANGED %s: ", key);
		put_safe(f, j->config_keys ? j->config_keys : "");
		fputc('\n', f);
	}
}

/* Jobs of another configuration: said, and why their numbers are not judged. */
static void diff_print_config(const struct diff *d, FILE *f)
{
	if (!d->config_changed)
		return;
	fprintf(f, "configuration changed for %zu job%s: their numbers are reported, not"
		" judged (--allow-config-change judges them)\n", d->config_changed,
		d->config_changed == 1 ? "" : "s");
	config_lines(d, f);
}

/* Figures from two machines differ for reasons no code change made. */
static void diff_print_machines(const struct diff *d, FILE *f)
{
	if (!run_info_machines_differ(&d->a, &d->b))
		return;
	fputs("warning: the runs ran on different machines\n  A: ", f);
	text_fputs(d->a.machines, f, 0);
	fputs("\n  B: ", f);
	text_fputs(d->b.machines, f, 0);
	fputc('\n', f);
}

static void diff_print_head(const struct diff *d, FILE *f)
{
	char a[160], b[160], method[256];

	run_name(a, sizeof(a), &d->a);
	run_name(b, sizeof(b), &d->b);
	if (d->ab_a) {
		fprintf(f, "diff: %s, A/B: ", a);
		put_safe(f, d->ab_a);
		fputs(" -> ", f);
		put_safe(f, d->ab_b);
		fputc('\n', f);
	} else {
		fprintf(f, "diff: %s -> %s\n", a, b);
	}
	fprintf(f, "threshold %g%%; Mann-Whitney U at alpha %g where both sides"
		" have >= %d repeats\n", d->threshold_pct, d->alpha,
		DIFF_MIN_REPEATS);
	report_format_method(method, sizeof(method), d);
	fprintf(f, "%s\n", method);
	if (d->small_sample)
		fprintf(f, "note: some jobs have fewer than %d repeats on a side:"
			" the threshold alone decided their verdicts\n",
			DIFF_MIN_REPEATS);
	fprintf(f, "summary: %zu regressed, %zu improved, %zu new, %zu missing,"
		" %zu reported, %zu unchanged\n", d->regressed, d->improved,
		d->added, d->missing, d->reported, d->unchanged);
	if (d->missing_jobs || d->failing_jobs)
		fprintf(f, "jobs: %zu missing from B, %zu newly failing\n",
			d->missing_jobs, d->failing_jobs);
	if (d->b_incomplete)
		run_print_incomplete(&d->b, f);
	diff_print_machines(d, f);
	diff_print_config(d, f);
}

static void job_passes(char *buf, size_t cap, size_t pass, size_t n)
{
	if (n)
		snprintf(buf, cap, "%zu/%zu", pass, n);
	else
		snprintf(buf, cap, "-");
}

static const char *const djob_head[] = { "VERDICT", "JOB", "A PASSED", "B PASSED" };
static const bool djob_right[] = { false, false, true, true };

static int diff_print_jobs(const struct diff *d, FILE *f, bool all)
{
	struct text_table t;
	int rc;

	text_table_init(&t, 4, djob_head, djob_right);
	for (size_t i = 0; i < d->njobs; i++) {
		const struct diff_job *j = &d->jobs[i];
		char key[512], pa[48], pb[48];

		if (!all && j->verdict == DIFF_UNCHANGED)
			continue;
		report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
		job_passes(pa, sizeof(pa), j->pass_a, j->n_a);
		job_passes(pb, sizeof(pb), j->pass_b, j->n_b);
		text_table_row(&t);
		text_table_set(&t, 0, "%s", diff_job_verdict_name(j));
		text_table_set(&t, 1, "%s", key);
		text_table_set(&t, 2, "%s", pa);
		text_table_set(&t, 3, "%s", pb);
	}
	if (!t.nrows) {
		text_table_free(&t);
		return 0;
	}
	fprintf(f, "\nJOBS\n");
	rc = text_table_print(&t, f);
	text_table_free(&t);
	return rc;
}

static const char *const drow_head[] = {
	"VERDICT", "JOB", "METRIC", "A", "B", "DELTA", "DELTA%", "CI", "N", "P",
};
static const bool drow_right[] = {
	false, false, false, true, true, true, true, true, true, true,
};

static void diff_row_cells(struct text_table *t, const struct diff_row *r)
{
	char key[512], a[2 * REPORT_NUM_MAX], b[2 * REPORT_NUM_MAX];
	char dl[REPORT_NUM_MAX], pct[REPORT_NUM_MAX], ci[2 * REPORT_NUM_MAX];

	report_format_key(key, sizeof(key), r->scenario, r->vm, r->params_key);
	report_format_spread(a, sizeof(a), &r->a);
	report_format_spread(b, sizeof(b), &r->b);
	report_format_ci(ci, sizeof(ci), r);
	snprintf(dl, sizeof(dl), "-");
	snprintf(pct, sizeof(pct), "-");
	if (r->a.n && r->b.n) {
		report_format_value(dl, sizeof(dl), r->delta);
		report_format_pct(pct, sizeof(pct), r->delta_pct);
	}
	text_table_row(t);
	text_table_set(t, 0, "%s", diff_verdict_name(r->verdict));
	text_table_set(t, 1, "%s", key);
	cell_safe(t, 2, r->name);
	text_table_set(t, 3, "%s", a);
	text_table_set(t, 4, "%s", b);
	text_table_set(t, 5, "%s", dl);
	text_table_set(t, 6, "%s", pct);
	text_table_set(t, 7, "%s", ci);
	text_table_set(t, 8, "%zu/%zu", r->a.n, r->b.n);
	if (r->tested)
		text_table_set(t, 9, "%.3g", report_row_p(r));
	else
		text_table_set(t, 9, "-");
}

static int diff_print_rows(const struct diff *d, FILE *f, bool all)
{
	struct text_table t;
	size_t hidden = 0;
	int rc = 0;

	text_table_init(&t, 10, drow_head, drow_right);
	for (size_t i = 0; i < d->nrows; i++) {
		if (!all && d->rows[i].verdict == DIFF_UNCHANGED) {
			hidden++;
			continue;
		}
		diff_row_cells(&t, &d->rows[i]);
	}
	if (t.nrows) {
		fprintf(f, "\nCHANGES\n");
		rc = text_table_print(&t, f);
	}
	if (hidden)
		fprintf(f, "\n%zu unchanged row%s not shown (--all shows them)\n",
			hidden, hidden == 1 ? "" : "s");
	text_table_free(&t);
	return rc;
}

int render_diff_text(const struct diff *d, FILE *f, bool all)
{
	int rc;

	diff_print_head(d, f);
	rc = diff_print_jobs(d, f, all);
	if (!rc)
		rc = diff_print_rows(d, f, all);
	return rc ? rc : ferror(f) ? -EIO : 0;
}

static const char *dir_text(enum vmorch_dir dir)
{
	return dir == VMORCH_DIR_HIGHER ? "higher is better" :
	       dir == VMORCH_DIR_LOWER ? "lower is better" : "neutral";
}

/* The jobs lines of the gate: newly failing, then missing ones. */
static void regressions_jobs(const struct diff *d, FILE *f)
{
	char key[512];

	for (size_t i = 0; i < d->njobs; i++) {
		const struct diff_job *j = &d->jobs[i];

		report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
		if (j->verdict == DIFF_REGRESSED)
			fprintf(f, "REGRESSION %s: verdict pass -> fail (%zu/%zu"
				" passed, was %zu/%zu)\n", key, j->pass_b, j->n_b,
				j->pass_a, j->n_a);
		else if (j->newly_failing)
			fprintf(f, "FAILING %s: new job, %zu/%zu passed\n", key,
				j->pass_b, j->n_b);
	}
	for (size_t i = 0; i < d->njobs; i++) {
		const struct diff_job *j = &d->jobs[i];

		if (j->verdict != DIFF_MISSING)
			continue;
		report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
		fprintf(f, "MISSING %s: %zu repeat%s in the baseline, none in the"
			" candidate\n", key, j->n_a, j->n_a == 1 ? "" : "s");
	}
}

/*
 * One line per reason the gate fails, greppable: "INCOMPLETE ...",
 * "REGRESSION job: what", "FAILING job: ...", "MISSING job: ...".
 */
int render_regressions(const struct diff *d, FILE *f)
{
	char key[512];

	if (d->b_incomplete)
		run_print_incomplete(&d->b, f);
	regressions_jobs(d, f);
	config_lines(d, f);
	for (size_t i = 0; i < d->nrows; i++) {
		const struct diff_row *r = &d->rows[i];
		char a[REPORT_NUM_MAX], b[REPORT_NUM_MAX], pct[REPORT_NUM_MAX];

		if (r->verdict != DIFF_REGRESSED)
			continue;
		report_format_key(key, sizeof(key), r->scenario, r->vm, r->params_key);
		report_format_value(a, sizeof(a), r->a.mean);
		report_format_value(b, sizeof(b), r->b.mean);
		report_format_pct(pct, sizeof(pct), r->delta_pct);
		fprintf(f, "REGRESSION %s: ", key);
		put_safe(f, r->name);
		fprintf(f, " %s -> %s %s (%s, %s", a, b, r->unit, pct,
			dir_text(r->dir));
		if (r->tested)
			fprintf(f, ", p=%.3g", report_row_p(r));
		if (r->has_ci) {
			char ci[2 * REPORT_NUM_MAX];

			report_format_ci(ci, sizeof(ci), r);
			fprintf(f, ", %g%% CI %s", 100 * (1 - d->alpha), ci);
		}
		fprintf(f, ")\n");
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- history ---- */

static const char *const spark_chars[8] = {
	"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588",
};

/* Mean of the points' means in [from, to); NAN when none has a value. */
static double bucket_mean(const struct history *h, size_t from, size_t to)
{
	double s = 0;
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		if (h->points[i].value.n) {
			s += h->points[i].value.mean;
			n++;
		}
	}
	return n ? s / (double)n : NAN;
}

int render_sparkline(const struct history *h, size_t width, FILE *f)
{
	size_t n = h->npoints < width ? h->npoints : width;
	double v[TEXT_SPARK_WIDTH * 4], lo = INFINITY, hi = -INFINITY;

	if (n > sizeof(v) / sizeof(v[0]))
		n = sizeof(v) / sizeof(v[0]);
	for (size_t i = 0; i < n; i++) {
		v[i] = bucket_mean(h, i * h->npoints / n, (i + 1) * h->npoints / n);
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		int level = 0;

		if (!isfinite(v[i])) {
			fputc(' ', f);	/* a run without the value */
			continue;
		}
		if (hi > lo)
			level = (int)lround((v[i] - lo) / (hi - lo) * 7);
		fputs(spark_chars[level], f);
	}
	return ferror(f) ? -EIO : 0;
}

static void history_print_head(const struct history *h, FILE *f)
{
	put_safe(f, h->metric);
	fprintf(f, "%s%s%s of ", *h->unit ? " (" : "", h->unit,
		*h->unit ? ")" : "");
	put_safe(f, h->scenario);
	if (h->vm) {
		fputc('/', f);
		put_safe(f, h->vm);
	} else {
		fputs(" (all VMs)", f);
	}
	if (h->params_key) {
		fputc('[', f);
		put_safe(f, h->params_key);
		fputc(']', f);
	}
	if (h->by == HISTORY_BY_RUN) {
		fprintf(f, ": %zu run%s\n", h->npoints, h->npoints == 1 ? "" : "s");
		return;
	}
	fprintf(f, ": %zu %s%s (%zu run%s", h->npoints, history_by_name(h->by),
		h->npoints == 1 ? "" : "s",
		h->nruns, h->nruns == 1 ? "" : "s");
	if (h->ungrouped)
		fprintf(f, "; %zu without a commit left out", h->ungrouped);
	fputs(")\n", f);
}

static void history_print_range(const struct history *h, FILE *f)
{
	double lo = INFINITY, hi = -INFINITY;
	char a[REPORT_NUM_MAX], b[REPORT_NUM_MAX];

	for (size_t i = 0; i < h->npoints; i++) {
		if (!h->points[i].value.n)
			continue;
		lo = fmin(lo, h->points[i].value.mean);
		hi = fmax(hi, h->points[i].value.mean);
	}
	report_format_value(a, sizeof(a), lo);
	report_format_value(b, sizeof(b), hi);
	fprintf(f, "  min %s  max %s\n", a, b);
}

static const char *const hist_head[] = {
	"RUN", "STARTED", "LABEL", "N", "MEAN", "MEDIAN", "STDDEV",
};
static const char *const hist_commit_head[] = {
	"COMMIT", "RUNS", "FIRST RUN", "STARTED", "N", "MEAN", "MEDIAN", "STDDEV",
};
static const char *const hist_date_head[] = {
	"DATE", "RUNS", "FIRST RUN", "STARTED", "N", "MEAN", "MEDIAN", "STDDEV",
};
static const bool hist_right[] = { true, false, false, true, true, true, true };
static const bool hist_group_right[] = {
	false, true, true, false, true, true, true, true,
};

/* Commits are shown as git does, 12 hex digits; JSON and CSV keep them whole. */
#define HISTORY_COMMIT_SHOWN 12

static void history_row(struct text_table *t, const struct history *h,
			const struct history_point *p)
{
	char m[REPORT_NUM_MAX], md[REPORT_NUM_MAX], sd[REPORT_NUM_MAX];
	char group[HISTORY_COMMIT_SHOWN + 1];
	int c = 0;

	report_format_value(m, sizeof(m), p->value.n ? p->value.mean : NAN);
	report_format_value(md, sizeof(md), p->value.n ? p->value.median : NAN);
	report_format_value(sd, sizeof(sd), p->value.n ? p->value.stddev : NAN);
	text_table_row(t);
	if (h->by != HISTORY_BY_RUN) {
		snprintf(group, sizeof(group), "%s", p->group ? p->group : "");
		cell_safe(t, c++, group);
		text_table_set(t, c++, "%zu", p->nruns);
	}
	text_table_set(t, c++, "%" PRId64, p->run_id);
	cell_safe(t, c++, p->started_at);
	if (h->by == HISTORY_BY_RUN)
		cell_safe(t, c++, p->label);
	text_table_set(t, c++, "%zu", p->value.n);
	text_table_set(t, c++, "%s", m);
	text_table_set(t, c++, "%s", md);
	text_table_set(t, c, "%s", sd);
}

int render_history_text(const struct history *h, FILE *f)
{
	struct text_table t;
	int rc;

	if (h->by == HISTORY_BY_RUN)
		text_table_init(&t, 7, hist_head, hist_right);
	else
		text_table_init(&t, 8, h->by == HISTORY_BY_COMMIT ? hist_commit_head :
				hist_date_head, hist_group_right);
	history_print_head(h, f);
	for (size_t i = 0; i < h->npoints; i++)
		history_row(&t, h, &h->points[i]);
	rc = text_table_print(&t, f);
	text_table_free(&t);
	if (rc || !h->npoints)
		return rc;
	fputc('\n', f);
	rc = render_sparkline(h, TEXT_SPARK_WIDTH, f);
	history_print_range(h, f);
	/* A point after a configuration change is another experiment: said. */
	for (size_t i = 0; i < h->npoints; i++) {
		if (!h->points[i].config_keys)
			continue;
		fprintf(f, "configuration changed at run %" PRId64 ": ", h->points[i].run_id);
		put_safe(f, h->points[i].config_keys);
		fputc('\n', f);
	}
	return rc ? rc : ferror(f) ? -EIO : 0;
}

/* RFC 4180: quote a field that holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s)
{
	if (!s || !strpbrk(s, ",\"\r\n")) {
		fputs(s ? s : "", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int render_history_csv(const struct history *h, FILE *f)
{
	if (h->by != HISTORY_BY_RUN)
		fprintf(f, "%s,runs,", history_by_name(h->by));
	fprintf(f, "run_id,started_at,label,n,mean,median,stddev\n");
	for (size_t i = 0; i < h->npoints; i++) {
		const struct history_point *p = &h->points[i];

		if (h->by != HISTORY_BY_RUN) {
			csv_field(f, p->group);
			fprintf(f, ",%zu,", p->nruns);
		}
		fprintf(f, "%" PRId64 ",", p->run_id);
		csv_field(f, p->started_at);
		fputc(',', f);
		csv_field(f, p->label);
		if (p->value.n)
			fprintf(f, ",%zu,%.17g,%.17g,%.17g\n", p->value.n,
				p->value.mean, p->value.median, p->value.stddev);
		else
			fprintf(f, ",0,,,\n");
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- the report ---- */

static void report_print_head(const struct report *r, FILE *f)
{
	const struct run_info *ri = &r->run;
	char name[160];

	run_name(name, sizeof(name), ri);
	fprintf(f, "%s: ", name);
	put_safe(f, ri->status);
	fputs("\nstarted   ", f);
	put_safe(f, ri->started_at ? ri->started_at : "-");
	fputs("\nended     ", f);
	put_safe(f, ri->ended_at ? ri->ended_at : "-");
	fputs("\nhost      ", f);
	put_safe(f, ri->host);
	fputs("\nvmorch    ", f);
	put_safe(f, ri->vmorch_version);
	fprintf(f, "\njobs      %zu total, %zu passed, %zu failed\n",
		ri->jobs_total, ri->jobs_passed, ri->jobs_failed);
	if (run_info_incomplete(ri))
		run_print_incomplete(ri, f);
}

/* The counters worth a column: completions, and every one where more is worse. */
static bool counter_is_key(int i)
{
	return (vblk_fields[i].kind == VBLK_CUMULATIVE &&
		strcmp(vblk_fields[i].unit, "requests") == 0) ||
	       vblk_fields[i].dir == VMORCH_DIR_LOWER;
}

#define JOBS_FIXED 6
static const char *const jobs_fixed_head[JOBS_FIXED] = {
	"SCENARIO", "VM", "PARAMS", "REPEAT", "VERDICT", "EXIT",
};

static int report_print_jobs(const struct report *r, FILE *f)
{
	const char *head[16];
	bool right[16] = { false, false, false, true, false, false, true };
	int cidx[16];
	unsigned nc = JOBS_FIXED;
	struct text_table t;
	int rc;

	memcpy(head, jobs_fixed_head, sizeof(jobs_fixed_head));
	head[nc++] = "WALL";
	for (int i = 0; i < VBLK_NR_COUNTERS && nc < 16; i++) {
		if (!counter_is_key(i))
			continue;
		cidx[nc] = i;
		right[nc] = true;
		head[nc++] = vblk_fields[i].name;
	}
	text_table_init(&t, nc, head, right);
	for (size_t i = 0; i < r->njobs; i++) {
		const struct report_job *j = &r->jobs[i];

		text_table_row(&t);
		cell_safe(&t, 0, j->scenario);
		cell_safe(&t, 1, j->vm);
		cell_safe(&t, 2, *j->params_key ? j->params_key : "-");
		text_table_set(&t, 3, "%u", j->repeat);
		text_table_set(&t, 4, "%s", j->pass ? "pass" : "FAIL");
		cell_safe(&t, 5, j->exit_kind);
		text_table_set(&t, 6, "%.2fs", j->wall_s);
		for (unsigned c = JOBS_FIXED + 1; c < nc; c++)
			text_table_set(&t, c, "%" PRIu64, vblk_snapshot_get(&j->total, cidx[c]));
	}
	fprintf(f, "\nJOBS\n");
	rc = text_table_print(&t, f);
	text_table_free(&t);
	return rc;
}

/* The last @max lines of @s, each prefixed with @indent. */
static void print_tail_lines(FILE *f, const char *s, unsigned max,
			     const char *indent)
{
	size_t len = strlen(s);
	const char *p = s + len;
	unsigned lines = 0;

	while (len && s[len - 1] == '\n')
		len--;
	p = s + len;
	while (p > s && lines < max) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	while (p < s + len) {
		const char *nl = memchr(p, '\n', (size_t)(s + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(s + len - p);
		char *line = strndup(p, n);

		/* A guest's line: a \r or an escape must not redraw the terminal. */
		fputs(indent, f);
		put_safe(f, line ? line : "(out of memory)");
		fputc('\n', f);
		free(line);
		p += n + 1;
	}
}

static void report_print_failure(const struct report_job *j, FILE *f)
{
	char key[512];

	report_format_key(key, sizeof(key), j->scenario, j->vm, j->params_key);
	fprintf(f, "%s #%u: ", key, j->repeat);
	put_safe(f, j->exit_kind);
	if (*j->error) {
		fputs(": ", f);
		put_safe(f, j->error);
	}
	fputc('\n', f);
	for (size_t k = 0; k < j->nfailed; k++) {
		fputs("  expected ", f);
		put_safe(f, j->failed[k]);
		fputc('\n', f);
	}
	if (*j->console_tail) {
		fprintf(f, "  console (last lines):\n");
		print_tail_lines(f, j->console_tail, TEXT_CONSOLE_LINES, "  | ");
	}
}

static void report_print_failures(const struct report *r, FILE *f)
{
	bool any = false;

	for (size_t i = 0; i < r->njobs; i++) {
		if (r->jobs[i].pass)
			continue;
		if (!any)
			fprintf(f, "\nFAILURES\n");
		any = true;
		report_print_failure(&r->jobs[i], f);
	}
}

/* One sparkline per job series and metric: never a scenario's keys together. */
static void report_print_trends(const struct report *r, FILE *f)
{
	char key[512];

	if (!r->nseries)
		return;
	fprintf(f, "\nTRENDS (last runs up to this one)\n");
	for (size_t i = 0; i < r->nseries; i++) {
		const struct history *h = r->series[i];

		report_format_key(key, sizeof(key), h->scenario, h->vm ? h->vm : "",
				  h->params_key);
		fprintf(f, "%s ", key);
		put_safe(f, h->metric);
		fprintf(f, "%s%s%s: ", *h->unit ? " (" : "", h->unit,
			*h->unit ? ")" : "");
		render_sparkline(h, TEXT_SPARK_WIDTH, f);
		history_print_range(h, f);
	}
	if (r->series_hidden)
		fprintf(f, "(%zu more job series not shown)\n", r->series_hidden);
}

int render_text(const struct report *r, FILE *f)
{
	int rc;

	report_print_head(r, f);
	rc = report_print_jobs(r, f);
	if (rc)
		return rc;
	report_print_failures(r, f);
	if (r->diff) {
		fprintf(f, "\n");
		rc = render_diff_text(r->diff, f, false);
		if (rc)
			return rc;
	}
	report_print_trends(r, f);
	return ferror(f) ? -EIO : 0;
}
