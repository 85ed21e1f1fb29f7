/*
 * test_throttle.c - token bucket arithmetic with explicit timestamps:
 * Firecracker's {size, one_time_burst, refill_time} semantics, debt for
 * oversized requests, and the all-or-nothing take of the two buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm-worker/throttle.h"

#define MS 1000000ULL
#define T0 (1000 * MS)		/* an arbitrary monotonic start */

static struct tbucket bucket(uint64_t size, uint64_t burst, uint64_t refill_ms)
{
	struct job_bucket cfg = { size, burst, refill_ms };
	struct tbucket b;

	tbucket_init(&b, &cfg, T0);
	return b;
}

/* Size 0 means no limit at all. */
static void test_unlimited_never_waits(void **state)
{
	struct tbucket b = bucket(0, 0, 0);

	assert_int_equal(tbucket_wait_ns(&b, UINT64_MAX, T0), 0);
	tbucket_take(&b, UINT64_MAX, T0);
	assert_int_equal(tbucket_wait_ns(&b, UINT64_MAX, T0), 0);
}

/* A bucket starts full: size tokens now, the next one after refill/size. */
static void test_starts_full_then_waits(void **state)
{
	struct tbucket b = bucket(10, 0, 100);

	assert_int_equal(tbucket_tokens(&b, T0), 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(tbucket_wait_ns(&b, 1, T0), 0);
		tbucket_take(&b, 1, T0);
	}
	assert_int_equal(tbucket_wait_ns(&b, 1, T0), 10 * MS);
	assert_int_equal(tbucket_wait_ns(&b, 1, T0 + 4 * MS), 6 * MS);
	assert_int_equal(tbucket_wait_ns(&b, 1, T0 + 10 * MS), 0);
}

/* Refill is linear over refill_time and stops at size. */
static void test_refill_linear_and_capped(void **state)
{
	struct tbucket b = bucket(1000, 0, 1000);

	tbucket_take(&b, 1000, T0);
	assert_int_equal(tbucket_tokens(&b, T0), 0);
	assert_int_equal(tbucket_tokens(&b, T0 + 250 * MS), 250);
	assert_int_equal(tbucket_tokens(&b, T0 + 500 * MS), 500);
	assert_int_equal(tbucket_tokens(&b, T0 + 5000 * MS), 1000);
}

/* Fractions of a token are not lost between refills. */
static void test_refill_keeps_fractions(void **state)
{
	struct tbucket b = bucket(3, 0, 10);	/* one token per 3.33 ms */
	uint64_t now = T0;

	tbucket_take(&b, 3, now);
	for (int i = 0; i < 10; i++) {
		now += 1 * MS;
		tbucket_tokens(&b, now);
	}
	assert_int_equal(tbucket_tokens(&b, now), 3);
}

/* The one-time burst is spent first and never comes back. */
static void test_burst_spent_first_never_refilled(void **state)
{
	struct tbucket b = bucket(10, 5, 100);

	assert_int_equal(tbucket_tokens(&b, T0), 15);
	tbucket_take(&b, 4, T0);
	assert_int_equal(b.burst, 1);
	assert_int_equal(tbucket_tokens(&b, T0), 11);
	tbucket_take(&b, 11, T0);
	assert_int_equal(tbucket_tokens(&b, T0), 0);
	assert_int_equal(tbucket_tokens(&b, T0 + 1000 * MS), 10);
	assert_int_equal(b.burst, 0);
}

/* A take larger than the burst empties the burst and pays the rest from
 * the budget; later waits count only the budget. */
static void test_burst_and_budget_combined(void **state)
{
	struct tbucket b = bucket(10, 5, 100);

	assert_int_equal(tbucket_wait_ns(&b, 15, T0), 0);
	tbucket_take(&b, 12, T0);
	assert_int_equal(b.burst, 0);
	assert_int_equal(tbucket_tokens(&b, T0), 3);
	assert_int_equal(tbucket_wait_ns(&b, 5, T0), 20 * MS);
}

