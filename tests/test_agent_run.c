/*
 * test_agent_run.c - the user's program in a Linux guest, on the host:
 * job.json as vmorch-agent parses it, ${diskN}, running a program (exit
 * status, capture, time limit, process group), and the metrics taken from
 * its stdout (VMORCH-METRIC lines, fio's JSON report, the 200 cap).
 * Links guest/agent/{jobfile,run,metrics}.c, not the agent's main.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Before cmocka.h, whose fail() macro would rename the agent's fail(). */
#include "agent.h"

#include <cmocka.h>

#define NONCE "0123456789abcdef0123456789abcdef"

static char err[256];

/* ---- job.json ---- */

static int parse(const char *text, struct job *job)
{
	err[0] = 0;
	return job_parse(job, text, strlen(text), err, sizeof(err));
}

/* Every key given: an argv run, its limit and fio's report. */
static void test_job_all_keys(void **state)
{
	struct job job;

	assert_int_equal(parse("{\"nonce\":\"" NONCE "\", \"time_limit_ms\": 25000,"
			       " \"run\": [\"fio\",\"--filename=${disk0}\",\"\"],"
			       " \"metrics_from\": \"fio-json\", \"rootfs_disk\": 2,"
			       " \"deadline_unix_ms\": 1765140000000}", &job), 0);
	assert_true(job.present);
	assert_string_equal(job.nonce, NONCE);
	assert_int_equal(job.time_limit_ms, 25000);
	assert_int_equal(job.deadline_unix_ms, 1765140000000ULL);
	assert_true(job.rootfs);
	assert_int_equal(job.rootfs_disk, 2);
	assert_non_null(job.argv);
	assert_string_equal(job.argv[0], "fio");
	assert_string_equal(job.argv[1], "--filename=${disk0}");
	assert_string_equal(job.argv[2], "");
	assert_null(job.argv[3]);
	assert_null(job.shell);
	assert_int_equal(job.metrics_from, METRICS_FIO_JSON);
	job_release(&job);
}

/*
 * The program's deadline on the boot clock: the limit, or earlier when the
 * wall-clock deadline comes first; a wall clock plainly wrong is ignored.
 */
static void test_job_deadline(void **state)
{
	struct job job = { .time_limit_ms = 27000, .deadline_unix_ms = 1000030000 };

	(void)state;
	/* At boot 5 s, wall 1000010000: 20 s left by the wall, 22 s by boot time. */
	assert_int_equal(job_deadline_ms(&job, 1000010000, 5000), 25000);
	/* Booted fast: the boot-clock limit comes first. */
	assert_int_equal(job_deadline_ms(&job, 1000000000, 1000), 27000);
	/* A guest clock in 1970, or ahead past the deadline: the limit. */
	assert_int_equal(job_deadline_ms(&job, 3000, 5000), 27000);
	assert_int_equal(job_deadline_ms(&job, 1000040000, 5000), 27000);
	/* No limit on the boot clock (a hand-made job.json): the wall's. */
	job.time_limit_ms = 0;
	assert_int_equal(job_deadline_ms(&job, 1000010000, 5000), 25000);
	job.deadline_unix_ms = 0;
	assert_int_equal(job_deadline_ms(&job, 1000010000, 5000), 0);
}

/* A string is a shell command; without the optional keys: no limit,
 * VMORCH-METRIC lines. */
static void test_job_shell_string_and_defaults(void **state)
{
	struct job job;

	assert_int_equal(parse("{\"run\":\"echo hi; exit 3\",\"nonce\":\"" NONCE "\"}", &job), 0);
	assert_string_equal(job.shell, "echo hi; exit 3");
	assert_null(job.argv);
	assert_int_equal(job.time_limit_ms, 0);
	assert_int_equal(job.metrics_from, METRICS_LINES);
	job_release(&job);

	assert_int_equal(parse("{\"nonce\":\"" NONCE "\",\"metrics_from\":\"none\"}", &job), 0);
	assert_null(job.shell);
	assert_null(job.argv);
	assert_int_equal(job.metrics_from, METRICS_NONE);
	job_release(&job);
}

