/*
 * test_units.c - the number parsers behind every size and time a scenario
 * holds (orchestrator/units.c), and expectations: parsing, evaluation against
 * a hand-made VmResult, and the outcome line (orchestrator/expect.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orchestrator/expect.h"
#include "orchestrator/units.h"

static uint64_t size_of(const char *s)
{
	uint64_t v = 0xdead;

	assert_int_equal(units_parse_size(s, &v), 0);
	return v;
}

static uint64_t ms_of(const char *s)
{
	uint64_t v = 0xdead;

	assert_int_equal(units_parse_time_ms(s, &v), 0);
	return v;
}

/* Sizes take binary multiples, with one-letter or IEC spellings. */
static void test_size_units(void **state)
{
	assert_int_equal(size_of("0"), 0);
	assert_int_equal(size_of("512"), 512);
	assert_int_equal(size_of("4k"), 4096);
	assert_int_equal(size_of("4K"), 4096);
	assert_int_equal(size_of("4KiB"), 4096);
	assert_int_equal(size_of("64M"), 64ULL << 20);
	assert_int_equal(size_of("64m"), 64ULL << 20);
	assert_int_equal(size_of("64MiB"), 64ULL << 20);
	assert_int_equal(size_of("1G"), 1ULL << 30);
	assert_int_equal(size_of("3GiB"), 3ULL << 30);
	assert_int_equal(size_of("2T"), 2ULL << 40);
	assert_int_equal(size_of("007"), 7);
}

