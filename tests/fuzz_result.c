/*
 * fuzz_result.c - libFuzzer target for the VmResult decoder: the JSON a
 * worker (possibly a broken or hostile one) leaves in its shm result slot
 * or sends over SSH, read by the orchestrator.  Build: make fuzz.
 *
 * What must hold besides "no crash, no leak": a refusal is a negative errno
 * with a message; an accepted result respects vm_result.h's bounds; and
 * what the encoder writes for it decodes to a result that encodes to the
 * same text (what the orchestrator stores is what the worker reported).
 *
 * The same bytes also go to the worker's parser of a guest's result line
 * (vmm-worker/guest_result.c), which reads what the guest prints: its
 * figures stay within a result's bounds and a result that took them still
 * encodes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vm_result.h"
#include "vmm-worker/guest_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_result: %s: %s\n", why, detail ? detail : "");
	abort();
}

static void result_check_limits(const struct vm_result *r)
{
	if ((unsigned)r->exit_kind >= VM_EXIT_NR)
		fuzz_fail("exit kind out of range", NULL);
	if (r->success && r->exit_kind != VM_EXIT_GUEST_PASS)
		fuzz_fail("success without guest_pass", NULL);
	if (r->ndisks > JOB_MAX_DISKS || r->nmetrics > VM_RESULT_MAX_METRICS)
		fuzz_fail("too many disks or metrics", NULL);
	if (strnlen(r->console_tail, sizeof(r->console_tail)) > VM_CONSOLE_TAIL_MAX ||
	    strnlen(r->error, sizeof(r->error)) > VM_ERROR_MAX)
		fuzz_fail("text not terminated", NULL);
	for (uint32_t i = 0; i < r->nmetrics; i++)
		if (!r->metric[i].name[0] ||
		    strnlen(r->metric[i].name, sizeof(r->metric[i].name)) > VM_METRIC_NAME_MAX)
			fuzz_fail("bad metric name accepted", r->metric[i].name);
}

static char *result_reencode(const char *text)
{
	static struct vm_result back;	/* 40 KiB: not on the stack */
	struct verr e = { "" };
	char *s;

	memset(&back, 0, sizeof(back));
	if (vm_result_decode(text, strlen(text), &back, &e))
		fuzz_fail("the encoder's output is refused", e.msg);
	s = vm_result_encode(&back);
	if (!s)
		fuzz_fail("a decoded result does not encode", text);
	return s;
}

static void result_check_round_trip(const struct vm_result *r)
{
	char *once, *twice;

	once = vm_result_encode(r);
	if (!once)
		fuzz_fail("an accepted result does not encode", NULL);
	twice = result_reencode(once);
	if (strcmp(once, twice) != 0)
		fuzz_fail("encode/decode is not a fixed point", once);
	free(twice);
	free(once);
}

/* The input as a guest's result payload (a NUL-terminated line). */
static void guest_line_check(const uint8_t *data, size_t size)
{
	static struct vm_result r;
	enum guest_status st;
	struct verr e = { "" };
	char reason[256], *line = malloc(size + 1), *s;

	if (!line)
		return;
	memcpy(line, data, size);
	line[size] = 0;
	memset(&r, 0, sizeof(r));
	if (guest_result_parse(line, &r, &st, reason, sizeof(reason), &e) == 0) {
		result_check_limits(&r);
		if ((unsigned)st > GUEST_STATUS_TIMEOUT)
			fuzz_fail("guest status out of range", line);
		s = vm_result_encode(&r);
		if (!s)
			fuzz_fail("a guest line's figures do not encode", line);
		free(s);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_result r;
	struct verr e = { "" };
	int rc;

	guest_line_check(data, size);
	memset(&r, 0, sizeof(r));
	rc = vm_result_decode((const char *)data, size, &r, &e);
	if (rc) {
		if (rc >= 0 || rc < -4095 || !e.msg[0])
			fuzz_fail("refusal without a negative errno and a message", e.msg);
		return 0;
	}
	result_check_limits(&r);
	result_check_round_trip(&r);
	return 0;
}
