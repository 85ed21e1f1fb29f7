/*
 * test_stats.c - reports/stats.c: mean, median and sample stddev exactly,
 * and Mann-Whitney U p-values against SciPy's.  The reference p-values were
 * computed with SciPy 1.10.1 (Debian python3-scipy):
 *     scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto')
 * and are asserted to 1e-6.
 *
 * The Hodges-Lehmann intervals were computed by brute force in Python:
 * the null distribution of U by enumerating every placement of the ranks
 * (itertools.combinations), the rank k as R's wilcox.test takes it (the
 * smallest q with P(U <= q) >= alpha / 2), then the k-th smallest and
 * largest of the sorted differences.  The adjusted p-values are Holm's and
 * Benjamini-Hochberg's by hand.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reports/stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_double_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (+-%g)", got, want, tol);
}

/* ---- mean, median, stddev ---- */

static void test_mean_exact(void **state)
{
	static const double v[] = { 1, 2, 3, 4 };

	assert_true(stats_mean(v, N(v)) == 2.5);
	assert_true(stats_mean(v, 0) == 0);
}

static void test_median_odd_and_even(void **state)
{
	static const double odd[] = { 3, 1, 2 };
	static const double even[] = { 4, 1, 3, 2 };

	assert_true(stats_median(odd, N(odd)) == 2);
	assert_true(stats_median(even, N(even)) == 2.5);
	assert_true(stats_median(odd, 1) == 3);
	assert_true(stats_median(odd, 0) == 0);
}

/* 2 4 4 4 5 5 7 9: mean 5, squared deviations 32, sample variance 32/7. */
static void test_stddev_sample(void **state)
{
	static const double v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	assert_true(stats_stddev(v, N(v)) == sqrt(32.0 / 7.0));
	assert_true(stats_stddev(v, 1) == 0);
}

/* Large, close values: a one-pass formula would cancel to garbage. */
static void test_stddev_large_offset(void **state)
{
	static const double v[] = { 1e9 + 1, 1e9 + 2, 1e9 + 3 };

	assert_true(stats_stddev(v, N(v)) == 1);
}

/* ---- Mann-Whitney U against SciPy ---- */

struct mwu_case {
	const double *x, *y;
	size_t nx, ny;
	double u, p;
	bool exact;
};

static void check_mwu(const struct mwu_case *c)
{
	struct mwu_result r;

	assert_int_equal(stats_mann_whitney(c->x, c->nx, c->y, c->ny, &r), 0);
	assert_double_near(r.u, c->u, 1e-9);
	assert_double_near(r.p, c->p, 1e-6);
	assert_int_equal(r.exact, c->exact);
}

#define MWU_CASE(xs, ys, U, P, EXACT) \
	check_mwu(&(struct mwu_case){ xs, ys, N(xs), N(ys), U, P, EXACT })

/* Exact path: 5 vs 5, no overlap: p = 2 / C(10, 5) = 2/252. */
static void test_mwu_exact_separated(void **state)
{
	static const double x[] = { 100, 101, 102, 103, 104 };
	static const double y[] = { 120, 121, 122, 123, 124 };

	MWU_CASE(x, y, 0, 0.0079365079365079361, true);
}

static void test_mwu_exact_overlapping(void **state)
{
	static const double x[] = { 1.5, 3.2, 4.8, 7.1 };
	static const double y[] = { 2.2, 5.5, 6.3, 8.9, 9.4, 10.0 };

	MWU_CASE(x, y, 5, 0.17142857142857143, true);
}

/* One sample small (3), the other beyond 8 (12): still exact. */
static void test_mwu_exact_unbalanced(void **state)
{
	static const double x[] = { 10, 11, 12 };
	static const double y[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15 };

	MWU_CASE(x, y, 27, 0.232967032967033, true);
}

/* Small samples with ties: normal approximation with tie correction. */
static void test_mwu_ties_small(void **state)
{
	static const double x[] = { 1, 2, 2, 3, 3, 3, 4 };
	static const double y[] = { 2, 3, 4, 4, 5, 5, 6 };

	MWU_CASE(x, y, 8.5, 0.043051432728945134, false);
}

