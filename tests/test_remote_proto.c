/*
 * test_remote_proto.c - the remote worker's frames (common/remote_proto.h):
 * exact encodings and round trips, every kind of malformed frame refused
 * with its message, the scheduler figures read from /proc text, and the
 * line splitter that cuts a channel's bytes into frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/remote_proto.h"

static struct remote_frame frame;	/* 40 KiB with its VmResult: not on the stack */

/* Parse @text (a C string: the frame without its '\n'); the return code. */
static int parse(const char *text, struct verr *e)
{
	memset(&frame, 0, sizeof(frame));
	return remote_frame_parse(text, strlen(text), &frame, e);
}

static void fill_snapshot(struct remote_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->state = SHM_STATE_RUNNING;
	s->heartbeat_age_ms = 87;
	s->sched = (struct remote_sched){ .cpu_ns = 12345678901ULL, .wait_ns = 42,
					  .runnable = true };
	s->ndisks = 2;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		*(uint64_t *)((char *)&s->disk[0] + vblk_fields[i].plain_off) = 100 + (uint64_t)i;
		*(uint64_t *)((char *)&s->disk[1] + vblk_fields[i].plain_off) = 1ULL << (40 + i);
	}
	s->disk[1].bytes_read = (uint64_t)INT64_MAX;	/* the largest JSON carries */
	s->nvcpus = 3;
	for (uint32_t i = 0; i < s->nvcpus; i++)
		s->vcpu[i] = (struct remote_vcpu_exits){ .io = 10 * i + 1, .mmio = 10 * i + 2,
							 .hlt = 10 * i + 3, .intr = 10 * i + 4,
							 .other = 10 * i + 5 };
}

static void fill_result(struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	r->wall_us = 812345;
	r->boot_us = 2548;
	r->ndisks = 1;
	r->disk[0].reads_completed = 1000;
	r->disk[0].bytes_read = 4096000;
	vm_result_set_metric(r, "ops", 1000);
	vm_result_set_metric(r, "iops", 8125.5);
	strcpy(r->console_tail, "vmorch-guest: pass \"quoted\"\n");
}

/* The hello frame is exactly the protocol's line. */
static void test_hello_exact_and_round_trip(void **state)
{
	struct verr e = { "" };
	size_t len = 0;
	char *s = remote_hello_encode(4242, &len);

	assert_string_equal(s, "{\"vmorch-remote\":1,\"pid\":4242}\n");
	assert_int_equal(len, strlen(s));
	assert_int_equal(remote_frame_parse(s, len - 1, &frame, &e), 0);
	assert_int_equal(frame.type, REMOTE_FRAME_HELLO);
	assert_int_equal(frame.pid, 4242);
	free(s);
}

/* A small snapshot is exactly this line: keys in the protocol's order. */
static void test_snapshot_exact_text(void **state)
{
	struct remote_snapshot s = {
		.state = SHM_STATE_BOOTING, .heartbeat_age_ms = 5,
		.sched = { .cpu_ns = 7, .wait_ns = 8, .runnable = false },
		.ndisks = 1, .nvcpus = 1,
		.disk[0] = { .reads_completed = 3, .bytes_read = 12288 },
		.vcpu[0] = { .io = 1, .mmio = 2, .hlt = 3, .intr = 4, .other = 5 },
	};
	size_t len = 0;
	char *t = remote_snapshot_encode(&s, &len);

	assert_string_equal(t,
		"{\"snapshot\":{\"state\":\"booting\",\"heartbeat_age_ms\":5,"
		"\"sched\":{\"cpu_ns\":7,\"wait_ns\":8,\"runnable\":false},"
		"\"disks\":[{\"reads_completed\":3,\"writes_completed\":0,"
		"\"flushes_completed\":0,\"bytes_read\":12288,\"bytes_written\":0,"
		"\"throttled_count\":0,\"io_errors\":0,\"currently_throttled_gauge\":0,"
		"\"invalid_avail_idx_count\":0}],"
		"\"vcpus\":[{\"io\":1,\"mmio\":2,\"hlt\":3,\"intr\":4,\"other\":5}]}}\n");
	assert_int_equal(len, strlen(t));
	free(t);
}