/* Each bad job fails with a reason naming the key. */
static void test_job_bad_cases_named(void **state)
{
	static const struct {
		const char *json, *err;
	} cases[] = {
		{ "{\"nonce\":\"" NONCE "\",\"x\":1}", "job.json: unknown key \"x\"" },
		{ "{\"run\":\"true\"}", "job.json: no \"nonce\"" },
		{ "{\"nonce\":\"0123456789ABCDEF0123456789abcdef\"}",
		  "job.json: \"nonce\" must be 32 lowercase hex digits" },
		{ "{\"nonce\":\"0123\"}", "job.json: \"nonce\" must be 32 lowercase hex digits" },
		{ "{\"nonce\":7}", "job.json: \"nonce\" must be 32 lowercase hex digits" },
		{ "{\"nonce\":\"" NONCE "\",\"time_limit_ms\":0}",
		  "job.json: \"time_limit_ms\" must be an integer >= 1" },
		{ "{\"nonce\":\"" NONCE "\",\"time_limit_ms\":1.5}",
		  "job.json: \"time_limit_ms\" must be an integer >= 1" },
		{ "{\"nonce\":\"" NONCE "\",\"time_limit_ms\":\"5000\"}",
		  "job.json: \"time_limit_ms\" must be an integer >= 1" },
		{ "{\"nonce\":\"" NONCE "\",\"run\":[]}",
		  "job.json: \"run\" must be a non-empty array of strings or a non-empty string" },
		{ "{\"nonce\":\"" NONCE "\",\"run\":\"\"}",
		  "job.json: \"run\" must be a non-empty array of strings or a non-empty string" },
		{ "{\"nonce\":\"" NONCE "\",\"run\":{}}",
		  "job.json: \"run\" must be a non-empty array of strings or a non-empty string" },
		{ "{\"nonce\":\"" NONCE "\",\"run\":[\"sh\",3]}",
		  "job.json: \"run\"[1] is not a string" },
		{ "{\"nonce\":\"" NONCE "\",\"run\":[\"\"]}", "job.json: \"run\"[0] is empty" },
		{ "{\"nonce\":\"" NONCE "\",\"metrics_from\":\"csv\"}",
		  "job.json: \"metrics_from\" must be \"lines\", \"fio-json\" or \"none\"" },
		{ "{\"nonce\":\"" NONCE "\",\"metrics_from\":null}",
		  "job.json: \"metrics_from\" must be \"lines\", \"fio-json\" or \"none\"" },
		{ "[\"" NONCE "\"]", "job.json: not a JSON object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct job job;

		assert_int_equal(parse(cases[i].json, &job), -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_null(job.argv);
		assert_null(job.shell);
		job_release(&job);
	}
}

/* A job that fails after its nonce keeps it: the failure is reported on
 * a line the worker accepts. */
static void test_job_bad_key_keeps_nonce(void **state)
{
	struct job job;

	assert_int_equal(parse("{\"nonce\":\"" NONCE "\",\"run\":\"true\",\"retries\":2}", &job),
			 -EINVAL);
	assert_string_equal(err, "job.json: unknown key \"retries\"");
	assert_string_equal(job.nonce, NONCE);
	assert_null(job.shell);
}

/* Not JSON, and a key given twice, fail with jansson's reason. */
static void test_job_not_json_and_duplicate_key(void **state)
{
	struct job job;

	assert_int_equal(parse("{\"nonce\":", &job), -EINVAL);
	assert_memory_equal(err, "job.json: ", 10);
	assert_non_null(strstr(err, "(line 1)"));
	assert_int_equal(parse("{\"nonce\":\"" NONCE "\",\"nonce\":\"" NONCE "\"}", &job),
			 -EINVAL);
	assert_non_null(strstr(err, "duplicate"));
	assert_string_equal(job.nonce, "");
}

/* The file is read, then gone with its directory; no file is no job. */
static void test_job_load_removes_file(void **state)
{
	char dir[] = "/tmp/test_agent_run.XXXXXX", sub[64], path[96];
	const char *text = "{\"nonce\":\"" NONCE "\",\"run\":[\"true\"]}";
	struct job job;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/.vmorch", dir);
	snprintf(path, sizeof(path), "%s/job.json", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0400), 0);

	assert_int_equal(job_load(&job, path, sub, err, sizeof(err)), 0);
	assert_true(job.present);
	assert_string_equal(job.nonce, NONCE);
	assert_string_equal(job.argv[0], "true");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(sub, F_OK), -1);
	job_release(&job);

	assert_int_equal(job_load(&job, path, sub, err, sizeof(err)), 0);
	assert_false(job.present);
	assert_string_equal(job.nonce, "");
	assert_int_equal(rmdir(dir), 0);
}

/* ---- ${diskN} ---- */

static struct disk disks[3];

static int setup_disks(void **state)
{
	snprintf(disks[0].dev, sizeof(disks[0].dev), "/dev/vda");
	snprintf(disks[1].dev, sizeof(disks[1].dev), "/dev/vdb");
	snprintf(disks[2].dev, sizeof(disks[2].dev), "/dev/vdc");
	return 0;
}

static char *expand(const char *in, unsigned ndisks)
{
	char *out = NULL;

	err[0] = 0;
	if (run_expand(in, disks, ndisks, &out, err, sizeof(err)))
		return NULL;
	return out;
}

