/*
 * fuzz_scenario.c - libFuzzer target for the scenario loader, from YAML
 * bytes to the job specs the workers receive: scenario_load_buffer (the
 * path only names the file in messages and anchors relative image paths),
 * then scenario_expand.  Build: make fuzz.
 *
 * What must hold besides "no crash, no leak, no hang": a refusal is a
 * negative errno with a message; a loaded scenario expands to exactly
 * scenario_njobs() jobs, at most SCENARIO_JOBS_MAX; and every job spec it
 * produces is one the worker's decoder accepts as it was encoded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "orchestrator/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encoding and decoding every job of a 10000-job matrix adds nothing. */
#define FUZZ_JOBS_CHECKED 64

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_scenario: %s: %s\n", why, detail ? detail : "");
	abort();
}

static void job_check_decodes(const struct job_desc *d)
{
	struct job_spec back;
	struct verr e = { "" };
	char *text, *again;

	text = job_spec_encode(&d->spec);
	if (!text)
		fuzz_fail("an expanded job does not encode", d->vm);
	if (job_spec_decode(text, strlen(text), &back, &e))
		fuzz_fail("the worker would refuse an expanded job", e.msg);
	again = job_spec_encode(&back);
	if (!again || strcmp(text, again) != 0)
		fuzz_fail("the worker would read another job", text);
	free(again);
	free(text);
	job_spec_free(&back);
}

static void scenario_check_expand(const struct scenario *s)
{
	struct job_desc *jobs = NULL;
	struct verr e = { "" };
	size_t n = 0;

	if (scenario_expand(s, &jobs, &n, &e))
		fuzz_fail("a loaded scenario does not expand", e.msg);
	if (n != scenario_njobs(s) || n == 0 || n > SCENARIO_JOBS_MAX)
		fuzz_fail("job count differs from scenario_njobs", scenario_name(s));
	for (size_t i = 0; i < n && i < FUZZ_JOBS_CHECKED; i++)
		job_check_decodes(&jobs[i]);
	job_descs_free(jobs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *s = NULL;
	struct verr e = { "" };
	int rc;

	rc = scenario_load_buffer("fuzz.yaml", (const char *)data, size, &s, &e);
	if (rc) {
		if (rc >= 0 || rc < -4095 || !e.msg[0] || s)
			fuzz_fail("refusal without a negative errno and a message", e.msg);
		return 0;
	}
	if (!scenario_name(s) || !scenario_name(s)[0])
		fuzz_fail("a loaded scenario has no name", NULL);
	scenario_check_expand(s);
	scenario_free(s);
	return 0;
}
