/*
 * stats.c - mean, median, sample standard deviation and the Mann-Whitney U
 * test for `vmorch diff`.  The test follows SciPy's mannwhitneyu (two-sided,
 * method='auto') step for step, so tests/test_stats.c can hold it to SciPy's
 * numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/stats.h"

/*
 * The exact distribution costs about m^2 * n^2 multiply-adds (m <= 8):
 * beyond this many, fall back to the normal approximation rather than spend
 * seconds on a sample nobody repeats that often.
 */
#define MWU_EXACT_MAX_WORK	2000000000.0

double stats_mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double stats_median(const double *v, size_t n)
{
	double *s, m;

	if (n == 0)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* Two passes: the one-pass formula loses digits on large, close values. */
double stats_stddev(const double *v, size_t n)
{
	double mean, ss = 0;

	if (n < 2)
		return 0;
	mean = stats_mean(v, n);
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	return sqrt(ss / (double)(n - 1));
}

/* ---- Mann-Whitney U ---- */

struct mwu_obs {
	double v;
	bool in_x;
};

static int cmp_obs(const void *a, const void *b)
{
	return cmp_double(&((const struct mwu_obs *)a)->v,
			  &((const struct mwu_obs *)b)->v);
}

/*
 * Rank the pooled sample (ties get their average rank) and return the rank
 * sum of x and sum(t^3 - t) over the groups of t tied values.
 */
static void mwu_rank(struct mwu_obs *o, size_t n, double *rank_sum_x,
		     double *tie_term)
{
	qsort(o, n, sizeof(*o), cmp_obs);
	*rank_sum_x = 0;
	*tie_term = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		double t, rank;

		while (j < n && o[j].v == o[i].v)
			j++;
		t = (double)(j - i);
		rank = (double)(i + 1 + j) / 2;		/* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			if (o[k].in_x)
				*rank_sum_x += rank;
		*tie_term += t * t * t - t;
		i = j;
	}
}

/*
 * The exact distribution for samples of @m <= @n values, or the normal
 * approximation: one rule for the test and for its interval.
 */
static bool mwu_exact_ok(size_t m, size_t n, bool ties)
{
	return m <= MWU_EXACT_MAX_N && !ties &&
	       (double)m * m * n * n <= MWU_EXACT_MAX_WORK;
}

/*
 * The null distribution of U for samples of m and n values: pmf[k] =
 * P(U = k), k = 0 .. m*n, built by the recurrence on the largest value:
 * p(i, j, k) = i/(i+j) p(i-1, j, k-j) + j/(i+j) p(i, j-1, k).  Working in
 * probabilities (all terms positive) keeps it accurate where counts such
 * as C(1008, 8) would not fit a double exactly.  Malloc'd, or NULL.
 */
static double *mwu_exact_pmf(size_t m, size_t n)
{
	size_t width = m * n + 1, layer = (m + 1) * width;
	double *prev, *cur, *pmf;

	pmf = malloc(width * sizeof(*pmf));
	prev = calloc(2 * layer, sizeof(*prev));
	if (!pmf || !prev) {
		free(pmf);
		free(prev);
		return NULL;
	}
	cur = prev + layer;
	for (size_t i = 0; i <= m; i++)
		cur[i * width] = 1;		/* j = 0: U is 0 */
	for (size_t j = 1; j <= n; j++) {
		double *t = prev;

		prev = cur;
		cur = t;
		for (size_t i = 0; i <= m; i++) {
			double a = (double)i / (double)(i + j);
			double b = (double)j / (double)(i + j);
			double *row = cur + i * width;
			const double *up = cur + (i ? i - 1 : 0) * width;
			const double *left = prev + i * width;

			for (size_t k = 0; k <= i * j; k++)
				row[k] = b * left[k] + (i && k >= j ? a * up[k - j] : 0);
		}
	}
	memcpy(pmf, cur + m * width, width * sizeof(*pmf));
	free(cur < prev ? cur : prev);
	return pmf;
}

/* P(U >= u) under the null hypothesis. */
static int mwu_exact_sf(size_t m, size_t n, double u, double *sf)
{
	double *pmf = mwu_exact_pmf(m, n), s = 0;

	if (!pmf)
		return -ENOMEM;
	for (size_t k = m * n + 1; k-- > 0 && (double)k >= u;)
		s += pmf[k];
	*sf = s;
	free(pmf);
	return 0;
}

/* Survival function of the standard normal distribution. */
static double norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/* SciPy's _get_mwu_z with continuity=True: always subtract 0.5, SF side. */
static double mwu_asymptotic_p(double u, double nx, double ny, double tie_term)
{
	double n = nx + ny, mu = nx * ny / 2;
	double s = sqrt(nx * ny / 12 * ((n + 1) - tie_term / (n * (n - 1))));
	double z = (u - mu - 0.5) / s;

	/* s == 0 (every value equal): z is -inf or NaN; nothing differs. */
	if (!(s > 0))
		return 1;
	return 2 * norm_sf(z);
}

int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
		       struct mwu_result *out)
{
	size_t n = nx + ny, m = nx < ny ? nx : ny, big = nx < ny ? ny : nx;
	struct mwu_obs *o;
	double r1, tie_term, u1, u;
	int rc = 0;

	if (!nx || !ny)
		return -EINVAL;
	o = malloc(n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		o[i] = (struct mwu_obs){ x[i], true };
	for (size_t i = 0; i < ny; i++)
		o[nx + i] = (struct mwu_obs){ y[i], false };
	mwu_rank(o, n, &r1, &tie_term);
	free(o);

	u1 = r1 - (double)nx * (double)(nx + 1) / 2;
	u = fmax(u1, (double)nx * (double)ny - u1);	/* two-sided: the larger U */
	out->u = u1;
	out->exact = mwu_exact_ok(m, big, tie_term != 0);
	if (out->exact) {
		double sf = 1;

		rc = mwu_exact_sf(m, big, u, &sf);
		out->p = 2 * sf;
	} else {
		out->p = mwu_asymptotic_p(u, (double)nx, (double)ny, tie_term);
	}
	/* The exact test at U = mn/2 counts the middle twice: clip as SciPy does. */
	if (out->p > 1)
		out->p = 1;
	return rc;
}

/* ---- Hodges-Lehmann shift and its interval ---- */

/*
 * z with P(Z > z) = q for the standard normal, 0 < q < 1/2, by bisection.
 * A diff asks with one alpha for thousands of rows: the last answer is
 * kept (200 erfc calls a row were a quarter of a 1M-result diff).
 */
static double norm_isf(double q)
{
	static double last_q = -1, last_z;
	double lo = 0, hi = 40;

	if (q == last_q)
		return last_z;

	for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
		double mid = (lo + hi) / 2;

		if (norm_sf(mid) > q)
			lo = mid;
		else
			hi = mid;
	}
	last_q = q;
	last_z = (lo + hi) / 2;
	return last_z;
}

/*
 * How many of the smallest (and of the largest) pairwise differences the
 * interval leaves out, plus one: the 1-based rank k of its lower end.  The
 * exact rule of R's wilcox.test(conf.int = TRUE): k is the smallest q with
 * P(U <= q) >= alpha / 2; for large or tied samples the normal
 * approximation k = floor(mn/2 - z * sqrt(mn (m + n + 1) / 12)) (Hollander
 * and Wolfe).  Never below 1.  Returns 0 or -ENOMEM.
 */
static int hl_rank(size_t m, size_t n, bool exact, double alpha, size_t *k)
{
	double mn = (double)m * (double)n;

	if (exact) {
		double *pmf = mwu_exact_pmf(m < n ? m : n, m < n ? n : m), cdf = 0;
		size_t q = 0;

		if (!pmf)
			return -ENOMEM;
		for (q = 0; q < m * n; q++) {
			cdf += pmf[q];
			if (cdf >= alpha / 2 * (1 - 1e-12))
				break;
		}
		free(pmf);
		*k = q ? q : 1;
		return 0;
	}
	{
		double c = mn / 2 - norm_isf(alpha / 2) *
			   sqrt(mn * (double)(m + n + 1) / 12);

		*k = c >= 1 ? (size_t)floor(c) : 1;
	}
	return 0;
}

static bool has_ties(const double *x, size_t nx, const double *y, size_t ny)
{
	double *v = malloc((nx + ny) * sizeof(*v));
	bool tie = false;

	if (!v)
		return true;	/* the approximation needs no memory */
	memcpy(v, x, nx * sizeof(*v));
	memcpy(v + nx, y, ny * sizeof(*v));
	qsort(v, nx + ny, sizeof(*v), cmp_double);
	for (size_t i = 1; i < nx + ny && !tie; i++)
		tie = v[i] == v[i - 1];
	free(v);
	return tie;
}

int stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny,
			 double alpha, struct hl_result *out)
{
	size_t np = nx * ny, k, m = nx < ny ? nx : ny;
	bool exact;
	double *d;
	int rc;

	if (!nx || !ny || !(alpha > 0 && alpha < 1))
		return -EINVAL;
	if (np > STATS_HL_MAX_PAIRS || np / nx != ny)
		return -E2BIG;
	exact = mwu_exact_ok(m, np / m, has_ties(x, nx, y, ny));
	rc = hl_rank(nx, ny, exact, alpha, &k);
	if (rc)
		return rc;
	d = malloc(np * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[i * ny + j] = y[j] - x[i];
	qsort(d, np, sizeof(*d), cmp_double);
	out->shift = np % 2 ? d[np / 2] : (d[np / 2 - 1] + d[np / 2]) / 2;
	if (k > (np + 1) / 2)
		k = (np + 1) / 2;
	out->low = d[k - 1];
	out->high = d[np - k];
	out->exact = exact;
	free(d);
	return 0;
}

/* ---- multiple comparisons ---- */

struct p_idx {
	double p;
	size_t i;
};

static int cmp_p_idx(const void *a, const void *b)
{
	const struct p_idx *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int stats_adjust_p(const double *p, size_t n, enum stats_correction c,
		   double *adj)
{
	struct p_idx *s;

	if (c == STATS_CORRECT_NONE || n == 0) {
		for (size_t i = 0; i < n; i++)
			adj[i] = p[i];
		return 0;
	}
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = (struct p_idx){ p[i], i };
	qsort(s, n, sizeof(*s), cmp_p_idx);
	if (c == STATS_CORRECT_HOLM) {
		/* p(r) * (n - r), r from 0, never below the one before. */
		double run = 0;

		for (size_t r = 0; r < n; r++) {
			double v = fmin(1, s[r].p * (double)(n - r));

			run = fmax(run, v);
			adj[s[r].i] = run;
		}
	} else {
		/* p(r) * n / (r + 1), never above the one after. */
		double run = 1;

		for (size_t r = n; r-- > 0;) {
			double v = fmin(1, s[r].p * (double)n / (double)(r + 1));

			run = fmin(run, v);
			adj[s[r].i] = run;
		}
	}
	free(s);
	return 0;
}

const char *stats_correction_name(enum stats_correction c)
{
	switch (c) {
	case STATS_CORRECT_NONE:	return "none";
	case STATS_CORRECT_HOLM:	return "holm";
	case STATS_CORRECT_BH:		return "bh";
	}
	return "?";
}

int stats_correction_parse(const char *s, enum stats_correction *c)
{
	for (int i = STATS_CORRECT_NONE; i <= STATS_CORRECT_BH; i++)
		if (!strcmp(s, stats_correction_name(i))) {
			*c = i;
			return 0;
		}
	return -EINVAL;
}