/* Each ${diskN} becomes disk N's node; any other ${...} stays. */
static void test_expand_disks(void **state)
{
	char *s = expand("--filename=${disk0}:${disk2} ${HOME} ${disk} ${disk1x} $disk0 ${disk1}", 3);

	assert_string_equal(s, "--filename=/dev/vda:/dev/vdc ${HOME} ${disk} ${disk1x} $disk0 /dev/vdb");
	free(s);
	s = expand("${disk0}${disk0}", 1);
	assert_string_equal(s, "/dev/vda/dev/vda");
	free(s);
	s = expand("${disk", 1);
	assert_string_equal(s, "${disk");
	free(s);
}

/* N at or past the number of disks fails, with the reference and the count. */
static void test_expand_out_of_range(void **state)
{
	assert_null(expand("x ${disk1}", 1));
	assert_string_equal(err, "run: ${disk1}: the VM has 1 disk");
	assert_null(expand("${disk0}", 0));
	assert_string_equal(err, "run: ${disk0}: the VM has 0 disks");
	assert_null(expand("${disk3}", 3));
	assert_string_equal(err, "run: ${disk3}: the VM has 3 disks");
	assert_null(expand("${disk99999999999999999999}", 2));
	assert_string_equal(err, "run: ${disk99999999999999999999}: the VM has 2 disks");
}

