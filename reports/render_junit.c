/*
 * render_junit.c - `vmorch report --format junit`: a run as JUnit XML in the
 * Apache Ant layout that tests/junit.xsd describes, one <testsuite> per
 * scenario and one <testcase> per job, so that CI servers list vmorch jobs.
 * Each test case carries its job's console in its own <system-out>, as
 * pytest's and Jenkins' JUnit files do, at most JUNIT_CONSOLE_MAX of it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report.h"
#include "reports/svg.h"

#define JOB_NAME_MAX 320

/*
 * A test case's console: its last 64 KiB.  CI servers load the whole file
 * into memory and show each test's output on a page; a thousand jobs that
 * printed their 1 MiB cap would otherwise make a 1 GiB report.
 */
#define JUNIT_CONSOLE_MAX	(64u << 10)

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* xs:token with minLength 1 must keep something after whitespace collapse. */
static const char *token_or(const char *s, const char *dflt)
{
	const char *p;

	for (p = s; p && *p; p++)
		if (!isspace((unsigned char)*p))
			return s;
	return dflt;
}

static const char *job_scenario(const struct report_job *j)
{
	return token_or(j->scenario, "(unnamed)");
}

/* xs:decimal has no exponent, NaN or infinity. */
static double junit_seconds(double s)
{
	return isfinite(s) && s > 0 ? s : 0;
}

/*
 * The schema's ISO8601_DATETIME_PATTERN is seconds and no zone; the database
 * has "2024-05-01T12:00:00.123Z" (UTC), so the first 19 characters do.
 */
static void junit_timestamp(char out[20], const char *iso)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; iso && i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)iso[i])
				  : iso[i] != pat[i])
			break;
	}
	snprintf(out, 20, "%s", iso && i == sizeof(pat) - 1 ? iso
							   : "1970-01-01T00:00:00");
}

static bool job_in(const struct report_job *j, const char *scenario)
{
	return strcmp(job_scenario(j), scenario) == 0;
}

/* True for the first job of its scenario: the suites follow job order. */
static bool scenario_first(const struct report *r, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (job_in(&r->jobs[k], job_scenario(&r->jobs[i])))
			return false;
	return true;
}

static bool exit_normal(const struct report_job *j)
{
	return !j->exit_kind || strcmp(j->exit_kind, "guest_pass") == 0;
}

static void junit_property(FILE *f, const char *name, const char *value)
{
	if (!value)
		return;
	fprintf(f, "      <property name=\"%s\" value=\"", name);
	xml_put(f, value, XML_ATTR);
	fputs("\"/>\n", f);
}

static void junit_properties(FILE *f, const struct run_info *run)
{
	char id[24];

	snprintf(id, sizeof(id), "%" PRId64, run->id);
	fputs("    <properties>\n", f);
	junit_property(f, "vmorch.run_id", id);
	junit_property(f, "vmorch.label", run->label);
	junit_property(f, "vmorch.status", run->status);
	junit_property(f, "vmorch.started_at", run->started_at);
	junit_property(f, "vmorch.ended_at", run->ended_at);
	junit_property(f, "vmorch.host", run->host);
	junit_property(f, "vmorch.version", run->vmorch_version);
	fputs("    </properties>\n", f);
}

/* One line for CI summaries: the failed expectations, then why it exited. */
static void junit_failure_message(FILE *f, const struct report_job *j)
{
	bool any = false;
	size_t i;

	if (j->nfailed) {
		fprintf(f, "%zu failed expectation%s: ", j->nfailed,
			j->nfailed == 1 ? "" : "s");
		for (i = 0; i < j->nfailed; i++) {
			if (i)
				fputs("; ", f);
			xml_put(f, j->failed[i], XML_ATTR);
		}
		any = true;
	}
	if (!exit_normal(j)) {
		fputs(any ? "; exit " : "exit ", f);
		xml_put(f, j->exit_kind, XML_ATTR);
		any = true;
	}
	if (j->error && j->error[0]) {
		fputs(any ? ": " : "", f);
		xml_put(f, j->error, XML_ATTR);
		any = true;
	}
	if (!any)
		fputs("job failed", f);
}

