/*
 * test_diff.c - `vmorch diff`, `history` and `regressions` on the fixture
 * database (tests/fixtures/report_fixture.h): every verdict, the
 * small-sample and Mann-Whitney paths, history filters, and the exit
 * statuses of the real vmorch binary.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/metric_dirs.h"
#include "orchestrator/db.h"
#include "reports/report.h"
#include "tests/fixtures/report_fixture.h"

struct fx {
	char dir[64];
	char path[128];
	char gate[128];			/* report_fixture_build_gate() */
	char out[160];
	struct db *db;
	struct diff *d;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct verr e = { "" };
	struct diff_opts o = { .threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT,
			       .alpha = DIFF_DEFAULT_ALPHA,
			       .correction = DIFF_DEFAULT_CORRECTION };

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-diff-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out.txt", f->dir);
	snprintf(f->gate, sizeof(f->gate), "%s/gate.db", f->dir);
	if (report_fixture_build(f->path, &e) ||
	    report_fixture_build_gate(f->gate, &e) || db_open(f->path, &f->db, &e) ||
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

/*
 * shifted: A 100..104, B 120..124.  The 25 differences run 16..24; the
 * Hodges-Lehmann shift is their median, 20, and with 5 repeats a side
 * the exact 95% interval leaves out the 2 smallest and largest: [17, 23].
 * The judged family is shifted's and noisy's iops (every other tested
 * row is constant): Benjamini-Hochberg doubles the smaller p.
 */
static void test_shifted_interval_and_adjusted_p(void **state)
{
	struct fx *f = *state;
	const struct diff_row *r = row_find(f->d, "shifted", "", "iops");
	const struct diff_row *n = row_find(f->d, "noisy", "", "iops");

	assert_true(r->judged && r->has_ci);
	assert_true(r->hl_shift == 20 && r->ci_low == 17 && r->ci_high == 23);
	assert_int_equal(f->d->family, 2);
	assert_true(fabs(r->p_adjusted - 4.0 / 252) < 1e-12);
	assert_true(fabs(n->p_adjusted - n->p_value) < 1e-12);
	assert_true(isnan(row_find(f->d, "shifted", "", "io_errors")->p_adjusted));
	assert_int_equal(f->d->correction, STATS_CORRECT_BH);
}

static struct diff *diff_with(struct fx *f, const struct diff_opts *o)
{
	struct verr e = { "" };
	struct diff *d = NULL;

	if (diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE, FIXTURE_RUN_CAND, o,
			 &d, &e))
		fail_msg("diff: %s", e.msg);
	return d;
}

/*
 * At alpha 0.01 shifted's p = 0.0079 passes alone but not once adjusted
 * for the two tests (0.0159): the correction decides.
 */
static void test_correction_decides_at_alpha_001(void **state)
{
	struct fx *f = *state;
	struct diff_opts o;
	struct diff *d;

	diff_opts_init(&o);
	o.alpha = 0.01;
	d = diff_with(f, &o);
	assert_verdict(row_find(d, "shifted", "", "iops")->verdict, DIFF_UNCHANGED);
	diff_free(d);
	o.correction = STATS_CORRECT_HOLM;
	d = diff_with(f, &o);
	assert_verdict(row_find(d, "shifted", "", "iops")->verdict, DIFF_UNCHANGED);
	assert_true(fabs(row_find(d, "shifted", "", "iops")->p_adjusted - 4.0 / 252) < 1e-12);
	diff_free(d);
	o.correction = STATS_CORRECT_NONE;
	d = diff_with(f, &o);
	assert_verdict(row_find(d, "shifted", "", "iops")->verdict, DIFF_IMPROVED);
	diff_free(d);
}

/*
 * The run timings are not judged by default: steady's wall_us doubling is
 * reported.  --metric wall_us judges it (and then only it: the iops drop
 * of slow is reported); --metric NAME:lower judges a neutral counter.
 */
static void test_metric_option_chooses_judged(void **state)
{
	struct fx *f = *state;
	struct diff_metric_sel m[2] = { { (char *)"wall_us", VMORCH_DIR_NEUTRAL },
					{ (char *)"reads_completed", VMORCH_DIR_LOWER } };
	struct diff_opts o;
	struct diff *d;

	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "UPDATE vm_results SET"
		" wall_us = 2 * wall_us WHERE vm = 'steady' AND run_id = 3",
		NULL, NULL, NULL), SQLITE_OK);
	diff_opts_init(&o);
	d = diff_with(f, &o);
	assert_false(row_find(d, "steady", "", "wall_us")->judged);
	assert_verdict(row_find(d, "steady", "", "wall_us")->verdict, DIFF_REPORTED);
	diff_free(d);
	o.metrics = m;
	o.nmetrics = 2;
	d = diff_with(f, &o);
	assert_true(d->metrics_chosen);
	assert_verdict(row_find(d, "steady", "", "wall_us")->verdict, DIFF_REGRESSED);
	assert_verdict(row_find(d, "slow", "", "iops")->verdict, DIFF_REPORTED);
	assert_verdict(row_find(d, "errors", "", "reads_completed")->verdict,
		       DIFF_IMPROVED);	/* 1200 -> 1080, lower is better */
	diff_free(d);
	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "UPDATE vm_results SET"
		" wall_us = wall_us / 2 WHERE vm = 'steady' AND run_id = 3",
		NULL, NULL, NULL), SQLITE_OK);
}

