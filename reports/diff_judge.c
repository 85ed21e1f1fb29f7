/*
 * diff_judge.c - the verdicts of `vmorch diff` (doc/reports.md
 * "Verdicts"): which rows are judged, the Mann-Whitney test and the
 * Hodges-Lehmann interval of each row, the p-values of the judged rows
 * adjusted together, and the CI gate.  reports/diff.c builds the rows.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/diff_judge.h"
#include "reports/report.h"
#include "reports/stats.h"

void diff_opts_init(struct diff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT;
	o->alpha = DIFF_DEFAULT_ALPHA;
	o->correction = DIFF_DEFAULT_CORRECTION;
}

void diff_opts_release(struct diff_opts *o)
{
	for (size_t i = 0; i < o->nmetrics; i++)
		free(o->metrics[i].name);
	free(o->metrics);
	for (size_t i = 0; i < o->nparams; i++)
		free(o->params[i]);
	free(o->params);
	free(o->ab_key);
	free(o->ab_a);
	free(o->ab_b);
	o->metrics = NULL;
	o->params = NULL;
	o->ab_key = o->ab_a = o->ab_b = NULL;
	o->nmetrics = o->nparams = 0;
}

const struct diff_metric_sel *diff_opts_metric(const struct diff_opts *o,
					       const char *name)
{
	for (size_t i = 0; i < o->nmetrics; i++)
		if (!strcmp(o->metrics[i].name, name))
			return &o->metrics[i];
	return NULL;
}

bool diff_opts_params_selected(const struct diff_opts *o, const char *params_key)
{
	if (!o->nparams)
		return true;
	for (size_t i = 0; i < o->nparams; i++)
		if (!strcmp(o->params[i], params_key))
			return true;
	return false;
}

void diff_row_choose(struct diff_row *r, const struct diff_opts *o, bool dflt)
{
	const struct diff_metric_sel *m;

	if (!o->nmetrics) {
		r->judged = dflt && r->dir != VMORCH_DIR_NEUTRAL;
		return;
	}
	m = diff_opts_metric(o, r->name);
	if (m && m->dir != VMORCH_DIR_NEUTRAL)
		r->dir = m->dir;
	r->judged = m && r->dir != VMORCH_DIR_NEUTRAL;
}

int diff_row_test(struct diff_row *r, const struct diff_opts *o, bool *small)
{
	struct mwu_result u;
	struct hl_result hl;
	int rc;

	r->tested = r->a.n >= DIFF_MIN_REPEATS && r->b.n >= DIFF_MIN_REPEATS;
	r->p_value = NAN;
	r->p_adjusted = NAN;
	if (!r->tested) {
		*small = true;
		return 0;
	}
	rc = stats_mann_whitney(r->a.values, r->a.n, r->b.values, r->b.n, &u);
	if (rc)
		return rc;
	r->p_value = u.p;
	if (r->a.stddev == 0 && r->b.stddev == 0) {
		/* Each side one value: every difference, so the interval, is one. */
		r->has_ci = true;
		r->hl_shift = r->ci_low = r->ci_high = r->b.mean - r->a.mean;
		return 0;
	}
	rc = stats_hodges_lehmann(r->a.values, r->a.n, r->b.values, r->b.n,
				  o->alpha, &hl);
	/* Too many repeats to sort their pairs, or --alpha 0 or 1: no interval. */
	if (rc == -E2BIG || rc == -EINVAL)
		return 0;
	if (rc)
		return rc;
	r->has_ci = true;
	r->hl_shift = hl.shift;
	r->ci_low = hl.low;
	r->ci_high = hl.high;
	return 0;
}

static bool changed_enough(double ma, double mb, double threshold_pct)
{
	if (ma == mb)
		return false;
	/* From zero any change is infinitely large: 0 -> 1 io_errors counts. */
	if (ma == 0)
		return true;
	return fabs(100 * (mb - ma) / fabs(ma)) >= threshold_pct;
}

/*
 * A change must exceed the threshold and, when tested, be significant:
 * a judged row by its adjusted p-value, any other by its own.  Then its
 * direction says improved or regressed; a row not judged is reported.
 */
static enum diff_verdict row_verdict(const struct diff_row *r,
				     const struct diff_opts *o)
{
	bool changed = changed_enough(r->a.mean, r->b.mean, o->threshold_pct);

	if (r->tested)
		changed = changed && (r->judged ? r->p_adjusted : r->p_value) < o->alpha;
	if (!changed)
		return DIFF_UNCHANGED;
	if (!r->judged)
		return DIFF_REPORTED;
	if (r->dir == VMORCH_DIR_HIGHER)
		return r->b.mean > r->a.mean ? DIFF_IMPROVED : DIFF_REGRESSED;
	return r->b.mean < r->a.mean ? DIFF_IMPROVED : DIFF_REGRESSED;
}

/*
 * A row whose values are all one number on both sides (no errors, ever)
 * cannot be significant: counting it in the family would only make the
 * others' adjustment harsher.
 */
static bool row_constant(const struct diff_row *r)
{
	return r->a.stddev == 0 && r->b.stddev == 0 && r->a.mean == r->b.mean;
}

int diff_rows_judge(struct diff_row *rows, size_t n, const struct diff_opts *o,
		    size_t *family)
{
	size_t *idx = malloc((n + 1) * sizeof(*idx)), m = 0;
	double *p = calloc(n + 1, sizeof(*p));
	int rc = -ENOMEM;

	if (!idx || !p)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (rows[i].a.n && rows[i].b.n && rows[i].judged &&
		    rows[i].tested && !row_constant(&rows[i])) {
			idx[m] = i;
			p[m++] = rows[i].p_value;
		}
	rc = stats_adjust_p(p, m, o->correction, p);
	if (rc)
		goto out;
	for (size_t k = 0; k < m; k++)
		rows[idx[k]].p_adjusted = p[k];
	for (size_t i = 0; i < n; i++)
		if (rows[i].a.n && rows[i].b.n)
			rows[i].verdict = row_verdict(&rows[i], o);
	*family = m;
out:
	free(idx);
	free(p);
	return rc;
}

unsigned diff_gate(const struct diff *d, bool allow_missing)
{
	unsigned fail = 0;

	if (d->regressed)
		fail |= DIFF_GATE_REGRESSED;
	if (d->failing_jobs)
		fail |= DIFF_GATE_FAILING;
	if (d->missing_jobs && !allow_missing)
		fail |= DIFF_GATE_MISSING;
	if (d->b_incomplete && !allow_missing)
		fail |= DIFF_GATE_INCOMPLETE;
	return fail;
}

const char *diff_job_verdict_name(const struct diff_job *j)
{
	if (j->verdict == DIFF_NEW && j->newly_failing)
		return "new, failing";
	return diff_verdict_name(j->verdict);
}

const char *diff_verdict_name(enum diff_verdict v)
{
	switch (v) {
	case DIFF_UNCHANGED:	return "unchanged";
	case DIFF_IMPROVED:	return "improved";
	case DIFF_REGRESSED:	return "regressed";
	case DIFF_NEW:		return "new";
	case DIFF_MISSING:	return "missing";
	case DIFF_REPORTED:	return "reported";
	}
	return "?";
}
