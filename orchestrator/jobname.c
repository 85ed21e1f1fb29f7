/*
 * jobname.c - a job's one name (see jobname.h).
 */
#include <stdio.h>
#include <string.h>

#include "orchestrator/jobname.h"

/* Percent-encode what would make "k=v,k=v" ambiguous. */
static size_t key_put(char *buf, size_t len, const char *s)
{
	for (; *s; s++) {
		if (*s == ',' || *s == '=' || *s == '%')
			len += (size_t)sprintf(buf + len, "%%%02X", (unsigned char)*s);
		else
			buf[len++] = *s;
	}
	buf[len] = 0;
	return len;
}

void job_params_key_of(const char *const *key, const char *const *value, unsigned n,
		       char *buf)
{
	unsigned order[JOB_MAX_PARAMS];
	size_t len = 0;

	if (n > JOB_MAX_PARAMS)
		n = JOB_MAX_PARAMS;
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;

		/* Insertion sort: a job has at most JOB_MAX_PARAMS keys. */
		for (; j > 0 && strcmp(key[order[j - 1]], key[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	buf[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i)
			buf[len++] = ',';
		len = key_put(buf, len, key[order[i]]);
		buf[len++] = '=';
		len = key_put(buf, len, value[order[i]]);
	}
	buf[len] = 0;
}

void job_params_key(const struct job_desc *job, char *buf)
{
	const char *key[JOB_MAX_PARAMS], *value[JOB_MAX_PARAMS];
	unsigned n = job->nparams < JOB_MAX_PARAMS ? job->nparams : JOB_MAX_PARAMS;

	for (unsigned i = 0; i < n; i++) {
		key[i] = job->param[i].key;
		value[i] = job->param[i].value;
	}
	job_params_key_of(key, value, n, buf);
}
