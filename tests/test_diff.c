/*
 * test_diff.c - `vmorch diff`, `history` and `regressions` on the fixture
 * database (tests/fixtures/report_fixture.h): every verdict, the
 * small-sample and Mann-Whitney paths, history filters, and the exit
 * statuses of the real vmorch binary.
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "orchestrator/db.h"
#include "reports/report.h"
#include "tests/fixtures/report_fixture.h"

struct fx {
	char dir[64];
	char path[128];
	char out[160];
	struct db *db;
	struct diff *d;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct verr e = { "" };
	struct diff_opts o = { DIFF_DEFAULT_THRESHOLD_PCT, DIFF_DEFAULT_ALPHA };

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-diff-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out.txt", f->dir);
	if (report_fixture_build(f->path, &e) || db_open(f->path, &f->db, &e) ||
	    diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE, FIXTURE_RUN_CAND,
			 &o, &f->d, &e)) {
		fprintf(stderr, "fixture: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	diff_free(f->d);
	db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const struct diff_row *row_find(const struct diff *d, const char *vm,
				       const char *params_key, const char *name)
{
	for (size_t i = 0; i < d->nrows; i++)
		if (!strcmp(d->rows[i].vm, vm) && !strcmp(d->rows[i].name, name) &&
		    !strcmp(d->rows[i].params_key, params_key))
			return &d->rows[i];
	fail_msg("no row %s [%s] %s", vm, params_key, name);
	return NULL;
}

static const struct diff_job *job_find(const struct diff *d, const char *vm)
{
	for (size_t i = 0; i < d->njobs; i++)
		if (!strcmp(d->jobs[i].vm, vm))
			return &d->jobs[i];
	fail_msg("no job %s", vm);
	return NULL;
}

#define assert_verdict(got, want) \
	assert_string_equal(diff_verdict_name(got), diff_verdict_name(want))

/* ---- verdicts ---- */

/* iops is higher-is-better: +20% on one repeat each is an improvement. */
static void test_iops_up_20pct_improved(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "fast", "bs=4k", "iops");

	assert_verdict(r->verdict, DIFF_IMPROVED);
	assert_true(r->a.mean == 1000 && r->b.mean == 1200);
	assert_true(r->delta == 200 && r->delta_pct == 20);
	assert_false(r->tested);
	assert_true(isnan(r->p_value));
}

static void test_iops_down_20pct_regressed(void **state)
{
	struct fx *f = *state;

	assert_verdict(row_find(f->d, "slow", "", "iops")->verdict, DIFF_REGRESSED);
}

/* +2% and +0.5% are under the 5% threshold. */
static void test_small_change_unchanged(void **state)
{
	struct fx *f = *state;

	assert_verdict(row_find(f->d, "steady", "", "iops")->verdict, DIFF_UNCHANGED);
	assert_verdict(row_find(f->d, "fast", "bs=64k", "iops")->verdict,
		       DIFF_UNCHANGED);
}

/* io_errors summed over two disks goes 0 -> 3: lower is better, from zero. */
static void test_io_errors_from_zero_regressed(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "errors", "", "io_errors");

	assert_verdict(r->verdict, DIFF_REGRESSED);
	assert_true(r->is_counter);
	assert_true(r->a.mean == 0 && r->b.mean == 3);
	assert_true(isnan(r->delta_pct));
}

/* reads_completed is neutral: a 10% change is reported, not judged. */
static void test_neutral_counter_reported(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "errors", "", "reads_completed");

	assert_verdict(r->verdict, DIFF_REPORTED);
	assert_true(r->a.mean == 1200 && r->b.mean == 1080);
	assert_verdict(row_find(f->d, "errors", "", "bytes_read")->verdict,
		       DIFF_REPORTED);
}

static void test_job_only_in_b_new_only_in_a_missing(void **state)
{
	struct fx *f = *state;
	const struct diff_job *n = job_find(f->d, "newvm");
	const struct diff_job *g = job_find(f->d, "gone");

	assert_verdict(n->verdict, DIFF_NEW);
	assert_int_equal(n->n_a, 0);
	assert_int_equal(n->n_b, 1);
	assert_verdict(g->verdict, DIFF_MISSING);
	assert_int_equal(g->n_b, 0);
}

/* A metric only one side reported is a new or missing row. */
static void test_metric_only_on_one_side(void **state)
{
	struct fx *f = *state;

	assert_verdict(row_find(f->d, "extra", "", "cache_hits")->verdict, DIFF_NEW);
	assert_verdict(row_find(f->d, "extra", "", "verify_errors")->verdict,
		       DIFF_MISSING);
}

