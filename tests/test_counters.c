/*
 * test_counters.c - the counter list, its atomic block, helpers and snapshot.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/vblk_counters.h"
#include "common/vblk_json.h"

/* Field i (in list order) gets a value no other field has. */
#define DISTINCT(i) (1000003ULL * (uint64_t)(i) + 17ULL)

/* The snapshot and its JSON mirror every atomic field by name. */
static void test_snapshot_mirrors_every_field(void **state)
{
	struct vblk_counters c;
	struct vblk_snapshot s;
	json_t *o, *v;
	int i = 0;

	vblk_counters_init(&c);
#define SET(n, u, d, k) atomic_store(&c.n, DISTINCT(i)); i++;
	VBLK_COUNTERS(SET)
#undef SET
	assert_int_equal(i, 9);
	assert_int_equal(VBLK_NR_COUNTERS, 9);

	vblk_counters_snapshot(&c, &s);
	o = vblk_snapshot_to_json(&s);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 9);
	i = 0;
#define CHECK(n, u, d, k)                                        \
	assert_int_equal(s.n, DISTINCT(i));                      \
	v = json_object_get(o, #n);                              \
	assert_non_null(v);                                      \
	assert_int_equal(json_integer_value(v), DISTINCT(i));    \
	assert_int_equal(vblk_field_find(#n), i);                \
	assert_string_equal(vblk_fields[i].name, #n);            \
	i++;
	VBLK_COUNTERS(CHECK)
#undef CHECK
	json_decref(o);
}

/* The seed's names, in the seed's order. */
static void test_field_names_follow_seed(void **state)
{
	static const char *const seed[] = {
		"reads_completed", "writes_completed", "flushes_completed",
		"bytes_read", "bytes_written", "throttled_count", "io_errors",
		"currently_throttled_gauge", "invalid_avail_idx_count",
	};

	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		assert_string_equal(vblk_fields[i].name, seed[i]);
	assert_int_equal(vblk_field_find("no_such_counter"), -1);
	assert_int_equal(vblk_fields[vblk_field_find("io_errors")].dir, VMORCH_DIR_LOWER);
	assert_int_equal(vblk_fields[vblk_field_find("currently_throttled_gauge")].kind,
			 VBLK_GAUGE);
}

/* The gauge goes up and down and stops at zero. */
static void test_gauge_dec_saturates_at_zero(void **state)
{
	struct vblk_counters c;
	struct vblk_snapshot s;

	vblk_counters_init(&c);
	record_throttled_gauge_dec(&c);
	vblk_counters_snapshot(&c, &s);
	assert_int_equal(s.currently_throttled_gauge, 0);

	record_throttled_gauge_inc(&c);
	record_throttled_gauge_inc(&c);
	record_throttled_gauge_dec(&c);
	vblk_counters_snapshot(&c, &s);
	assert_int_equal(s.currently_throttled_gauge, 1);

	record_throttled_gauge_dec(&c);
	record_throttled_gauge_dec(&c);
	record_throttled_gauge_dec(&c);
	vblk_counters_snapshot(&c, &s);
	assert_int_equal(s.currently_throttled_gauge, 0);
}

/* 1000 reads of 4 KiB and 250 writes of 512 B move both fields of each pair. */
static void test_paired_helpers_move_both_fields(void **state)
{
	struct vblk_counters c;
	struct vblk_snapshot s;

	vblk_counters_init(&c);
	for (int i = 0; i < 1000; i++)
		record_read(&c, 4096);
	for (int i = 0; i < 250; i++)
		record_write(&c, 512);
	record_flush(&c);
	record_io_error(&c);
	record_io_error(&c);
	record_throttled_event(&c);
	record_invalid_avail_idx(&c);
	vblk_counters_snapshot(&c, &s);

	assert_int_equal(s.reads_completed, 1000);
	assert_int_equal(s.bytes_read, 4096000);
	assert_int_equal(s.writes_completed, 250);
	assert_int_equal(s.bytes_written, 128000);
	assert_int_equal(s.flushes_completed, 1);
	assert_int_equal(s.io_errors, 2);
	assert_int_equal(s.throttled_count, 1);
	assert_int_equal(s.currently_throttled_gauge, 0);
	assert_int_equal(s.invalid_avail_idx_count, 1);
}

static void *reader_thread(void *arg)
{
	struct vblk_counters *c = arg;

	for (int i = 0; i < 1000000; i++)
		record_read(c, 512);
	return NULL;
}

/* 4 threads x 1,000,000 record_read(512): no update is lost. */
static void test_concurrent_reads_exact(void **state)
{
	struct vblk_counters c;
	struct vblk_snapshot s;
	pthread_t t[4];

	vblk_counters_init(&c);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &c), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	vblk_counters_snapshot(&c, &s);
	assert_int_equal(s.reads_completed, 4000000);
	assert_int_equal(s.bytes_read, 2048000000ULL);
	assert_int_equal(s.writes_completed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_mirrors_every_field),
		cmocka_unit_test(test_field_names_follow_seed),
		cmocka_unit_test(test_gauge_dec_saturates_at_zero),
		cmocka_unit_test(test_paired_helpers_move_both_fields),
		cmocka_unit_test(test_concurrent_reads_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
