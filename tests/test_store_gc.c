/*
 * test_store_gc.c - the store gc script (orchestrator/store_gc.c), run here
 * through sh as a fleet host's login shell would run it, on stores planted
 * with exact sizes and ages: least recently used files go first until the
 * store fits, this vmorch's worker and recently used files stay, killed
 * stages' temporaries go, a held store lock means busy, a dry run deletes
 * nothing, foreign files are not touched; and its answer is read strictly.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/store_gc.h"
#include "tests/sh_run.h"

#define HOUR	3600

static char dir[64];

/* 64 times @c: a sha256 as the store names files. */
static const char *sha(char c)
{
	static char s[8][65];
	static int k;
	char *p = s[k++ % 8];

	memset(p, c, 64);
	p[64] = 0;
	return p;
}

static void path_of(const char *rel, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", dir, rel);
}

/* @rel with @bytes bytes, last used @age_s seconds ago; its directories made. */
static void plant(const char *rel, size_t bytes, unsigned age_s)
{
	char path[512];
	struct timespec t[2];
	char *slash;
	FILE *f;

	path_of(rel, path, sizeof(path));
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < bytes; i++)
		fputc('x', f);
	fclose(f);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool present(const char *rel)
{
	char path[512];

	path_of(rel, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static char *rel2(const char *a, const char *b, const char *c)
{
	static char s[8][256];
	static int k;
	char *p = s[k++ % 8];

	snprintf(p, 256, "%s%s%s", a, b, c ? c : "");
	return p;
}

#define CAS(c)		rel2("cas/", sha(c), NULL)
#define WORKER(c)	rel2("bin/", sha(c), "/vmm-worker")
#define KEEP		'9'

/* Run the gc on the store; its parsed answer. */
static void gc_here(uint64_t max, uint64_t min_age_s, bool dry, struct store_gc *g)
{
	struct store_gc_opts o = {
		.workdir = dir, .keep_sha256 = sha(KEEP), .max_bytes = max,
		.min_age_s = min_age_s, .dry_run = dry,
	};
	struct verr e = { "" };
	char *cmd = store_gc_command(&o, &e), *out;
	size_t len;
	int status;

	assert_non_null(cmd);
	out = sh_run(cmd, &len, &status);
	assert_non_null(out);
	assert_int_equal(status, 0);
	if (store_gc_parse(out, len, g, &e))
		fail_msg("%s\n%s", e.msg, out);
	free(out);
	free(cmd);
}

/* File @i of the answer is @rel, @bytes, @fate, about @age_s old. */
static void expect_file(const struct store_gc *g, size_t i, const char *rel, uint64_t bytes,
			enum store_gc_fate fate, uint64_t age_s)
{
	assert_true(i < g->nfile);
	assert_string_equal(g->file[i].path, rel);
	assert_int_equal(g->file[i].bytes, bytes);
	assert_int_equal(g->file[i].fate, fate);
	/* Planted a moment before the script ran: a second or two may pass. */
	assert_true(g->file[i].age_s >= age_s && g->file[i].age_s <= age_s + 5);
}

static int store_new(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vmorch-gc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)state;
	return 0;
}

static int store_remove(void **state)
{
	char cmd[128];
	size_t len;
	int status;

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(sh_run(cmd, &len, &status));
	(void)state;
	return 0;
}

/* 10000 bytes over a 5000 limit: the three oldest go, oldest first, the newest stays. */
static void test_lru_until_under_limit(void **state)
{
	struct store_gc g;

	plant(CAS('a'), 1000, 4 * HOUR);
	plant(CAS('b'), 2000, 3 * HOUR);
	plant(CAS('c'), 3000, 2 * HOUR);
	plant(CAS('d'), 4000, 1 * HOUR);
	gc_here(5000, 900, false, &g);
	assert_false(g.busy);
	assert_string_equal(g.error, "");
	assert_int_equal(g.files, 4);
	assert_int_equal(g.bytes, 10000);
	assert_int_equal(g.nfile, 3);
	expect_file(&g, 0, CAS('a'), 1000, STORE_GC_DELETED, 4 * HOUR);
	expect_file(&g, 1, CAS('b'), 2000, STORE_GC_DELETED, 3 * HOUR);
	expect_file(&g, 2, CAS('c'), 3000, STORE_GC_DELETED, 2 * HOUR);
	assert_int_equal(store_gc_freed(&g), 6000);
	assert_int_equal(g.spared_files, 0);
	assert_false(present(CAS('a')));
	assert_false(present(CAS('b')));
	assert_false(present(CAS('c')));
	assert_true(present(CAS('d')));
	store_gc_release(&g);
	(void)state;
}

/* At or under the limit nothing goes, however old. */
static void test_under_limit_deletes_nothing(void **state)
{
	struct store_gc g;

	plant(CAS('a'), 1000, 100 * HOUR);
	plant(WORKER('7'), 2000, 100 * HOUR);
	gc_here(3000, 0, false, &g);
	assert_int_equal(g.files, 2);
	assert_int_equal(g.bytes, 3000);
	assert_int_equal(g.nfile, 0);
	assert_true(present(CAS('a')));
	assert_true(present(WORKER('7')));
	store_gc_release(&g);
	(void)state;
}

/*
 * With --max-size 0, an old worker of another vmorch goes (its directory
 * with it); this vmorch's worker, though the oldest, and a file used a
 * minute ago are spared.
 */
static void test_worker_and_recent_files_spared(void **state)
{
	struct store_gc g;

	plant(WORKER(KEEP), 500, 5 * HOUR);
	plant(WORKER('7'), 600, 4 * HOUR);
	plant(CAS('e'), 700, 60);
	gc_here(0, 900, false, &g);
	assert_int_equal(g.files, 3);
	assert_int_equal(g.bytes, 1800);
	assert_int_equal(g.nfile, 1);
	expect_file(&g, 0, WORKER('7'), 600, STORE_GC_DELETED, 4 * HOUR);
	assert_int_equal(g.spared_files, 2);
	assert_int_equal(g.spared_bytes, 1200);
	assert_true(present(WORKER(KEEP)));
	assert_true(present(CAS('e')));
	assert_false(present(rel2("bin/", sha('7'), NULL)));
	store_gc_release(&g);
	(void)state;
}

/*
 * A killed stage's temporaries go whatever the limit and their age (no
 * stage runs under the exclusive lock), with a worker directory they leave
 * empty; they count in the store's size before.
 */
static void test_stage_temporaries_removed(void **state)
{
	struct store_gc g;

	plant("cas/.stage.123", 10, 0);
	plant(rel2("bin/", sha('7'), "/.stage.77"), 20, 0);
	plant(CAS('f'), 100, 2 * HOUR);
	gc_here(10ULL << 30, 900, false, &g);
	assert_int_equal(g.files, 3);
	assert_int_equal(g.bytes, 130);
	assert_int_equal(g.nfile, 2);
	assert_int_equal(store_gc_count(&g, STORE_GC_TEMP), 2);
	assert_int_equal(store_gc_freed(&g), 30);
	assert_false(present("cas/.stage.123"));
	assert_false(present(rel2("bin/", sha('7'), NULL)));
	assert_true(present(CAS('f')));
	store_gc_release(&g);
	(void)state;
}

/* A dry run answers what a real one would do, and deletes nothing. */
static void test_dry_run_deletes_nothing(void **state)
{
	struct store_gc g;

	plant("cas/.stage.9", 10, 0);
	plant(CAS('a'), 1000, 2 * HOUR);
	plant(CAS('b'), 1000, 1 * HOUR);
	gc_here(1000, 900, true, &g);
	assert_int_equal(g.files, 3);
	assert_int_equal(g.bytes, 2010);
	assert_int_equal(g.nfile, 2);
	expect_file(&g, 0, "cas/.stage.9", 10, STORE_GC_TEMP, 0);
	expect_file(&g, 1, CAS('a'), 1000, STORE_GC_DELETED, 2 * HOUR);
	assert_true(present("cas/.stage.9"));
	assert_true(present(CAS('a')));
	assert_true(present(CAS('b')));
	store_gc_release(&g);
	(void)state;
}

/* A store lock held shared (a running job) makes the host busy: nothing goes. */
static void test_held_lock_is_busy(void **state)
{
	struct store_gc g;
	char lock[128];
	int fd;

	plant("cas/.stage.5", 10, 0);
	plant(CAS('a'), 1000, 2 * HOUR);
	path_of("lock", lock, sizeof(lock));
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	gc_here(0, 0, false, &g);
	assert_true(g.busy);
	assert_int_equal(g.nfile, 0);
	assert_true(present(CAS('a')));
	assert_true(present("cas/.stage.5"));
	store_gc_release(&g);
	close(fd);
	gc_here(0, 0, false, &g);
	assert_false(g.busy);
	assert_int_equal(g.nfile, 2);
	assert_false(present(CAS('a')));
	store_gc_release(&g);
	(void)state;
}

/* Only names the store gives are the gc's: anything else in the workdir stays. */
static void test_foreign_files_untouched(void **state)
{
	struct store_gc g;
	char upper[65];

	memset(upper, 'A', 64);
	upper[64] = 0;
	plant("cas/notes.txt", 100, 9 * HOUR);
	plant(rel2("cas/", upper, NULL), 100, 9 * HOUR);
	plant(rel2("cas/", sha('a') + 1, NULL), 100, 9 * HOUR);	/* 63 digits */
	plant(rel2("cas/sub/", sha('a'), NULL), 100, 9 * HOUR);
	plant(rel2("bin/", sha('a'), "/other"), 100, 9 * HOUR);
	plant("cas/.stage.x", 100, 9 * HOUR);
	plant("scratch/.stage.1", 100, 9 * HOUR);
	gc_here(0, 0, false, &g);
	assert_int_equal(g.files, 0);
	assert_int_equal(g.nfile, 0);
	assert_true(present("cas/notes.txt"));
	assert_true(present(rel2("cas/", upper, NULL)));
	assert_true(present(rel2("cas/", sha('a') + 1, NULL)));
	assert_true(present(rel2("cas/sub/", sha('a'), NULL)));
	assert_true(present(rel2("bin/", sha('a'), "/other")));
	assert_true(present("cas/.stage.x"));
	assert_true(present("scratch/.stage.1"));
	store_gc_release(&g);
	(void)state;
}

/* A workdir that does not exist is an empty store, and is not created. */
static void test_missing_workdir_is_empty(void **state)
{
	struct store_gc g;
	char saved[sizeof(dir)];

	memcpy(saved, dir, sizeof(dir));
	assert_true(strlen(dir) + 5 < sizeof(dir));
	strcat(dir, "/none");
	gc_here(0, 0, false, &g);
	assert_false(g.busy);
	assert_int_equal(g.files, 0);
	assert_int_equal(g.nfile, 0);
	assert_int_equal(access(dir, F_OK), -1);
	memcpy(dir, saved, sizeof(dir));
	store_gc_release(&g);
	(void)state;
}

static void test_command_refuses_bad_arguments(void **state)
{
	struct store_gc_opts o = { .workdir = "var/tmp", .keep_sha256 = sha('a') };
	struct verr e = { "" };

	assert_null(store_gc_command(&o, &e));
	assert_string_equal(e.msg, "workdir 'var/tmp': expected an absolute path of letters,"
			    " digits and . _ + - /");
	o.workdir = "/tmp/a b";
	assert_null(store_gc_command(&o, &e));
	assert_string_equal(e.msg, "workdir '/tmp/a b': expected an absolute path of letters,"
			    " digits and . _ + - /");
	o.workdir = "/tmp";
	o.keep_sha256 = "abc";
	assert_null(store_gc_command(&o, &e));
	assert_string_equal(e.msg, "sha256 'abc': expected 64 lowercase hex digits");
	(void)state;
}

#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A well-formed answer, every value exact. */
static void test_parse_exact(void **state)
{
	static const char out[] = "vmorch-gc 1\ntemp=10 bin/" A64 "/.stage.42\n"
		"store=3 3000\ndelete=1000 7200 cas/" A64 "\nfailed=500 3600 bin/" A64
		"/vmm-worker\nspared=1 1500\nend\n";
	struct store_gc g;
	struct verr e = { "" };

	assert_int_equal(store_gc_parse(out, sizeof(out) - 1, &g, &e), 0);
	assert_false(g.busy);
	assert_int_equal(g.files, 4);
	assert_int_equal(g.bytes, 3010);
	assert_int_equal(g.spared_files, 1);
	assert_int_equal(g.spared_bytes, 1500);
	assert_int_equal(g.nfile, 3);
	assert_string_equal(g.file[0].path, "bin/" A64 "/.stage.42");
	assert_int_equal(g.file[0].fate, STORE_GC_TEMP);
	assert_string_equal(g.file[1].path, "cas/" A64);
	assert_int_equal(g.file[1].age_s, 7200);
	assert_int_equal(g.file[2].fate, STORE_GC_FAILED);
	assert_int_equal(store_gc_freed(&g), 1010);
	assert_int_equal(store_gc_count(&g, STORE_GC_FAILED), 1);
	store_gc_release(&g);
	assert_int_equal(store_gc_parse("vmorch-gc 1\nbusy\nend\n", 21, &g, &e), 0);
	assert_true(g.busy);
	store_gc_release(&g);
	assert_int_equal(store_gc_parse("vmorch-gc 1\nerror=no \001flock\nend\n", 32, &g, &e), 0);
	assert_string_equal(g.error, "no ?flock");
	store_gc_release(&g);
	(void)state;
}

static void assert_bad(const char *out, int rc, const char *want)
{
	struct store_gc g;
	struct verr e = { "" };

	assert_int_equal(store_gc_parse(out, strlen(out), &g, &e), rc);
	assert_string_equal(e.msg, want);
	store_gc_release(&g);
}

/* Each way a host's answer can be wrong is refused, saying how. */
static void test_parse_refuses_malformed(void **state)
{
	assert_bad("Welcome!\nvmorch-gc 1\nstore=0 0\nspared=0 0\nend\n", -EPROTO,
		   "store gc: the answer does not start with 'vmorch-gc 1'"
		   " (is the login shell printing a banner?)");
	assert_bad("vmorch-gc 1\nstore=1 10\n", -EPROTO,
		   "store gc: the answer was cut short after 2 lines");
	assert_bad("vmorch-gc 1\nstore=1 10\nend\n", -EINVAL,
		   "store gc line 3: unexpected 'end'");
	assert_bad("vmorch-gc 1\nstore=0 0\nspared=0 0\nend", -EPROTO,
		   "store gc: the answer was cut short after 3 lines");
	assert_bad("vmorch-gc 1\nstore=0 0\nspared=0 0\nend\nmore\n", -EPROTO,
		   "store gc: output after the end line");
	assert_bad("vmorch-gc 1\nstore=1 x\n", -EINVAL,
		   "store gc line 2: store: expected FILES BYTES");
	assert_bad("vmorch-gc 1\nstore=1 99999999999999999999\n", -EINVAL,
		   "store gc line 2: store: expected FILES BYTES");
	assert_bad("vmorch-gc 1\nstore=1 10\ndelete=10 5 /etc/passwd\n", -EINVAL,
		   "store gc line 3: expected BYTES AGE PATH, not '/etc/passwd'");
	assert_bad("vmorch-gc 1\nstore=1 10\ndelete=10 5 cas/../../x\n", -EINVAL,
		   "store gc line 3: expected BYTES AGE PATH, not 'cas/../../x'");
	assert_bad("vmorch-gc 1\nstore=1 10\ndelete=10 cas/" A64 "\n", -EINVAL,
		   "store gc line 3: expected BYTES AGE PATH, not 'cas/" A64 "'");
	assert_bad("vmorch-gc 1\ntemp=10 cas/.stage.\n", -EINVAL,
		   "store gc line 2: expected BYTES PATH, not 'cas/.stage.'");
	assert_bad("vmorch-gc 1\nstore=1 10\ntemp=10 cas/.stage.1\n", -EINVAL,
		   "store gc line 3: unexpected 'temp=10 cas/.stage.1'");
	assert_bad("vmorch-gc 1\nstore=1 10\nbusy\nend\n", -EINVAL,
		   "store gc line 3: unexpected 'busy'");
	assert_bad("vmorch-gc 1\nstore=1 10\ndelete=20 5 cas/" A64 "\nspared=0 0\nend\n",
		   -EPROTO, "store gc: 1 files of 20 bytes listed, more than the store's"
		   " 1 of 10");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lru_until_under_limit, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_under_limit_deletes_nothing, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_worker_and_recent_files_spared, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_stage_temporaries_removed, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_dry_run_deletes_nothing, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_held_lock_is_busy, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_foreign_files_untouched, store_new,
						store_remove),
		cmocka_unit_test_setup_teardown(test_missing_workdir_is_empty, store_new,
						store_remove),
		cmocka_unit_test(test_command_refuses_bad_arguments),
		cmocka_unit_test(test_parse_exact),
		cmocka_unit_test(test_parse_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
