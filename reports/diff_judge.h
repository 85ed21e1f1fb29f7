/*
 * diff_judge.h - between reports/diff.c, which builds the rows of a diff,
 * and reports/diff_judge.c, which judges them.
 */
#ifndef VMORCH_REPORTS_DIFF_JUDGE_H
#define VMORCH_REPORTS_DIFF_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "reports/report.h"

/* The --metric entry for @name, or NULL. */
const struct diff_metric_sel *diff_opts_metric(const struct diff_opts *o,
					       const char *name);
/* No --params, or one of them is @params_key. */
bool diff_opts_params_selected(const struct diff_opts *o, const char *params_key);

/*
 * Set r->judged (and r->dir, for a --metric given with one): by --metric
 * when given, else @dflt, whether the row is in the default judged set.
 */
void diff_row_choose(struct diff_row *r, const struct diff_opts *o, bool dflt);

/*
 * Mann-Whitney p-value and Hodges-Lehmann interval of a row with both
 * sides, when both have enough repeats; else *small = true.  0 or -ENOMEM.
 */
int diff_row_test(struct diff_row *r, const struct diff_opts *o, bool *small);

/*
 * Adjust the p-values of the tested judged rows together, then give
 * every row with both sides its verdict.  0 or -ENOMEM.
 */
int diff_rows_judge(struct diff_row *rows, size_t n, const struct diff_opts *o,
		    size_t *family);

#endif
