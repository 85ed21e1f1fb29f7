/*
 * test_codec.c - JSON codecs for counter snapshots, job specs and VmResults:
 * round trips, and malformed documents refused with a message naming the
 * problem.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/shm.h"

#include "common/job.h"
#include "common/json_strict.h"
#include "common/vblk_json.h"
#include "common/vm_result.h"

static void fill_snapshot(struct vblk_snapshot *s, uint64_t base)
{
	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		*(uint64_t *)((char *)s + vblk_fields[i].plain_off) = base + (uint64_t)i;
}

/* A snapshot survives encode + decode bit for bit. */
static void test_snapshot_round_trip(void **state)
{
	struct vblk_snapshot s, back;
	json_t *o;

	fill_snapshot(&s, 1ULL << 40);
	s.bytes_read = (uint64_t)INT64_MAX;	/* the largest value JSON can carry */
	o = vblk_snapshot_to_json(&s);
	assert_non_null(o);
	assert_int_equal(vblk_snapshot_from_json(o, "disk 0", &back, NULL), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	json_decref(o);
}

/* A value JSON cannot carry is refused at encode time, not wrapped. */
static void test_snapshot_encode_refuses_u64_above_int64(void **state)
{
	struct vblk_snapshot s = { 0 };

	s.bytes_written = (uint64_t)INT64_MAX + 1;
	assert_null(vblk_snapshot_to_json(&s));
}

static void make_job(struct job_spec *j)
{
	job_spec_init(j);
	j->name = strdup("smoke/randread[bs=4k,qd=16]#0");
	j->vcpus = 2;
	j->memory = 128ULL << 20;
	j->timeout_ms = 5000;
	j->workload = strdup("pattern=randread bs=4096 ops=1000 qd=16");
	j->guest.cmdline = strdup("console=ttyS0");
	j->ndisks = 2;
	j->disk[0].size = 64ULL << 20;
	strcpy(j->disk[0].serial, "vmorch-disk-0");
	j->disk[0].ops = (struct job_bucket){ 100, 50, 100 };
	j->disk[1].path = strdup("/var/tmp/image.raw");
	j->disk[1].read_only = true;
	j->disk[1].bw = (struct job_bucket){ 1 << 20, 0, 1000 };
}

/* Every job field survives encode + decode. */
static void test_job_round_trip(void **state)
{
	struct job_spec j, back;
	struct verr e = { "" };
	char *text;
	int rc;

	make_job(&j);
	text = job_spec_encode(&j);
	assert_non_null(text);
	rc = job_spec_decode(text, strlen(text), &back, &e);
	if (rc)
		fail_msg("%s", e.msg);
	assert_string_equal(back.name, j.name);
	assert_int_equal(back.vcpus, 2);
	assert_int_equal(back.memory, 128ULL << 20);
	assert_int_equal(back.timeout_ms, 5000);
	assert_int_equal(back.guest.kind, JOB_GUEST_BUILTIN);
	assert_string_equal(back.guest.cmdline, "console=ttyS0");
	assert_null(back.guest.kernel);
	assert_string_equal(back.workload, j.workload);
	assert_int_equal(back.ndisks, 2);
	assert_null(back.disk[0].path);
	assert_int_equal(back.disk[0].size, 64ULL << 20);
	assert_string_equal(back.disk[0].serial, "vmorch-disk-0");
	assert_false(back.disk[0].read_only);
	assert_int_equal(back.disk[0].ops.size, 100);
	assert_int_equal(back.disk[0].ops.one_time_burst, 50);
	assert_int_equal(back.disk[0].ops.refill_time_ms, 100);
	assert_int_equal(back.disk[0].bw.size, 0);
	assert_string_equal(back.disk[1].path, "/var/tmp/image.raw");
	assert_true(back.disk[1].read_only);
	assert_int_equal(back.disk[1].bw.size, 1 << 20);
	assert_int_equal(back.disk[1].bw.refill_time_ms, 1000);
	assert_int_equal(back.disk[1].ops.size, 0);
	free(text);
	job_spec_free(&back);
	job_spec_free(&j);
}

/*
 * The files a worker must never open as a disk (the database and its
 * companions, by device and inode), a disk's block-device permission and
 * its private copy (clone) travel with the job; an old job without them
 * decodes to none.
 */
static void test_job_protect_and_block_device_round_trip(void **state)
{
	struct job_spec j, back;
	struct verr e = { "" };
	char *text;

	make_job(&j);
	j.nprotect = 2;
	j.protect[0] = (struct job_file_id){ .dev = 2049, .ino = 1234567 };
	j.protect[1] = (struct job_file_id){ .dev = 2049, .ino = (uint64_t)INT64_MAX };
	j.disk[1].allow_block_device = true;
	j.disk[1].read_only = false;
	j.disk[1].clone = true;
	text = job_spec_encode(&j);
	assert_non_null(text);
	if (job_spec_decode(text, strlen(text), &back, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(back.nprotect, 2);
	assert_int_equal(back.protect[0].dev, 2049);
	assert_int_equal(back.protect[0].ino, 1234567);
	assert_int_equal(back.protect[1].ino, (uint64_t)INT64_MAX);
	assert_false(back.disk[0].allow_block_device);
	assert_true(back.disk[1].allow_block_device);
	assert_false(back.disk[0].clone);
	assert_true(back.disk[1].clone);
	free(text);
	job_spec_free(&back);
	j.nprotect = 0;
	j.disk[1].allow_block_device = false;
	j.disk[1].clone = false;
	text = job_spec_encode(&j);
	assert_null(strstr(text, "protect"));
	assert_null(strstr(text, "allow_block_device"));
	assert_null(strstr(text, "clone"));
	free(text);
	job_spec_free(&j);
	(void)state;
}

/* A Linux job keeps its kernel, modules and initramfs. */
static void test_job_linux_round_trip(void **state)
{
	static const char doc[] =
		"{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,"
		"\"timeout_ms\":60000,\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\","
		"\"modules\":\"/m\",\"initramfs\":\"/i\",\"cmdline\":\"quiet\"}}";
	struct job_spec j;
	char *text;

	assert_int_equal(job_spec_decode(doc, strlen(doc), &j, NULL), 0);
	assert_int_equal(j.guest.kind, JOB_GUEST_LINUX);
	assert_string_equal(j.guest.kernel, "/k");
	assert_string_equal(j.guest.modules, "/m");
	assert_string_equal(j.guest.initramfs, "/i");
	assert_int_equal(j.ndisks, 0);
	text = job_spec_encode(&j);
	assert_string_equal(text,
		"{\"disks\":[],\"guest\":{\"cmdline\":\"quiet\",\"initramfs\":\"/i\","
		"\"kernel\":\"/k\",\"kind\":\"linux\",\"modules\":\"/m\"},"
		"\"memory\":268435456,\"name\":\"l\",\"timeout_ms\":60000,"
		"\"vcpus\":1,\"version\":1}");
	free(text);
	job_spec_free(&j);
}

/* A Linux guest's files: dst defaults to src, both survive a round trip. */
static void test_job_files_round_trip(void **state)
{
	static const char doc[] =
		"{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,"
		"\"timeout_ms\":60000,\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\","
		"\"files\":[{\"src\":\"/usr/bin/fio\"},"
		"{\"src\":\"/home/u/t.sh\",\"dst\":\"/opt/t.sh\"}]}}";
	struct job_spec j, back;
	struct verr e = { "" };
	char *text;

	(void)state;
	if (job_spec_decode(doc, strlen(doc), &j, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(j.guest.nfiles, 2);
	assert_string_equal(j.guest.files[0].src, "/usr/bin/fio");
	assert_string_equal(j.guest.files[0].dst, "/usr/bin/fio");
	assert_string_equal(j.guest.files[1].dst, "/opt/t.sh");
	text = job_spec_encode(&j);
	assert_non_null(strstr(text, "\"files\":[{\"dst\":\"/usr/bin/fio\",\"src\":\"/usr/bin/fio\"},"
				     "{\"dst\":\"/opt/t.sh\",\"src\":\"/home/u/t.sh\"}]"));
	if (job_spec_decode(text, strlen(text), &back, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(back.guest.nfiles, 2);
	assert_string_equal(back.guest.files[1].src, "/home/u/t.sh");
	free(text);
	job_spec_free(&back);
	job_spec_free(&j);
}

/* A guest's program: an argv or a shell string, and where its figures come from. */
static void test_job_run_round_trip(void **state)
{
	static const char argv_doc[] =
		"{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,"
		"\"timeout_ms\":60000,\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\","
		"\"run\":[\"fio\",\"--filename=${disk0}\",\"\"],\"metrics_from\":\"fio-json\"}}";
	static const char sh_doc[] =
		"{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,"
		"\"timeout_ms\":60000,\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\","
		"\"run\":\"echo hi; exit 3\",\"rootfs\":\"/img/debian.raw\","
		"\"initramfs\":\"/c/i.cpio.gz\",\"initramfs_agent\":true}}";
	struct job_spec j, back;
	struct verr e = { "" };
	char *text;

	(void)state;
	if (job_spec_decode(argv_doc, strlen(argv_doc), &j, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(j.guest.run_argc, 3);
	assert_string_equal(j.guest.run_argv[1], "--filename=${disk0}");
	assert_string_equal(j.guest.run_argv[2], "");
	assert_null(j.guest.run_shell);
	assert_int_equal(j.guest.metrics_from, JOB_METRICS_FIO_JSON);
	text = job_spec_encode(&j);
	assert_non_null(strstr(text, "\"metrics_from\":\"fio-json\""));
	assert_non_null(strstr(text, "\"run\":[\"fio\",\"--filename=${disk0}\",\"\"]"));
	if (job_spec_decode(text, strlen(text), &back, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(back.guest.run_argc, 3);
	assert_int_equal(back.guest.metrics_from, JOB_METRICS_FIO_JSON);
	free(text);
	job_spec_free(&back);
	job_spec_free(&j);

	if (job_spec_decode(sh_doc, strlen(sh_doc), &j, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(j.guest.run_argc, 0);
	assert_string_equal(j.guest.run_shell, "echo hi; exit 3");
	assert_int_equal(j.guest.metrics_from, JOB_METRICS_LINES);
	assert_string_equal(j.guest.rootfs, "/img/debian.raw");
	assert_true(j.guest.initramfs_agent);
	text = job_spec_encode(&j);
	assert_non_null(strstr(text, "\"metrics_from\":\"lines\",\"rootfs\":\"/img/debian.raw\","
				     "\"run\":\"echo hi; exit 3\""));
	assert_non_null(strstr(text, "\"initramfs_agent\":true"));
	free(text);
	job_spec_free(&j);
}

static void make_result(struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->success = false;
	r->exit_kind = VM_EXIT_GUEST_FAIL;
	r->exit_code = 3;
	r->wall_us = 123456;
	r->boot_us = 789;
	r->ndisks = 2;
	fill_snapshot(&r->disk[0], 10);
	fill_snapshot(&r->disk[1], 5000000000ULL);
	vm_result_set_metric(r, "iops", 25000.5);
	vm_result_set_metric(r, "verify_errors", 2);
	strcpy(r->console_tail, "vmorch-guest: FAIL verify_errors=2\n");
	strcpy(r->error, "");
}

/* Every VmResult field survives encode + decode. */
static void test_result_round_trip(void **state)
{
	struct vm_result *r = malloc(sizeof(*r)), *back = malloc(sizeof(*back));
	struct verr e = { "" };
	char *text;

	make_result(r);
	text = vm_result_encode(r);
	assert_non_null(text);
	if (vm_result_decode(text, strlen(text), back, &e))
		fail_msg("%s", e.msg);
	assert_false(back->success);
	assert_int_equal(back->exit_kind, VM_EXIT_GUEST_FAIL);
	assert_int_equal(back->exit_code, 3);
	assert_int_equal(back->wall_us, 123456);
	assert_int_equal(back->boot_us, 789);
	assert_int_equal(back->ndisks, 2);
	assert_memory_equal(&back->disk[0], &r->disk[0], sizeof(r->disk[0]));
	assert_memory_equal(&back->disk[1], &r->disk[1], sizeof(r->disk[1]));
	assert_int_equal(back->nmetrics, 2);
	assert_string_equal(back->metric[0].name, "iops");
	assert_true(back->metric[0].value == 25000.5);
	assert_string_equal(back->metric[1].name, "verify_errors");
	assert_true(back->metric[1].value == 2.0);
	assert_string_equal(back->console_tail, r->console_tail);
	free(text);
	free(r);
	free(back);
}

/* A VM without disks has no "disks" key; bytes a guest printed stay JSON-safe. */
static void test_result_without_disks_and_binary_console(void **state)
{
	struct vm_result *r = calloc(1, sizeof(*r)), *back = malloc(sizeof(*back));
	char *text;

	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	strcpy(r->console_tail, "ok\xff\x01\n");
	text = vm_result_encode(r);
	assert_non_null(text);
	assert_null(strstr(text, "disks"));
	assert_int_equal(vm_result_decode(text, strlen(text), back, NULL), 0);
	assert_int_equal(back->ndisks, 0);
	assert_string_equal(back->console_tail, "ok??\n");
	free(text);
	free(r);
	free(back);
}

struct bad_doc {
	const char *doc;
	const char *msg;
};

#define JOB_OK_HEAD "{\"version\":1,\"name\":\"j\",\"vcpus\":1,\"memory\":67108864," \
		    "\"timeout_ms\":1000,\"guest\":{\"kind\":\"builtin\"}"

static const struct bad_doc bad_jobs[] = {
	{ "", "job: invalid JSON at line 1 column 0: '[' or '{' expected near end of file" },
	{ "[1,2]", "job: expected a JSON object at the top level" },
	{ "{\"version\":1,", "job: invalid JSON at line 1 column 13: string or '}' expected near end of file" },
	{ "\"job\"", "job: invalid JSON at line 1 column 5: '[' or '{' expected near '\"job\"'" },
	{ "{\"version\":2}", "job: version 2 is not supported (this vmorch reads 1)" },
	{ "{\"name\":\"j\"}", "job: missing field 'version'" },
	{ "{\"version\":1,\"version\":1}", "job: invalid JSON at line 1 column 22: duplicate object key near '\"version\"'" },
	{ JOB_OK_HEAD ",\"colour\":\"blue\"}", "job: unknown field 'colour'" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":0,\"memory\":67108864,\"timeout_ms\":1,\"guest\":{\"kind\":\"builtin\"}}",
	  "job: field 'vcpus' is 0, expected 1..64" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":-1}", "job: field 'vcpus' is negative (-1)" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":1.5}", "job: field 'vcpus' must be a non-negative integer" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":\"2\"}", "job: field 'vcpus' must be a non-negative integer" },
	{ "{\"version\":1,\"name\":7}", "job: field 'name' must be a string" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":1,\"memory\":67108865,\"timeout_ms\":1,\"guest\":{\"kind\":\"builtin\"}}",
	  "job: field 'memory' (67108865) is not a multiple of 4096" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":1,\"memory\":67108864,\"timeout_ms\":1}",
	  "job: missing field 'guest'" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":1,\"memory\":67108864,\"timeout_ms\":1,\"guest\":{\"kind\":\"windows\"}}",
	  "job.guest: field 'kind' is 'windows', expected 'builtin' or 'linux'" },
	{ "{\"version\":1,\"name\":\"j\",\"vcpus\":1,\"memory\":67108864,\"timeout_ms\":1,\"guest\":{\"kind\":\"linux\"}}",
	  "job.guest: a linux guest needs field 'kernel'" },
	{ JOB_OK_HEAD ",\"disks\":{}}", "job: field 'disks' must be an array" },
	{ JOB_OK_HEAD ",\"disks\":[{}]}", "job.disks[0]: needs a 'path' or a non-zero 'size'" },
	{ "{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,\"timeout_ms\":1,"
	  "\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\",\"files\":[{\"src\":\"rel/x\"}]}}",
	  "job.guest.files[0]: 'src' must be an absolute path without . or .. components" },
	{ "{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,\"timeout_ms\":1,"
	  "\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\",\"files\":[{\"src\":\"/a\","
	  "\"dst\":\"/opt/../init\"}]}}",
	  "job.guest.files[0]: 'dst' must be an absolute path without . or .. components,"
	  " and not /init, /proc, /sys, /dev or /lib/modules" },
	{ "{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,\"timeout_ms\":1,"
	  "\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\",\"files\":[{\"src\":\"/a\","
	  "\"dst\":\"/dev/sda\"}]}}",
	  "job.guest.files[0]: 'dst' must be an absolute path without . or .. components,"
	  " and not /init, /proc, /sys, /dev or /lib/modules" },
	{ "{\"version\":1,\"name\":\"b\",\"vcpus\":1,\"memory\":268435456,\"timeout_ms\":1,"
	  "\"guest\":{\"kind\":\"builtin\",\"files\":[]}}",
	  "job.guest: the builtin guest takes no kernel, modules, initramfs, files or run" },
#define LINUX_HEAD "{\"version\":1,\"name\":\"l\",\"vcpus\":1,\"memory\":268435456,"\
	"\"timeout_ms\":1,\"guest\":{\"kind\":\"linux\",\"kernel\":\"/k\","
	{ LINUX_HEAD "\"run\":[]}}",
	  "job.guest: field 'run' must be a string or a non-empty array of strings" },
	{ LINUX_HEAD "\"run\":7}}",
	  "job.guest: field 'run' must be a string or a non-empty array of strings" },
	{ LINUX_HEAD "\"run\":[\"\"]}}", "job.guest.run[0]: must not be empty" },
	{ LINUX_HEAD "\"run\":\"\"}}", "job.guest.run: must not be empty" },
	{ LINUX_HEAD "\"run\":[\"fio\",3]}}", "job.guest.run[1]: expected a string" },
	{ LINUX_HEAD "\"run\":[\"fio\"],\"metrics_from\":\"csv\"}}",
	  "job.guest: field 'metrics_from' must be 'lines', 'fio-json' or 'none'" },
	{ LINUX_HEAD "\"rootfs\":\"/r.img\"}}",
	  "job.guest: field 'rootfs' needs field 'run' (the program it serves)" },
	{ LINUX_HEAD "\"initramfs_agent\":true}}",
	  "job.guest: field 'initramfs_agent' needs field 'initramfs'" },
	{ LINUX_HEAD "\"initramfs\":\"/i\",\"run\":\"true\"}}",
	  "job.guest: field 'run' needs the agent's initramfs, which vmorch builds:"
	  " leave out field 'initramfs'" },
	{ LINUX_HEAD "\"initramfs\":\"/i\",\"initramfs_agent\":true,\"files\":[{\"src\":\"/a\"}]}}",
	  "job.guest: field 'files' needs the agent's initramfs, which vmorch builds:"
	  " leave out field 'initramfs'" },
	{ LINUX_HEAD "\"metrics_from\":\"lines\"}}",
	  "job.guest: field 'metrics_from' needs field 'run'" },
	{ LINUX_HEAD "\"run\":\"true\"},\"workload\":\"ops=1\"}",
	  "job: the guest runs either 'workload' or 'guest.run', not both" },
	{ "{\"version\":1,\"name\":\"b\",\"vcpus\":1,\"memory\":268435456,\"timeout_ms\":1,"
	  "\"guest\":{\"kind\":\"builtin\",\"run\":\"true\"}}",
	  "job.guest: the builtin guest takes no kernel, modules, initramfs, files or run" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":512,\"clone\":true}]}",
	  "job.disks[0]: 'clone' copies a writable image: it needs a 'path' and no 'read_only'" },
	{ JOB_OK_HEAD ",\"disks\":[{\"path\":\"/i\",\"read_only\":true,\"clone\":true}]}",
	  "job.disks[0]: 'clone' copies a writable image: it needs a 'path' and no 'read_only'" },
	{ JOB_OK_HEAD ",\"disks\":[{\"path\":\"/i\",\"clone\":1}]}",
	  "job.disks[0]: field 'clone' must be true or false" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":1000}]}", "job.disks[0]: field 'size' (1000) is not a multiple of 512" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":512},{\"size\":512,\"serial\":\"abcdefghijklmnopqrstu\"}]}",
	  "job.disks[1]: field 'serial' is too long (21 bytes, at most 20)" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":512,\"throttle\":{\"ops\":{\"size\":10}}}]}",
	  "job.disks[0].throttle.ops: missing field 'refill_time_ms'" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":512,\"throttle\":{\"iops\":{}}}]}",
	  "job.disks[0].throttle: unknown field 'iops'" },
	{ JOB_OK_HEAD ",\"disks\":[{\"size\":512},{\"size\":512},{\"size\":512},{\"size\":512},"
	  "{\"size\":512},{\"size\":512},{\"size\":512},{\"size\":512},{\"size\":512}]}",
	  "job: field 'disks' has 9 entries, at most 8" },
	{ JOB_OK_HEAD ",\"disks\":[{\"path\":\"\"}]}", "job.disks[0]: field 'path' is empty" },
	{ "{\"version\":1,\"name\":\"a\\u0000b\"}", "job: invalid JSON at line 1 column 30: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'" },
	{ "{\"version\":99999999999999999999}", "job: invalid JSON at line 1 column 31: too big integer near '99999999999999999999'" },
};

/* Each malformed job is refused with exactly the message that names its flaw. */
static void test_job_malformed_refused(void **state)
{
	size_t n = sizeof(bad_jobs) / sizeof(bad_jobs[0]);
	int bad = 0;

	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		struct verr e = { "" };
		struct job_spec j;
		int rc = job_spec_decode(bad_jobs[i].doc, strlen(bad_jobs[i].doc), &j, &e);

		if (rc == 0) {
			print_error("job %zu was accepted: %s\n", i, bad_jobs[i].doc);
			bad++;
		} else if (strcmp(e.msg, bad_jobs[i].msg)) {
			print_error("job %zu: got \"%s\", want \"%s\"\n", i, e.msg,
				    bad_jobs[i].msg);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

#define RES_HEAD "{\"version\":1,\"success\":true,\"exit_kind\":\"guest_pass\",\"exit_code\":0," \
		 "\"wall_us\":1,\"boot_us\":1,\"console_tail\":\"\",\"metrics\":{}"
#define SNAP9 "\"reads_completed\":1,\"writes_completed\":0,\"flushes_completed\":0," \
	      "\"bytes_read\":512,\"bytes_written\":0,\"throttled_count\":0,\"io_errors\":0," \
	      "\"currently_throttled_gauge\":0"

static const struct bad_doc bad_results[] = {
	{ "{\"version\":0}", "result: version 0 is not supported (this vmorch reads 1)" },
	{ RES_HEAD ",\"extra\":1}", "result: unknown field 'extra'" },
	{ "{\"version\":1,\"success\":1}", "result: field 'success' must be true or false" },
	{ "{\"version\":1,\"success\":false,\"exit_kind\":\"exploded\",\"exit_code\":0,\"wall_us\":1,"
	  "\"boot_us\":1,\"console_tail\":\"\",\"metrics\":{}}",
	  "result: field 'exit_kind' has unknown value 'exploded'" },
	{ "{\"version\":1,\"success\":true,\"exit_kind\":\"timeout\",\"exit_code\":0,\"wall_us\":1,"
	  "\"boot_us\":1,\"console_tail\":\"\",\"metrics\":{}}",
	  "result: 'success' is true but 'exit_kind' is 'timeout'" },
	{ "{\"version\":1,\"success\":true,\"exit_kind\":\"guest_pass\",\"exit_code\":0,\"wall_us\":1,"
	  "\"boot_us\":1,\"console_tail\":\"\"}", "result: missing field 'metrics'" },
	{ RES_HEAD ",\"disks\":[]}", "result: field 'disks' has 0 entries, expected 1..8 (omit it when the VM has no disk)" },
	{ RES_HEAD ",\"disks\":[{" SNAP9 "}]}", "result.disks[0]: missing field 'invalid_avail_idx_count'" },
	{ RES_HEAD ",\"disks\":[{" SNAP9 ",\"invalid_avail_idx_count\":0,\"queue_depth\":4}]}",
	  "result.disks[0]: unknown field 'queue_depth'" },
	{ RES_HEAD ",\"disks\":[{" SNAP9 ",\"invalid_avail_idx_count\":-3}]}",
	  "result.disks[0]: field 'invalid_avail_idx_count' is negative (-3)" },
	{ RES_HEAD ",\"disks\":[{" SNAP9 ",\"invalid_avail_idx_count\":0.5}]}",
	  "result.disks[0]: field 'invalid_avail_idx_count' must be a non-negative integer" },
	{ RES_HEAD ",\"disks\":[{" SNAP9 ",\"invalid_avail_idx_count\":null}]}",
	  "result.disks[0]: field 'invalid_avail_idx_count' must be a non-negative integer" },
	{ "{\"version\":1,\"success\":true,\"exit_kind\":\"guest_pass\",\"exit_code\":0,\"wall_us\":1,"
	  "\"boot_us\":1,\"console_tail\":\"\",\"metrics\":{\"IOPS\":1}}",
	  "result.metrics: bad metric name 'IOPS' (expected [a-z0-9_.], at most 63 characters)" },
	{ "{\"version\":1,\"success\":true,\"exit_kind\":\"guest_pass\",\"exit_code\":0,\"wall_us\":1,"
	  "\"boot_us\":1,\"console_tail\":\"\",\"metrics\":{\"iops\":\"fast\"}}",
	  "result.metrics: 'iops' must be a number" },
	{ "{\"version\":1,\"success\":true,\"exit_kind\":\"guest_pass\",\"exit_code\":0,\"wall_us\":-1}",
	  "result: field 'wall_us' is negative (-1)" },
};

/* Each malformed VmResult is refused with the message that names its flaw. */
static void test_result_malformed_refused(void **state)
{
	size_t n = sizeof(bad_results) / sizeof(bad_results[0]);
	struct vm_result *r = malloc(sizeof(*r));
	int bad = 0;

	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		struct verr e = { "" };
		int rc = vm_result_decode(bad_results[i].doc, strlen(bad_results[i].doc), r, &e);

		if (rc == 0) {
			print_error("result %zu was accepted: %s\n", i, bad_results[i].doc);
			bad++;
		} else if (strcmp(e.msg, bad_results[i].msg)) {
			print_error("result %zu: got \"%s\", want \"%s\"\n", i, e.msg,
				    bad_results[i].msg);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	free(r);
}

/* Metric names are checked and a full table says so. */
static void test_metric_limits(void **state)
{
	struct vm_result *r = calloc(1, sizeof(*r));
	char name[16];

	assert_int_equal(vm_result_set_metric(r, "bad name", 1), -EINVAL);
	for (int i = 0; i < VM_RESULT_MAX_METRICS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(vm_result_set_metric(r, name, i), 0);
	}
	assert_int_equal(vm_result_set_metric(r, "one_more", 1), -E2BIG);
	assert_int_equal(vm_result_set_metric(r, "m3", 33), 0);	/* replace */
	assert_true(r->metric[3].value == 33.0);
	assert_int_equal(r->nmetrics, VM_RESULT_MAX_METRICS);
	free(r);
}

/*
 * The largest VmResult there can be still fits the shm result slot (and
 * so a remote frame): every metric with a 63-character name and a long
 * value, every disk, a console tail and an error of control characters,
 * each escaped as six bytes.
 */
static void test_largest_result_fits_the_slot(void **state)
{
	struct vm_result *r = calloc(1, sizeof(*r));
	char name[VM_METRIC_NAME_MAX + 1];
	char *text;

	(void)state;
	for (int i = 0; i < VM_RESULT_MAX_METRICS; i++) {
		snprintf(name, sizeof(name), "%061d%02x", 0, i & 0xff);
		name[0] = 'm';
		name[1] = (char)('a' + i / 256);
		assert_int_equal(vm_result_set_metric(r, name, -1.2345678901234567e-300), 0);
	}
	assert_int_equal(r->nmetrics, VM_RESULT_MAX_METRICS);
	r->ndisks = JOB_MAX_DISKS;
	for (uint32_t d = 0; d < JOB_MAX_DISKS; d++)
		memset(&r->disk[d], 0x7f, sizeof(r->disk[d]));
	memset(r->console_tail, 1, VM_CONSOLE_TAIL_MAX);
	memset(r->error, 1, VM_ERROR_MAX);
	r->exit_code = INT64_MIN;
	text = vm_result_encode(r);
	assert_non_null(text);
	print_message("largest result: %zu bytes of %d\n", strlen(text), SHM_RESULT_MAX);
	assert_true(strlen(text) < SHM_RESULT_MAX);
	free(text);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_largest_result_fits_the_slot),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_encode_refuses_u64_above_int64),
		cmocka_unit_test(test_job_round_trip),
		cmocka_unit_test(test_job_linux_round_trip),
		cmocka_unit_test(test_job_files_round_trip),
		cmocka_unit_test(test_job_run_round_trip),
		cmocka_unit_test(test_job_protect_and_block_device_round_trip),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_without_disks_and_binary_console),
		cmocka_unit_test(test_job_malformed_refused),
		cmocka_unit_test(test_result_malformed_refused),
		cmocka_unit_test(test_metric_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