/* Both samples above 8: normal approximation even without ties. */
static void test_mwu_large_no_ties(void **state)
{
	double x[12], y[12];

	for (int i = 0; i < 12; i++) {
		x[i] = (i + 1) * 1.1;
		y[i] = (i + 4) * 1.1 + 0.5;
	}
	MWU_CASE(x, y, 36, 0.040404119588223694, false);
}

static void test_mwu_ties_large(void **state)
{
	static const double x[] = { 5, 5, 5, 6, 6, 7, 7, 7, 8, 9 };
	static const double y[] = { 6, 7, 7, 8, 8, 8, 9, 9, 10, 10 };

	MWU_CASE(x, y, 18.5, 0.017209292536114681, false);
}

/* Every value equal: nothing to tell apart, p = 1 (no division by zero). */
static void test_mwu_all_equal(void **state)
{
	static const double x[] = { 3, 3, 3, 3, 3 };

	MWU_CASE(x, x, 12.5, 1, false);
}

/* The fixture's "noisy" job: means differ by 9%, the test does not reject. */
static void test_mwu_noisy_not_significant(void **state)
{
	static const double x[] = { 100, 200, 300, 400, 500 };
	static const double y[] = { 110, 210, 310, 410, 600 };

	MWU_CASE(x, y, 10, 0.69047619047619047, true);
}

static void test_mwu_empty_sample_refused(void **state)
{
	static const double x[] = { 1 };
	struct mwu_result r;

	assert_int_equal(stats_mann_whitney(x, 1, x, 0, &r), -EINVAL);
}

/* ---- Hodges-Lehmann ---- */

/*
 * 1..5 against 6..10: the 25 differences are 1, 2 2, 3 3 3, ... 9, so the
 * shift is 5; P(U <= 2) = 0.0159 < 0.025 <= P(U <= 3) = 0.0278: k = 3,
 * the interval [2, 8].
 */
static void test_hl_exact_separated(void **state)
{
	static const double x[] = { 1, 2, 3, 4, 5 }, y[] = { 6, 7, 8, 9, 10 };
	struct hl_result r;

	assert_int_equal(stats_hodges_lehmann(x, 5, y, 5, 0.05, &r), 0);
	assert_true(r.exact);
	assert_true(r.shift == 5);
	assert_true(r.low == 2);
	assert_true(r.high == 8);
}

/* A slowdown of about 5.8, 5 against 7 values: k = 6 at 95 %, 7 at 90 %. */
static void test_hl_exact_unbalanced(void **state)
{
	static const double x[] = { 101.5, 98.2, 103.1, 99.9, 100.4 };
	static const double y[] = { 95.1, 94.0, 97.3, 93.8, 96.6, 92.9, 95.5 };
	struct hl_result r;

	assert_int_equal(stats_hodges_lehmann(x, N(x), y, N(y), 0.05, &r), 0);
	assert_true(r.exact);
	assert_double_near(r.shift, -5.8, 1e-9);
	assert_double_near(r.low, -7.7, 1e-9);
	assert_double_near(r.high, -3.1, 1e-9);
	assert_int_equal(stats_hodges_lehmann(x, N(x), y, N(y), 0.10, &r), 0);
	assert_double_near(r.low, -7.6, 1e-9);
	assert_double_near(r.high, -3.3, 1e-9);
}

/*
 * Ties: the normal approximation, 10 against 12 values.  z = 1.95996,
 * mn/2 - z sqrt(mn (m+n+1)/12) = 30.28: k = 30, the 30th smallest and
 * largest of the 120 differences.
 */
static void test_hl_ties_approximate(void **state)
{
	static const double x[] = { 10, 11, 11, 12, 13, 14, 15, 15, 16, 17 };
	static const double y[] = { 12, 13, 13, 14, 15, 16, 17, 18, 18, 19, 20, 21 };
	struct hl_result r;

	assert_int_equal(stats_hodges_lehmann(x, N(x), y, N(y), 0.05, &r), 0);
	assert_false(r.exact);
	assert_true(r.shift == 3);
	assert_true(r.low == 0);
	assert_true(r.high == 6);
}