static void junit_failure(FILE *f, const struct report_job *j)
{
	size_t i;

	fputs("      <failure message=\"", f);
	junit_failure_message(f, j);
	fputs("\" type=\"", f);
	xml_put(f, j->nfailed && exit_normal(j) ? "expectation"
						  : str_or(j->exit_kind, "fail"),
		XML_ATTR);
	fputs("\">", f);
	if (j->nfailed)
		fputs("failed expectations:\n", f);
	for (i = 0; i < j->nfailed; i++) {
		fputs("  ", f);
		xml_put(f, j->failed[i], XML_TEXT);
		fputc('\n', f);
	}
	fputs("exit: ", f);
	xml_put(f, str_or(j->exit_kind, "?"), XML_TEXT);
	fputc('\n', f);
	if (j->error && j->error[0]) {
		fputs("error: ", f);
		xml_put(f, j->error, XML_TEXT);
		fputc('\n', f);
	}
	if (j->console_tail && j->console_tail[0])
		fputs("console: in the test case's system-out\n", f);
	fputs("</failure>\n", f);
}

/*
 * The job's console: the whole stored one when the report can load it,
 * else the tail its result row keeps (fleet jobs, older results).  0 and
 * @t filled, or -ENOENT when there is none to show.
 */
static int junit_console_get(const struct report *r, const struct report_job *j,
			     struct console_text *t)
{
	const char *tail = j->console_tail;

	if (r->console_load && r->console_load(r->console_ctx, j->result_id, t) == 0)
		return 0;
	if (!tail || !tail[0])
		return -ENOENT;
	*t = (struct console_text){ .data = strdup(tail), .len = strlen(tail),
				    .bytes = strlen(tail) };
	return t->data ? 0 : -ENOENT;
}

/* <system-out>: the console's last JUNIT_CONSOLE_MAX bytes, after a note of what is cut. */
static void junit_testcase_out(FILE *f, const struct report *r, const char *name,
			       struct console_text *t)
{
	console_text_keep_tail(t, JUNIT_CONSOLE_MAX);
	fputs("      <system-out>", f);
	if (t->dropped) {
		fprintf(f, "[vmorch: the first %" PRIu64 " of %" PRIu64 " console bytes are"
			" not in this report; `vmorch show %" PRId64 " '", t->dropped, t->bytes,
			r->run.id);
		xml_put(f, name, XML_TEXT);
		fputs("' --console` prints what is stored]\n", f);
	}
	xml_putn(f, t->data, t->len, XML_TEXT);
	fputs("</system-out>\n", f);
}

static void junit_testcase(FILE *f, const struct report *r, const struct report_job *j)
{
	char name[JOB_NAME_MAX];
	struct console_text t = { 0 };
	bool out;

	job_name_format(name, sizeof(name), j->scenario, j->vm, j->params_key, j->repeat);
	fputs("    <testcase name=\"", f);
	xml_put(f, token_or(name, "(unnamed)"), XML_ATTR);
	fputs("\" classname=\"", f);
	xml_put(f, job_scenario(j), XML_ATTR);
	fprintf(f, "\" time=\"%.3f\"", junit_seconds(j->wall_s));
	out = junit_console_get(r, j, &t) == 0;
	if (j->pass && !out) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n", f);
	if (!j->pass)
		junit_failure(f, j);
	if (out)
		junit_testcase_out(f, r, name, &t);
	console_text_release(&t);
	fputs("    </testcase>\n", f);
}

static void junit_system_err(FILE *f, const struct report *r, const char *scenario)
{
	char name[JOB_NAME_MAX];
	const struct report_job *j;
	size_t i;

	fputs("    <system-err>", f);
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (!job_in(j, scenario) || !j->error || !j->error[0])
			continue;
		job_name_format(name, sizeof(name), j->scenario, j->vm, j->params_key, j->repeat);
		xml_put(f, name, XML_TEXT);
		fputs(": ", f);
		xml_put(f, j->error, XML_TEXT);
		fputc('\n', f);
	}
	fputs("</system-err>\n", f);
}

static void junit_testsuite(FILE *f, const struct report *r, const char *scenario,
			    int id)
{
	size_t i, tests = 0, failures = 0;
	double time = 0;
	char ts[20];

	for (i = 0; i < r->njobs; i++) {
		if (!job_in(&r->jobs[i], scenario))
			continue;
		tests++;
		failures += !r->jobs[i].pass;
		time += junit_seconds(r->jobs[i].wall_s);
	}
	junit_timestamp(ts, r->run.started_at);
	fputs("  <testsuite name=\"", f);
	xml_put(f, scenario, XML_ATTR);
	fprintf(f, "\" package=\"vmorch\" id=\"%d\" timestamp=\"%s\" hostname=\"",
		id, ts);
	xml_put(f, token_or(r->run.host, "localhost"), XML_ATTR);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
		"time=\"%.3f\">\n", tests, failures, time);
	junit_properties(f, &r->run);
	for (i = 0; i < r->njobs; i++)
		if (job_in(&r->jobs[i], scenario))
			junit_testcase(f, r, &r->jobs[i]);
	/* Each job's console is in its test case; the schema wants the element. */
	fputs("    <system-out></system-out>\n", f);
	junit_system_err(f, r, scenario);
	fputs("  </testsuite>\n", f);
}