/* Every snapshot field survives encode + decode bit for bit. */
static void test_snapshot_round_trip(void **state)
{
	static struct remote_snapshot s;
	struct verr e = { "" };
	size_t len = 0;
	char *t;

	fill_snapshot(&s);
	t = remote_snapshot_encode(&s, &len);
	assert_non_null(t);
	assert_int_equal(t[len - 1], '\n');
	if (remote_frame_parse(t, len - 1, &frame, &e))
		fail_msg("refused: %s", e.msg);
	assert_int_equal(frame.type, REMOTE_FRAME_SNAPSHOT);
	assert_memory_equal(&frame.snap, &s, sizeof(s));
	free(t);

	/* No disk and no vCPU yet (a worker still building its VM). */
	memset(&s, 0, sizeof(s));
	t = remote_snapshot_encode(&s, &len);
	assert_string_equal(t, "{\"snapshot\":{\"state\":\"starting\",\"heartbeat_age_ms\":0,"
			    "\"sched\":{\"cpu_ns\":0,\"wait_ns\":0,\"runnable\":false},"
			    "\"disks\":[],\"vcpus\":[]}}\n");
	assert_int_equal(remote_frame_parse(t, len - 1, &frame, &e), 0);
	assert_memory_equal(&frame.snap, &s, sizeof(s));
	free(t);
}

/* What JSON cannot carry, or a state with no name, is not encoded. */
static void test_snapshot_encode_refuses_what_json_cannot_carry(void **state)
{
	static struct remote_snapshot s;
	size_t len = 0;

	fill_snapshot(&s);
	s.vcpu[2].other = (uint64_t)INT64_MAX + 1;
	assert_null(remote_snapshot_encode(&s, &len));
	fill_snapshot(&s);
	s.state = SHM_STATE_NR;
	assert_null(remote_snapshot_encode(&s, &len));
	fill_snapshot(&s);
	s.ndisks = SHM_MAX_DISKS + 1;
	assert_null(remote_snapshot_encode(&s, &len));
}

/* The result frame wraps the VmResult, and decodes to the same result. */
static void test_result_round_trip(void **state)
{
	static struct vm_result r;
	struct verr e = { "" };
	char *t, *inner;
	size_t len = 0;

	fill_result(&r);
	t = remote_result_encode(&r, &len);
	assert_non_null(t);
	inner = vm_result_encode(&r);
	assert_int_equal(strlen(t), len);
	assert_int_equal(len, strlen("{\"result\":") + strlen(inner) + strlen("}\n"));
	assert_int_equal(strncmp(t, "{\"result\":", 10), 0);
	assert_memory_equal(t + 10, inner, strlen(inner));	/* the shm slot's very text */
	assert_string_equal(t + 10 + strlen(inner), "}\n");
	free(inner);
	assert_null(memchr(t, '\n', len - 1));
	if (remote_frame_parse(t, len - 1, &frame, &e))
		fail_msg("refused: %s", e.msg);
	assert_int_equal(frame.type, REMOTE_FRAME_RESULT);
	assert_true(frame.result.success);
	assert_int_equal(frame.result.exit_kind, VM_EXIT_GUEST_PASS);
	assert_int_equal(frame.result.wall_us, 812345);
	assert_int_equal(frame.result.ndisks, 1);
	assert_int_equal(frame.result.disk[0].reads_completed, 1000);
	assert_int_equal(frame.result.disk[0].bytes_read, 4096000);
	assert_string_equal(frame.result.console_tail, r.console_tail);
	/* Same text again: what the orchestrator stores is what the worker sent. */
	inner = vm_result_encode(&frame.result);
	assert_non_null(inner);
	assert_memory_equal(t + 10, inner, strlen(inner));
	free(inner);
	free(t);
}

