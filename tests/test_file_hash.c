/*
 * test_file_hash.c - file_sha256 (orchestrator/file_hash.c): a file's hash
 * is remembered while its size and times stay, and worked out again once
 * the file is written; the hash of a file changed in the last seconds is
 * not kept; a cache entry that does not match is never used.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/file_hash.h"

/* sha256 of "hello\n" */
#define HELLO	"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define FAKE	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[64], file[96], entry[256];

/* "hello\n" as @name in the test's directory; its cache entry's path. */
static int file_make(const char *name)
{
	struct stat st;
	int fd;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "hello\n", 6) != 6 || close(fd) || stat(file, &st))
		return -1;
	snprintf(entry, sizeof(entry), "%s/sha256/%llu-%llu", dir,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return 0;
}

/*
 * A hash is kept only for a file that has not changed for 3 s
 * (file_hash.c, QUIET_NS): the files the tests use are made once, up front,
 * and left to age for a little longer than that.
 */
static int group_setup(void **state)
{
	static const char *const names[] = { "remembered.raw", "written.raw", "bad.raw" };

	(void)state;
	strcpy(dir, "/tmp/vmorch-test-hash-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("VMORCH_CACHE", dir, 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (file_make(names[i]))
			return -1;
	sleep(4);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Point file and entry at @name, made by group_setup. */
static void file_use(const char *name)
{
	struct stat st;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	assert_int_equal(stat(file, &st), 0);
	snprintf(entry, sizeof(entry), "%s/sha256/%llu-%llu", dir,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

static void hash_now(char out[65])
{
	struct verr e = { "" };
	struct stat st;

	assert_int_equal(stat(file, &st), 0);
	if (file_sha256(file, &st, out, &e))
		fail_msg("%s", e.msg);
}

/* Replace the entry's hash with FAKE, keeping its size and times. */
static void entry_forge(void)
{
	char buf[256];
	FILE *f = fopen(entry, "r+");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_true(n > 65);
	assert_int_equal(fseek(f, (long)n - 65, SEEK_SET), 0);
	assert_int_equal(fwrite(FAKE, 1, 64, f), 64);
	fclose(f);
}

/* The first time the file is read and its hash kept; then the entry is used. */
static void test_hash_is_remembered(void **state)
{
	char sha[65];

	(void)state;
	file_use("remembered.raw");
	hash_now(sha);
	assert_string_equal(sha, HELLO);
	assert_int_equal(access(entry, R_OK), 0);
	entry_forge();
	hash_now(sha);
	assert_string_equal(sha, FAKE);	/* from the entry: the file was not read */
}

/*
 * A write changes the file's ctime: the entry no longer counts.  The file,
 * now new, is hashed but not kept: a second write in the same tick of the
 * file system's clock leaves its times as they were, and must be seen.
 */
static void test_written_file_is_hashed_again(void **state)
{
	char sha[65];
	int fd;

	(void)state;
	file_use("written.raw");
	hash_now(sha);
	entry_forge();
	fd = open(file, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "H", 1, 0), 1);
	close(fd);
	hash_now(sha);
	assert_string_not_equal(sha, FAKE);
	assert_string_not_equal(sha, HELLO);
	fd = open(file, O_WRONLY);
	assert_int_equal(pwrite(fd, "h", 1, 0), 1);
	close(fd);
	hash_now(sha);
	assert_string_equal(sha, HELLO);
}

/* A file made just now is hashed, and its hash not kept. */
static void test_new_file_is_not_remembered(void **state)
{
	char sha[65];

	(void)state;
	assert_int_equal(file_make("new.raw"), 0);
	hash_now(sha);
	assert_string_equal(sha, HELLO);
	assert_int_equal(access(entry, F_OK), -1);
}

/* Entries that are not exactly right are passed over, never trusted. */
static void test_bad_entries_are_not_used(void **state)
{
	static const char *const bad[] = {
		"", "garbage\n", "6 1.0 1.0 " FAKE "\n", FAKE "\n",
	};
	char sha[65];

	(void)state;
	file_use("bad.raw");
	hash_now(sha);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(entry, "w");

		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		hash_now(sha);
		assert_string_equal(sha, HELLO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_remembered),
		cmocka_unit_test(test_written_file_is_hashed_again),
		cmocka_unit_test(test_new_file_is_not_remembered),
		cmocka_unit_test(test_bad_entries_are_not_used),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