/* More than a bucketful: admitted once the bucket is full, then owed. */
static void test_oversized_request_goes_into_debt(void **state)
{
	struct tbucket b = bucket(4096, 0, 10);

	assert_int_equal(tbucket_wait_ns(&b, 65536, T0), 0);
	tbucket_take(&b, 65536, T0);
	assert_int_equal(tbucket_tokens(&b, T0), 4096 - 65536);
	/* 61440 owed + 1 needed, at 4096 per 10 ms */
	assert_int_equal(tbucket_wait_ns(&b, 1, T0), (61441 * 10 * MS + 4095) / 4096);
	/* From a half-empty bucket it waits for the bucket to fill first. */
	b = bucket(4096, 0, 10);
	tbucket_take(&b, 2048, T0);
	assert_int_equal(tbucket_wait_ns(&b, 65536, T0), 5 * MS);
}

/* Both buckets pay or neither does. */
static void test_throttle_take_all_or_nothing(void **state)
{
	struct job_disk d = { 0 };
	struct throttle t;

	d.bw = (struct job_bucket){ 8192, 0, 100 };
	d.ops = (struct job_bucket){ 100, 0, 100 };
	throttle_init(&t, &d, T0);
	assert_true(throttle_enabled(&t));
	assert_int_equal(throttle_take(&t, 8192, T0), 0);
	assert_int_equal(throttle_take(&t, 4096, T0), 50 * MS);
	assert_int_equal(tbucket_tokens(&t.ops, T0), 99);	/* no op was taken */
	assert_int_equal(throttle_take(&t, 0, T0), 0);	/* flush: one op, no bytes */
	assert_int_equal(tbucket_tokens(&t.ops, T0), 98);
}

/* The ops bucket alone decides the wait when bytes are unlimited. */
static void test_throttle_ops_only(void **state)
{
	struct job_disk d = { 0 };
	struct throttle t;

	d.ops = (struct job_bucket){ 1, 0, 1 };	/* 1000 ops/s */
	throttle_init(&t, &d, T0);
	assert_int_equal(throttle_take(&t, 1 << 20, T0), 0);
	assert_int_equal(throttle_take(&t, 1 << 20, T0), 1 * MS);
	assert_int_equal(throttle_take(&t, 1 << 20, T0 + MS), 0);
}

/* An unconfigured disk is not throttled. */
static void test_throttle_disabled_by_default(void **state)
{
	struct job_disk d = { 0 };
	struct throttle t;

	throttle_init(&t, &d, T0);
	assert_false(throttle_enabled(&t));
	assert_int_equal(throttle_take(&t, UINT64_MAX / 2, T0), 0);
}

/* Huge sizes and refill times do not overflow the arithmetic. */
static void test_extreme_values(void **state)
{
	struct tbucket b = bucket(INT64_MAX, 0, 3600000);

	tbucket_take(&b, UINT64_MAX, T0);
	assert_true(tbucket_wait_ns(&b, 1, T0) > 0);
	assert_int_equal(tbucket_tokens(&b, UINT64_MAX), INT64_MAX);
}

/* The clock is monotonic. */
static void test_now_monotonic(void **state)
{
	uint64_t a = clock_ns(), b = clock_ns();

	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited_never_waits),
		cmocka_unit_test(test_starts_full_then_waits),
		cmocka_unit_test(test_refill_linear_and_capped),
		cmocka_unit_test(test_refill_keeps_fractions),
		cmocka_unit_test(test_burst_spent_first_never_refilled),
		cmocka_unit_test(test_burst_and_budget_combined),
		cmocka_unit_test(test_oversized_request_goes_into_debt),
		cmocka_unit_test(test_throttle_take_all_or_nothing),
		cmocka_unit_test(test_throttle_ops_only),
		cmocka_unit_test(test_throttle_disabled_by_default),
		cmocka_unit_test(test_extreme_values),
		cmocka_unit_test(test_now_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