/* A shell string runs as /bin/sh -c, expanded; an argv element by element. */
static void test_build_argv(void **state)
{
	char *run[] = { "/bin/sh", "-c", "test -b \"$1\"", "sh", "${disk1}", NULL };
	struct job shell = { .shell = "dd if=${disk0} count=1" };
	struct job vec = { .argv = run };
	char **argv;

	assert_int_equal(run_build_argv(&shell, disks, 1, &argv, err, sizeof(err)), 0);
	assert_string_equal(argv[0], "/bin/sh");
	assert_string_equal(argv[1], "-c");
	assert_string_equal(argv[2], "dd if=/dev/vda count=1");
	assert_null(argv[3]);
	run_argv_free(argv);

	assert_int_equal(run_build_argv(&vec, disks, 2, &argv, err, sizeof(err)), 0);
	assert_string_equal(argv[2], "test -b \"$1\"");
	assert_string_equal(argv[4], "/dev/vdb");
	assert_null(argv[5]);
	run_argv_free(argv);

	assert_int_equal(run_build_argv(&vec, disks, 1, &argv, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "run: ${disk1}: the VM has 1 disk");
}

/* ---- VMORCH-METRIC lines ---- */

static int lines(struct metrics *m, const char *text, bool cut)
{
	err[0] = 0;
	memset(m, 0, sizeof(*m));
	return metrics_extract(m, METRICS_LINES, text, strlen(text), cut, err, sizeof(err));
}

static double value(const struct metrics *m, const char *name)
{
	const struct metric *v = metrics_find(m, name);

	assert_non_null(v);
	return v->value;
}

/* Exact values; blanks around the line and a \r are fine; a name given
 * twice keeps the last value; other lines are output, not metrics. */
static void test_lines_values(void **state)
{
	struct metrics m;

	assert_int_equal(lines(&m, "starting\n"
			       "VMORCH-METRIC user.answer 42\n"
			       "  VMORCH-METRIC   user.lat_p99.ms\t-0.125  \r\n"
			       "VMORCH-METRIC user.answer 43\n"
			       "VMORCH-METRICS user.other 1\n"
			       "vmorch-metric user.lower 1\n"
			       "say VMORCH-METRIC user.inline 1\n"
			       "VMORCH-METRIC user.big 1e300\n"
			       "VMORCH-METRIC user.hex 0x10", false), 0);
	assert_int_equal(m.n, 4);
	assert_string_equal(m.v[0].name, "user.answer");
	assert_true(value(&m, "user.answer") == 43);
	assert_true(value(&m, "user.lat_p99.ms") == -0.125);
	assert_true(value(&m, "user.big") == 1e300);
	assert_true(value(&m, "user.hex") == 16);
	metrics_release(&m);
}

/* A VMORCH-METRIC line that is otherwise bad fails, naming line and why. */
static void test_lines_bad_cases_named(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "a\nb\nVMORCH-METRIC Foo 1\n",
		  "run: stdout line 3: metric name \"Foo\": not [a-z0-9_.], starting user." },
		{ "VMORCH-METRIC fio.x 1\n",
		  "run: stdout line 1: metric name \"fio.x\": not [a-z0-9_.], starting user." },
		{ "VMORCH-METRIC user. 1\n",
		  "run: stdout line 1: metric name \"user.\": not [a-z0-9_.], starting user." },
		{ "VMORCH-METRIC user.a-b 1\n",
		  "run: stdout line 1: metric name \"user.a-b\": not [a-z0-9_.], starting user." },
		{ "VMORCH-METRIC user.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1\n",
		  "run: stdout line 1: metric name "
		  "\"user.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": "
		  "longer than 63 characters" },
		{ "\nVMORCH-METRIC user.x abc\n",
		  "run: stdout line 2: metric user.x: value \"abc\" is not a finite number" },
		{ "VMORCH-METRIC user.x 12ms\n",
		  "run: stdout line 1: metric user.x: value \"12ms\" is not a finite number" },
		{ "VMORCH-METRIC user.x inf\n",
		  "run: stdout line 1: metric user.x: value \"inf\" is not a finite number" },
		{ "VMORCH-METRIC user.x nan\n",
		  "run: stdout line 1: metric user.x: value \"nan\" is not a finite number" },
		{ "VMORCH-METRIC user.x 1e999\n",
		  "run: stdout line 1: metric user.x: value \"1e999\" is not a finite number" },
		{ "VMORCH-METRIC user.x\n",
		  "run: stdout line 1: want VMORCH-METRIC <name> <value>" },
		{ "VMORCH-METRIC user.x 1 2\n",
		  "run: stdout line 1: want VMORCH-METRIC <name> <value>" },
		{ "VMORCH-METRIC  \r\n",
		  "run: stdout line 1: want VMORCH-METRIC <name> <value>" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct metrics m;

		assert_int_equal(lines(&m, cases[i].text, false), -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_int_equal(m.n, 0);
	}
}

/* A capture cut at the cap ends inside a line: that line is not read. */
static void test_lines_cut_capture_stops_at_cap(void **state)
{
	const char *text = "VMORCH-METRIC user.a 1\nVMORCH-METRIC user.b 2";
	struct metrics m;

	assert_int_equal(lines(&m, text, true), 0);
	assert_int_equal(m.n, 1);
	assert_null(metrics_find(&m, "user.b"));
	metrics_release(&m);
	assert_int_equal(lines(&m, text, false), 0);
	assert_true(value(&m, "user.b") == 2);
	metrics_release(&m);
}

/* COUNT distinct names, each line NAME_i i. */
static char *many_metrics(unsigned count, unsigned repeat)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	for (unsigned r = 0; r < repeat; r++)
		for (unsigned i = 0; i < count; i++)
			fprintf(f, "VMORCH-METRIC user.m%u %u\n", i, i + r);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* 200 names pass (a name repeated counts once); 230 fail, counted. */
static void test_lines_cap_200(void **state)
{
	char *text = many_metrics(200, 3);
	struct metrics m;

	assert_int_equal(lines(&m, text, false), 0);
	assert_int_equal(m.n, 200);
	assert_true(value(&m, "user.m199") == 201);
	metrics_release(&m);
	free(text);

	text = many_metrics(230, 1);
	assert_int_equal(lines(&m, text, false), -E2BIG);
	assert_string_equal(err, "run: 230 metrics from the program; at most 200");
	assert_int_equal(m.n, 0);
	free(text);
}

/* The numbers on the result line read back as the same doubles. */
static void test_print_json_exact(void **state)
{
	struct metrics m = { 0 };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	assert_int_equal(metrics_set(&m, "user.answer", 42), 0);
	assert_int_equal(metrics_set(&m, "user.tenth", 0.1), 0);
	assert_int_equal(metrics_set(&m, "fio.r.read.iops", 11627.906977), 0);
	assert_int_equal(metrics_set(&m, "fio.r.read.clat_mean_us", 84552.492 / 1000), 0);
	assert_int_equal(metrics_set(&m, "user.third", 1.0 / 3), 0);
	metrics_print_json(f, &m);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, ",\"user.answer\":42,\"user.tenth\":0.1"
			    ",\"fio.r.read.iops\":11627.906977,\"fio.r.read.clat_mean_us\":84.552492"
			    ",\"user.third\":0.33333333333333331");
	free(buf);
	metrics_release(&m);
}

/* ---- fio --output-format=json ---- */

