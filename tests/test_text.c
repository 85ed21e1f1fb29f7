/*
 * test_text.c - the small text helpers every printer relies on: visible
 * escapes for control characters and invalid UTF-8 (terminal safety), and
 * verr_errno() capturing errno before the message is formatted.
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

#include "common/text_escape.h"
#include "common/verr.h"

static void expect_escape(const char *in, unsigned flags, const char *want)
{
	char out[256];
	size_t n = text_escape(out, sizeof(out), in, flags);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(text_is_clean(in, flags), strcmp(in, want) == 0);
}

/* An OSC title change and a colour reset become visible text. */
static void test_escape_sequences_made_visible(void **state)
{
	expect_escape("\x1b]0;x\a\x1b[31mred", 0, "\\e]0;x\\x07\\e[31mred");
	expect_escape("a\rFAKE pass", 0, "a\\rFAKE pass");
	expect_escape("del\x7f", 0, "del\\x7f");
	(void)state;
}

/* C1 controls (U+009B is a one-character CSI) are escaped byte by byte. */
static void test_c1_controls_escaped(void **state)
{
	expect_escape("x\xc2\x9b" "31m", 0, "x\\xc2\\x9b31m");
	expect_escape("\xc2\x85", 0, "\\xc2\\x85");
	(void)state;
}

/* Valid UTF-8 is kept; overlong, surrogate and stray bytes are not. */
static void test_utf8_kept_invalid_escaped(void **state)
{
	expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
		      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	expect_escape("\xc0\xaf", 0, "\\xc0\\xaf");		/* overlong '/' */
	expect_escape("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");	/* surrogate */
	expect_escape("\xff", 0, "\\xff");
	expect_escape("\xe2\x82", 0, "\\xe2\\x82");		/* cut short */
	(void)state;
}

/* Line breaks and tabs stay in multi-line text, and only there. */
static void test_keep_lines(void **state)
{
	expect_escape("a\nb\tc", TEXT_KEEP_LINES, "a\nb\tc");
	expect_escape("a\nb\tc", 0, "a\\nb\\tc");
	expect_escape("a\r\n", TEXT_KEEP_LINES, "a\\r\n");
	(void)state;
}

/* A small buffer gets whole escapes only, and the needed length. */
static void test_escape_truncates_whole(void **state)
{
	char out[4];

	assert_int_equal(text_escape(out, sizeof(out), "ab\x1b", 0), 4);
	assert_string_equal(out, "ab");
	(void)state;
}

/* text_fputs writes the escaped form and reports a write error. */
static void test_fputs_escaped_and_errors(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FILE *full;

	assert_non_null(f);
	assert_int_equal(text_fputs("\x1b[2J", f, 0), 0);
	fclose(f);
	assert_string_equal(buf, "\\e[2J");
	free(buf);
	full = fopen("/dev/full", "w");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		assert_int_equal(text_fputs("x", full, 0), EOF);
		fclose(full);
	}
	(void)state;
}

/*
 * A whole console is bytes, not a string: a NUL is shown and the text goes
 * on; a UTF-8 sequence cut by the end of the buffer is escaped byte by
 * byte, never read past.
 */
static void test_fwrite_bytes_with_nuls(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(text_fwrite("a\0b\n\tcaf\xc3\xa9 \xe2\x82", 13, f, TEXT_KEEP_LINES), 0);
	fclose(f);
	assert_string_equal(buf, "a\\x00b\n\tcaf\xc3\xa9 \\xe2\\x82");
	free(buf);
	(void)state;
}

/* verr_errno reports the errno of the failed call, whatever runs after. */
static void test_verr_errno_captures_first(void **state)
{
	struct verr e = { "" };

	errno = ENOSPC;
	assert_int_equal(verr_errno(&e, "writing %s", "x.db"), -ENOSPC);
	assert_string_equal(e.msg, "writing x.db: No space left on device");
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_int_equal(verr_errno(NULL, "nothing"), -EIO);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_sequences_made_visible),
		cmocka_unit_test(test_c1_controls_escaped),
		cmocka_unit_test(test_utf8_kept_invalid_escaped),
		cmocka_unit_test(test_keep_lines),
		cmocka_unit_test(test_escape_truncates_whole),
		cmocka_unit_test(test_fputs_escaped_and_errors),
		cmocka_unit_test(test_fwrite_bytes_with_nuls),
		cmocka_unit_test(test_verr_errno_captures_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