/* One value a side: the interval is every difference there is. */
static void test_hl_tiny_and_refused(void **state)
{
	static const double x[] = { 1 }, y[] = { 4 };
	struct hl_result r;

	assert_int_equal(stats_hodges_lehmann(x, 1, y, 1, 0.05, &r), 0);
	assert_true(r.shift == 3 && r.low == 3 && r.high == 3);
	assert_int_equal(stats_hodges_lehmann(x, 0, y, 1, 0.05, &r), -EINVAL);
	assert_int_equal(stats_hodges_lehmann(x, 1, y, 1, 0, &r), -EINVAL);
	assert_int_equal(stats_hodges_lehmann(x, STATS_HL_MAX_PAIRS, y, 2, 0.05, &r),
			 -E2BIG);
}

/* ---- multiple comparisons ---- */

/*
 * p = .01 .04 .03 .005 .5.  Holm: sorted .005 .01 .03 .04 .5 times
 * 5 4 3 2 1 = .025 .04 .09 .08 .5, made non-decreasing.  BH: times
 * 5/1 5/2 5/3 5/4 5/5 = .025 .025 .05 .05 .5, made non-increasing from
 * the top.
 */
static void test_adjust_holm_and_bh(void **state)
{
	static const double p[] = { 0.01, 0.04, 0.03, 0.005, 0.5 };
	static const double holm[] = { 0.04, 0.09, 0.09, 0.025, 0.5 };
	static const double bh[] = { 0.025, 0.05, 0.05, 0.025, 0.5 };
	double adj[N(p)];

	assert_int_equal(stats_adjust_p(p, N(p), STATS_CORRECT_HOLM, adj), 0);
	for (size_t i = 0; i < N(p); i++)
		assert_double_near(adj[i], holm[i], 1e-15);
	assert_int_equal(stats_adjust_p(p, N(p), STATS_CORRECT_BH, adj), 0);
	for (size_t i = 0; i < N(p); i++)
		assert_double_near(adj[i], bh[i], 1e-15);
	assert_int_equal(stats_adjust_p(p, N(p), STATS_CORRECT_NONE, adj), 0);
	for (size_t i = 0; i < N(p); i++)
		assert_true(adj[i] == p[i]);
}

/* Never above 1, and in place. */
static void test_adjust_caps_at_one(void **state)
{
	double p[] = { 0.6, 0.7, 0.9 };
	enum stats_correction c;

	assert_int_equal(stats_adjust_p(p, N(p), STATS_CORRECT_HOLM, p), 0);
	assert_true(p[0] == 1 && p[1] == 1 && p[2] == 1);
	assert_int_equal(stats_correction_parse("bh", &c), 0);
	assert_int_equal(c, STATS_CORRECT_BH);
	assert_int_equal(stats_correction_parse("BH", &c), -EINVAL);
	assert_string_equal(stats_correction_name(STATS_CORRECT_HOLM), "holm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mean_exact),
		cmocka_unit_test(test_median_odd_and_even),
		cmocka_unit_test(test_stddev_sample),
		cmocka_unit_test(test_stddev_large_offset),
		cmocka_unit_test(test_mwu_exact_separated),
		cmocka_unit_test(test_mwu_exact_overlapping),
		cmocka_unit_test(test_mwu_exact_unbalanced),
		cmocka_unit_test(test_mwu_ties_small),
		cmocka_unit_test(test_mwu_large_no_ties),
		cmocka_unit_test(test_mwu_ties_large),
		cmocka_unit_test(test_mwu_all_equal),
		cmocka_unit_test(test_mwu_noisy_not_significant),
		cmocka_unit_test(test_mwu_empty_sample_refused),
		cmocka_unit_test(test_hl_exact_separated),
		cmocka_unit_test(test_hl_exact_unbalanced),
		cmocka_unit_test(test_hl_ties_approximate),
		cmocka_unit_test(test_hl_tiny_and_refused),
		cmocka_unit_test(test_adjust_holm_and_bh),
		cmocka_unit_test(test_adjust_caps_at_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
