/*
 * fuzz_job.c - libFuzzer target for the job-spec decoder, the bytes a
 * worker reads from its orchestrator (or from whoever wrote its job file).
 * Build and run: make fuzz-run (see tests/fuzz.mk).
 *
 * Beyond "no crash, no leak", what must hold: a refusal is a negative errno
 * with a message; an accepted spec is within the limits job.h promises and
 * survives the orchestrator's own encoder, and one encode/decode round is
 * a fixed point (the worker reads exactly what it was sent).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_job: %s: %s\n", why, detail ? detail : "");
	abort();
}

static void spec_check_limits(const struct job_spec *j)
{
	if (j->vcpus < 1 || j->vcpus > JOB_MAX_VCPUS)
		fuzz_fail("vcpus out of range", j->name);
	if (j->memory < JOB_MEM_MIN || j->memory > JOB_MEM_MAX || j->memory % 4096)
		fuzz_fail("memory out of range", j->name);
	if (j->ndisks > JOB_MAX_DISKS || j->nprotect > JOB_MAX_PROTECT)
		fuzz_fail("too many disks or protected files", j->name);
	for (uint32_t i = 0; i < j->ndisks; i++) {
		const struct job_disk *d = &j->disk[i];

		if (strnlen(d->serial, sizeof(d->serial)) > JOB_SERIAL_MAX)
			fuzz_fail("serial not terminated", j->name);
		if (!d->path && !d->size)
			fuzz_fail("disk with neither path nor size", j->name);
	}
	if (j->guest.kind == JOB_GUEST_LINUX && !j->guest.kernel)
		fuzz_fail("linux guest without kernel", j->name);
}

/* Encode, decode the encoding, encode again: both texts must be equal. */
static void spec_check_round_trip(const struct job_spec *j)
{
	struct job_spec back;
	struct verr e = { "" };
	char *once, *twice;

	once = job_spec_encode(j);
	if (!once)
		fuzz_fail("an accepted spec does not encode", j->name);
	if (job_spec_decode(once, strlen(once), &back, &e))
		fuzz_fail("the encoder's output is refused", e.msg);
	twice = job_spec_encode(&back);
	if (!twice || strcmp(once, twice) != 0)
		fuzz_fail("encode/decode is not a fixed point", once);
	free(twice);
	free(once);
	job_spec_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_spec j;
	struct verr e = { "" };
	int rc;

	rc = job_spec_decode((const char *)data, size, &j, &e);
	if (rc) {
		if (rc >= 0 || rc < -4095 || !e.msg[0])
			fuzz_fail("refusal without a negative errno and a message", e.msg);
		return 0;
	}
	spec_check_limits(&j);
	spec_check_round_trip(&j);
	job_spec_free(&j);
	return 0;
}
