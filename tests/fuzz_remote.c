/*
 * fuzz_remote.c - libFuzzer target for what the orchestrator reads from a
 * remote worker's channel: a byte stream, cut into lines by the splitter
 * and decoded by remote_frame_parse.  The host may be broken or hostile.
 * Build: make fuzz.
 *
 * Input: the first byte sets the chunk size the stream is fed in (1..256,
 * as a network delivers it in pieces); the rest is the stream.
 *
 * What must hold besides "no crash, no leak, no hang": a line never holds
 * its '\n' and is never longer than the bound; a refusal is a negative
 * errno with a message; an accepted frame is within remote_proto.h's
 * bounds, and what the encoder writes for it decodes to the same frame
 * (what the orchestrator acts on is what the worker meant).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/remote_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames this size are legal but slow: a smaller bound finds the same bugs. */
#define FUZZ_LINE_MAX	(16 * 1024)

static struct remote_frame got, back;	/* 40 KiB each: not on the stack */

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_remote: %s: %s\n", why, detail ? detail : "");
	abort();
}

static void refusal_check(int rc, const struct verr *e)
{
	if (rc >= 0 || rc < -4095 || !e->msg[0])
		fuzz_fail("refusal without a negative errno and a message", e->msg);
}

static void frame_check_limits(const struct remote_frame *f)
{
	switch (f->type) {
	case REMOTE_FRAME_HELLO:
		if (f->pid == 0 || f->pid > INT32_MAX)
			fuzz_fail("pid out of range accepted", NULL);
		break;
	case REMOTE_FRAME_SNAPSHOT:
		if ((unsigned)f->snap.state >= SHM_STATE_NR || f->snap.ndisks > SHM_MAX_DISKS ||
		    f->snap.nvcpus > SHM_MAX_VCPUS)
			fuzz_fail("snapshot out of bounds accepted", NULL);
		break;
	case REMOTE_FRAME_RESULT:
		if ((unsigned)f->result.exit_kind >= VM_EXIT_NR ||
		    f->result.ndisks > JOB_MAX_DISKS ||
		    f->result.nmetrics > VM_RESULT_MAX_METRICS)
			fuzz_fail("result out of bounds accepted", NULL);
		break;
	default:
		fuzz_fail("accepted a frame of no known type", NULL);
	}
}

static char *frame_encode(const struct remote_frame *f, size_t *len)
{
	switch (f->type) {
	case REMOTE_FRAME_HELLO:
		return remote_hello_encode(f->pid, len);
	case REMOTE_FRAME_SNAPSHOT:
		return remote_snapshot_encode(&f->snap, len);
	default:
		return remote_result_encode(&f->result, len);
	}
}

/* Encode @f, decode that, encode again: the same text both times. */
static void frame_check_round_trip(const struct remote_frame *f)
{
	struct verr e = { "" };
	size_t len = 0, len2 = 0;
	char *once, *twice;

	once = frame_encode(f, &len);
	if (!once)
		fuzz_fail("an accepted frame does not encode", NULL);
	if (len == 0 || once[len - 1] != '\n' || memchr(once, '\n', len - 1))
		fuzz_fail("an encoded frame is not one line", once);
	memset(&back, 0, sizeof(back));
	if (remote_frame_parse(once, len - 1, &back, &e))
		fuzz_fail("the encoder's output is refused", e.msg);
	if (back.type != f->type)
		fuzz_fail("the frame changed type", once);
	if (f->type == REMOTE_FRAME_SNAPSHOT &&
	    memcmp(&back.snap, &f->snap, sizeof(f->snap)) != 0)
		fuzz_fail("a snapshot changed through encode/decode", once);
	twice = frame_encode(&back, &len2);
	if (!twice || len2 != len || memcmp(once, twice, len) != 0)
		fuzz_fail("encode/decode is not a fixed point", once);
	free(twice);
	free(once);
}

static void line_check(const char *line, size_t len)
{
	struct verr e = { "" };
	int rc;

	if (len > FUZZ_LINE_MAX || memchr(line, '\n', len) || line[len] != 0)
		fuzz_fail("the splitter gave a bad line", NULL);
	memset(&got, 0, sizeof(got));
	rc = remote_frame_parse(line, len, &got, &e);
	if (rc) {
		refusal_check(rc, &e);
		return;
	}
	frame_check_limits(&got);
	frame_check_round_trip(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_lines l;
	struct verr e = { "" };
	size_t chunk, at;
	const char *line;
	size_t len;
	int rc = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	remote_lines_init(&l, FUZZ_LINE_MAX);
	for (at = 0; at < size && !rc; at += chunk) {
		size_t k = size - at < chunk ? size - at : chunk;

		rc = remote_lines_feed(&l, data + at, k, &e);
		if (rc)
			refusal_check(rc, &e);
		while (remote_lines_next(&l, &line, &len))
			line_check(line, len);
	}
	rc = remote_lines_finish(&l, &e);
	if (rc)
		refusal_check(rc, &e);
	remote_lines_release(&l);
	return 0;
}