/* A --metric or --params that names nothing: -ENOENT, saying which. */
static void test_selection_of_nothing_refused(void **state)
{
	struct fx *f = *state;
	struct diff_metric_sel m = { (char *)"nosuch", VMORCH_DIR_NEUTRAL };
	char *p = (char *)"bs=1m";
	struct verr e = { "" };
	struct diff_opts o;
	struct diff *d = NULL;

	diff_opts_init(&o);
	o.metrics = &m;
	o.nmetrics = 1;
	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE,
				      FIXTURE_RUN_CAND, &o, &d, &e), -ENOENT);
	assert_null(d);
	assert_non_null(strstr(e.msg, "--metric nosuch"));
	diff_opts_init(&o);
	o.params = &p;
	o.nparams = 1;
	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE,
				      FIXTURE_RUN_CAND, &o, &d, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "--params bs=1m"));
}

/* --params bs=4k keeps fast[bs=4k] and nothing else. */
static void test_params_option_selects_point(void **state)
{
	struct fx *f = *state;
	char *p = (char *)"bs=4k";
	struct diff_opts o;
	struct diff *d;

	diff_opts_init(&o);
	o.params = &p;
	o.nparams = 1;
	d = diff_with(f, &o);
	assert_int_equal(d->njobs, 1);
	assert_string_equal(d->jobs[0].vm, "fast");
	for (size_t i = 0; i < d->nrows; i++)
		assert_string_equal(d->rows[i].params_key, "bs=4k");
	assert_int_equal(d->improved, 1);
	assert_int_equal(d->regressed, 0);
	diff_free(d);
}

/*
 * A/B inside run cand: fast's bs=4k jobs (iops 1200) against its bs=64k
 * ones (2010), matched as fast without bs; nothing else has bs.
 */
static void test_ab_within_one_run(void **state)
{
	struct fx *f = *state;
	struct verr e = { "" };
	struct diff_opts o;
	struct diff *d = NULL;
	const struct diff_row *r;

	diff_opts_init(&o);
	o.ab_key = strdup("bs");
	o.ab_a = strdup("bs=4k");
	o.ab_b = strdup("bs=64k");
	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_CAND,
				      FIXTURE_RUN_CAND, &o, &d, &e), 0);
	assert_int_equal(d->njobs, 1);
	assert_string_equal(d->jobs[0].vm, "fast");
	assert_string_equal(d->jobs[0].params_key, "");
	assert_false(d->jobs[0].config_changed);
	r = row_find(d, "fast", "", "iops");
	assert_true(r->a.mean == 1200 && r->b.mean == 2010);
	assert_verdict(r->verdict, DIFF_IMPROVED);
	assert_string_equal(d->ab_a, "bs=4k");
	diff_free(d);
	free(o.ab_b);
	o.ab_b = strdup("bs=1m");
	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_CAND,
				      FIXTURE_RUN_CAND, &o, &d, &e), -ENOENT);
	assert_string_equal(e.msg, "--ab bs=4k,bs=1m: no job of the run has bs=1m");
	diff_opts_release(&o);
}

/* fio's figures are known by their last component. */
static void test_fio_metric_directions(void **state)
{
	const struct vm_metric_info *m = vm_metric_find("fio.r.read.iops");

	assert_non_null(m);
	assert_int_equal(m->dir, VMORCH_DIR_HIGHER);
	assert_true(m->judged);
	m = vm_metric_find("fio.mix_1.write.clat_p99_us");
	assert_int_equal(m->dir, VMORCH_DIR_LOWER);
	assert_true(m->judged);
	assert_false(vm_metric_find("fio.r.read.clat_mean_us")->judged);
	assert_null(vm_metric_find("fio.r.read.runtime_ms"));
	assert_null(vm_metric_find("clat_p99_us"));
	assert_false(vm_metric_find("wall_us")->judged);
	assert_true(vm_metric_find("lat_p99_us")->judged);
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
	struct diff_opts o = { .threshold_pct = 25, .alpha = 0.05,
			       .correction = DIFF_DEFAULT_CORRECTION };
	struct verr e = { "" };
	struct diff *d;

	assert_int_equal(diff_compute(db_sqlite(f->db), FIXTURE_RUN_BASE,
				      FIXTURE_RUN_CAND, &o, &d, &e), 0);
	assert_verdict(row_find(d, "slow", "", "iops")->verdict, DIFF_UNCHANGED);
	assert_verdict(row_find(d, "errors", "", "io_errors")->verdict,
		       DIFF_REGRESSED);	/* from zero: always beyond */
	diff_free(d);
}

/*
 * slow's configuration differs between the runs (ops 1000 -> 4000): its
 * iops drop is reported, not judged, and the job says which key changed;
 * --allow-config-change judges it again.  Results without a stored
 * configuration (every other job) are never taken for a change.
 */
