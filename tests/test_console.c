/*
 * test_console.c - a job's whole console: the ring the worker writes into
 * its shared region copied out in order (cap not reached, reached exactly,
 * passed, a scribbled total), the tail a report keeps, and the zlib form
 * the database stores, which must come back byte for byte or be refused.
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

#include "common/console_ring.h"
#include "common/console_zlib.h"
#include "common/shm.h"

/* What the worker's UART does with each byte: byte i at i % cap. */
static void ring_write(char *ring, size_t cap, uint64_t *total, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ring[(*total)++ % cap] = s[i];
}

/* Fewer bytes than the cap: all of them, nothing dropped. */
static void test_ring_under_cap_kept_whole(void **state)
{
	char ring[16] = { 0 };
	uint64_t total = 0;
	struct console_text t;

	ring_write(ring, sizeof(ring), &total, "boot ok\n", 8);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	assert_int_equal(t.len, 8);
	assert_memory_equal(t.data, "boot ok\n", 9);	/* and its NUL */
	assert_int_equal(t.bytes, 8);
	assert_int_equal(t.dropped, 0);
	console_text_release(&t);
	(void)state;
}

/* Exactly the cap: every byte, in order, none dropped. */
static void test_ring_exactly_cap(void **state)
{
	char ring[8];
	uint64_t total = 0;
	struct console_text t;

	ring_write(ring, sizeof(ring), &total, "01234567", 8);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	assert_int_equal(t.len, 8);
	assert_memory_equal(t.data, "01234567", 8);
	assert_int_equal(t.dropped, 0);
	console_text_release(&t);
	(void)state;
}

/* Past the cap the last cap bytes come out oldest first; the rest are counted. */
static void test_ring_past_cap_keeps_tail_in_order(void **state)
{
	char ring[8];
	uint64_t total = 0;
	struct console_text t;

	ring_write(ring, sizeof(ring), &total, "abcdefghijklmnopqrstu", 21);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	assert_int_equal(t.len, 8);
	assert_memory_equal(t.data, "nopqrstu", 8);
	assert_int_equal(t.data[8], 0);
	assert_int_equal(t.bytes, 21);
	assert_int_equal(t.dropped, 13);
	console_text_release(&t);
	/* Wrapped exactly twice: the ring holds the last 8 from offset 0. */
	total = 0;
	ring_write(ring, sizeof(ring), &total, "0123456789abcdef", 16);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	assert_memory_equal(t.data, "89abcdef", 8);
	assert_int_equal(t.dropped, 8);
	console_text_release(&t);
	(void)state;
}

/* NUL and high bytes are console bytes like any other. */
static void test_ring_keeps_binary_bytes(void **state)
{
	char ring[4];
	uint64_t total = 0;
	struct console_text t;

	ring_write(ring, sizeof(ring), &total, "x\0\xff\x1b\n", 5);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	assert_int_equal(t.len, 4);
	assert_memory_equal(t.data, "\0\xff\x1b\n", 4);
	assert_int_equal(t.dropped, 1);
	console_text_release(&t);
	(void)state;
}

/* A scribbled total only moves the start; it never reads outside the ring. */
static void test_ring_any_total_is_safe(void **state)
{
	char ring[8] = "ABCDEFGH";
	struct console_text t;

	assert_int_equal(console_ring_copy(ring, sizeof(ring), UINT64_MAX, &t), 0);
	assert_int_equal(t.len, 8);
	/* UINT64_MAX % 8 == 7: the oldest byte is H. */
	assert_memory_equal(t.data, "HABCDEFG", 8);
	assert_true(t.dropped == UINT64_MAX - 8);
	console_text_release(&t);
	assert_int_equal(console_ring_copy(ring, 0, 12345, &t), 0);
	assert_int_equal(t.len, 0);
	assert_true(t.dropped == 12345);
	console_text_release(&t);
	(void)state;
}

/* A report's cut: the last bytes, the cut counted as dropped. */
static void test_keep_tail(void **state)
{
	char ring[16];
	uint64_t total = 0;
	struct console_text t;

	ring_write(ring, sizeof(ring), &total, "line 1\nline 2\n", 14);
	assert_int_equal(console_ring_copy(ring, sizeof(ring), total, &t), 0);
	console_text_keep_tail(&t, 7);
	assert_string_equal(t.data, "line 2\n");
	assert_int_equal(t.dropped, 7);
	assert_int_equal(t.bytes, 14);
	console_text_keep_tail(&t, 100);
	assert_string_equal(t.data, "line 2\n");
	console_text_release(&t);
	(void)state;
}

