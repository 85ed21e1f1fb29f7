/*
 * test_cli.c - the read commands as a user meets them: `vmorch runs` and
 * `vmorch show` on a damaged, missing or unwritable database, and on a full
 * output device.  Runs the built vmorch binary on databases this program
 * makes with libdb; no KVM needed.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "orchestrator/db.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define NRESULTS 200

struct fixture {
	char dir[64];
	char path[128];
	char out[128];
	char err[128];
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-cli-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vmorch.db", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/stdout", f->dir);
	snprintf(f->err, sizeof(f->err), "%s/stderr", f->dir);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* ---- running vmorch ---- */

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

/*
 * Run vmorch with @args (NULL-terminated), stdout to @out (f->out when
 * NULL), stderr to f->err; its exit status.  Bounded: killed after 60 s.
 */
static int vmorch(struct fixture *f, const char *out, const char *const args[])
{
	const char *argv[16] = { "vmorch" };
	int status, n = 1;
	pid_t pid;

	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out ? out : f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(f->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		alarm(60);
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("vmorch killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static char *file_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

static void assert_stdout_empty(struct fixture *f)
{
	char *s = file_text(f->out);

	assert_string_equal(s, "");
	free(s);
}

static void assert_stderr_has(struct fixture *f, const char *want)
{
	char *s = file_text(f->err);

	if (!strstr(s, want))
		fail_msg("stderr lacks [%s]: [%s]", want, s);
	free(s);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- a database of NRESULTS results, and damage to it ---- */

static void build_db(struct fixture *f)
{
	static const struct db_run_file files[] = {
		{ "smoke.yaml", SHA_EMPTY, NULL },
	};
	const struct db_run_info info = {
		.label = "nightly", .host = "h", .vmorch_version = "0",
		.command_line = "vmorch run smoke.yaml", .nfiles = 1,
		.files = files, .jobs_total = NRESULTS,
	};
	struct job_desc job;
	struct vm_result r;
	struct verr e = { "" };
	struct db *db;
	int64_t run;

	if (db_open(f->path, &db, &e) || db_run_begin(db, &info, &run, &e))
		fail_msg("%s", e.msg);
	memset(&job, 0, sizeof(job));
	strcpy(job.scenario, "smoke");
	strcpy(job.scenario_file, "smoke.yaml");
	strcpy(job.vm, "read");
	memset(&r, 0, sizeof(r));
	r.success = true;
	r.exit_kind = VM_EXIT_GUEST_PASS;
	r.ndisks = 2;
	/* Wide values: 400 rows of 8-byte integers span several leaf pages. */
	for (uint32_t d = 0; d < 2; d++)
		for (int i = 0; i < VBLK_NR_COUNTERS; i++)
			*(uint64_t *)((char *)&r.disk[d] + vblk_fields[i].plain_off) =
				(1ull << 60) + (uint64_t)i;
	r.disk[0].reads_completed = 1000;
	vm_result_set_metric(&r, "iops", 1234.5);
	for (unsigned i = 0; i < NRESULTS; i++) {
		job.repeat = i;
		if (db_store_result(db, run, &job, "h", &r, NULL, true, NULL, &e))
			fail_msg("%s", e.msg);
	}
	if (db_run_end(db, run, DB_RUN_PASSED, &e))
		fail_msg("%s", e.msg);
	db_close(db);	/* the last connection checkpoints: no -wal left */
}

/* One integer from @sql on the database, opened read-only by SQLite itself. */
static int64_t db_query_int(struct fixture *f, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* Overwrite page @pageno (1-based) with garbage. */
static void page_smash(struct fixture *f, int64_t pageno)
{
	int64_t size = db_query_int(f, "PRAGMA page_size");
	char *junk = malloc((size_t)size);
	int fd = open(f->path, O_WRONLY);

	assert_non_null(junk);
	assert_true(fd >= 0);
	assert_true(pageno > 1);
	memset(junk, 0x5a, (size_t)size);
	assert_int_equal(pwrite(fd, junk, (size_t)size, (pageno - 1) * size), size);
	close(fd);
	free(junk);
}

/* A leaf page of blk_counters in the middle of the table. */
static void smash_middle_counters(struct fixture *f)
{
	int64_t nleaves = db_query_int(f, "SELECT count(*) FROM dbstat"
				       " WHERE name = 'blk_counters' AND pagetype = 'leaf'");
	char sql[256];

	assert_true(nleaves >= 3);
	snprintf(sql, sizeof(sql), "SELECT pageno FROM dbstat WHERE name ="
		 " 'blk_counters' AND pagetype = 'leaf' ORDER BY path"
		 " LIMIT 1 OFFSET %d", (int)(nleaves / 2));
	page_smash(f, db_query_int(f, sql));
}

static void smash_root(struct fixture *f, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT rootpage FROM sqlite_schema"
		 " WHERE name = '%s'", table);
	page_smash(f, db_query_int(f, sql));
}

/* ---- tests ---- */

/* The undamaged database lists all its results: the baseline for the rest. */
static void test_show_json_complete(void **state)
{
	struct fixture *f = *state;
	char *s, *p;
	int n = 0;

	build_db(f);
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "show", "--db", f->path,
					   "--json", "1", NULL }), 0);
	s = file_text(f->out);
	for (p = s; (p = strstr(p, "\"reads_completed\": 1000")); p++)
		n++;
	assert_int_equal(n, NRESULTS);
	free(s);
}

/* A corrupt page under `show --json`: exit 3, nothing on stdout, "corrupt" said. */
static void test_show_json_corrupt_page_fails(void **state)
{
	struct fixture *f = *state;

	build_db(f);
	smash_middle_counters(f);
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "show", "--db", f->path,
					   "--json", "1", NULL }), 3);
	assert_stdout_empty(f);
	assert_stderr_has(f, "the database is corrupt");
}

