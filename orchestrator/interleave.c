/*
 * interleave.c - `vmorch run --interleave KEY`: put the jobs of a matrix
 * key's values in turn, A, B, A, B..., so that whatever drifts on the
 * machine while the run goes (heat, caches, other tenants) reaches every
 * variant alike.  `vmorch diff RUN --ab KEY=a,KEY=b` then compares them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/interleave.h"

/* The value of @key in @j, or NULL. */
static const char *job_value(const struct job_desc *j, const char *key)
{
	for (unsigned i = 0; i < j->nparams && i < JOB_MAX_PARAMS; i++)
		if (!strcmp(j->param[i].key, key))
			return j->param[i].value;
	return NULL;
}

/* Move jobs[i] to position where[i], for every i: cycle by cycle. */
static int jobs_permute(struct job_desc *jobs, size_t n, size_t *where)
{
	struct job_desc *tmp = malloc(sizeof(*tmp));

	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		while (where[i] != i) {
			size_t t = where[i];

			/* jobs[i] belongs at t: swap it there, then place what came back. */
			*tmp = jobs[t];
			jobs[t] = jobs[i];
			jobs[i] = *tmp;
			where[i] = where[t];
			where[t] = t;
		}
	}
	free(tmp);
	return 0;
}

/* The index of @v among the @nv values seen, adding it; -1 past the maximum. */
static int value_index(const char **value, size_t *nv, const char *v)
{
	size_t k = 0;

	while (k < *nv && strcmp(value[k], v))
		k++;
	if (k == *nv) {
		if (*nv == JOB_INTERLEAVE_MAX)
			return -1;
		value[(*nv)++] = v;
	}
	return (int)k;
}

int jobs_interleave(struct job_desc *jobs, size_t n, const char *key,
		    struct verr *e)
{
	const char *value[JOB_INTERLEAVE_MAX];
	size_t count[JOB_INTERLEAVE_MAX] = { 0 }, first[JOB_INTERLEAVE_MAX + 1];
	size_t nv = 0, pos = 0, *where = NULL, *order = NULL, *bucket = NULL;
	int *vk = NULL, rc = -ENOMEM;

	vk = malloc((n + 1) * sizeof(*vk));
	where = malloc((n + 1) * sizeof(*where));
	order = malloc((n + 1) * sizeof(*order));
	bucket = malloc((n + 1) * sizeof(*bucket));
	if (!vk || !where || !order || !bucket) {
		verr_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = job_value(&jobs[i], key);

		vk[i] = v ? value_index(value, &nv, v) : -2;
		if (vk[i] == -1) {
			verr_set(e, "--interleave %s: more than %d values", key,
				 JOB_INTERLEAVE_MAX);
			rc = -EINVAL;
			goto out;
		}
		if (vk[i] >= 0)
			count[vk[i]]++;
	}
	if (nv < 2) {
		verr_set(e, "--interleave %s: %s", key, nv ? "the jobs have one value of"
			 " it: nothing to alternate" : "no job has this matrix key");
		rc = -EINVAL;
		goto out;
	}
	/* Each value's jobs in their order: bucket[first[k] ..]. */
	first[0] = 0;
	for (size_t k = 0; k < nv; k++)
		first[k + 1] = first[k] + count[k];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		if (vk[i] >= 0)
			bucket[first[vk[i]] + count[vk[i]]++] = i;
	/*
	 * The first job of each value in turn, then the second of each, ...;
	 * a value that ran out leaves its turn to the others; jobs without
	 * the key keep their order, after all of them.
	 */
	for (size_t round = 0; pos < first[nv]; round++)
		for (size_t k = 0; k < nv; k++)
			if (round < count[k])
				order[pos++] = bucket[first[k] + round];
	for (size_t i = 0; i < n; i++)
		if (vk[i] < 0)
			order[pos++] = i;
	for (size_t p = 0; p < n; p++)
		where[order[p]] = p;
	rc = jobs_permute(jobs, n, where);
	if (rc)
		verr_set(e, "out of memory");
out:
	free(vk);
	free(where);
	free(order);
	free(bucket);
	return rc;
}