static char *read_data(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int fio(struct metrics *m, const char *text, size_t len, bool cut)
{
	err[0] = 0;
	memset(m, 0, sizeof(*m));
	return metrics_extract(m, METRICS_FIO_JSON, text, len, cut, err, sizeof(err));
}

/* fio 3.33: 1000 random 4 KiB reads with psync on a 4 MiB file
 * (tests/data/fio-randread.json); no writes, so no write metrics. */
static void test_fio_randread_exact(void **state)
{
	size_t len;
	char *text = read_data("fio-randread.json", &len);
	struct metrics m;

	assert_int_equal(fio(&m, text, len, false), 0);
	assert_int_equal(m.n, 10);
	assert_true(value(&m, "fio.r.read.total_ios") == 1000);
	assert_true(value(&m, "fio.r.read.io_bytes") == 4096000);
	assert_true(value(&m, "fio.r.read.iops") == 11627.906977);
	assert_true(value(&m, "fio.r.read.bw_bytes") == 47627906);
	assert_true(value(&m, "fio.r.read.runtime_ms") == 86);
	assert_true(value(&m, "fio.r.read.clat_mean_us") == 84552.492 / 1000);
	assert_true(value(&m, "fio.r.read.clat_p50_us") == 61.184);
	assert_true(value(&m, "fio.r.read.clat_p99_us") == 193.536);
	assert_true(value(&m, "fio.r.read.clat_p99_9_us") == 8585.216);
	assert_true(value(&m, "fio.r.read.lat_mean_us") == 84589.316 / 1000);
	assert_null(metrics_find(&m, "fio.r.write.total_ios"));
	assert_string_equal(m.v[0].name, "fio.r.read.iops");
	assert_string_equal(m.v[9].name, "fio.r.read.lat_mean_us");
	metrics_release(&m);
	free(text);
}

/* Two jobs both named "Mix-1" (fio's own output, with its note before
 * the JSON): mix_1 and mix_1_1; the second did no reads. */
static void test_fio_two_jobs_same_name(void **state)
{
	size_t len;
	char *text = read_data("fio-two-jobs.json", &len);
	struct metrics m;

	assert_int_equal(fio(&m, text, len, false), 0);
	assert_int_equal(m.n, 30);
	assert_true(value(&m, "fio.mix_1.read.total_ios") == 46);
	assert_true(value(&m, "fio.mix_1.read.io_bytes") == 188416);
	assert_true(value(&m, "fio.mix_1.read.iops") == 5111.111111);
	assert_true(value(&m, "fio.mix_1.read.clat_p99_us") == 2801.664);
	assert_true(value(&m, "fio.mix_1.write.total_ios") == 54);
	assert_true(value(&m, "fio.mix_1.write.bw_bytes") == 24576000);
	assert_true(value(&m, "fio.mix_1.write.lat_mean_us") == 6689.907407 / 1000);
	assert_true(value(&m, "fio.mix_1_1.write.total_ios") == 50);
	assert_true(value(&m, "fio.mix_1_1.write.io_bytes") == 409600);
	assert_true(value(&m, "fio.mix_1_1.write.runtime_ms") == 2);
	assert_true(value(&m, "fio.mix_1_1.write.clat_p50_us") == 5.664);
	assert_null(metrics_find(&m, "fio.mix_1_1.read.total_ios"));
	metrics_release(&m);
	free(text);
}

#define FIO_DIR(ios) "{\"total_ios\":" #ios ",\"iops\":2.5,\"bw_bytes\":10,\"io_bytes\":20," \
	"\"runtime\":8,\"clat_ns\":{\"mean\":1500},\"lat_ns\":{\"mean\":2500}}"

/* Names: lower case, [^a-z0-9_] to _, 32 characters at most, duplicates
 * numbered; a job with no percentiles has none emitted. */
static void test_fio_names_and_missing_percentiles(void **state)
{
	const char *text = "{\"jobs\":["
		"{\"jobname\":\"Seq.Read/4K\",\"read\":" FIO_DIR(4) ",\"write\":" FIO_DIR(0) "},"
		"{\"jobname\":\"abcdefghijklmnopqrstuvwxyz0123456789\",\"read\":" FIO_DIR(1) "},"
		"{\"jobname\":\"abcdefghijklmnopqrstuvwxyz0123456789\",\"read\":" FIO_DIR(1) "},"
		"{\"jobname\":\"seq_read_4k\",\"read\":" FIO_DIR(1) "}]}";
	struct metrics m;

	assert_int_equal(fio(&m, text, strlen(text), false), 0);
	assert_int_equal(m.n, 4 * 7);
	assert_true(value(&m, "fio.seq_read_4k.read.total_ios") == 4);
	assert_true(value(&m, "fio.seq_read_4k.read.clat_mean_us") == 1.5);
	assert_true(value(&m, "fio.seq_read_4k.read.lat_mean_us") == 2.5);
	assert_null(metrics_find(&m, "fio.seq_read_4k.read.clat_p50_us"));
	assert_null(metrics_find(&m, "fio.seq_read_4k.write.total_ios"));
	assert_non_null(metrics_find(&m, "fio.abcdefghijklmnopqrstuvwxyz012345.read.iops"));
	assert_non_null(metrics_find(&m, "fio.abcdefghijklmnopqrstuvwxyz0123_1.read.iops"));
	assert_non_null(metrics_find(&m, "fio.seq_read_4k_1.read.iops"));
	metrics_release(&m);
}

/* Not fio's report: the reason says what is wrong. */
static void test_fio_bad_cases_named(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "fio: no such file\n", "run: fio-json: no JSON object in the output" },
		{ "{\"fio version\":\"fio-3.33\"}", "run: fio-json: no \"jobs\" array" },
		{ "{\"jobs\":[{\"read\":" FIO_DIR(1) "}]}",
		  "run: fio-json: jobs[0] has no \"jobname\"" },
		{ "{\"jobs\":[{\"jobname\":\"r\",\"read\":{\"total_ios\":1}}]}",
		  "run: fio-json: jobs[0] read: no number at iops" },
		{ "{\"jobs\":[{\"jobname\":\"r\",\"write\":{\"total_ios\":1,\"iops\":1,"
		  "\"bw_bytes\":1,\"io_bytes\":1,\"runtime\":1,\"lat_ns\":{\"mean\":1}}}]}",
		  "run: fio-json: jobs[0] write: no number at clat_ns.mean" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct metrics m;

		assert_int_equal(fio(&m, cases[i].text, strlen(cases[i].text), false), -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_int_equal(m.n, 0);
	}
}

/* A program that printed nothing has no metrics, nor fio's report. */
static void test_no_output(void **state)
{
	struct metrics m = { 0 };

	assert_int_equal(metrics_extract(&m, METRICS_LINES, NULL, 0, false, err, sizeof(err)), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(metrics_extract(&m, METRICS_FIO_JSON, NULL, 0, false, err,
					 sizeof(err)), -EINVAL);
	assert_string_equal(err, "run: fio-json: no JSON object in the output");
	assert_int_equal(metrics_extract(&m, METRICS_NONE, "VMORCH-METRIC user.a 1\n", 23,
					 false, err, sizeof(err)), 0);
	assert_int_equal(m.n, 0);
}

/* Broken JSON gives jansson's reason; a cut capture is refused outright. */
static void test_fio_not_json_and_cut(void **state)
{
	const char *text = "note\n{\"jobs\": [ {\"jobname\": ";
	struct metrics m;

	assert_int_equal(fio(&m, text, strlen(text), false), -EINVAL);
	assert_memory_equal(err, "run: fio-json: ", 15);
	assert_non_null(strstr(err, "(line 1 of the document)"));
	assert_int_equal(m.n, 0);
	assert_int_equal(fio(&m, "{\"jobs\":[]}", 11, true), -EFBIG);
	assert_string_equal(err, "run: output longer than 16 MiB");
	assert_int_equal(m.n, 0);
}

/* 21 jobs of 10 metrics each are more than the program may give. */
static void test_fio_cap_200(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct metrics m;

	assert_non_null(f);
	fputs("{\"jobs\":[", f);
	for (unsigned i = 0; i < 21; i++)
		fprintf(f, "%s{\"jobname\":\"j%u\",\"read\":{\"total_ios\":1,\"iops\":1,"
			"\"bw_bytes\":1,\"io_bytes\":1,\"runtime\":1,\"clat_ns\":{\"mean\":1,"
			"\"percentile\":{\"50.000000\":1,\"99.000000\":1,\"99.900000\":1}},"
			"\"lat_ns\":{\"mean\":1}}}", i ? "," : "", i);
	fputs("]}", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(fio(&m, buf, size, false), -E2BIG);
	assert_string_equal(err, "run: 210 metrics from the program; at most 200");
	assert_int_equal(m.n, 0);
	free(buf);
}

/* ---- running the program ---- */

struct ran {
	struct run_result r;
	int rc;
	char *console;		/* what went to out_fd */
	size_t console_len;
	uint64_t elapsed_ms;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs ARGV with the console a temporary file; LIMIT_MS from now (0: none). */
static void run_with(struct ran *x, char *const argv[], uint64_t limit_ms, uint64_t grace_ms,
		     size_t capture_max)
{
	FILE *console = tmpfile();
	struct run_opts o = {
		.clock = CLOCK_MONOTONIC,
		.kill_grace_ms = grace_ms,
		.capture_max = capture_max,
	};
	uint64_t t0 = mono_ms();
	long n;

	assert_non_null(console);
	o.out_fd = fileno(console);
	o.deadline_ms = limit_ms ? t0 + limit_ms : 0;
	err[0] = 0;
	x->rc = run_program(argv, &o, &x->r, err, sizeof(err));
	x->elapsed_ms = mono_ms() - t0;
	n = lseek(o.out_fd, 0, SEEK_END);
	assert_true(n >= 0);
	x->console = malloc((size_t)n + 1);
	assert_non_null(x->console);
	assert_int_equal(pread(o.out_fd, x->console, (size_t)n, 0), n);
	x->console[n] = 0;
	x->console_len = (size_t)n;
	fclose(console);
}

static void sh(struct ran *x, const char *script, uint64_t limit_ms)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };

	run_with(x, argv, limit_ms, 1000, AGENT_CAPTURE_MAX);
}

static void ran_release(struct ran *x)
{
	run_result_release(&x->r);
	free(x->console);
}

static void describe(const struct ran *x, uint64_t deadline_ms, char *buf, size_t len)
{
	struct run_opts o = { .deadline_ms = deadline_ms };

	run_describe_end(&x->r, &o, buf, len);
}

/* Exit 0: stdout is on the console and in the capture, byte for byte. */
static void test_run_pass_output_captured(void **state)
{
	struct ran x;
	char end[128];

	sh(&x, "echo hello; echo VMORCH-METRIC user.answer 42", 0);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r.exit_code, 0);
	assert_int_equal(x.r.signal, 0);
	assert_false(x.r.timed_out);
	assert_string_equal(x.r.out, "hello\nVMORCH-METRIC user.answer 42\n");
	assert_string_equal(x.console, x.r.out);
	assert_false(x.r.out_cut);
	assert_false(x.r.mid_line);
	describe(&x, 0, end, sizeof(end));
	assert_string_equal(end, "");
	ran_release(&x);
}

/* A non-zero exit status is the verdict's reason. */
static void test_run_exit_status(void **state)
{
	struct ran x;
	char end[128];

	sh(&x, "echo partial; printf tail; exit 3", 0);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r.exit_code, 3);
	assert_string_equal(x.r.out, "partial\ntail");
	assert_true(x.r.mid_line);
	describe(&x, 0, end, sizeof(end));
	assert_string_equal(end, "run: exited with status 3");
	ran_release(&x);
}