/* The shm region's ring: what the worker wrote, read with the creator's cap. */
static void test_shm_console_read(void **state)
{
	struct console_text t;
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	assert_int_equal(m.r->console_cap, 0);	/* off until the creator sets it */
	m.r->console_cap = 4;
	memcpy(m.r->console, "8967", 4);	/* "0123456789" went through a ring of 4 */
	atomic_store(&m.r->console_total, 10);
	/* The worker may have raised its own cap word: the reader's cap rules. */
	m.r->console_cap = 1000;
	assert_int_equal(shm_read_console(m.r, 4, &t), 0);
	assert_int_equal(t.len, 4);
	assert_memory_equal(t.data, "6789", 4);
	assert_int_equal(t.bytes, 10);
	assert_int_equal(t.dropped, 6);
	console_text_release(&t);
	/* A cap beyond the region's ring is the ring's size. */
	atomic_store(&m.r->console_total, 3);
	assert_int_equal(shm_read_console(m.r, UINT32_MAX, &t), 0);
	assert_int_equal(t.len, 3);
	assert_memory_equal(t.data, "896", 3);
	console_text_release(&t);
	shm_unmap(&m);
	(void)state;
}

static void round_trip(const char *data, size_t len)
{
	unsigned char *z;
	size_t zlen;
	char *back;

	assert_int_equal(console_deflate(data, len, &z, &zlen), 0);
	assert_true(zlen > 0);
	assert_int_equal(console_inflate(z, zlen, len, &back), 0);
	assert_memory_equal(back, data, len);
	assert_int_equal(back[len], 0);
	free(back);
	free(z);
}

/* Empty, text, binary and a full MiB come back byte for byte. */
static void test_zlib_round_trip(void **state)
{
	char *big = malloc(VMORCH_CONSOLE_MAX);
	uint32_t x = 1;

	assert_non_null(big);
	round_trip("", 0);
	round_trip("vmorch-guest: start\nVMORCH-RESULT {\"status\":\"pass\"}\n", 52);
	round_trip("\0\x01\xff\x1b[31m\0", 8);
	for (size_t i = 0; i < VMORCH_CONSOLE_MAX; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;	/* incompressible */
		big[i] = (char)x;
	}
	round_trip(big, VMORCH_CONSOLE_MAX);
	memset(big, 'a', VMORCH_CONSOLE_MAX);
	round_trip(big, VMORCH_CONSOLE_MAX);
	free(big);
	(void)state;
}

/* Text shrinks: a repetitive 64 KiB log stores in a few KiB. */
static void test_zlib_compresses_text(void **state)
{
	static char log[65536];
	unsigned char *z;
	size_t zlen, n = 0;

	while (n + 40 < sizeof(log))
		n += (size_t)snprintf(log + n, sizeof(log) - n, "vmorch-guest: disk 0 %zu%%\n",
				      n % 101);
	assert_int_equal(console_deflate(log, n, &z, &zlen), 0);
	assert_true(zlen < n / 10);
	free(z);
	(void)state;
}

/*
 * A row whose length or stream disagree is refused, never trusted: a
 * shorter or longer stream than the row says, garbage, trailing bytes, a
 * length past the bound.
 */
static void test_zlib_refuses_damaged_rows(void **state)
{
	static const char text[] = "0123456789abcdef0123456789abcdef";
	unsigned char *z, *junk;
	size_t zlen;
	char *out;

	assert_int_equal(console_deflate(text, 32, &z, &zlen), 0);
	assert_int_equal(console_inflate(z, zlen, 31, &out), -EBADMSG);
	assert_null(out);
	assert_int_equal(console_inflate(z, zlen, 33, &out), -EBADMSG);
	assert_int_equal(console_inflate(z, zlen - 1, 32, &out), -EBADMSG);
	assert_int_equal(console_inflate((const unsigned char *)"not zlib", 8, 8, &out),
			 -EBADMSG);
	junk = malloc(zlen + 1);
	assert_non_null(junk);
	memcpy(junk, z, zlen);
	junk[zlen] = 'x';
	assert_int_equal(console_inflate(junk, zlen + 1, 32, &out), -EBADMSG);
	assert_int_equal(console_inflate(z, zlen, CONSOLE_STORED_MAX + 1, &out), -EFBIG);
	assert_int_equal(console_inflate(z, zlen, 32, &out), 0);
	assert_memory_equal(out, text, 32);
	free(out);
	free(junk);
	free(z);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_under_cap_kept_whole),
		cmocka_unit_test(test_ring_exactly_cap),
		cmocka_unit_test(test_ring_past_cap_keeps_tail_in_order),
		cmocka_unit_test(test_ring_keeps_binary_bytes),
		cmocka_unit_test(test_ring_any_total_is_safe),
		cmocka_unit_test(test_keep_tail),
		cmocka_unit_test(test_shm_console_read),
		cmocka_unit_test(test_zlib_round_trip),
		cmocka_unit_test(test_zlib_compresses_text),
		cmocka_unit_test(test_zlib_refuses_damaged_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