static void test_config_change_not_judged(void **state)
{
	struct fx *f = *state;
	struct diff_opts o = { .threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT,
			       .alpha = DIFF_DEFAULT_ALPHA,
			       .correction = DIFF_DEFAULT_CORRECTION };
	struct verr e = { "" };
	sqlite3 *h = db_sqlite(f->db);
	struct diff *d;

	assert_int_equal(sqlite3_exec(h, "UPDATE vm_results SET config ="
		" '{\"vcpus\":1,\"workload\":\"ops=1000\"}', config_hash = 'a'"
		" WHERE vm = 'slow' AND run_id = 2;"
		" UPDATE vm_results SET config ="
		" '{\"vcpus\":1,\"workload\":\"ops=4000\"}', config_hash = 'b'"
		" WHERE vm = 'slow' AND run_id = 3", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(diff_compute(h, FIXTURE_RUN_BASE, FIXTURE_RUN_CAND, &o, &d, &e), 0);
	assert_verdict(row_find(d, "slow", "", "iops")->verdict, DIFF_REPORTED);
	assert_int_equal(d->config_changed, 1);
	assert_int_equal(d->regressed, 2);	/* io_errors, breaks: no longer slow */
	for (size_t i = 0; i < d->njobs; i++)
		if (!strcmp(d->jobs[i].vm, "slow")) {
			assert_true(d->jobs[i].config_changed);
			assert_string_equal(d->jobs[i].config_keys, "workload");
		} else {
			assert_false(d->jobs[i].config_changed);
		}
	diff_free(d);
	o.allow_config_change = true;
	assert_int_equal(diff_compute(h, FIXTURE_RUN_BASE, FIXTURE_RUN_CAND, &o, &d, &e), 0);
	assert_verdict(row_find(d, "slow", "", "iops")->verdict, DIFF_REGRESSED);
	diff_free(d);
	assert_int_equal(sqlite3_exec(h, "UPDATE vm_results SET config = NULL,"
				      " config_hash = NULL", NULL, NULL, NULL), SQLITE_OK);
}

/* ---- history ---- */

/* One series: fast at bs=4k, every run that has it, oldest first. */
/*
 * --by commit: runs 2 and 3 are one commit, so their repeats pool into one
 * point (1000 and 1200: mean 1100, n 2) placed at run 2; run 1 has no
 * commit and is left out, counted.  --by date: one point per day.
 */
static void test_history_by_commit_and_date(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "fast",
				  .metric = "iops", .params_key = "bs=4k",
				  .by = HISTORY_BY_COMMIT };
	sqlite3 *db = db_sqlite(f->db);
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(sqlite3_exec(db, "INSERT INTO run_meta VALUES"
		" (2, 'commit', '0123456789abcdef0123', 'auto'),"
		" (3, 'commit', '0123456789abcdef0123', 'auto')", NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(history_query(db, &o, &h, &e), 0);
	assert_int_equal(h->npoints, 1);
	assert_int_equal(h->nruns, 2);
	assert_int_equal(h->ungrouped, 1);
	assert_string_equal(h->points[0].group, "0123456789abcdef0123");
	assert_int_equal(h->points[0].nruns, 2);
	assert_int_equal(h->points[0].run_id, FIXTURE_RUN_BASE);
	assert_int_equal(h->points[0].value.n, 2);
	assert_true(h->points[0].value.mean == 1100);
	history_free(h);

	assert_int_equal(sqlite3_exec(db, "INSERT INTO run_meta VALUES"
		" (1, 'commit', 'fedcba', 'auto')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(history_query(db, &o, &h, &e), 0);
	assert_int_equal(h->npoints, 2);
	assert_string_equal(h->points[0].group, "fedcba");	/* oldest first */
	assert_true(h->points[0].value.mean == 900);
	assert_int_equal(h->ungrouped, 0);
	history_free(h);

	o.by = HISTORY_BY_DATE;
	assert_int_equal(history_query(db, &o, &h, &e), 0);
	assert_int_equal(h->npoints, 3);
	assert_string_equal(h->points[2].group, "2024-05-03");
	assert_true(h->points[2].value.mean == 1200);
	history_free(h);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM run_meta", NULL, NULL, NULL),
			 SQLITE_OK);
}

static void test_history_per_run_oldest_first(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "fast",
				  .metric = "iops", .params_key = "bs=4k" };
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 3);
	assert_int_equal(h->points[0].run_id, FIXTURE_RUN_OLD);
	assert_true(h->points[0].value.mean == 900);
	assert_int_equal(h->points[1].value.n, 1);
	assert_true(h->points[1].value.mean == 1000);
	assert_true(h->points[2].value.mean == 1200);
	assert_string_equal(h->unit, "ops/s");
	history_free(h);

	/* bs=64k: only the two runs that have it. */
	o.params_key = "bs=64k";
	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	assert_int_equal(h->npoints, 2);
	assert_true(h->points[0].value.mean == 2000);
	assert_true(h->points[1].value.mean == 2010);
	history_free(h);
}

/*
 * Options that select several series (two matrix points of fast, or every
 * VM) are refused, naming them: a history never averages across them.
 */
static void test_history_one_series_only(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "fast", .metric = "iops" };
	struct verr e = { "" };
	struct history *h;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), -EDOM);
	assert_null(h);
	assert_string_equal(e.msg, "smoke holds 2 series for these options; a history is one,"
			    " never an average across VMs or matrix points: choose with"
			    " --vm fast --params bs=4k, --vm fast --params bs=64k");
	o.vm = NULL;
	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), -EDOM);
	assert_non_null(strstr(e.msg, "smoke holds more than 8 series for these options"));
	assert_non_null(strstr(e.msg, "--vm breaks, --vm errors, "));
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
	struct history_opts o = { .scenario = "smoke", .vm = "steady", .metric = "wall_us",
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

/*
 * A point whose configuration differs from the last run before it that has
 * one gets the keys that changed, however few runs the options show: steady
 * is ops=1 in the old run, unknown in base (no chain broken), ops=2 in cand.
 */
static void test_history_config_change_in_window(void **state)
{
	struct fx *f = *state;
	struct history_opts o = { .scenario = "smoke", .vm = "steady", .metric = "wall_us" };
	struct verr e = { "" };
	sqlite3 *h = db_sqlite(f->db);
	struct history *hi;

	assert_int_equal(sqlite3_exec(h, "UPDATE vm_results SET config ="
		" '{\"vcpus\":1,\"workload\":\"ops=1\"}', config_hash = 'a'"
		" WHERE vm = 'steady' AND run_id = 1;"
		" UPDATE vm_results SET config ="
		" '{\"vcpus\":1,\"workload\":\"ops=2\"}', config_hash = 'b'"
		" WHERE vm = 'steady' AND run_id = 3", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(history_query(h, &o, &hi, &e), 0);
	assert_int_equal(hi->npoints, 3);
	assert_null(hi->points[0].config_keys);
	assert_null(hi->points[1].config_keys);
	assert_string_equal(hi->points[2].config_keys, "workload");
	history_free(hi);

	o.last = 1;			/* the old run is before the window */
	assert_int_equal(history_query(h, &o, &hi, &e), 0);
	assert_int_equal(hi->npoints, 1);
	assert_string_equal(hi->points[0].config_keys, "workload");
	history_free(hi);

	o.last = 0;			/* base and cand: old is filtered out */
	o.label_like = "[bc]a*";
	assert_int_equal(history_query(h, &o, &hi, &e), 0);
	assert_int_equal(hi->npoints, 2);
	assert_null(hi->points[0].config_keys);
	assert_string_equal(hi->points[1].config_keys, "workload");
	history_free(hi);

	o.label_like = NULL;		/* the change after the window shows nowhere */
	o.until_run = FIXTURE_RUN_BASE;
	assert_int_equal(history_query(h, &o, &hi, &e), 0);
	assert_int_equal(hi->npoints, 2);
	assert_null(hi->points[0].config_keys);
	assert_null(hi->points[1].config_keys);
	history_free(hi);
	assert_int_equal(sqlite3_exec(h, "UPDATE vm_results SET config = NULL,"
				      " config_hash = NULL", NULL, NULL, NULL), SQLITE_OK);
}

/* ---- the real binary's exit statuses ---- */

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

/*
 * Run vmorch with @args (NULL-terminated) on database @db, stdout to
 * f->out and stderr to f->out.err (or both to f->out when !split); @limit
 * (if non-zero) caps the size of files it may write.  Its exit status.
 */
static int vmorch_on(struct fx *f, const char *db, const char *const *args,
		     bool split, rlim_t limit)
{
	const char *argv[16] = { "vmorch" };
	char err[200];
	int n = 1, status;
	pid_t pid;

	while (*args && n < 13)
		argv[n++] = *args++;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n] = NULL;
	snprintf(err, sizeof(err), "%s.err", f->out);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int efd = split ? open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644) : fd;
		struct rlimit rl = { limit, limit };

		dup2(fd, 1);
		dup2(efd, 2);
		if (limit) {
			/* Past the limit write() fails with EFBIG instead. */
			signal(SIGXFSZ, SIG_IGN);
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int vmorch(struct fx *f, const char *const *args)
{
	return vmorch_on(f, f->path, args, false, 0);
}

static char *file_slurp(const char *path, size_t *len)
{
	static char buf[262144];
	FILE *fp = fopen(path, "r");
	size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

	if (fp)
		fclose(fp);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static bool out_contains(struct fx *f, const char *s)
{
	return strstr(file_slurp(f->out, NULL), s) != NULL;
}

static bool err_contains(struct fx *f, const char *s)
{
	char err[200];

	snprintf(err, sizeof(err), "%s.err", f->out);
	return strstr(file_slurp(err, NULL), s) != NULL;
}

static size_t out_size(struct fx *f)
{
	size_t n;

	file_slurp(f->out, &n);
	return n;
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

/* --params, --metric and --correction from the command line; bad ones exit 2. */
static void test_cli_diff_selection(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--params", "bs=4k",
				"base", "cand", NULL }), 0);
	assert_true(out_contains(f, "improved  smoke/fast[bs=4k]  iops"));
	assert_false(out_contains(f, "smoke/slow"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--metric", "nosuch",
				"base", "cand", NULL }), 2);
	assert_true(out_contains(f, "vmorch diff: --metric nosuch: no compared job has it"));
	assert_int_equal(vmorch(f, (const char *[]){ "regressions", "--params", "qd=1",
				"--baseline", "base", "--candidate", "cand", NULL }), 2);
	assert_true(out_contains(f, "--params qd=1: no job of either run has"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--correction", "fdr",
				"base", "cand", NULL }), 2);
	assert_true(out_contains(f, "--correction: expected bh, holm or none, got 'fdr'"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--metric", ":lower",
				"base", "cand", NULL }), 2);
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "--correction", "holm",
				"--metric", "iops", "--json", "base", "cand", NULL }), 0);
	assert_true(out_contains(f, "\"correction\": \"holm\""));
	assert_true(out_contains(f, "\"metrics_chosen\": true"));
}