static size_t rows_of(const struct diff *d, const char *vm)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nrows; i++)
		n += !strcmp(d->rows[i].vm, vm);
	return n;
}

/*
 * reads 1000 -> 999 is -0.1%, yet pass -> fail is a regression; the failed
 * result's numbers are not compared at all, so the job has no rows.
 */
static void test_pass_to_fail_regressed(void **state)
{
	struct fx *f = *state;
	const struct diff_job *j = job_find(f->d, "breaks");

	assert_verdict(j->verdict, DIFF_REGRESSED);
	assert_true(j->newly_failing);
	assert_int_equal(j->pass_a, 1);
	assert_int_equal(j->pass_b, 0);
	assert_int_equal(rows_of(f->d, "breaks"), 0);
	assert_int_equal(f->d->failing_jobs, 1);
	assert_int_equal(f->d->missing_jobs, 1);	/* gone */
}

/* Means differ by 9% (over the threshold), but Mann-Whitney p = 0.69. */
static void test_five_repeats_not_significant_unchanged(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "noisy", "", "iops");

	assert_true(r->tested);
	assert_true(fabs(r->delta_pct) > 5);
	assert_true(fabs(r->p_value - 0.69047619047619047) < 1e-6);
	assert_verdict(r->verdict, DIFF_UNCHANGED);
}

static void test_five_repeats_significant_improved(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "shifted", "", "iops");

	assert_true(r->tested);
	assert_int_equal(r->a.n, 5);
	assert_true(r->a.median == 102 && r->b.median == 122);
	assert_true(fabs(r->p_value - 2.0 / 252) < 1e-9);
	assert_verdict(r->verdict, DIFF_IMPROVED);
}

/* Single-repeat keys: the threshold alone decided, and the diff says so. */
static void test_small_sample_flagged(void **state)
{
	struct fx *f = *state;

	assert_true(f->d->small_sample);
}

/* Regressions come first (rows and jobs), then the rest in key order. */
static void test_regressions_first_and_counted(void **state)
{
	struct fx *f = *state;
	bool seen_other = false;

	assert_int_equal(f->d->regressed, 3);	/* slow iops, io_errors, breaks */
	assert_int_equal(f->d->improved, 2);
	assert_int_equal(f->d->added, 2);	/* newvm, cache_hits */
	assert_int_equal(f->d->missing, 2);	/* gone, verify_errors */
	assert_verdict(f->d->rows[0].verdict, DIFF_REGRESSED);
	assert_verdict(f->d->rows[1].verdict, DIFF_REGRESSED);
	assert_string_equal(f->d->rows[2].vm, "errors");	/* key order */
	assert_string_equal(f->d->rows[2].name, vblk_fields[0].name);
	for (size_t i = 0; i < f->d->nrows; i++) {
		bool reg = f->d->rows[i].verdict == DIFF_REGRESSED;

		assert_false(reg && seen_other);
		seen_other = seen_other || !reg;
	}
	assert_verdict(f->d->jobs[0].verdict, DIFF_REGRESSED);
}

/* A higher threshold turns the 20% changes into unchanged ones. */
static void test_threshold_option(void **state)
{
	struct fx *f = *state;
	struct diff_opts o = { 25, 0.05 };
	struct verr e = { "" };
	struct diff *d;

	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE,
				      FIXTURE_RUN_CAND, &o, &d, &e), 0);
	assert_verdict(row_find(d, "slow", "", "iops")->verdict, DIFF_UNCHANGED);
	assert_verdict(row_find(d, "errors", "", "io_errors")->verdict,
		       DIFF_REGRESSED);	/* from zero: always beyond */
	diff_free(d);
}

/* ---- history ---- */

static void test_history_per_run_oldest_first(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "fast",
				  .metric = "iops" };
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 3);
	assert_int_equal(h->points[0].run_id, FIXTURE_RUN_OLD);
	assert_true(h->points[0].value.mean == 900);
	assert_int_equal(h->points[1].value.n, 2);	/* bs=4k and bs=64k */
	assert_true(h->points[1].value.mean == 1500);
	assert_true(h->points[2].value.mean == 1605);
	assert_string_equal(h->unit, "ops/s");
	history_free(h);
}