/* The same under the text `show`: no table that looks complete. */
static void test_show_text_corrupt_page_fails(void **state)
{
	struct fixture *f = *state;

	build_db(f);
	smash_middle_counters(f);
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "show", "--db", f->path,
					   "nightly", NULL }), 3);
	assert_stdout_empty(f);
	assert_stderr_has(f, "vmorch show: results: the database is corrupt");
}

/* `runs` (text and JSON) on a corrupt runs table: exit 3, nothing printed. */
static void test_runs_corrupt_page_fails(void **state)
{
	struct fixture *f = *state;

	build_db(f);
	smash_root(f, "runs");
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "runs", "--db", f->path,
					   NULL }), 3);
	assert_stdout_empty(f);
	assert_stderr_has(f, "vmorch runs: runs: the database is corrupt");
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "runs", "--db", f->path,
					   "--json", NULL }), 3);
	assert_stdout_empty(f);
	assert_stderr_has(f, "the database is corrupt");
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "show", "--db", f->path,
					   "last", NULL }), 3);
	assert_stdout_empty(f);
}

/* A writer refuses a database whose runs table SQLite finds corrupt. */
static void test_open_for_writing_refuses_corrupt(void **state)
{
	struct fixture *f = *state;
	struct verr e = { "" };
	struct db *db;

	build_db(f);
	smash_root(f, "runs");
	assert_int_equal(db_open(f->path, &db, &e), -EUCLEAN);
	assert_null(db);
	assert_non_null(strstr(e.msg, "the database is corrupt"));
}

/* Storing into a corrupt table fails and says the database is corrupt. */
static void test_store_into_corrupt_says_corrupt(void **state)
{
	struct fixture *f = *state;
	static const struct db_run_file files[] = {
		{ "smoke.yaml", SHA_EMPTY, NULL },
	};
	const struct db_run_info info = {
		.host = "h", .vmorch_version = "0", .command_line = "c",
		.nfiles = 1, .files = files, .jobs_total = 1,
	};
	struct job_desc job;
	struct vm_result r;
	struct verr e = { "" };
	struct db *db;
	int64_t run;

	build_db(f);
	smash_root(f, "blk_counters");
	if (db_open(f->path, &db, &e) || db_run_begin(db, &info, &run, &e))
		fail_msg("%s", e.msg);
	memset(&job, 0, sizeof(job));
	strcpy(job.scenario, "smoke");
	strcpy(job.vm, "read");
	memset(&r, 0, sizeof(r));
	r.exit_kind = VM_EXIT_GUEST_PASS;
	r.ndisks = 1;
	assert_int_equal(db_store_result(db, run, &job, "h", &r, NULL, true, NULL,
					 &e), -EUCLEAN);
	assert_non_null(strstr(e.msg, "store counters: the database is corrupt"));
	db_close(db);
}

/* `runs --db typo.db`: exit 3, "no database at PATH", and no file appears. */
static void test_runs_missing_db_creates_nothing(void **state)
{
	struct fixture *f = *state;
	char want[256];

	assert_int_equal(vmorch(f, NULL, (const char *[]){ "runs", "--db", f->path,
					   NULL }), 3);
	snprintf(want, sizeof(want), "vmorch runs: no database at %s\n", f->path);
	assert_stderr_has(f, want);
	assert_false(file_exists(f->path));
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "show", "--db", f->path,
					   "last", NULL }), 3);
	assert_false(file_exists(f->path));
}

/* Output to a full device is an infrastructure error, not success. */
static void test_runs_to_dev_full(void **state)
{
	struct fixture *f = *state;

	build_db(f);
	assert_int_equal(vmorch(f, "/dev/full", (const char *[]){ "runs", "--db",
					   f->path, NULL }), 3);
	assert_stderr_has(f, "write error: No space left on device");
	assert_int_equal(vmorch(f, "/dev/full", (const char *[]){ "show", "--db",
					   f->path, "--json", "last", NULL }), 3);
	assert_stderr_has(f, "write error: No space left on device");
	assert_int_equal(vmorch(f, "/dev/full", (const char *[]){ "show", "--db",
					   f->path, "last", NULL }), 3);
	assert_stderr_has(f, "write error: No space left on device");
}

/* `run --label 2` is a usage error: such a label could never be looked up. */
static void test_run_refuses_unusable_label(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmorch(f, NULL, (const char *[]){ "run", "--db", f->path,
					   "--label", "2", "x.yaml", NULL }), 2);
	assert_stderr_has(f, "vmorch run: --label 2: a number names the run with"
			  " that id");
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "run", "--db", f->path,
					   "--label", "last~1", "x.yaml", NULL }), 2);
	assert_stderr_has(f, "vmorch run: --label last~1: last and last~N name runs");
	assert_int_equal(vmorch(f, NULL, (const char *[]){ "run", "--db", f->path,
					   "--label", "", "x.yaml", NULL }), 2);
	assert_stderr_has(f, "vmorch run: --label: a label cannot be empty");
	assert_false(file_exists(f->path));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_show_json_complete),
		T(test_show_json_corrupt_page_fails),
		T(test_show_text_corrupt_page_fails),
		T(test_runs_corrupt_page_fails),
		T(test_open_for_writing_refuses_corrupt),
		T(test_store_into_corrupt_says_corrupt),
		T(test_runs_missing_db_creates_nothing),
		T(test_runs_to_dev_full),
		T(test_run_refuses_unusable_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