/* Killed by a signal: 128 + N, and the signal's name. */
static void test_run_killed_by_signal(void **state)
{
	struct ran x;
	char end[128];

	sh(&x, "kill -USR1 $$; sleep 5", 0);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r.signal, SIGUSR1);
	assert_int_equal(x.r.exit_code, 128 + SIGUSR1);
	describe(&x, 0, end, sizeof(end));
	assert_string_equal(end, "run: killed by signal 10 (SIGUSR1)");
	ran_release(&x);
}

/* A limit of 300 ms on sleep 30: SIGTERM at the limit, well within 5 s. */
static void test_run_time_limit_sigterm(void **state)
{
	char end[128];
	struct ran x;

	sh(&x, "echo before; sleep 30; echo after", 300);
	assert_int_equal(x.rc, 0);
	assert_true(x.r.timed_out);
	assert_int_equal(x.r.exit_code, 128 + SIGTERM);
	assert_true(x.elapsed_ms >= 300);
	assert_true(x.elapsed_ms < 5000);
	assert_string_equal(x.console, "before\n");
	describe(&x, 1234, end, sizeof(end));
	assert_string_equal(end, "run: killed at the in-guest time limit (1234 ms after boot)");
	ran_release(&x);
}

/* A program that ignores SIGTERM gets SIGKILL kill_grace_ms later. */
static void test_run_time_limit_sigkill_after_grace(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 30", NULL };
	struct ran x;

	run_with(&x, argv, 300, 300, AGENT_CAPTURE_MAX);
	assert_int_equal(x.rc, 0);
	assert_true(x.r.timed_out);
	assert_int_equal(x.r.exit_code, 128 + SIGKILL);
	assert_true(x.elapsed_ms >= 600);
	assert_true(x.elapsed_ms < 5000);
	ran_release(&x);
}