/* history --by commit on the command line; CSV names the group first. */
static void test_cli_history_by_commit(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "INSERT INTO run_meta VALUES"
		" (2, 'commit', '0123456789abcdef0123', 'auto'),"
		" (3, 'commit', '0123456789abcdef0123', 'auto')", NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--vm", "slow", "--by", "commit", NULL }), 0);
	assert_true(out_contains(f, "iops (ops/s) of smoke/slow: 1 commit (2 runs)\n"
				 "COMMIT        RUNS  FIRST RUN  STARTED"));
	assert_true(out_contains(f, "0123456789ab     2          2  2024-05-02T12:00:00.000Z"
				 "  2   900"));
	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--vm", "slow", "--by", "commit", "--csv", NULL }), 0);
	assert_true(out_contains(f, "commit,runs,run_id,started_at,label,n,mean,median,stddev\n"
				 "0123456789abcdef0123,2,2,2024-05-02T12:00:00.000Z,base,2,900,"));
	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--by", "week", NULL }), 2);
	assert_true(out_contains(f, "--by: expected run, commit or date, got 'week'"));
	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "DELETE FROM run_meta", NULL,
				      NULL, NULL), SQLITE_OK);
}

/* diff RUN --ab: one run, two variants; malformed --ab and two runs: exit 2. */
static void test_cli_diff_ab(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "diff", "cand", "--ab",
				"bs=4k,bs=64k", NULL }), 0);
	assert_true(out_contains(f, "diff: run 3 (cand), A/B: bs=4k -> bs=64k\n"));
	assert_true(out_contains(f, "improved  smoke/fast  iops"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "base", "cand", "--ab",
				"bs=4k,bs=64k", NULL }), 2);
	assert_true(out_contains(f, "expected one run with --ab"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "cand", "--ab",
				"bs=4k,qd=1", NULL }), 2);
	assert_true(out_contains(f, "--ab bs=4k,qd=1: expected KEY=a,KEY=b"));
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "cand", "--ab",
				"bs=4k", NULL }), 2);
	assert_int_equal(vmorch(f, (const char *[]){ "diff", "cand", "--ab",
				"bs=4k,bs=4k", NULL }), 2);
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