/* ---- the run as a whole: complete, and nothing missing ---- */

#define RUN_SUITE "vmorch.run"

static size_t junit_missing_jobs(const struct report *r)
{
	return r->diff ? r->diff->missing_jobs : 0;
}

/*
 * A run that ended early cannot show the jobs it never ran as failures, so
 * its completeness is one more test case, in error: CI systems list errors
 * beside failures and fail the build on either.
 */
static void junit_run_complete(FILE *f, const struct report *r)
{
	const struct run_info *run = &r->run;

	fputs("    <testcase name=\"run complete\" classname=\"" RUN_SUITE
	      "\" time=\"0.000\"", f);
	if (!run_info_incomplete(run)) {
		fputs("/>\n", f);
		return;
	}
	fprintf(f, ">\n      <error type=\"incomplete\" message=\"run %" PRId64
		" is incomplete: ", run->id);
	xml_put(f, str_or(run->status, "?"), XML_ATTR);
	fprintf(f, ", %zu of %zu jobs stored\">status: ", run->nresults,
		run->jobs_total);
	xml_put(f, str_or(run->status, "?"), XML_TEXT);
	fprintf(f, "\njobs planned: %zu\nresults stored: %zu\n</error>\n"
		"    </testcase>\n", run->jobs_total, run->nresults);
}

/* A job of the baseline (--vs) this run does not have: never run, so skipped. */
static void junit_missing_job(FILE *f, const struct report *r,
			      const struct diff_job *j)
{
	char name[JOB_NAME_MAX];

	job_name_format(name, sizeof(name), j->scenario, j->vm, j->params_key, 0);
	fputs("    <testcase name=\"", f);
	xml_put(f, token_or(name, "(unnamed)"), XML_ATTR);
	fputs("\" classname=\"", f);
	xml_put(f, token_or(j->scenario, "(unnamed)"), XML_ATTR);
	fprintf(f, "\" time=\"0.000\">\n      <skipped message=\"missing: in"
		" baseline run %" PRId64 ", not in this run\"/>\n"
		"    </testcase>\n", r->diff->a.id);
}

static void junit_run_suite(FILE *f, const struct report *r, int id)
{
	size_t missing = junit_missing_jobs(r);
	char ts[20];

	junit_timestamp(ts, r->run.started_at);
	fprintf(f, "  <testsuite name=\"" RUN_SUITE "\" package=\"vmorch\" id=\"%d\""
		" timestamp=\"%s\" hostname=\"", id, ts);
	xml_put(f, token_or(r->run.host, "localhost"), XML_ATTR);
	fprintf(f, "\" tests=\"%zu\" failures=\"0\" errors=\"%d\" skipped=\"%zu\""
		" time=\"0.000\">\n", 1 + missing,
		run_info_incomplete(&r->run) ? 1 : 0, missing);
	junit_properties(f, &r->run);
	junit_run_complete(f, r);
	for (size_t i = 0; r->diff && i < r->diff->njobs; i++)
		if (r->diff->jobs[i].verdict == DIFF_MISSING)
			junit_missing_job(f, r, &r->diff->jobs[i]);
	fputs("    <system-out></system-out>\n    <system-err></system-err>\n"
	      "  </testsuite>\n", f);
}

/* ---- performance against the baseline (--vs) ---- */

#define PERF_SUITE "vmorch.performance"

/* "iops 1000 -> 800 ops/s (-20.0%, p=0.0159, 95% CI [-25.1%, -15.2%])" */
static void perf_row(FILE *f, const struct diff *d, const struct diff_row *r,
		     enum xml_ctx ctx)
{
	char a[REPORT_NUM_MAX], b[REPORT_NUM_MAX], pct[REPORT_NUM_MAX];
	char ci[2 * REPORT_NUM_MAX];

