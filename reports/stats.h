/*
 * stats.h - the statistics `vmorch diff` relies on: mean, median, sample
 * standard deviation, the two-sided Mann-Whitney U test, the Hodges-Lehmann
 * estimate of a shift with its confidence interval, and p-values adjusted
 * for multiple comparisons.  Plain functions on arrays of doubles; nothing
 * here knows about runs or the database.
 */
#ifndef VMORCH_REPORTS_STATS_H
#define VMORCH_REPORTS_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* 0 for n == 0. */
double stats_mean(const double *v, size_t n);
/* Middle value, or the mean of the two middle values; 0 for n == 0. */
double stats_median(const double *v, size_t n);
/* Sample standard deviation (divides by n - 1); 0 for n < 2. */
double stats_stddev(const double *v, size_t n);

/*
 * Mann-Whitney exact distribution is used when the smaller sample has at
 * most this many values and no value occurs twice in the pooled sample:
 * SciPy's rule for method='auto', so that our p-values match its.
 */
#define MWU_EXACT_MAX_N	8

struct mwu_result {
	double u;		/* U of the first sample: pairs (x, y) with x > y, ties 1/2 */
	double p;		/* two-sided p-value */
	bool exact;		/* exact distribution; else normal approximation */
};

/*
 * Two-sided Mann-Whitney U test of @x (@nx values) against @y (@ny), as
 * scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto'):
 * the exact null distribution for small samples without ties, else the
 * normal approximation with tie and continuity corrections.  Returns 0, or
 * -EINVAL for an empty sample, -ENOMEM.
 */
int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
		       struct mwu_result *out);

/*
 * Hodges-Lehmann estimate of how far @y lies from @x: the median of the
 * nx * ny differences y[j] - x[i], with the distribution-free interval
 * that inverts the Mann-Whitney test at level 1 - @alpha (the interval of
 * R's wilcox.test(y, x, conf.int = TRUE): exact under the same rule as
 * stats_mann_whitney, else the normal approximation).
 */
struct hl_result {
	double shift;		/* the estimate */
	double low, high;	/* its confidence interval */
	bool exact;
};

/* More differences than this are not sorted: 32 MiB, 2048 repeats a side. */
#define STATS_HL_MAX_PAIRS	(4u << 20)

/* Returns 0, -EINVAL (empty sample, alpha outside (0, 1)), -E2BIG, -ENOMEM. */
int stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny,
			 double alpha, struct hl_result *out);

enum stats_correction {
	STATS_CORRECT_NONE = 0,
	STATS_CORRECT_HOLM,	/* Holm-Bonferroni: family-wise error rate */
	STATS_CORRECT_BH,	/* Benjamini-Hochberg: false discovery rate */
};

/*
 * Adjusted p-values of a family of @n tests, in their order, into @adj
 * (which may be @p): reject test i at level alpha iff adj[i] < alpha.
 * Returns 0 or -ENOMEM.
 */
int stats_adjust_p(const double *p, size_t n, enum stats_correction c,
		   double *adj);
const char *stats_correction_name(enum stats_correction c);
/* "none", "holm" or "bh"; 0 or -EINVAL. */
int stats_correction_parse(const char *s, enum stats_correction *c);

#endif