/* --params picks the matrix point, in any key order; several series: exit 2. */
static void test_cli_history_params(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--vm", "fast", "--csv", NULL }), 2);
	assert_true(out_contains(f, "smoke holds 2 series for these options"));
	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--vm", "fast", "--params", "bs=64k", "--csv", NULL }), 0);
	assert_true(out_contains(f, "2,2024-05-02T12:00:00.000Z,base,1,2000,2000,0\n"
				 "3,2024-05-03T12:00:00.000Z,cand,1,2010,2010,0\n"));
	assert_int_equal(vmorch(f, (const char *[]){ "history", "--scenario", "smoke",
				"--params", "bs", NULL }), 2);
	assert_true(out_contains(f, "--params bs: expected KEY=VALUE,..."));
}

/* ---- the CI gate ---- */

static struct diff *gate_diff(struct fx *f, int64_t a, int64_t b)
{
	struct diff_opts o = { .threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT,
			       .alpha = DIFF_DEFAULT_ALPHA,
			       .correction = DIFF_DEFAULT_CORRECTION };
	struct verr e = { "" };
	struct db *db;
	struct diff *d = NULL;

	assert_int_equal(db_open(f->gate, &db, &e), 0);
	assert_int_equal(diff_compute(db_sqlite(db), a, b, &o, &d, &e), 0);
	db_close(db);
	return d;
}

/*
 * vmm_error -> pass: an improvement, and the failed result's zeros
 * (boot_us 0, no I/O) are not compared with the passing one's numbers.
 */