	report_format_value(a, sizeof(a), r->a.mean);
	report_format_value(b, sizeof(b), r->b.mean);
	report_format_pct(pct, sizeof(pct), r->delta_pct);
	xml_put(f, r->name, ctx);
	fprintf(f, " %s -> %s ", a, b);
	xml_put(f, r->unit ? r->unit : "", ctx);
	fprintf(f, " (%s", pct);
	if (r->tested)
		fprintf(f, ", p=%.3g", report_row_p(r));
	if (r->has_ci) {
		report_format_ci(ci, sizeof(ci), r);
		fprintf(f, ", %g%% CI %s", 100 * (1 - d->alpha), ci);
	}
	fputc(')', f);
}

static bool row_same_key(const struct diff_row *x, const struct diff_row *y)
{
	return !strcmp(x->scenario, y->scenario) && !strcmp(x->vm, y->vm) &&
	       !strcmp(x->params_key, y->params_key);
}

/* One failed test case for the regressed rows d->rows[from, to) of a key. */
static void perf_testcase(FILE *f, const struct diff *d, size_t from, size_t to)
{
	const struct diff_row *r = &d->rows[from];
	char key[512];

	report_format_key(key, sizeof(key), r->scenario, r->vm, r->params_key);
	fputs("    <testcase name=\"", f);
	xml_put(f, key, XML_ATTR);
	fputs("\" classname=\"" PERF_SUITE "\" time=\"0.000\">\n"
	      "      <failure type=\"regression\" message=\"", f);
	for (size_t i = from; i < to; i++) {
		if (i > from)
			fputs("; ", f);
		perf_row(f, d, &d->rows[i], XML_ATTR);
	}
	fprintf(f, "\">regressed against run %" PRId64 ":\n", d->a.id);
	for (size_t i = from; i < to; i++) {
		fputs("  ", f);
		perf_row(f, d, &d->rows[i], XML_TEXT);
		fputc('\n', f);
	}
	fputs("</failure>\n    </testcase>\n", f);
}

/*
 * With a baseline, each job key with a regressed row is a failed test case
 * of its own, so CI lists performance regressions beside failed jobs;
 * without any, one passing case says what was judged.
 */
static void junit_perf_suite(FILE *f, const struct report *r, int id)
{
	const struct diff *d = r->diff;
	size_t keys = 0, judged = 0;
	char ts[20];

	for (size_t i = 0; i < d->nrows; i++) {
		judged += d->rows[i].judged && d->rows[i].a.n && d->rows[i].b.n;
		if (d->rows[i].verdict == DIFF_REGRESSED &&
		    (!i || d->rows[i - 1].verdict != DIFF_REGRESSED ||
		     !row_same_key(&d->rows[i - 1], &d->rows[i])))
			keys++;
	}
	junit_timestamp(ts, r->run.started_at);
	fprintf(f, "  <testsuite name=\"" PERF_SUITE "\" package=\"vmorch\" id=\"%d\""
		" timestamp=\"%s\" hostname=\"", id, ts);
	xml_put(f, token_or(r->run.host, "localhost"), XML_ATTR);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\""
		" time=\"0.000\">\n", keys ? keys : 1, keys);
	junit_properties(f, &r->run);
	if (!keys)
		fprintf(f, "    <testcase name=\"no performance regression against run %"
			PRId64 " (%zu row%s judged)\" classname=\"" PERF_SUITE "\""
			" time=\"0.000\"/>\n", d->a.id, judged, judged == 1 ? "" : "s");
	for (size_t i = 0; i < d->nrows && d->rows[i].verdict == DIFF_REGRESSED;) {
		size_t j = i + 1;

		while (j < d->nrows && d->rows[j].verdict == DIFF_REGRESSED &&
		       row_same_key(&d->rows[i], &d->rows[j]))
			j++;
		perf_testcase(f, d, i, j);
		i = j;
	}
	fputs("    <system-out></system-out>\n    <system-err></system-err>\n"
	      "  </testsuite>\n", f);
}

int render_junit(const struct report *r, FILE *f)
{
	size_t i;
	int id = 0;

	/* The schema's <testsuites> takes no attributes: totals are per suite. */
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	for (i = 0; i < r->njobs; i++)
		if (scenario_first(r, i))
			junit_testsuite(f, r, job_scenario(&r->jobs[i]), id++);
	if (run_info_incomplete(&r->run) || junit_missing_jobs(r))
		junit_run_suite(f, r, id++);
	if (r->diff)
		junit_perf_suite(f, r, id);
	fputs("</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}
