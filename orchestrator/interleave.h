/*
 * interleave.h - the run order of `vmorch run --interleave KEY`.
 */
#ifndef VMORCH_INTERLEAVE_H
#define VMORCH_INTERLEAVE_H

#include <stddef.h>

#include "common/verr.h"
#include "orchestrator/jobdesc.h"

/* Values of one key that can alternate: a matrix list is rarely longer. */
#define JOB_INTERLEAVE_MAX 64

/*
 * Reorder @jobs so that the values of matrix key @key take turns: the
 * first job of each value (in the order the values first appear), then
 * the second of each, and so on; each value's jobs keep their order, and
 * jobs without @key come last.  -EINVAL (e says) when fewer than two
 * values of @key exist, -ENOMEM.
 */
int jobs_interleave(struct job_desc *jobs, size_t n, const char *key,
		    struct verr *e);

#endif