/* The program leads its own process group; stdin is /dev/null. */
static void test_run_own_group_stdin_null(void **state)
{
	char stdin_path[64];
	int pgrp, pid;
	struct ran x;

	sh(&x, "read -r a b c d pgrp rest < /proc/$$/stat; echo \"$pgrp $$\"; "
	   "readlink /proc/$$/fd/0", 0);
	assert_int_equal(x.r.exit_code, 0);
	assert_int_equal(sscanf(x.r.out, "%d %d\n%63s", &pgrp, &pid, stdin_path), 3);
	assert_int_equal(pgrp, pid);
	assert_true(pgrp != getpgrp());
	assert_string_equal(stdin_path, "/dev/null");
	ran_release(&x);
}

/* What the program leaves behind in its group is killed once it ends:
 * the wait does not last for it, nor does it live on. */
static void test_run_leftovers_killed(void **state)
{
	char stat[64], buf[512];
	bool dead = false;
	struct ran x;
	int pid;
	FILE *f;

	sh(&x, "(sleep 30; echo late) & echo $!", 0);
	assert_int_equal(x.r.exit_code, 0);
	assert_true(x.elapsed_ms < 2000);
	assert_int_equal(sscanf(x.r.out, "%d", &pid), 1);
	snprintf(stat, sizeof(stat), "/proc/%d/stat", pid);
	/*
	 * Gone, or a zombie waiting for whoever reaps orphans here.  SIGKILL
	 * was sent before run_program returned; dying takes the killed
	 * process a turn on a CPU, which a loaded machine may give it late:
	 * up to 5 s, well before its sleep of 30 s would end it anyway.
	 */
	for (int i = 0; i < 500; i++) {
		dead = true;
		f = fopen(stat, "r");
		if (f) {
			dead = fgets(buf, sizeof(buf), f) && strstr(buf, ") Z ");
			fclose(f);
		}
		if (dead)
			break;
		usleep(10000);
	}
	assert_true(dead);
	assert_string_equal(x.console, x.r.out);
	ran_release(&x);
}