/* The region's live figures, as the worker's reporter copies them. */
static void test_snapshot_from_region(void **state)
{
	struct remote_sched sched = { .cpu_ns = 5, .wait_ns = 6, .runnable = true };
	static struct remote_snapshot s;
	struct shm_map m = { .fd = -1 };

	assert_int_equal(shm_create(&m, NULL), 0);
	shm_set_state(m.r, SHM_STATE_RUNNING);
	atomic_store(&m.r->ndisks, 2);
	atomic_store(&m.r->nvcpus, 1);
	atomic_store(&m.r->heartbeat_ns, 1000000000ULL);
	record_read(&m.r->disk[1], 4096);
	record_read(&m.r->disk[1], 4096);
	atomic_store(&m.r->vcpu[0].hlt, 9);
	remote_snapshot_from_region(m.r, 1250000000ULL, &sched, &s);
	assert_int_equal(s.state, SHM_STATE_RUNNING);
	assert_int_equal(s.heartbeat_age_ms, 250);
	assert_int_equal(s.sched.cpu_ns, 5);
	assert_true(s.sched.runnable);
	assert_int_equal(s.ndisks, 2);
	assert_int_equal(s.disk[0].reads_completed, 0);
	assert_int_equal(s.disk[1].reads_completed, 2);
	assert_int_equal(s.disk[1].bytes_read, 8192);
	assert_int_equal(s.nvcpus, 1);
	assert_int_equal(s.vcpu[0].hlt, 9);

	/* A heart that never beat, or "beat later" than now, is 0 ms old. */
	atomic_store(&m.r->heartbeat_ns, 0);
	remote_snapshot_from_region(m.r, 1250000000ULL, &sched, &s);
	assert_int_equal(s.heartbeat_age_ms, 0);
	atomic_store(&m.r->heartbeat_ns, 2000000000ULL);
	remote_snapshot_from_region(m.r, 1250000000ULL, &sched, &s);
	assert_int_equal(s.heartbeat_age_ms, 0);

	/* Counts beyond the region's capacity are clamped, not followed. */
	atomic_store(&m.r->ndisks, 1000);
	atomic_store(&m.r->nvcpus, 1000);
	remote_snapshot_from_region(m.r, 0, &sched, &s);
	assert_int_equal(s.ndisks, SHM_MAX_DISKS);
	assert_int_equal(s.nvcpus, SHM_MAX_VCPUS);
	shm_unmap(&m);
}

