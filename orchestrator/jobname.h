/*
 * jobname.h - a job's one name, everywhere: `scenario/vm[k=v,...]#repeat`
 * with the matrix keys in name order and ',', '=' and '%' inside values
 * percent-encoded, which is also the stored params_key.  Run output, diff,
 * reports, JUnit and HTML print it; -k and show take it back.
 */
#ifndef VMORCH_JOBNAME_H
#define VMORCH_JOBNAME_H

#include <stddef.h>
#include <stdint.h>

#include "orchestrator/jobdesc.h"

#define JOB_PARAMS_KEY_MAX \
	(JOB_MAX_PARAMS * (3 * JOB_PARAM_KEY_MAX + 3 * JOB_PARAM_VALUE_MAX + 2) + 1)

/* "bs=4k,qd=16" of @n keys and values, keys sorted by name, into @buf
 * (JOB_PARAMS_KEY_MAX bytes). */
void job_params_key_of(const char *const *key, const char *const *value, unsigned n,
		       char *buf);

/* The same for @job's matrix values. */
void job_params_key(const struct job_desc *job, char *buf);

/*
 * A name back into its parts: @scenario and @vm (JOB_NAME_MAX + 1 bytes
 * each), the params_key @pk (JOB_PARAMS_KEY_MAX) and the repeat; -EINVAL
 * when @name is not of that form.
 */
int job_name_parse(const char *name, char *scenario, char *vm, char *pk, int64_t *repeat);

#endif