/* Past the cap the output still reaches the console; the capture is cut. */
static void test_run_capture_cap(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 500 ]; do echo 0123456789; "
			 "i=$((i+1)); done", NULL };
	struct ran x;

	run_with(&x, argv, 0, 1000, 1000);
	assert_int_equal(x.r.exit_code, 0);
	assert_int_equal(x.console_len, 5500);
	assert_int_equal(x.r.out_len, 1000);
	assert_true(x.r.out_cut);
	assert_memory_equal(x.r.out, x.console, 1000);
	ran_release(&x);
}

/* argv[0] is looked up in /bin:/sbin:/usr/bin:/usr/sbin only. */
static void test_run_path_search(void **state)
{
	char *cat[] = { "cat", NULL };
	char *none[] = { "no-such-program-vmorch", NULL };
	char *notexec[] = { "/etc/passwd", NULL };
	struct ran x;

	run_with(&x, cat, 0, 1000, AGENT_CAPTURE_MAX);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r.exit_code, 0);
	assert_int_equal(x.r.out_len, 0);
	ran_release(&x);

	run_with(&x, none, 0, 1000, AGENT_CAPTURE_MAX);
	assert_int_equal(x.rc, -ENOENT);
	assert_string_equal(err, "run: \"no-such-program-vmorch\": not found in "
			    "/bin:/sbin:/usr/bin:/usr/sbin");
	ran_release(&x);

	run_with(&x, notexec, 0, 1000, AGENT_CAPTURE_MAX);
	assert_int_equal(x.rc, -EACCES);
	assert_string_equal(err, "run: exec /etc/passwd: Permission denied");
	assert_int_equal(x.r.exit_code, 127);
	ran_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_all_keys),
		cmocka_unit_test(test_job_shell_string_and_defaults),
		cmocka_unit_test(test_job_bad_cases_named),
		cmocka_unit_test(test_job_bad_key_keeps_nonce),
		cmocka_unit_test(test_job_not_json_and_duplicate_key),
		cmocka_unit_test(test_job_load_removes_file),
		cmocka_unit_test(test_job_deadline),
		cmocka_unit_test_setup(test_expand_disks, setup_disks),
		cmocka_unit_test_setup(test_expand_out_of_range, setup_disks),
		cmocka_unit_test_setup(test_build_argv, setup_disks),
		cmocka_unit_test(test_lines_values),
		cmocka_unit_test(test_lines_bad_cases_named),
		cmocka_unit_test(test_lines_cut_capture_stops_at_cap),
		cmocka_unit_test(test_lines_cap_200),
		cmocka_unit_test(test_print_json_exact),
		cmocka_unit_test(test_fio_randread_exact),
		cmocka_unit_test(test_fio_two_jobs_same_name),
		cmocka_unit_test(test_fio_names_and_missing_percentiles),
		cmocka_unit_test(test_fio_bad_cases_named),
		cmocka_unit_test(test_fio_not_json_and_cut),
		cmocka_unit_test(test_no_output),
		cmocka_unit_test(test_fio_cap_200),
		cmocka_unit_test(test_run_pass_output_captured),
		cmocka_unit_test(test_run_exit_status),
		cmocka_unit_test(test_run_killed_by_signal),
		cmocka_unit_test(test_run_time_limit_sigterm),
		cmocka_unit_test(test_run_time_limit_sigkill_after_grace),
		cmocka_unit_test(test_run_own_group_stdin_null),
		cmocka_unit_test(test_run_leftovers_killed),
		cmocka_unit_test(test_run_capture_cap),
		cmocka_unit_test(test_run_path_search),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