/* schedstat's two first numbers and stat's state, however odd the comm. */
static void test_sched_parse(void **state)
{
	struct remote_sched s;

	assert_int_equal(remote_sched_parse("123456 789 12\n", "4242 (vmm-worker) R 1 2 3", &s), 0);
	assert_int_equal(s.cpu_ns, 123456);
	assert_int_equal(s.wait_ns, 789);
	assert_true(s.runnable);
	assert_int_equal(remote_sched_parse("1 2 3\n", "7 (a) b) S 1 2", &s), 0);
	assert_false(s.runnable);
	assert_int_equal(remote_sched_parse("18446744073709551615 0 0", "7 (x) D 1", &s), 0);
	assert_int_equal(s.cpu_ns, UINT64_MAX);
	assert_false(s.runnable);

	assert_int_equal(remote_sched_parse("", "7 (x) R 1", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("12", "7 (x) R 1", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("x 1 2", "7 (x) R 1", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("1 2x 3", "7 (x) R 1", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("1 2 3", "7 x R 1", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("1 2 3", "7 (x)", &s), -EINVAL);
	assert_int_equal(remote_sched_parse("1 2 3", "7 (x) ", &s), -EINVAL);
}

struct bad_frame {
	const char *text;
	int rc;
	const char *msg;
};

#define SNAP_HEAD "{\"snapshot\":{\"state\":\"running\",\"heartbeat_age_ms\":1,"
#define SCHED_OK "\"sched\":{\"cpu_ns\":1,\"wait_ns\":2,\"runnable\":true},"
#define DISK_OK "{\"reads_completed\":0,\"writes_completed\":0,\"flushes_completed\":0," \
	"\"bytes_read\":0,\"bytes_written\":0,\"throttled_count\":0,\"io_errors\":0," \
	"\"currently_throttled_gauge\":0,\"invalid_avail_idx_count\":0}"
#define VCPU_OK "{\"io\":1,\"mmio\":2,\"hlt\":3,\"intr\":4,\"other\":5}"

/* Every class of malformed frame is refused, with what is wrong. */
static void test_malformed_frames_refused(void **state)
{
	static const struct bad_frame bad[] = {
		/* Not a JSON object. */
		{ "", -EBADMSG, "frame: invalid JSON at line 1 column 0: '[' or '{' expected "
		  "near end of file" },
		{ "{\"snapshot\":", -EBADMSG, "frame: invalid JSON at line 1 column 12: "
		  "unexpected token near end of file" },
		{ "[1]", -EBADMSG, "frame: expected a JSON object at the top level" },
		{ "{\"vmorch-remote\":1,\"vmorch-remote\":1,\"pid\":1}", -EBADMSG,
		  "frame: invalid JSON at line 1 column 34: duplicate object key near "
		  "'\"vmorch-remote\"'" },
		/* No known kind, or two kinds in one. */
		{ "{}", -EBADMSG, "frame: none of 'vmorch-remote', 'snapshot' or 'result': "
		  "not a vmorch remote frame" },
		{ "{\"heartbeat\":1}", -EBADMSG, "frame: none of 'vmorch-remote', 'snapshot' "
		  "or 'result': not a vmorch remote frame" },
		{ "{\"snapshot\":{},\"result\":{}}", -EINVAL,
		  "snapshot frame: unknown field 'result'" },
		{ "{\"vmorch-remote\":1,\"pid\":1,\"result\":{}}", -EINVAL,
		  "hello: unknown field 'result'" },
		/* Hello. */
		{ "{\"vmorch-remote\":2,\"pid\":1}", -EPROTO, "hello: protocol version 2, "
		  "this vmorch speaks 1 (a worker from another vmorch staged on the host?)" },
		{ "{\"vmorch-remote\":\"1\",\"pid\":1}", -EINVAL,
		  "hello: field 'vmorch-remote' must be a non-negative integer" },
		{ "{\"vmorch-remote\":1}", -EINVAL, "hello: missing field 'pid'" },
		{ "{\"vmorch-remote\":1,\"pid\":0}", -ERANGE,
		  "hello: field 'pid' is 0, expected 1..2147483647" },
		{ "{\"vmorch-remote\":1,\"pid\":2147483648}", -ERANGE,
		  "hello: field 'pid' is 2147483648, expected 1..2147483647" },
		{ "{\"vmorch-remote\":1,\"pid\":-5}", -ERANGE, "hello: field 'pid' is negative (-5)" },
		{ "{\"vmorch-remote\":1,\"pid\":1.5}", -EINVAL,
		  "hello: field 'pid' must be a non-negative integer" },
		/* Snapshot: its fields, types and ranges. */
		{ "{\"snapshot\":[]}", -EINVAL, "snapshot: expected an object" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":[],\"gate\":1}}", -EINVAL,
		  "snapshot: unknown field 'gate'" },
		{ "{\"snapshot\":{\"heartbeat_age_ms\":1," SCHED_OK "\"disks\":[],\"vcpus\":[]}}",
		  -EINVAL, "snapshot: missing field 'state'" },
		{ "{\"snapshot\":{\"state\":\"paused\",\"heartbeat_age_ms\":1," SCHED_OK
		  "\"disks\":[],\"vcpus\":[]}}", -EINVAL,
		  "snapshot: field 'state' has unknown value 'paused'" },
		{ "{\"snapshot\":{\"state\":3,\"heartbeat_age_ms\":1," SCHED_OK
		  "\"disks\":[],\"vcpus\":[]}}", -EINVAL, "snapshot: field 'state' must be a string" },
		{ "{\"snapshot\":{\"state\":\"running\"," SCHED_OK "\"disks\":[],\"vcpus\":[]}}",
		  -EINVAL, "snapshot: missing field 'heartbeat_age_ms'" },
		{ "{\"snapshot\":{\"state\":\"running\",\"heartbeat_age_ms\":-3," SCHED_OK
		  "\"disks\":[],\"vcpus\":[]}}", -ERANGE,
		  "snapshot: field 'heartbeat_age_ms' is negative (-3)" },
		{ SNAP_HEAD "\"disks\":[],\"vcpus\":[]}}", -EINVAL, "snapshot: missing field 'sched'" },
		{ SNAP_HEAD "\"sched\":1,\"disks\":[],\"vcpus\":[]}}", -EINVAL,
		  "snapshot.sched: expected an object" },
		{ SNAP_HEAD "\"sched\":{\"cpu_ns\":1,\"wait_ns\":2},\"disks\":[],\"vcpus\":[]}}",
		  -EINVAL, "snapshot.sched: missing field 'runnable'" },
		{ SNAP_HEAD "\"sched\":{\"cpu_ns\":1,\"wait_ns\":2,\"runnable\":1},\"disks\":[],"
		  "\"vcpus\":[]}}", -EINVAL, "snapshot.sched: field 'runnable' must be true or false" },
		{ SNAP_HEAD "\"sched\":{\"cpu_ns\":1e3,\"wait_ns\":2,\"runnable\":true},\"disks\":[],"
		  "\"vcpus\":[]}}", -EINVAL,
		  "snapshot.sched: field 'cpu_ns' must be a non-negative integer" },
		{ SNAP_HEAD "\"sched\":{\"cpu_ns\":1,\"wait_ns\":2,\"runnable\":true,\"nr\":1},"
		  "\"disks\":[],\"vcpus\":[]}}", -EINVAL, "snapshot.sched: unknown field 'nr'" },
		{ SNAP_HEAD SCHED_OK "\"vcpus\":[]}}", -EINVAL, "snapshot: missing field 'disks'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":{},\"vcpus\":[]}}", -EINVAL,
		  "snapshot: field 'disks' must be an array" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[" DISK_OK "," DISK_OK "," DISK_OK "," DISK_OK ","
		  DISK_OK "," DISK_OK "," DISK_OK "," DISK_OK "," DISK_OK "],\"vcpus\":[]}}",
		  -EINVAL, "snapshot: field 'disks' has 9 entries, at most 8" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[" DISK_OK ",{\"reads_completed\":1}],\"vcpus\":[]}}",
		  -EINVAL, "snapshot.disks[1]: missing field 'writes_completed'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[{\"reads\":1}],\"vcpus\":[]}}", -EINVAL,
		  "snapshot.disks[0]: unknown field 'reads'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[7],\"vcpus\":[]}}", -EINVAL,
		  "snapshot.disks[0]: expected an object" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":null}}", -EINVAL,
		  "snapshot: field 'vcpus' must be an array" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[]}}", -EINVAL, "snapshot: missing field 'vcpus'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":[" VCPU_OK ",{\"io\":1,\"mmio\":2,"
		  "\"intr\":4,\"other\":5}]}}", -EINVAL, "snapshot.vcpus[1]: missing field 'hlt'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":[{\"io\":1,\"mmio\":2,\"hlt\":3,"
		  "\"intr\":4,\"other\":5,\"nmi\":6}]}}", -EINVAL,
		  "snapshot.vcpus[0]: unknown field 'nmi'" },
		{ SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":[{\"io\":-1,\"mmio\":2,\"hlt\":3,"
		  "\"intr\":4,\"other\":5}]}}", -ERANGE,
		  "snapshot.vcpus[0]: field 'io' is negative (-1)" },
		/* Result: the VmResult decoder's own strictness. */
		{ "{\"result\":[]}", -EINVAL, "result: expected an object" },
		{ "{\"result\":{\"version\":2}}", -EPROTO,
		  "result: version 2 is not supported (this vmorch reads 1)" },
		{ "{\"result\":{\"version\":1,\"success\":true,\"exit_kind\":\"timeout\","
		  "\"exit_code\":0,\"wall_us\":1,\"boot_us\":0,\"console_tail\":\"\","
		  "\"metrics\":{}}}", -EINVAL,
		  "result: 'success' is true but 'exit_kind' is 'timeout'" },
		{ "{\"result\":{},\"pid\":1}", -EINVAL, "result frame: unknown field 'pid'" },
	};
	struct verr e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		memset(&e, 0, sizeof(e));
		rc = parse(bad[i].text, &e);
		if (rc != bad[i].rc || strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("frame %zu (%s): got %d '%s', expected %d '%s'", i, bad[i].text,
				 rc, e.msg, bad[i].rc, bad[i].msg);
	}
}

/* A 33-vCPU snapshot is fine; 65 is more than a worker can have. */
static void test_snapshot_vcpu_count_bounded(void **state)
{
	char text[8192] = SNAP_HEAD SCHED_OK "\"disks\":[],\"vcpus\":[";
	struct verr e = { "" };

	for (int i = 0; i < 65; i++)
		strcat(strcat(text, i ? "," : ""), VCPU_OK);
	strcat(text, "]}}");
	assert_int_equal(parse(text, &e), -EINVAL);
	assert_string_equal(e.msg, "snapshot: field 'vcpus' has 65 entries, at most 64");
}

/* Bytes a JSON parser would stop at or skip over are refused outright. */
static void test_frame_bytes_refused(void **state)
{
	static char big[REMOTE_FRAME_MAX + 2];
	const char nul[] = "{\"vmorch-remote\":1,\"pid\":1}\0junk";
	const char two[] = "{\"vmorch-remote\":1,\"pid\":1}\n{\"vmorch-remote\":1,\"pid\":2}";
	struct verr e = { "" };

	assert_int_equal(remote_frame_parse(nul, sizeof(nul) - 1, &frame, &e), -EBADMSG);
	assert_string_equal(e.msg, "frame: holds a NUL byte");
	assert_int_equal(remote_frame_parse(two, sizeof(two) - 1, &frame, &e), -EBADMSG);
	assert_string_equal(e.msg, "frame: holds a line break (a frame is one line)");
	memset(big, ' ', sizeof(big) - 1);
	assert_int_equal(remote_frame_parse(big, REMOTE_FRAME_MAX + 1, &frame, &e), -EMSGSIZE);
	assert_string_equal(e.msg, "frame: 131073 bytes, more than 131072");
	/* Exactly at the bound it is parsed (and here refused as whitespace only). */
	assert_int_equal(remote_frame_parse(big, REMOTE_FRAME_MAX, &frame, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "frame: invalid JSON"));
}

/* ---- the line splitter ---- */

/* Append every complete line to @out, each followed by '|'; how many. */
static int take_all(struct remote_lines *l, char *out, size_t cap)
{
	const char *line;
	size_t len;
	int n = 0;

	while (remote_lines_next(l, &line, &len)) {
		assert_int_equal(strlen(line), len);	/* NUL-terminated in place */
		assert_true(strlen(out) + len + 2 <= cap);
		strcat(strcat(out, line), "|");
		n++;
	}
	return n;
}

/* Lines come out whole however the stream was cut into chunks. */
static void test_lines_any_chunking(void **state)
{
	const char stream[] = "{\"a\":1}\n\n{\"b\":22}\nlast\n";
	const size_t total = sizeof(stream) - 1;

	for (size_t chunk = 1; chunk <= total; chunk++) {
		struct remote_lines l;
		struct verr e = { "" };
		char got[128] = "";
		int n = 0;

		remote_lines_init(&l, 64);
		for (size_t at = 0; at < total; at += chunk) {
			size_t k = total - at < chunk ? total - at : chunk;

			assert_int_equal(remote_lines_feed(&l, stream + at, k, &e), 0);
			n += take_all(&l, got, sizeof(got));
		}
		assert_int_equal(n, 4);
		assert_string_equal(got, "{\"a\":1}||{\"b\":22}|last|");
		assert_int_equal(remote_lines_finish(&l, &e), 0);
		remote_lines_release(&l);
	}
}

/* A line of exactly the bound passes; one byte more is refused, for good. */
static void test_lines_bound(void **state)
{
	struct remote_lines l;
	struct verr e = { "" };
	const char *line;
	size_t len;

	remote_lines_init(&l, 8);
	assert_int_equal(remote_lines_feed(&l, "12345678\n1234", 13, &e), 0);
	assert_int_equal(remote_lines_next(&l, &line, &len), 1);
	assert_string_equal(line, "12345678");
	assert_int_equal(remote_lines_next(&l, &line, &len), 0);
	assert_int_equal(remote_lines_pending(&l), 4);
	assert_int_equal(remote_lines_feed(&l, "5678", 4, &e), 0);
	assert_int_equal(remote_lines_feed(&l, "9", 1, &e), -EMSGSIZE);
	assert_string_equal(e.msg, "line longer than 8 bytes");
	/* Sticky: the stream cannot be trusted to be back in step. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(remote_lines_feed(&l, "\n{}\n", 4, &e), -EMSGSIZE);
	assert_string_equal(e.msg, "line longer than 8 bytes");
	assert_int_equal(remote_lines_next(&l, &line, &len), 0);
	assert_int_equal(remote_lines_finish(&l, &e), -EMSGSIZE);
	remote_lines_release(&l);

	/* An overlong line inside one big chunk, complete lines before it. */
	remote_lines_init(&l, 8);
	assert_int_equal(remote_lines_feed(&l, "ok\n123456789\n", 13, &e), -EMSGSIZE);
	assert_int_equal(remote_lines_next(&l, &line, &len), 0);
	remote_lines_release(&l);
}

/* A stream that ends inside a line is a truncated frame, never a frame. */
static void test_lines_truncated_last_line(void **state)
{
	struct remote_lines l;
	struct verr e = { "" };
	const char *line;
	size_t len;

	remote_lines_init(&l, REMOTE_FRAME_MAX);
	assert_int_equal(remote_lines_feed(&l, "{\"vmorch-remote\":1,\"pid\":9}\n{\"res", 34, &e), 0);
	assert_int_equal(remote_lines_next(&l, &line, &len), 1);
	assert_int_equal(remote_frame_parse(line, len, &frame, &e), 0);
	assert_int_equal(remote_lines_next(&l, &line, &len), 0);
	assert_int_equal(remote_lines_finish(&l, &e), -EBADMSG);
	assert_string_equal(e.msg, "the stream ends inside a line (6 bytes without a line break)");
	remote_lines_release(&l);

	remote_lines_init(&l, REMOTE_FRAME_MAX);
	assert_int_equal(remote_lines_finish(&l, &e), 0);	/* empty stream: nothing cut */
	remote_lines_release(&l);
}

/* A whole worker's output, fed in odd chunks: hello, snapshots, result. */
static void test_lines_worker_stream_parses(void **state)
{
	static struct remote_snapshot s;
	static struct vm_result r;
	struct remote_lines l;
	struct verr e = { "" };
	char *stream = NULL, *f[4];
	size_t flen[4], total = 0, at;
	enum remote_frame_type want[4] = { REMOTE_FRAME_HELLO, REMOTE_FRAME_SNAPSHOT,
					   REMOTE_FRAME_SNAPSHOT, REMOTE_FRAME_RESULT };
	const char *line;
	size_t len;
	int n = 0;

	fill_snapshot(&s);
	fill_result(&r);
	f[0] = remote_hello_encode(77, &flen[0]);
	f[1] = remote_snapshot_encode(&s, &flen[1]);
	s.disk[0].reads_completed++;
	f[2] = remote_snapshot_encode(&s, &flen[2]);
	f[3] = remote_result_encode(&r, &flen[3]);
	for (int i = 0; i < 4; i++) {
		assert_non_null(f[i]);
		stream = realloc(stream, total + flen[i]);
		memcpy(stream + total, f[i], flen[i]);
		total += flen[i];
		free(f[i]);
	}
	remote_lines_init(&l, REMOTE_FRAME_MAX);
	for (at = 0; at < total; at += 333) {
		assert_int_equal(remote_lines_feed(&l, stream + at,
						   total - at < 333 ? total - at : 333, &e), 0);
		while (remote_lines_next(&l, &line, &len)) {
			assert_true(n < 4);
			if (remote_frame_parse(line, len, &frame, &e))
				fail_msg("frame %d refused: %s", n, e.msg);
			assert_int_equal(frame.type, want[n]);
			n++;
		}
	}
	assert_int_equal(n, 4);
	assert_int_equal(frame.result.disk[0].bytes_read, 4096000);
	assert_int_equal(remote_lines_finish(&l, &e), 0);
	remote_lines_release(&l);
	free(stream);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_exact_and_round_trip),
		cmocka_unit_test(test_snapshot_exact_text),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_encode_refuses_what_json_cannot_carry),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_snapshot_from_region),
		cmocka_unit_test(test_sched_parse),
		cmocka_unit_test(test_malformed_frames_refused),
		cmocka_unit_test(test_snapshot_vcpu_count_bounded),
		cmocka_unit_test(test_frame_bytes_refused),
		cmocka_unit_test(test_lines_any_chunking),
		cmocka_unit_test(test_lines_bound),
		cmocka_unit_test(test_lines_truncated_last_line),
		cmocka_unit_test(test_lines_worker_stream_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
