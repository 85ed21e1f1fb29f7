/*
 * stats.h - the statistics `vmorch diff` relies on: mean, median, sample
 * standard deviation and the two-sided Mann-Whitney U test.  Plain functions
 * on arrays of doubles; nothing here knows about runs or the database.
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

#endif
