/*
 * jobname.c - a job's one name (see jobname.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int job_name_parse(const char *name, char *scenario, char *vm, char *pk, int64_t *repeat)
{
	const char *slash = strchr(name, '/'), *hash = strrchr(name, '#'), *open;
	char *end;

	if (!slash || !hash || hash < slash || !hash[1])
		return -EINVAL;
	*repeat = strtoll(hash + 1, &end, 10);
	if (*end || *repeat < 0 || slash - name > JOB_NAME_MAX)
		return -EINVAL;
	snprintf(scenario, JOB_NAME_MAX + 1, "%.*s", (int)(slash - name), name);
	open = memchr(slash, '[', (size_t)(hash - slash));
	if (open) {
		if (hash[-1] != ']' || open - slash - 1 > JOB_NAME_MAX)
			return -EINVAL;
		snprintf(vm, JOB_NAME_MAX + 1, "%.*s", (int)(open - slash - 1), slash + 1);
		snprintf(pk, JOB_PARAMS_KEY_MAX, "%.*s", (int)(hash - 1 - open - 1), open + 1);
	} else {
		if (hash - slash - 1 > JOB_NAME_MAX)
			return -EINVAL;
		snprintf(vm, JOB_NAME_MAX + 1, "%.*s", (int)(hash - slash - 1), slash + 1);
		pk[0] = 0;
	}
	return 0;
}