static void test_gate_fail_to_pass_improved_not_compared(void **state)
{
	struct fx *f = *state;
	struct diff *d = gate_diff(f, 1, 2);

	assert_verdict(job_find(d, "c")->verdict, DIFF_IMPROVED);
	assert_false(job_find(d, "c")->newly_failing);
	assert_int_equal(rows_of(d, "c"), 0);
	assert_int_equal(d->regressed, 0);
	assert_int_equal(d->improved, 1);
	assert_int_equal(diff_gate(d, false), 0);
	diff_free(d);
}

/* Interrupted after 2 of 4 jobs: incomplete, and c and d are missing. */
static void test_gate_incomplete_candidate_fails(void **state)
{
	struct fx *f = *state;
	struct diff *d = gate_diff(f, 1, 3);

	assert_true(d->b_incomplete);
	assert_int_equal(d->b.nresults, 2);
	assert_int_equal(d->b.jobs_total, 4);
	assert_int_equal(d->missing_jobs, 2);
	assert_int_equal(d->regressed, 0);
	assert_int_equal(diff_gate(d, false), DIFF_GATE_MISSING | DIFF_GATE_INCOMPLETE);
	assert_int_equal(diff_gate(d, true), 0);
	diff_free(d);
}

static void test_cli_regressions_fail_to_pass_exit_0(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--baseline", "g-base", "--candidate", "g-fixed",
				   NULL }, false, 0), 0);
	assert_true(out_contains(f, "vmorch regressions: 0 regressions (run g-base"
				 " -> g-fixed)\n"));
}

static void test_cli_regressions_incomplete_candidate_exit_1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--baseline", "g-base", "--candidate", "g-killed",
				   NULL }, false, 0), 1);
	assert_true(out_contains(f, "INCOMPLETE: run 3 (g-killed) interrupted,"
				 " 2 of 4 jobs stored\n"));
	assert_true(out_contains(f, "MISSING gate/c: 1 repeat in the baseline,"
				 " none in the candidate\n"));
	assert_true(out_contains(f, "MISSING gate/d:"));
	assert_true(out_contains(f, "0 regressions, 2 missing jobs, candidate"
				 " incomplete (run g-base -> g-killed)"));
}

static void test_cli_allow_missing_passes_incomplete_candidate(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--allow-missing", "--baseline", "g-base",
				   "--candidate", "g-killed", NULL }, false, 0), 0);
	assert_true(out_contains(f, "2 missing jobs (allowed), candidate"
				 " incomplete (allowed)"));
	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "diff",
				   "--fail-on-regression", "--allow-missing",
				   "g-base", "g-killed", NULL }, false, 0), 0);
}

static void test_cli_diff_fail_on_regression_incomplete_exit_1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "diff",
				   "--fail-on-regression", "g-base", "g-killed",
				   NULL }, false, 0), 1);
	assert_true(out_contains(f, "INCOMPLETE: run 3 (g-killed) interrupted,"
				 " 2 of 4 jobs stored\n"));
	assert_true(out_contains(f, "missing  gate/c       0/1         -\n"));
}

/* A complete run that lost job b fails the gate unless missing is allowed. */
static void test_cli_regressions_missing_job_exit_1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--baseline", "g-fixed", "--candidate", "g-lost",
				   NULL }, false, 0), 1);
	assert_true(out_contains(f, "MISSING gate/b: 1 repeat in the baseline"));
	assert_false(out_contains(f, "INCOMPLETE"));
	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--allow-missing", "--baseline", "g-fixed",
				   "--candidate", "g-lost", NULL }, false, 0), 0);
}

/* A new job that fails is newly failing: the gate fails, --allow-missing or not. */
static void test_cli_newly_failing_job_exit_1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "diff",
				   "--fail-on-regression", "--allow-missing",
				   "g-fixed", "g-newfail", NULL }, false, 0), 1);
	assert_true(out_contains(f, "new, failing  gate/e"));
	assert_true(out_contains(f, "jobs: 0 missing from B, 1 newly failing\n"));
	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "regressions",
				   "--baseline", "g-fixed", "--candidate",
				   "g-newfail", NULL }, false, 0), 1);
	assert_true(out_contains(f, "FAILING gate/e: new job, 0/1 passed\n"));
	assert_int_equal(vmorch_on(f, f->gate, (const char *[]){ "diff", "--json",
				   "g-fixed", "g-newfail", NULL }, false, 0), 0);
	assert_true(out_contains(f, "\"newly_failing_jobs\": 1"));
}

/* ---- report -o FILE ---- */

static void path_in(struct fx *f, char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", f->dir, name);
}

static char *file_dup(const char *path, size_t *len)
{
	char *s = file_slurp(path, len);
	char *d = malloc(*len + 1);

	assert_non_null(d);
	memcpy(d, s, *len + 1);
	return d;
}

/* The database, its journal's name, or a link to it: refused, db untouched. */
static void test_cli_report_refuses_database_as_output(void **state)
{
	struct fx *f = *state;
	char journal[200], link[200];
	size_t n0, n1;
	char *before = file_dup(f->path, &n0), *after;
	struct stat st;

	snprintf(journal, sizeof(journal), "%s-journal", f->path);
	path_in(f, link, sizeof(link), "db-link");
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "-o", f->path, NULL }, true, 0), 2);
	assert_true(err_contains(f, "refusing to overwrite it"));
	assert_int_equal(out_size(f), 0);
	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "-o", journal, NULL }, true, 0), 2);
	assert_int_equal(stat(journal, &st), -1);
	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "-o", link, NULL }, true, 0), 2);
	after = file_dup(f->path, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
	unlink(link);
}