/* Counters are summed over disks per result, then aggregated per run. */
static void test_history_counter_summed(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "errors",
				  .metric = "io_errors" };
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 2);
	assert_true(h->points[0].value.mean == 0);
	assert_true(h->points[1].value.mean == 3);
	history_free(h);
}

static void test_history_last_and_label(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .metric = "wall_us",
				  .last = 2 };
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 2);
	assert_int_equal(h->points[0].run_id, FIXTURE_RUN_BASE);
	assert_true(h->points[1].value.mean == 200000);
	history_free(h);

	o.last = 0;
	o.label_like = "[bc]a*";
	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 2);
	assert_string_equal(h->points[0].label, "base");
	assert_string_equal(h->points[1].label, "cand");
	history_free(h);
}

/* ---- the real binary's exit statuses ---- */

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

/* Run vmorch with @args (NULL-terminated), output to f->out; exit status. */
static int vmorch(struct fx *f, const char *const *args)
{
	const char *argv[16] = { "vmorch" };
	int n = 1, status;
	pid_t pid;

	while (*args && n < 13)
		argv[n++] = *args++;
	argv[n++] = "--db";
	argv[n++] = f->path;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static bool out_contains(struct fx *f, const char *s)
{
	static char buf[65536];
	FILE *fp = fopen(f->out, "r");
	size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

	if (fp)
		fclose(fp);
	buf[n] = 0;
	return strstr(buf, s) != NULL;
}

static void test_cli_diff_exit_0_without_flag(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "base", "cand", NULL }), 0);
	assert_true(out_contains(f, "regressed  smoke/slow"));
}

static void test_cli_fail_on_regression_exit_1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--fail-on-regression",
						     "base", "cand", NULL }), 1);
}

/* old -> base only improved (and added jobs): exit 0 even with the flag. */
static void test_cli_fail_on_regression_exit_0_when_none(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--fail-on-regression",
						     "old", "base", NULL }), 0);
}

static void test_cli_regressions_exit_1_lists_them(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "regressions", "--baseline",
				"base", "--candidate", "last", NULL }), 1);
	assert_true(out_contains(f, "REGRESSION smoke/slow: iops 1000 -> 800 ops/s"));
	assert_true(out_contains(f, "REGRESSION smoke/breaks: verdict pass -> fail"));
	assert_true(out_contains(f, "REGRESSION smoke/errors: io_errors 0 -> 3"));
}

static void test_cli_regressions_exit_0_when_none(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "regressions", "--baseline",
				"old", "--candidate", "base", NULL }), 0);
}

static void test_cli_unknown_run_usage_error(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "base", "nosuch", NULL }), 2);
	assert_true(out_contains(f, "nosuch"));
}

static void test_cli_history_csv(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--vm", "slow", "--csv", NULL }), 0);
	assert_true(out_contains(f, "run_id,started_at,label,n,mean,median,stddev\n"
				 "2,2024-05-02T12:00:00.000Z,base,1,1000,1000,0\n"
				 "3,2024-05-03T12:00:00.000Z,cand,1,800,800,0\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iops_up_20pct_improved),
		cmocka_unit_test(test_iops_down_20pct_regressed),
		cmocka_unit_test(test_small_change_unchanged),
		cmocka_unit_test(test_io_errors_from_zero_regressed),
		cmocka_unit_test(test_neutral_counter_reported),
		cmocka_unit_test(test_job_only_in_b_new_only_in_a_missing),
		cmocka_unit_test(test_metric_only_on_one_side),
		cmocka_unit_test(test_pass_to_fail_regressed),
		cmocka_unit_test(test_five_repeats_not_significant_unchanged),
		cmocka_unit_test(test_five_repeats_significant_improved),
		cmocka_unit_test(test_small_sample_flagged),
		cmocka_unit_test(test_regressions_first_and_counted),
		cmocka_unit_test(test_threshold_option),
		cmocka_unit_test(test_history_per_run_oldest_first),
		cmocka_unit_test(test_history_counter_summed),
		cmocka_unit_test(test_history_last_and_label),
		cmocka_unit_test(test_cli_diff_exit_0_without_flag),
		cmocka_unit_test(test_cli_fail_on_regression_exit_1),
		cmocka_unit_test(test_cli_fail_on_regression_exit_0_when_none),
		cmocka_unit_test(test_cli_regressions_exit_1_lists_them),
		cmocka_unit_test(test_cli_regressions_exit_0_when_none),
		cmocka_unit_test(test_cli_unknown_run_usage_error),
		cmocka_unit_test(test_cli_history_csv),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
