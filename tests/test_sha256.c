/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 example vectors and the
 * block boundaries where padding goes wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sha256.h"

static void expect_hex(const char *msg, const char *want)
{
	char out[65];

	sha256_hex(msg, strlen(msg), out);
	assert_string_equal(out, want);
}

static void test_fips_vectors(void **state)
{
	expect_hex("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_hex("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One million 'a', fed in uneven pieces. */
static void test_million_a_in_pieces(void **state)
{
	static char chunk[997];
	struct sha256 s;
	uint8_t d[32];
	size_t left = 1000000;
	static const uint8_t want[32] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
		0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
		0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
	};

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

		sha256_update(&s, chunk, n);
		left -= n;
	}
	sha256_final(&s, d);
	assert_memory_equal(d, want, 32);
}

/* 55, 56 and 64 bytes, where the length field spills over (digests from coreutils sha256sum). */
static void test_padding_boundaries(void **state)
{
	char m[65];

	memset(m, 'x', sizeof(m));
	m[55] = 0;
	expect_hex(m, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
	memset(m, 'x', sizeof(m));
	m[56] = 0;
	expect_hex(m, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
	memset(m, 'x', sizeof(m));
	m[64] = 0;
	expect_hex(m, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

static void test_file_and_missing_file(void **state)
{
	char path[] = "/tmp/vmorch-sha-XXXXXX", out[65];
	struct verr e = { "" };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(sha256_file_hex(path, out, NULL), 0);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(sha256_file_hex("/nonexistent/x.yaml", out, &e), -2);
	assert_string_equal(e.msg, "/nonexistent/x.yaml: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_million_a_in_pieces),
		cmocka_unit_test(test_padding_boundaries),
		cmocka_unit_test(test_file_and_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