/* Another user's symlink at the old temporary name leads nowhere now. */
static void test_cli_report_planted_symlink_not_followed(void **state)
{
	struct fx *f = *state;
	char victim[200], out[200], planted[200];
	struct stat st;
	FILE *fp;

	path_in(f, victim, sizeof(victim), "victim");
	path_in(f, out, sizeof(out), "report.txt");
	path_in(f, planted, sizeof(planted), "report.txt.tmp");
	fp = fopen(victim, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	fclose(fp);
	assert_int_equal(symlink(victim, planted), 0);
	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "-o", out, NULL }, true, 0), 0);
	assert_string_equal(file_slurp(victim, NULL), "precious\n");
	assert_int_equal(strncmp(file_slurp(out, NULL), "run 3 (cand): failed\n", 21), 0);
	assert_int_equal(lstat(planted, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644 & ~0);	/* umask 022 in make check */
	unlink(planted);
	unlink(victim);
	unlink(out);
}

/* Names in @f->dir that start with @prefix (temporaries left behind). */
static unsigned dir_count(struct fx *f, const char *prefix)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* A write that fails (EFBIG past RLIMIT_FSIZE): exit 3, target and dir as before. */
static void test_cli_report_write_error_keeps_target(void **state)
{
	struct fx *f = *state;
	char out[200];
	FILE *fp;

	path_in(f, out, sizeof(out), "keep.txt");
	fp = fopen(out, "w");
	assert_non_null(fp);
	fputs("old\n", fp);
	fclose(fp);
	/*
	 * 40000 bytes: room for SQLite's 32 KiB -shm file, not for the HTML
	 * report (about 70 KB).
	 */
	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "--vs", "base", "--format", "html", "-o", out,
				   NULL }, true, 40000), 3);
	assert_true(err_contains(f, "vmorch report: write error: "));
	assert_true(err_contains(f, "keep.txt: File too large\n"));
	assert_string_equal(file_slurp(out, NULL), "old\n");
	assert_int_equal(dir_count(f, ".keep.txt."), 0);
	unlink(out);
}

static void test_cli_report_dev_full_exit_3(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vmorch_on(f, f->path, (const char *[]){ "report", "cand",
				   "-o", "/dev/full", NULL }, true, 0), 3);
	assert_true(err_contains(f, "vmorch report: write error: /dev/full: No space"
				 " left on device\n"));
}

/* ---- a corrupted database ---- */