/* The largest sizes that fit are exact; one more is -ERANGE, never wrapped. */
static void test_size_overflow(void **state)
{
	uint64_t v = 0;

	assert_int_equal(size_of("18446744073709551615"), UINT64_MAX);
	assert_int_equal(units_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(size_of("16777215T"), 16777215ULL << 40);
	assert_int_equal(units_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(units_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(units_parse_size("99999999999999999999999k", &v), -ERANGE);
	assert_int_equal(v, 0);
}

/* Anything but digits and a known unit is junk, reported as -EINVAL. */
static void test_size_junk(void **state)
{
	static const char *const junk[] = {
		"", "k", "64X", "4 k", " 4k", "4k ", "+4", "-4", "4kb", "4KB",
		"1.5G", "0x10", "4kk", "4Ki", "99999999999999999999999X", "M4",
	};
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(units_parse_size(junk[i], &v), -EINVAL);
	assert_int_equal(v, 42);
}

/* Times need a unit: ms, s, m or h. */
static void test_time_units(void **state)
{
	uint64_t v = 42;

	assert_int_equal(ms_of("500ms"), 500);
	assert_int_equal(ms_of("0ms"), 0);
	assert_int_equal(ms_of("30s"), 30000);
	assert_int_equal(ms_of("2m"), 120000);
	assert_int_equal(ms_of("1h"), 3600000);
	assert_int_equal(units_parse_time_ms("30", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("30sec", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("1d", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("1.5s", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("s", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("5 s", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("5S", &v), -EINVAL);
	assert_int_equal(units_parse_time_ms("5124095576031h", &v), -ERANGE);
	assert_int_equal(v, 42);
	assert_int_equal(ms_of("5124095576030h"), 5124095576030ULL * 3600000);
}

/* Counts are bare digits. */
static void test_count(void **state)
{
	uint64_t v = 42;

	assert_int_equal(units_parse_u64("1000", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(units_parse_u64("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(units_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(units_parse_u64("1k", &v), -EINVAL);
	assert_int_equal(units_parse_u64("", &v), -EINVAL);
	assert_int_equal(units_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(units_parse_u64("184467440737095516160x", &v), -EINVAL);
	assert_int_equal(v, UINT64_MAX);
}

/* Sizes print in their shortest exact form. */
static void test_size_format(void **state)
{
	char buf[32];

	units_format_size(4096, buf, sizeof(buf));
	assert_string_equal(buf, "4K");
	units_format_size(1ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "1G");
	units_format_size(3ULL << 40, buf, sizeof(buf));
	assert_string_equal(buf, "3T");
	units_format_size(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1536");
	units_format_size(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
}

/* ---- expectations ---- */

static struct expect_check parse_ok(const char *name, const char *text)
{
	struct expect_check c;
	struct verr e = { "" };

	if (expect_parse(name, text, &c, &e))
		print_error("%s\n", e.msg);
	assert_string_equal(e.msg, "");
	return c;
}

/* Every operator, spaces optional, units and fractions on the number. */
static void test_expect_parse_ops(void **state)
{
	struct expect_check c;

	c = parse_ok("reads_completed", ">= 1000");
	assert_string_equal(c.name, "reads_completed");
	assert_int_equal(c.op, EXPECT_GE);
	assert_true(c.value == 1000);
	assert_string_equal(c.text, ">= 1000");
	c = parse_ok("io_errors", "==0");
	assert_int_equal(c.op, EXPECT_EQ);
	assert_true(c.value == 0);
	c = parse_ok("throttled_count", " > 0 ");
	assert_int_equal(c.op, EXPECT_GT);
	c = parse_ok("disk3.bytes_read", "< 4M");
	assert_int_equal(c.op, EXPECT_LT);
	assert_true(c.value == 4194304);
	c = parse_ok("iops", "<= 2.5k");
	assert_int_equal(c.op, EXPECT_LE);
	assert_true(c.value == 2560);
	c = parse_ok("user.temp_c", "!= -3.25");
	assert_int_equal(c.op, EXPECT_NE);
	assert_true(c.value == -3.25);
}

static void parse_bad(const char *name, const char *text, const char *msg)
{
	struct expect_check c;
	struct verr e = { "" };

	assert_int_equal(expect_parse(name, text, &c, &e), -EINVAL);
	assert_string_equal(e.msg, msg);
}

/* Malformed names and comparisons say what was expected. */
static void test_expect_parse_errors(void **state)
{
	parse_bad("disk0.reads", "== 1", "unknown counter 'reads' in 'disk0.reads'");
	parse_bad("disk8.io_errors", "== 1", "bad disk in 'disk8.io_errors' (expected disk0..disk7)");
	parse_bad("", "> 0", "unknown expectation '' (expected a counter such as "
		  "reads_completed, diskN.<counter>, a guest metric such as iops, "
		  "or user.<name> or fio.<job>.<read|write>.<field> for a metric of "
		  "your own program)");
	parse_bad("iops", "1000", "bad comparison '1000' (expected an operator ==, !=, "
		  "<, <=, >, >= and a number, like \">= 1000\")");
	parse_bad("iops", "=> 1", "bad comparison '=> 1' (expected an operator ==, !=, "
		  "<, <=, >, >= and a number, like \">= 1000\")");
	parse_bad("iops", ">= 4X", "bad number in comparison '>= 4X' (expected a number "
		  "with an optional unit: k, M, G)");
	parse_bad("iops", ">= inf", "bad number in comparison '>= inf' (expected a number "
		  "with an optional unit: k, M, G)");
	parse_bad("iops", ">= 1e3", "bad number in comparison '>= 1e3' (expected a number "
		  "with an optional unit: k, M, G)");
	parse_bad("iops", ">=", "bad number in comparison '>=' (expected a number "
		  "with an optional unit: k, M, G)");
	parse_bad("iops", "> 1 2", "bad number in comparison '> 1 2' (expected a number "
		  "with an optional unit: k, M, G)");
}

/* A name no guest reports is refused, with the nearest known name if close. */
static void test_expect_unknown_name_suggests(void **state)
{
	parse_bad("reads_complete", "== 10",
		  "unknown expectation 'reads_complete' (did you mean reads_completed?)");
	parse_bad("iopz", "> 0", "unknown expectation 'iopz' (did you mean iops?)");
	parse_bad("IOPS", "> 0", "unknown expectation 'IOPS' (did you mean iops?)");
	parse_bad("lat_p99_ms", "< 100",
		  "unknown expectation 'lat_p99_ms' (did you mean lat_p99_us?)");
	parse_bad("io_erorrs", "== 0",
		  "unknown expectation 'io_erorrs' (did you mean io_errors?)");
	parse_bad("disk1.reads_complted", "== 1",
		  "unknown counter 'reads_complted' in 'disk1.reads_complted' "
		  "(did you mean disk1.reads_completed?)");
	parse_bad("temperature", "< 90", "unknown expectation 'temperature' "
		  "(expected a counter such as reads_completed, diskN.<counter>, a "
		  "guest metric such as iops, or user.<name> or "
		  "fio.<job>.<read|write>.<field> for a metric of your own program)");
}

/* user.<name> is the way to expect a metric of one's own program. */
static void test_expect_user_prefix(void **state)
{
	struct expect_name en;
	struct verr e = { "" };
	char name[VM_METRIC_NAME_MAX + 2], msg[VERR_MAX];

	assert_int_equal(expect_name_parse("user.temp_c", &en, &e), 0);
	assert_int_equal(en.target, EXPECT_USER_METRIC);
	assert_int_equal(expect_name_parse("iops", &en, &e), 0);
	assert_int_equal(en.target, EXPECT_METRIC);
	assert_int_equal(expect_name_parse("fio.r.read.total_ios", &en, &e), 0);
	assert_int_equal(en.target, EXPECT_USER_METRIC);
	parse_bad("fio.R.read", "> 0", "bad metric name 'fio.R.read' (expected fio. and "
		  "a-z, 0-9, '_', '.', at most 63 characters in all)");
	parse_bad("user.", "> 0", "bad metric name 'user.' (expected user. and a-z, "
		  "0-9, '_', '.', at most 63 characters in all)");
	parse_bad("user.Temp", "> 0", "bad metric name 'user.Temp' (expected user. and "
		  "a-z, 0-9, '_', '.', at most 63 characters in all)");
	/* 63 characters in all is the longest a result can carry. */
	memset(name, 'a', VM_METRIC_NAME_MAX);
	memcpy(name, "user.", 5);
	name[VM_METRIC_NAME_MAX] = 0;
	assert_int_equal(expect_name_parse(name, &en, NULL), 0);
	strcat(name, "a");
	snprintf(msg, sizeof(msg), "bad metric name '%s' (expected user. and a-z, "
		 "0-9, '_', '.', at most 63 characters in all)", name);
	parse_bad(name, "> 0", msg);
}

/* A known metric is accepted only for a guest that reports it. */
static void test_expect_metric_per_guest(void **state)
{
	struct verr e = { "" };

	assert_int_equal(expect_name_check_guest("lat_p99_us", JOB_GUEST_LINUX, &e), 0);
	assert_int_equal(expect_name_check_guest("irqs", JOB_GUEST_BUILTIN, &e), 0);
	assert_int_equal(expect_name_check_guest("iops", JOB_GUEST_BUILTIN, &e), 0);
	assert_int_equal(expect_name_check_guest("iops", JOB_GUEST_LINUX, &e), 0);
	assert_int_equal(expect_name_check_guest("user.x", JOB_GUEST_BUILTIN, &e), 0);
	assert_int_equal(expect_name_check_guest("io_errors", JOB_GUEST_LINUX, &e), 0);
	assert_int_equal(expect_name_check_guest("lat_p99_us", JOB_GUEST_BUILTIN, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "metric 'lat_p99_us' is not reported by the built-in "
			    "guest (only by a Linux guest)");
	assert_int_equal(expect_name_check_guest("throughput_bps", JOB_GUEST_LINUX, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "metric 'throughput_bps' is not reported by a Linux "
			    "guest (only by the built-in guest)");
}

/* ---- the metric table against what the guests print ---- */

#define SRC_NAMES_MAX 64

struct names {
	char v[SRC_NAMES_MAX][VM_METRIC_NAME_MAX + 1];
	size_t n;
};

static void names_add(struct names *ns, const char *s, size_t len)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && strncmp(ns->v[i], s, len) == 0)
			return;
	assert_true(ns->n < SRC_NAMES_MAX);
	assert_true(len <= VM_METRIC_NAME_MAX);
	memcpy(ns->v[ns->n], s, len);
	ns->v[ns->n++][len] = 0;
}

static bool names_has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return true;
	return false;
}

static char *read_source(const char *rel)
{
	static char buf[1 << 17];
	const char *d = getenv("VMORCH_SRCDIR");
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", d && *d ? d : ".", rel);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_true(n < sizeof(buf) - 1);
	buf[n] = 0;
	return buf;
}

/*
 * Every name between @open and @close in @rel's text: the JSON keys a
 * guest's printf format holds (\"ops\":) or the names the worker sets.
 */
static void source_names(const char *rel, const char *open, const char *close,
			 struct names *ns)
{
	const char *p = read_source(rel), *q;

	while ((p = strstr(p, open))) {
		p += strlen(open);
		q = p;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')
			q++;
		if (q > p && strncmp(q, close, strlen(close)) == 0 &&
		    strncmp(p, "status", 6) != 0 && strncmp(p, "reason", 6) != 0)
			names_add(ns, p, (size_t)(q - p));
		p = q;
	}
}

/* The names a guest's result line and the worker's rates give that guest. */
static void guest_names(const char *main_c, struct names *ns)
{
	memset(ns, 0, sizeof(*ns));
	source_names(main_c, "\\\"", "\\\":", ns);
	/* vmm-worker/result.c derives its rates from the guest's cycles. */
	if (names_has(ns, "cycles"))
		source_names("vmm-worker/result.c", "vm_result_set_metric(r, \"", "\"", ns);
}

/* expect_metrics[] says exactly what each guest prints, no more, no less. */
static void test_expect_metric_table_matches_guests(void **state)
{
	static struct names builtin, linux_;

	guest_names("guest/builtin/main.c", &builtin);
	guest_names("guest/agent/main.c", &linux_);
	assert_true(builtin.n >= 10);
	assert_true(linux_.n >= 10);
	for (size_t i = 0; i < expect_nmetrics; i++) {
		const struct expect_metric *m = &expect_metrics[i];

		if (names_has(&builtin, m->name) != !!(m->guests & EXPECT_BUILTIN))
			fail_msg("metric %s: built-in guest table bit is wrong", m->name);
		if (names_has(&linux_, m->name) != !!(m->guests & EXPECT_LINUX))
			fail_msg("metric %s: Linux guest table bit is wrong", m->name);
	}
	for (size_t i = 0; i < builtin.n + linux_.n; i++) {
		const char *n = i < builtin.n ? builtin.v[i] : linux_.v[i - builtin.n];
		struct expect_name en;

		if (expect_name_parse(n, &en, NULL))
			fail_msg("guest metric %s is missing from expect_metrics[]", n);
	}
}

/* Counter names come from the one counter list, so every field is expectable. */
static void test_expect_every_counter_name(void **state)
{
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		struct expect_name en;
		char name[EXPECT_NAME_MAX + 1];

		assert_int_equal(expect_name_parse(vblk_fields[i].name, &en, NULL), 0);
		assert_int_equal(en.target, EXPECT_COUNTER_SUM);
		assert_int_equal(en.field, i);
		snprintf(name, sizeof(name), "disk7.%s", vblk_fields[i].name);
		assert_int_equal(expect_name_parse(name, &en, NULL), 0);
		assert_int_equal(en.target, EXPECT_COUNTER_DISK);
		assert_int_equal(en.disk, 7);
	}
}

/* Two disks and two metrics, every counter distinct. */
static void make_result(struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->ndisks = 2;
	r->disk[0].reads_completed = 1000;
	r->disk[0].bytes_read = 4096000;
	r->disk[0].io_errors = 1;
	r->disk[1].reads_completed = 24;
	r->disk[1].throttled_count = 5;
	assert_int_equal(vm_result_set_metric(r, "iops", 12345.5), 0);
	assert_int_equal(vm_result_set_metric(r, "verify_errors", 0), 0);
}

static struct expect_outcome eval(const char *name, const char *text,
				  const struct vm_result *r)
{
	struct expect_check c = parse_ok(name, text);
	struct expect_outcome o;

	expect_eval(&c, r, &o);
	return o;
}

/* A bare counter name sums over every disk of the VM. */
static void test_expect_eval_sums_disks(void **state)
{
	struct vm_result r;
	struct expect_outcome o;

	make_result(&r);
	o = eval("reads_completed", "== 1024", &r);
	assert_true(o.passed);
	assert_false(o.missing);
	assert_true(o.actual == 1024);
	o = eval("io_errors", "== 0", &r);
	assert_false(o.passed);
	assert_false(o.missing);
	assert_true(o.actual == 1);
	o = eval("throttled_count", "> 0", &r);
	assert_true(o.passed);
	assert_true(o.actual == 5);
}

/* diskN.<counter> picks one disk; a disk the VM does not have is missing. */
static void test_expect_eval_one_disk(void **state)
{
	struct vm_result r;
	struct expect_outcome o;

	make_result(&r);
	o = eval("disk0.reads_completed", "== 1000", &r);
	assert_true(o.passed);
	assert_true(o.actual == 1000);
	o = eval("disk1.reads_completed", "< 25", &r);
	assert_true(o.passed);
	assert_true(o.actual == 24);
	o = eval("disk0.bytes_read", ">= 3.9M", &r);
	assert_true(o.passed);
	o = eval("disk1.io_errors", "!= 0", &r);
	assert_false(o.passed);
	assert_true(o.actual == 0);
	o = eval("disk2.io_errors", "== 0", &r);
	assert_false(o.passed);
	assert_true(o.missing);
}

/* Metrics are looked up by name; one the guest did not report fails as missing. */
static void test_expect_eval_metrics(void **state)
{
	struct vm_result r;
	struct expect_outcome o;

	make_result(&r);
	o = eval("iops", "> 12345", &r);
	assert_true(o.passed);
	assert_true(o.actual == 12345.5);
	o = eval("verify_errors", "== 0", &r);
	assert_true(o.passed);
	o = eval("guest_seconds", "< 10", &r);
	assert_false(o.passed);
	assert_true(o.missing);
	assert_true(o.actual == 0);
}

/* A counter on a VM without disks is missing, not zero. */
static void test_expect_eval_no_disks(void **state)
{
	struct vm_result r;
	struct expect_outcome o;

	make_result(&r);
	r.ndisks = 0;
	o = eval("io_errors", "== 0", &r);
	assert_false(o.passed);
	assert_true(o.missing);
}

/* The outcome line: verdict, check as written, actual value or "missing". */
static void test_expect_format(void **state)
{
	struct vm_result r;
	struct expect_check c;
	struct expect_outcome o;
	char buf[160];

	make_result(&r);
	c = parse_ok("reads_completed", ">= 1000");
	expect_eval(&c, &r, &o);
	expect_outcome_format(&c, &o, buf, sizeof(buf));
	assert_string_equal(buf, "PASS reads_completed >= 1000 (actual 1024)");
	c = parse_ok("io_errors", "== 0");
	expect_eval(&c, &r, &o);
	expect_outcome_format(&c, &o, buf, sizeof(buf));
	assert_string_equal(buf, "FAIL io_errors == 0 (actual 1)");
	c = parse_ok("iops", "> 0");
	expect_eval(&c, &r, &o);
	expect_outcome_format(&c, &o, buf, sizeof(buf));
	assert_string_equal(buf, "PASS iops > 0 (actual 12345.5)");
	c = parse_ok("guest_seconds", "< 10");
	expect_eval(&c, &r, &o);
	expect_outcome_format(&c, &o, buf, sizeof(buf));
	assert_string_equal(buf, "FAIL guest_seconds < 10 (missing)");
	assert_string_equal(expect_op_str(EXPECT_LE), "<=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_junk),
		cmocka_unit_test(test_time_units),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_expect_parse_ops),
		cmocka_unit_test(test_expect_parse_errors),
		cmocka_unit_test(test_expect_unknown_name_suggests),
		cmocka_unit_test(test_expect_user_prefix),
		cmocka_unit_test(test_expect_metric_per_guest),
		cmocka_unit_test(test_expect_metric_table_matches_guests),
		cmocka_unit_test(test_expect_every_counter_name),
		cmocka_unit_test(test_expect_eval_sums_disks),
		cmocka_unit_test(test_expect_eval_one_disk),
		cmocka_unit_test(test_expect_eval_metrics),
		cmocka_unit_test(test_expect_eval_no_disks),
		cmocka_unit_test(test_expect_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
