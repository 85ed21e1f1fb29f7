/*
 * test_units.c - the number parsers behind every size and time a scenario
 * holds (orchestrator/units.c), and expectations: parsing, evaluation against
 * a hand-made VmResult, and the outcome line (orchestrator/expect.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	c = parse_ok("guest.temp_c", "!= -3.25");
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
	parse_bad("IOPS", "> 0", "bad expectation name 'IOPS' (expected a counter, "
		  "diskN.<counter> or a metric name of a-z, 0-9, '_', '.')");
	parse_bad("", "> 0", "bad expectation name '' (expected a counter, "
		  "diskN.<counter> or a metric name of a-z, 0-9, '_', '.')");
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
		cmocka_unit_test(test_expect_every_counter_name),
		cmocka_unit_test(test_expect_eval_sums_disks),
		cmocka_unit_test(test_expect_eval_one_disk),
		cmocka_unit_test(test_expect_eval_metrics),
		cmocka_unit_test(test_expect_eval_no_disks),
		cmocka_unit_test(test_expect_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