static void file_copy(const char *from, const char *to)
{
	size_t n;
	char *s = file_dup(from, &n);
	FILE *fp = fopen(to, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	free(s);
}

/*
 * Overwrite every page of the metrics table and its indexes with garbage,
 * found through the dbstat table (the runs table stays readable, so the
 * commands get as far as their report queries).
 */
static void db_corrupt_metrics(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long pages[64];
	int np = 0, psize;
	char junk[65536];
	int fd;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT d.pageno FROM dbstat d"
			 " JOIN sqlite_schema s ON s.name = d.name"
			 " WHERE s.tbl_name = 'metrics'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && np < 64)
		pages[np++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	psize = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(np > 0 && psize > 0 && (size_t)psize <= sizeof(junk));
	memset(junk, 0xa5, sizeof(junk));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	for (int i = 0; i < np; i++)
		assert_int_equal(pwrite(fd, junk, (size_t)psize,
					(off_t)(pages[i] - 1) * psize), psize);
	close(fd);
}

/* Every read command: exit 3, a message, and not a byte of a document. */
static void test_cli_corrupt_db_exit_3_no_output(void **state)
{
	struct fx *f = *state;
	const char *const cmds[][8] = {
		{ "diff", "base", "cand", NULL },
		{ "diff", "--json", "base", "cand", NULL },
		{ "regressions", "--baseline", "base", "--candidate", "cand", NULL },
		{ "history", "--scenario", "smoke", "--vm", "fast", "--params", "bs=4k", NULL },
		{ "history", "--scenario", "smoke", "--vm", "slow", "--json", NULL },
		{ "report", "cand", NULL },
		{ "report", "cand", "--format", "json", NULL },
		{ "report", "cand", "--format", "html", NULL },
	};
	char bad[200];

	path_in(f, bad, sizeof(bad), "corrupt.db");
	file_copy(f->path, bad);
	db_corrupt_metrics(bad);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		int st = vmorch_on(f, bad, (const char *const *)cmds[i], true, 0);

		if (st != 3 || out_size(f) != 0)
			fail_msg("vmorch %s %s: exit %d, %zu bytes of output",
				 cmds[i][0], cmds[i][1], st, out_size(f));
		assert_true(err_contains(f, "malformed"));
	}
	unlink(bad);
}

/* ---- terminal escapes ---- */

/* A label, an error and a console tail with escapes print them visibly. */
static void test_cli_text_output_shows_escapes(void **state)
{
	struct fx *f = *state;
	char hostile[200];
	sqlite3 *db;

	path_in(f, hostile, sizeof(hostile), "hostile.db");
	file_copy(f->path, hostile);
	assert_int_equal(sqlite3_open(hostile, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE runs SET label ="
		" 'c' || char(27) || ']0;pwn' || char(7) || char(27) || '[31m'"
		" WHERE id = 3; UPDATE vm_results SET error = 'bad' || char(27)"
		" || '[2J', console_tail = 'line' || char(13) || 'FAKE PASS'"
		" || char(10) || char(155) || 'x' WHERE verdict = 'fail'",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(vmorch_on(f, hostile, (const char *[]){ "diff", "base", "3",
				   NULL }, true, 0), 0);
	assert_true(out_contains(f, "diff: run 2 (base) -> run 3"
				 " (c\\e]0;pwn\\x07\\e[31m)\n"));
	assert_null(memchr(file_slurp(f->out, NULL), 0x1b, out_size(f)));
	assert_int_equal(vmorch_on(f, hostile, (const char *[]){ "report", "3",
				   NULL }, true, 0), 0);
	assert_true(out_contains(f, "smoke/breaks #0: guest_fail: bad\\e[2J\n"));
	assert_true(out_contains(f, "  | line\\rFAKE PASS\n  | \\xc2\\x9bx\n"));
	assert_null(memchr(file_slurp(f->out, NULL), 0x1b, out_size(f)));
	assert_null(memchr(file_slurp(f->out, NULL), '\r', out_size(f)));
	assert_int_equal(vmorch_on(f, hostile, (const char *[]){ "report", "3",
				   "--format", "markdown", NULL }, true, 0), 0);
	assert_null(memchr(file_slurp(f->out, NULL), 0x1b, out_size(f)));
	assert_null(memchr(file_slurp(f->out, NULL), '\r', out_size(f)));
	assert_true(out_contains(f, "line\\rFAKE PASS\n"));
	unlink(hostile);
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
		cmocka_unit_test(test_shifted_interval_and_adjusted_p),
		cmocka_unit_test(test_correction_decides_at_alpha_001),
		cmocka_unit_test(test_metric_option_chooses_judged),
		cmocka_unit_test(test_selection_of_nothing_refused),
		cmocka_unit_test(test_params_option_selects_point),
		cmocka_unit_test(test_fio_metric_directions),
		cmocka_unit_test(test_ab_within_one_run),
		cmocka_unit_test(test_small_sample_flagged),
		cmocka_unit_test(test_regressions_first_and_counted),
		cmocka_unit_test(test_threshold_option),
		cmocka_unit_test(test_config_change_not_judged),
		cmocka_unit_test(test_history_per_run_oldest_first),
		cmocka_unit_test(test_history_by_commit_and_date),
		cmocka_unit_test(test_history_one_series_only),
		cmocka_unit_test(test_cli_history_params),
		cmocka_unit_test(test_history_counter_summed),
		cmocka_unit_test(test_history_last_and_label),
		cmocka_unit_test(test_history_config_change_in_window),
		cmocka_unit_test(test_cli_diff_exit_0_without_flag),
		cmocka_unit_test(test_cli_fail_on_regression_exit_1),
		cmocka_unit_test(test_cli_fail_on_regression_exit_0_when_none),
		cmocka_unit_test(test_cli_regressions_exit_1_lists_them),
		cmocka_unit_test(test_cli_regressions_exit_0_when_none),
		cmocka_unit_test(test_cli_diff_selection),
		cmocka_unit_test(test_cli_diff_ab),
		cmocka_unit_test(test_cli_history_by_commit),
		cmocka_unit_test(test_cli_unknown_run_usage_error),
		cmocka_unit_test(test_cli_history_csv),
		cmocka_unit_test(test_gate_fail_to_pass_improved_not_compared),
		cmocka_unit_test(test_gate_incomplete_candidate_fails),
		cmocka_unit_test(test_cli_regressions_fail_to_pass_exit_0),
		cmocka_unit_test(test_cli_regressions_incomplete_candidate_exit_1),
		cmocka_unit_test(test_cli_allow_missing_passes_incomplete_candidate),
		cmocka_unit_test(test_cli_diff_fail_on_regression_incomplete_exit_1),
		cmocka_unit_test(test_cli_regressions_missing_job_exit_1),
		cmocka_unit_test(test_cli_newly_failing_job_exit_1),
		cmocka_unit_test(test_cli_report_refuses_database_as_output),
		cmocka_unit_test(test_cli_report_planted_symlink_not_followed),
		cmocka_unit_test(test_cli_report_write_error_keeps_target),
		cmocka_unit_test(test_cli_report_dev_full_exit_3),
		cmocka_unit_test(test_cli_corrupt_db_exit_3_no_output),
		cmocka_unit_test(test_cli_text_output_shows_escapes),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
