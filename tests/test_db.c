/*
 * test_db.c - the SQLite result store: migration, refusal of foreign and
 * newer files, exact round trips of VmResults, one transaction per group of
 * results (all or nothing), RUN references and the runs/show listings.
 * Every test works on a fresh database in its own mkdtemp directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "orchestrator/db.h"
#include "orchestrator/db_query.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
	struct verr e;
};


static const struct db_runs_filter all_runs = { 0 }, one_run = { .limit = 1 };
/* begin_run's runs get UUIDs 00000000-0000-4000-8000-000000000001, ...
 * in each test, so that listings can be compared whole. */
static unsigned uuid_seq;

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	uuid_seq = 0;
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-db-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vmorch.db", f->dir);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	db_close(f->db);
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static void open_db(struct fixture *f)
{
	int rc = db_open(f->path, &f->db, &f->e);

	if (rc)
		fail_msg("db_open: %s", f->e.msg);
}

/* The first column of the first row of @sql, as an integer. */
static int64_t sql_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ... as malloc'd text ("" for NULL). */
static char *sql_text(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	char *v;

	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = strdup(sqlite3_column_text(st, 0) ?
		   (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return v;
}

static void assert_sql_text(sqlite3 *h, const char *sql, const char *want)
{
	char *got = sql_text(h, sql);

	assert_string_equal(got, want);
	free(got);
}

static void sql_exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static char *file_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int64_t begin_run(struct fixture *f, const char *label, unsigned jobs)
{
	static const struct db_run_file files[] = {
		{ "scenarios/smoke.yaml", SHA_EMPTY, NULL },
	};
	static const struct host_facts facts = {
		.kernel_release = "6.1.0-57-cloud-amd64", .cpu_model = "AMD EPYC 7B13",
		.cpus = 2, .memory_bytes = 25769803776ULL, .kvm_flavour = "pvm",
	};
	/* What the nightly run was of: git's (auto) and the user's --meta. */
	static const struct db_meta meta[] = {
		{ "kernel", "6.1-rc3", true },
		{ "commit", "0123456789abcdef0123456789abcdef01234567", false },
		{ "dirty", "1", false },
	};
	const bool nightly = label && !strcmp(label, "nightly");
	char uuid[DB_UUID_LEN + 1];
	const struct db_run_info info = {
		.label = label,
		.host = "build1",
		.host_facts = &facts,
		.vmorch_version = "0.1.0",
		.command_line = "vmorch run scenarios/smoke.yaml",
		.nfiles = 1,
		.files = files,
		.jobs_total = jobs,
		.nmeta = nightly ? 3 : 0,
		.meta = meta,
		.uuid = uuid,
	};
	int64_t id = 0;

	snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012x", ++uuid_seq);
	assert_int_equal(db_run_begin(f->db, &info, &id, &f->e), 0);
	return id;
}

static void job_init(struct job_desc *job, const char *vm, unsigned repeat)
{
	memset(job, 0, sizeof(*job));
	strcpy(job->scenario, "smoke");
	strcpy(job->scenario_file, "scenarios/smoke.yaml");
	snprintf(job->vm, sizeof(job->vm), "%s", vm);
	job->repeat = repeat;
}

static void job_param(struct job_desc *job, const char *k, const char *v)
{
	strcpy(job->param[job->nparams].key, k);
	strcpy(job->param[job->nparams].value, v);
	job->nparams++;
}

static void job_expect(struct job_desc *job, const char *name,
		       enum expect_op op, double value, const char *text)
{
	struct expect_check *c = &job->expect[job->nexpect++];

	strcpy(c->name, name);
	c->op = op;
	c->value = value;
	strcpy(c->text, text);
}

/* Two disks of distinctive values: field i of disk d is (d+1) * 1000 + i. */
static void result_init_distinct(struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	r->exit_code = -7;
	r->wall_us = 1234567;
	r->boot_us = 89012;
	r->ndisks = 2;
	for (uint32_t d = 0; d < 2; d++)
		for (int i = 0; i < VBLK_NR_COUNTERS; i++)
			*(uint64_t *)((char *)&r->disk[d] + vblk_fields[i].plain_off) =
				(d + 1) * 1000 + (uint64_t)i;
	r->disk[0].bytes_read = INT64_MAX;
	r->disk[1].bytes_written = INT64_MAX - 1;
	/* In name order: db_load_result returns metrics sorted by name. */
	vm_result_set_metric(r, "iops", 1234.5);
	vm_result_set_metric(r, "latency_us.p99", 0.25);
	vm_result_set_metric(r, "verify_errors", 0);
	strcpy(r->console_tail, "vmorch-guest: start\n\tdone 'quoted' \"x\"\n");
	strcpy(r->error, "nothing went wrong");
}

/* ---- migration and refusal ---- */

static const char *const tables[] = {
	"attempts", "blk_counters", "consoles", "expectations", "host_facts", "metrics",
	"run_meta", "run_files", "runs", "vm_results",
};

/* An empty file becomes the newest schema with every table, all STRICT, in WAL mode. */
static void test_migrate_from_empty(void **state)
{
	struct fixture *f = *state;
	sqlite3 *h;
	char sql[128];

	open_db(f);
	h = db_sqlite(f->db);
	assert_int_equal(db_schema_version(), 11);
	assert_int_equal(sql_int(h, "PRAGMA user_version"), 11);
	assert_int_equal(sql_int(h, "PRAGMA application_id"), 0x766d6f72);
	assert_sql_text(h, "PRAGMA journal_mode", "wal");
	assert_int_equal(sql_int(h, "PRAGMA foreign_keys"), 1);
	assert_int_equal(sql_int(h, "PRAGMA synchronous"), 1);	/* NORMAL */
	assert_int_equal(sql_int(h, "SELECT count(*) FROM pragma_table_list"
				 " WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'"), 10);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT strict FROM pragma_table_list"
			 " WHERE schema = 'main' AND name = '%s'", tables[i]);
		assert_int_equal(sql_int(h, sql), 1);
	}
}

/* The blk_counters columns are the counter list, in its order: one list. */
static void test_blk_counters_columns_are_counter_list(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *st;
	int col = 0;

	open_db(f);
	assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db),
		"SELECT name, type, \"notnull\" FROM pragma_table_info('blk_counters')"
		" ORDER BY cid", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (col == 0)
			assert_string_equal(name, "result_id");
		else if (col == 1)
			assert_string_equal(name, "disk_idx");
		else
			assert_string_equal(name, vblk_fields[col - 2].name);
		assert_string_equal(sqlite3_column_text(st, 1), "INTEGER");
		assert_int_equal(sqlite3_column_int(st, 2), 1);
		col++;
	}
	sqlite3_finalize(st);
	assert_int_equal(col, 2 + VBLK_NR_COUNTERS);
}

/* Embedded migrations are numbered 1..N and named after their file. */
static void test_migrations_embedded_in_order(void **state)
{
	char prefix[16];

	assert_int_equal(db_nmigrations, 11);
	for (unsigned i = 0; i < db_nmigrations; i++) {
		assert_int_equal(db_migrations[i].version, i + 1);
		snprintf(prefix, sizeof(prefix), "%03u_", i + 1);
		assert_memory_equal(db_migrations[i].name, prefix, 4);
	}
	assert_non_null(strstr(db_migrations[0].sql, "CREATE TABLE runs"));
	assert_non_null(strstr(db_migrations[1].sql, "CREATE TABLE runs_new"));
	assert_non_null(strstr(db_migrations[2].sql, "CREATE TABLE host_facts"));
	assert_non_null(strstr(db_migrations[3].sql, "CREATE TABLE attempts"));
	assert_string_equal(db_migrations[0].name, "001_initial");
	assert_string_equal(db_migrations[1].name, "002_run_owner");
	assert_string_equal(db_migrations[2].name, "003_host_facts");
	assert_string_equal(db_migrations[3].name, "004_attempts");
	assert_string_equal(db_migrations[4].name, "005_params_key_sorted");
	assert_string_equal(db_migrations[5].name, "006_run_meta");
	assert_string_equal(db_migrations[6].name, "007_run_uuid");
	assert_string_equal(db_migrations[7].name, "008_result_config");
	assert_string_equal(db_migrations[8].name, "009_config_index");
	assert_non_null(strstr(db_migrations[4].sql, "vmorch_params_key(params)"));
}

/* Reopening a current database keeps its data and migrates nothing. */
static void test_reopen_keeps_runs(void **state)
{
	struct fixture *f = *state;

	open_db(f);
	assert_int_equal(begin_run(f, "nightly", 0), 1);
	db_close(f->db);
	f->db = NULL;
	open_db(f);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM runs"), 1);
	assert_int_equal(begin_run(f, NULL, 0), 2);
}

/* A database from a newer vmorch is refused with a clear message, byte for byte untouched. */
static void test_newer_version_refused_untouched(void **state)
{
	struct fixture *f = *state;
	char want[256], wal[160];
	char *before, *after;
	size_t nb, na;
	sqlite3 *h;

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;");
	sqlite3_close(h);
	before = file_read(f->path, &nb);

	assert_int_equal(db_open(f->path, &f->db, &f->e), -EPROTONOSUPPORT);
	assert_null(f->db);
	snprintf(want, sizeof(want), "%s: schema version 99 is newer than this"
		 " vmorch (knows 11); upgrade vmorch", f->path);
	assert_string_equal(f->e.msg, want);

	after = file_read(f->path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_false(file_exists(wal));
	free(before);
	free(after);
}

/* A file that is not SQLite at all is refused and left alone. */
static void test_not_a_database_refused(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "scenarios:\n  - this is a YAML file, not a database\n"
				   "padding padding padding padding padding padding padding\n";
	char want[256], *after;
	size_t na;
	FILE *fp;

	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);

	assert_int_equal(db_open(f->path, &f->db, &f->e), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a SQLite database", f->path);
	assert_string_equal(f->e.msg, want);
	after = file_read(f->path, &na);
	assert_int_equal(na, strlen(text));
	assert_memory_equal(after, text, na);
	free(after);
}

/* Someone else's SQLite database is not turned into a vmorch one. */
static void test_foreign_sqlite_database_refused(void **state)
{
	struct fixture *f = *state;
	char want[256];
	sqlite3 *h;

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "CREATE TABLE contacts (name TEXT)");
	sqlite3_close(h);
	assert_int_equal(db_open(f->path, &f->db, &f->e), -EINVAL);
	snprintf(want, sizeof(want), "%s: a SQLite database without a vmorch"
		 " schema; refusing to change it", f->path);
	assert_string_equal(f->e.msg, want);

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "PRAGMA application_id = 1234");
	sqlite3_close(h);
	assert_int_equal(db_open(f->path, &f->db, &f->e), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a vmorch database (application_id"
		 " 0x4d2, user_version 0)", f->path);
	assert_string_equal(f->e.msg, want);
}

/* ---- storing results ---- */

/* Counters of two disks (up to INT64_MAX), metrics, verdict and console come back exactly. */
static void test_store_load_round_trip_exact(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r, back;
	int64_t run, id = 0;

	open_db(f);
	run = begin_run(f, "nightly", 1);
	job_init(&job, "randread", 2);
	result_init_distinct(&r);
	assert_int_equal(db_store_result(f->db, run, &job, "host-a", &r, NULL,
					 true, &id, &f->e), 0);
	assert_int_equal(id, 1);
	assert_int_equal(db_load_result(f->db, id, &back, &f->e), 0);

	assert_true(back.success);
	assert_int_equal(back.exit_kind, VM_EXIT_GUEST_PASS);
	assert_int_equal(back.exit_code, -7);
	assert_int_equal(back.wall_us, 1234567);
	assert_int_equal(back.boot_us, 89012);
	assert_int_equal(back.ndisks, 2);
	assert_memory_equal(back.disk, r.disk, 2 * sizeof(r.disk[0]));
	assert_int_equal(back.disk[0].bytes_read, INT64_MAX);
	assert_int_equal(back.disk[1].bytes_written, INT64_MAX - 1);
	assert_int_equal(back.disk[1].invalid_avail_idx_count, 2008);
	assert_int_equal(back.nmetrics, 3);
	assert_memory_equal(back.metric, r.metric, 3 * sizeof(r.metric[0]));
	assert_string_equal(back.console_tail, r.console_tail);
	assert_string_equal(back.error, "nothing went wrong");
	assert_sql_text(db_sqlite(f->db), "SELECT verdict || ' ' || host || ' ' ||"
			" repeat_idx || ' ' || exit_kind FROM vm_results",
			"pass host-a 2 guest_pass");
}

/* A job with no disks stores no counter rows and loads with ndisks 0. */
static void test_store_without_disks(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r = { .exit_kind = VM_EXIT_TIMEOUT, .exit_code = 9 }, back;
	int64_t id;

	open_db(f);
	job_init(&job, "idle", 0);
	assert_int_equal(db_store_result(f->db, begin_run(f, NULL, 1), &job, "",
					 &r, NULL, false, &id, &f->e), 0);
	assert_int_equal(db_load_result(f->db, id, &back, &f->e), 0);
	assert_int_equal(back.ndisks, 0);
	assert_int_equal(back.nmetrics, 0);
	assert_int_equal(back.exit_kind, VM_EXIT_TIMEOUT);
	assert_false(back.success);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM blk_counters"), 0);
	assert_sql_text(db_sqlite(f->db), "SELECT verdict FROM vm_results", "fail");
}

/*
 * Matrix values are stored as canonical JSON in matrix order and as an
 * unambiguous key in key-name order, which the matrix order does not
 * change.
 */
static void test_store_params_canonical(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r = { 0 };
	sqlite3 *h;

	open_db(f);
	h = db_sqlite(f->db);
	job_init(&job, "matrix", 0);
	job_param(&job, "qd", "16");
	job_param(&job, "bs", "4k");
	job_param(&job, "mode", "a,b=c%\"");
	assert_int_equal(db_store_result(f->db, begin_run(f, NULL, 1), &job, "",
					 &r, NULL, true, NULL, &f->e), 0);
	assert_sql_text(h, "SELECT params FROM vm_results",
			"{\"qd\":\"16\",\"bs\":\"4k\",\"mode\":\"a,b=c%\\\"\"}");
	assert_sql_text(h, "SELECT params_key FROM vm_results",
			"bs=4k,mode=a%2Cb%3Dc%25\",qd=16");
	assert_sql_text(h, "SELECT json_extract(params, '$.bs') FROM vm_results", "4k");
	/* The same values in another matrix order: the same key. */
	job_init(&job, "matrix", 1);
	job_param(&job, "mode", "a,b=c%\"");
	job_param(&job, "bs", "4k");
	job_param(&job, "qd", "16");
	assert_int_equal(db_store_result(f->db, 1, &job, "", &r, NULL, true, NULL, &f->e), 0);
	assert_int_equal(sql_int(h, "SELECT count(DISTINCT params_key) FROM vm_results"), 1);
	sql_exec(h, "DELETE FROM vm_results WHERE repeat_idx = 1");

	job_init(&job, "plain", 0);
	assert_int_equal(db_store_result(f->db, 1, &job, "", &r, NULL, true,
					 NULL, &f->e), 0);
	assert_sql_text(h, "SELECT params || '|' || params_key FROM vm_results"
			" WHERE vm = 'plain'", "{}|");
}

/* Each expectation outcome is a row: text, expected, actual (NULL when missing), flags. */
static void test_store_expectations(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r = { 0 };
	const struct expect_outcome out[3] = {
		{ .passed = true, .actual = 1000 },
		{ .passed = false, .actual = 3 },
		{ .passed = false, .missing = true },
	};

	open_db(f);
	job_init(&job, "write", 0);
	job_expect(&job, "reads_completed", EXPECT_GE, 1000, ">= 1000");
	job_expect(&job, "disk1.io_errors", EXPECT_EQ, 0, "== 0");
	job_expect(&job, "iops", EXPECT_GT, 10.5, "> 10.5");
	assert_int_equal(db_store_result(f->db, begin_run(f, NULL, 1), &job, "",
					 &r, out, false, NULL, &f->e), 0);
	assert_sql_text(db_sqlite(f->db),
		"SELECT group_concat(idx || ':' || name || ':' || op_text || ':' ||"
		" expected || ':' || ifnull(actual, 'NULL') || ':' || passed ||"
		" ':' || missing, ' | ') FROM (SELECT * FROM expectations ORDER BY idx)",
		"0:reads_completed:>= 1000:1000.0:1000.0:1:0 | "
		"1:disk1.io_errors:== 0:0.0:3.0:0:0 | "
		"2:iops:> 10.5:10.5:NULL:0:1");
}

/* A counter above INT64_MAX is refused before anything is written. */
static void test_store_refuses_counter_above_int64(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	int64_t run;

	open_db(f);
	run = begin_run(f, NULL, 1);
	job_init(&job, "randread", 0);
	result_init_distinct(&r);
	r.disk[1].io_errors = (uint64_t)INT64_MAX + 1;
	assert_int_equal(db_store_result(f->db, run, &job, "", &r, NULL, true,
					 NULL, &f->e), -ERANGE);
	assert_string_equal(f->e.msg, "smoke/randread#0: disk 1 io_errors ="
			    " 9223372036854775808 is above INT64_MAX");
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM vm_results"), 0);
}

/* Storing into a run that does not exist fails and stores nothing. */
static void test_store_unknown_run(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r = { 0 };

	open_db(f);
	job_init(&job, "read", 0);
	assert_int_equal(db_store_result(f->db, 99, &job, "", &r, NULL, true,
					 NULL, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "no run 99");
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM vm_results"), 0);
	/* The connection is usable after the rollback. */
	assert_int_equal(db_store_result(f->db, begin_run(f, NULL, 1), &job, "",
					 &r, NULL, true, NULL, &f->e), 0);
}

/* When db_store_result returns, another connection already sees the result (own transaction). */
static void test_result_visible_to_other_connection(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	int64_t run;
	sqlite3 *other;

	open_db(f);
	run = begin_run(f, NULL, 3);
	assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READONLY,
					 NULL), SQLITE_OK);
	result_init_distinct(&r);
	for (unsigned i = 0; i < 3; i++) {
		char sql[128];

		job_init(&job, "randread", i);
		assert_int_equal(db_store_result(f->db, run, &job, "", &r, NULL,
						 i != 1, NULL, &f->e), 0);
		assert_int_equal(sql_int(other, "SELECT count(*) FROM vm_results"), i + 1);
		assert_int_equal(sql_int(other, "SELECT count(*) FROM blk_counters"),
				 2 * (i + 1));
		snprintf(sql, sizeof(sql), "SELECT bytes_read FROM blk_counters"
			 " WHERE result_id = %u AND disk_idx = 0", i + 1);
		assert_int_equal(sql_int(other, sql), INT64_MAX);
	}
	assert_int_equal(sql_int(other, "SELECT count(*) FROM vm_results"
				 " WHERE verdict = 'pass'"), 2);
	sqlite3_close(other);
	/* The run's counts are taken when it ends. */
	assert_int_equal(db_run_end(f->db, run, DB_RUN_FAILED, &f->e), 0);
	assert_sql_text(db_sqlite(f->db), "SELECT jobs_total || ' ' || jobs_passed"
			" || ' ' || jobs_failed FROM runs", "3 2 1");
}

/* ---- groups of results (one transaction each) ---- */

/* Three distinct results: repeat i, wall i+1 s, disk 0 reads 100+i; the 2nd fails. */
static void group_init(struct job_desc job[3], struct vm_result r[3],
		       struct db_result_rec recs[3])
{
	for (unsigned i = 0; i < 3; i++) {
		job_init(&job[i], "randread", i);
		result_init_distinct(&r[i]);
		r[i].wall_us = 1000000 * (i + 1);
		r[i].disk[0].reads_completed = 100 + i;
		recs[i] = (struct db_result_rec){ .job = &job[i], .host = "host-a",
						  .r = &r[i], .verdict_pass = i != 1 };
	}
}

static int64_t count_rows(struct fixture *f, const char *table)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return sql_int(db_sqlite(f->db), sql);
}

/* A group of three stored with one call: each comes back exactly under its own id. */
static void test_store_group_round_trip(void **state)
{
	struct fixture *f = *state;
	struct job_desc job[3];
	struct vm_result r[3], back;
	struct db_result_rec recs[3];
	int64_t run;

	open_db(f);
	run = begin_run(f, NULL, 3);
	group_init(job, r, recs);
	assert_int_equal(db_store_results(f->db, run, recs, 3, &f->e), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(recs[i].result_id, i + 1);
		assert_int_equal(db_load_result(f->db, recs[i].result_id, &back,
						&f->e), 0);
		assert_int_equal(back.wall_us, 1000000 * (i + 1));
		assert_int_equal(back.boot_us, 89012);
		assert_int_equal(back.ndisks, 2);
		assert_memory_equal(back.disk, r[i].disk, 2 * sizeof(r[i].disk[0]));
		assert_int_equal(back.disk[0].reads_completed, 100 + i);
		assert_int_equal(back.nmetrics, 3);
		assert_memory_equal(back.metric, r[i].metric,
				    3 * sizeof(r[i].metric[0]));
		assert_string_equal(back.console_tail, r[i].console_tail);
	}
	assert_sql_text(db_sqlite(f->db), "SELECT group_concat(id || ':' ||"
			" repeat_idx || ':' || verdict, ' ') FROM (SELECT * FROM"
			" vm_results ORDER BY id)", "1:0:pass 2:1:fail 3:2:pass");
	assert_int_equal(count_rows(f, "blk_counters"), 6);
	assert_int_equal(count_rows(f, "metrics"), 9);
	assert_int_equal(db_run_end(f->db, run, DB_RUN_FAILED, &f->e), 0);
	assert_sql_text(db_sqlite(f->db), "SELECT jobs_total || ' ' || jobs_passed"
			" || ' ' || jobs_failed FROM runs", "3 2 1");
}

/* Nothing of a refused group is in the database, and no id was handed out. */
static void assert_group_not_stored(struct fixture *f, const struct db_result_rec *recs,
				    unsigned n)
{
	assert_int_equal(count_rows(f, "vm_results"), 0);
	assert_int_equal(count_rows(f, "blk_counters"), 0);
	assert_int_equal(count_rows(f, "metrics"), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(recs[i].result_id, 0);
}

/* An invalid 2nd result refuses the whole group before any write, naming that job. */
static void test_store_group_invalid_stores_none(void **state)
{
	struct fixture *f = *state;
	struct job_desc job[3];
	struct vm_result r[3];
	struct db_result_rec recs[3];

	open_db(f);
	group_init(job, r, recs);
	r[1].disk[1].io_errors = (uint64_t)INT64_MAX + 1;
	assert_int_equal(db_store_results(f->db, begin_run(f, NULL, 3), recs, 3,
					  &f->e), -ERANGE);
	assert_string_equal(f->e.msg, "smoke/randread#1: disk 1 io_errors ="
			    " 9223372036854775808 is above INT64_MAX");
	assert_group_not_stored(f, recs, 3);
}

/*
 * A 2nd result that SQLite refuses (two metrics of one name break the
 * metrics primary key) after the 1st was inserted rolls back the whole
 * group, names that job, and leaves the connection usable.
 */
static void test_store_group_sql_failure_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct job_desc job[3];
	struct vm_result r[3];
	struct db_result_rec recs[3];
	char want[256];
	int64_t run;

	open_db(f);
	run = begin_run(f, NULL, 3);
	group_init(job, r, recs);
	strcpy(r[1].metric[1].name, "iops");
	assert_int_equal(db_store_results(f->db, run, recs, 3, &f->e), -EINVAL);
	snprintf(want, sizeof(want), "smoke/randread#1: %s: iops: UNIQUE"
		 " constraint failed: metrics.result_id, metrics.name", f->path);
	assert_string_equal(f->e.msg, want);
	assert_group_not_stored(f, recs, 3);

	strcpy(r[1].metric[1].name, "latency_us.p99");
	assert_int_equal(db_store_results(f->db, run, recs, 3, &f->e), 0);
	assert_int_equal(count_rows(f, "vm_results"), 3);
}

/* A group for a run that does not exist stores nothing and says so. */
static void test_store_group_unknown_run(void **state)
{
	struct fixture *f = *state;
	struct job_desc job[3];
	struct vm_result r[3];
	struct db_result_rec recs[3];

	open_db(f);
	group_init(job, r, recs);
	assert_int_equal(db_store_results(f->db, 99, recs, 3, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "no run 99");
	assert_group_not_stored(f, recs, 3);
}

/* After runs and results, integrity and foreign-key checks are clean. */
static void test_integrity_check_ok(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	const struct expect_outcome out = { .passed = true, .actual = 1 };
	int64_t run;

	open_db(f);
	result_init_distinct(&r);
	job_init(&job, "randread", 0);
	job_expect(&job, "iops", EXPECT_GT, 0, "> 0");
	for (int k = 0; k < 3; k++) {
		run = begin_run(f, "ci", 10);
		for (unsigned i = 0; i < 10; i++) {
			job.repeat = i;
			assert_int_equal(db_store_result(f->db, run, &job, "h", &r,
							 &out, true, NULL, &f->e), 0);
		}
		assert_int_equal(db_run_end(f->db, run, DB_RUN_PASSED, &f->e), 0);
	}
	assert_sql_text(db_sqlite(f->db), "PRAGMA integrity_check", "ok");
	assert_int_equal(sql_int(db_sqlite(f->db),
				 "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM metrics"), 90);
}

/* Ending a run sets its status and end time; bad statuses and unknown runs are refused. */
static void test_run_end(void **state)
{
	struct fixture *f = *state;
	int64_t run;

	open_db(f);
	run = begin_run(f, NULL, 0);
	assert_sql_text(db_sqlite(f->db), "SELECT status FROM runs", "running");
	assert_int_equal(db_run_end(f->db, run, DB_RUN_INTERRUPTED, &f->e), 0);
	assert_sql_text(db_sqlite(f->db), "SELECT status FROM runs", "interrupted");
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT ended_at >= started_at"
				 " AND ended_at LIKE '____-__-__T__:__:__.___Z' FROM runs"), 1);
	assert_int_equal(db_run_end(f->db, run, "running", &f->e), -EINVAL);
	assert_string_equal(f->e.msg, "run 1: bad final status 'running'");
	assert_int_equal(db_run_end(f->db, 5, DB_RUN_PASSED, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "no run 5");
}

/* A run's scenario files are stored with their hash; a malformed hash is refused. */
static void test_run_files(void **state)
{
	struct fixture *f = *state;
	const struct db_run_file bad[] = { { "a.yaml", "E3B0", NULL } };
	const struct db_run_info info = { .nfiles = 1, .files = bad };
	int64_t id;

	open_db(f);
	begin_run(f, NULL, 0);
	assert_sql_text(db_sqlite(f->db), "SELECT path || ' ' || sha256 FROM run_files",
			"scenarios/smoke.yaml " SHA_EMPTY);
	assert_int_equal(db_run_begin(f->db, &info, &id, &f->e), -EINVAL);
	assert_string_equal(f->e.msg, "run file a.yaml: sha256 must be 64"
			    " lowercase hex digits");
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM runs"), 1);
}

/* Loading a result that does not exist names it. */
static void test_load_unknown_result(void **state)
{
	struct fixture *f = *state;
	struct vm_result back;

	open_db(f);
	assert_int_equal(db_load_result(f->db, 12345, &back, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "no result 12345");
}

/* ---- RUN references ---- */

static void three_runs(struct fixture *f)
{
	open_db(f);
	begin_run(f, "nightly", 0);
	begin_run(f, "pr-42", 0);
	begin_run(f, "nightly", 0);
}

static void assert_resolves(struct fixture *f, const char *ref, int64_t want)
{
	int64_t id = -1;

	if (db_run_resolve(f->db, ref, &id, &f->e))
		fail_msg("%s: %s", ref, f->e.msg);
	assert_int_equal(id, want);
}

static void assert_resolve_fails(struct fixture *f, const char *ref, int err,
				 const char *msg)
{
	int64_t id;

	assert_int_equal(db_run_resolve(f->db, ref, &id, &f->e), err);
	assert_string_equal(f->e.msg, msg);
}

/* An id, a label (newest run with it), last and last~N each name one run. */
static void test_resolve_references(void **state)
{
	struct fixture *f = *state;

	three_runs(f);
	assert_resolves(f, "2", 2);
	assert_resolves(f, "nightly", 3);
	assert_resolves(f, "pr-42", 2);
	assert_resolves(f, "last", 3);
	assert_resolves(f, "last~0", 3);
	assert_resolves(f, "last~1", 2);
	assert_resolves(f, "last~2", 1);
}

/* Unknown or malformed references are errors that say what was wrong. */
static void test_resolve_errors(void **state)
{
	struct fixture *f = *state;

	open_db(f);
	assert_resolve_fails(f, "last", -ENOENT, "last: there are no runs yet");
	begin_run(f, "nightly", 0);
	begin_run(f, "nightly", 0);
	assert_resolve_fails(f, "last~2", -ENOENT, "last~2: there are only 2 runs");
	assert_resolve_fails(f, "7", -ENOENT, "no run 7");
	assert_resolve_fails(f, "weekly", -ENOENT, "no run with id or label 'weekly'");
	assert_resolve_fails(f, "last~x", -EINVAL,
			     "last~x: expected last~N with N a number of runs back");
	assert_resolve_fails(f, "", -EINVAL,
			     "empty run reference: expected an id, a label, last or last~N");
}

/* ---- runs and show ---- */

/*
 * Run 1 "nightly": smoke/read[bs=4k,qd=16]#0 passes, smoke/write#1 fails one
 * expectation and misses another.  Run 2: unlabelled, still running.  Times
 * are pinned so the listings are exact.
 */
static void show_fixture(struct fixture *f)
{
	struct job_desc job;
	struct vm_result r;
	const struct expect_outcome ok = { .passed = true, .actual = 1000 };
	const struct expect_outcome bad[2] = {
		{ .passed = false, .actual = 3 },
		{ .passed = false, .missing = true },
	};
	int64_t run;

	open_db(f);
	run = begin_run(f, "nightly", 2);

	job_init(&job, "read", 0);
	job_param(&job, "bs", "4k");
	job_param(&job, "qd", "16");
	job_expect(&job, "reads_completed", EXPECT_GE, 1000, ">= 1000");
	memset(&r, 0, sizeof(r));
	r.success = true;
	r.exit_kind = VM_EXIT_GUEST_PASS;
	r.wall_us = 1500000;
	r.boot_us = 20000;
	r.ndisks = 1;
	r.disk[0].reads_completed = 1000;
	r.disk[0].bytes_read = 4096000;
	vm_result_set_metric(&r, "iops", 1234.5);
	assert_int_equal(db_store_result(f->db, run, &job, "local", &r, &ok,
					 true, NULL, &f->e), 0);

	job_init(&job, "write", 1);
	job_expect(&job, "io_errors", EXPECT_EQ, 0, "== 0");
	job_expect(&job, "iops", EXPECT_GE, 10, ">= 10");
	memset(&r, 0, sizeof(r));
	r.exit_kind = VM_EXIT_GUEST_FAIL;
	r.exit_code = 1;
	r.wall_us = 250000;
	r.boot_us = 20000;
	r.ndisks = 2;
	r.disk[0].writes_completed = 10;
	r.disk[0].io_errors = 2;
	r.disk[1].writes_completed = 5;
	r.disk[1].io_errors = 1;
	r.disk[1].flushes_completed = 1;
	strcpy(r.error, "guest reported 3 write errors");
	assert_int_equal(db_store_result(f->db, run, &job, "local", &r, bad,
					 false, NULL, &f->e), 0);
	assert_int_equal(db_run_end(f->db, run, DB_RUN_FAILED, &f->e), 0);

	begin_run(f, NULL, 5);
	sql_exec(db_sqlite(f->db),
		 "UPDATE runs SET started_at = '2024-05-01T12:00:00.000Z',"
		 " ended_at = '2024-05-01T12:00:07.500Z' WHERE id = 1;"
		 "UPDATE runs SET started_at = '2024-05-02T08:30:00.000Z'"
		 " WHERE id = 2;");
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static char *json_text(json_t *doc)
{
	char *s;

	assert_non_null(doc);
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	return s;
}

/* Captures what a printing function writes. */
struct capture {
	char *buf;
	size_t len;
	FILE *fp;
};

static FILE *capture_open(struct capture *c)
{
	c->fp = open_memstream(&c->buf, &c->len);
	assert_non_null(c->fp);
	return c->fp;
}

static char *capture_close(struct capture *c)
{
	fclose(c->fp);
	return c->buf;
}

/* `vmorch runs --json`: newest first, every run field, job counts nested. */
static void test_runs_json(void **state)
{
	struct fixture *f = *state;
	char *s;

	show_fixture(f);
	s = json_text(db_runs_json(f->db, &all_runs, &f->e));
	assert_string_equal(s,
		"{\"runs\":["
		"{\"command_line\":\"vmorch run scenarios/smoke.yaml\","
		"\"duration_ms\":null,\"ended_at\":null,\"host\":\"build1\",\"id\":2,"
		"\"jobs\":{\"failed\":0,\"passed\":0,\"total\":5},\"label\":null,"
		"\"meta\":{},"
		"\"started_at\":\"2024-05-02T08:30:00.000Z\",\"status\":\"running\","
		"\"uuid\":\"00000000-0000-4000-8000-000000000002\","
		"\"vmorch_version\":\"0.1.0\"},"
		"{\"command_line\":\"vmorch run scenarios/smoke.yaml\","
		"\"duration_ms\":7500,\"ended_at\":\"2024-05-01T12:00:07.500Z\","
		"\"host\":\"build1\",\"id\":1,"
		"\"jobs\":{\"failed\":1,\"passed\":1,\"total\":2},\"label\":\"nightly\","
		"\"meta\":{\"commit\":\"0123456789abcdef0123456789abcdef01234567\","
		"\"dirty\":\"1\",\"kernel\":\"6.1-rc3\"},"
		"\"started_at\":\"2024-05-01T12:00:00.000Z\",\"status\":\"failed\","
		"\"uuid\":\"00000000-0000-4000-8000-000000000001\","
		"\"vmorch_version\":\"0.1.0\"}"
		"],\"vmorch_runs\":2}");
	free(s);

	s = json_text(db_runs_json(f->db, &one_run, &f->e));
	assert_non_null(strstr(s, "\"id\":2"));
	assert_null(strstr(s, "\"id\":1"));
	free(s);
}

/* `vmorch runs`: an aligned table, newest first. */
static void test_runs_text(void **state)
{
	struct fixture *f = *state;
	struct capture c;

	show_fixture(f);
	assert_int_equal(db_runs_print(f->db, capture_open(&c), &all_runs, &f->e), 0);
	assert_string_equal(capture_close(&c),
		"ID  STARTED                   STATUS   JOBS  PASSED  FAILED  DURATION  COMMIT       LABEL\n"
		" 2  2024-05-02T08:30:00.000Z  running     5       0       0         -  -\n"
		" 1  2024-05-01T12:00:00.000Z  failed      2       1       1      7.5s  0123456789+  nightly\n");
	free(c.buf);
}

/* `vmorch show RUN --json`: the run with its files, each result with disks, metrics, expectations. */
static void test_show_json(void **state)
{
	struct fixture *f = *state;
	char *s;

	show_fixture(f);
	s = json_text(db_run_show_json(f->db, 1, &f->e));
	assert_string_equal(s,
		"{\"results\":["
		"{\"attempts\":[],\"boot_us\":20000,\"disks\":["
		"{\"bytes_read\":4096000,\"bytes_written\":0,"
		"\"currently_throttled_gauge\":0,\"flushes_completed\":0,"
		"\"invalid_avail_idx_count\":0,\"io_errors\":0,"
		"\"reads_completed\":1000,\"throttled_count\":0,"
		"\"writes_completed\":0}],"
		"\"error\":\"\",\"exit_code\":0,\"exit_kind\":\"guest_pass\","
		"\"expectations\":[{\"actual\":1000.0,\"expected\":1000.0,"
		"\"metric\":\"reads_completed\",\"missing\":false,\"op\":\">= 1000\","
		"\"passed\":true}],"
		"\"host\":\"local\",\"id\":1,\"metrics\":{\"iops\":1234.5},"
		"\"params\":{\"bs\":\"4k\",\"qd\":\"16\"},\"repeat\":0,"
		"\"scenario\":\"smoke\",\"verdict\":\"pass\",\"vm\":\"read\","
		"\"wall_us\":1500000},"
		"{\"attempts\":[],\"boot_us\":20000,\"disks\":["
		"{\"bytes_read\":0,\"bytes_written\":0,"
		"\"currently_throttled_gauge\":0,\"flushes_completed\":0,"
		"\"invalid_avail_idx_count\":0,\"io_errors\":2,"
		"\"reads_completed\":0,\"throttled_count\":0,"
		"\"writes_completed\":10},"
		"{\"bytes_read\":0,\"bytes_written\":0,"
		"\"currently_throttled_gauge\":0,\"flushes_completed\":1,"
		"\"invalid_avail_idx_count\":0,\"io_errors\":1,"
		"\"reads_completed\":0,\"throttled_count\":0,"
		"\"writes_completed\":5}],"
		"\"error\":\"guest reported 3 write errors\",\"exit_code\":1,"
		"\"exit_kind\":\"guest_fail\","
		"\"expectations\":[{\"actual\":3.0,\"expected\":0.0,"
		"\"metric\":\"io_errors\",\"missing\":false,\"op\":\"== 0\","
		"\"passed\":false},"
		"{\"actual\":null,\"expected\":10.0,\"metric\":\"iops\","
		"\"missing\":true,\"op\":\">= 10\",\"passed\":false}],"
		"\"host\":\"local\",\"id\":2,\"metrics\":{},\"params\":{},"
		"\"repeat\":1,\"scenario\":\"smoke\",\"verdict\":\"fail\","
		"\"vm\":\"write\",\"wall_us\":250000}],"
		"\"run\":{\"command_line\":\"vmorch run scenarios/smoke.yaml\","
		"\"duration_ms\":7500,\"ended_at\":\"2024-05-01T12:00:07.500Z\","
		"\"files\":[{\"description\":null,\"path\":\"scenarios/smoke.yaml\",\"sha256\":\"" SHA_EMPTY "\"}],"
		"\"host\":\"build1\","
		"\"hosts\":[{\"cpu_model\":\"AMD EPYC 7B13\",\"cpus\":2,"
		"\"host\":\"build1\",\"kernel_release\":\"6.1.0-57-cloud-amd64\","
		"\"kvm\":\"pvm\",\"memory_bytes\":25769803776,"
		"\"vmorch_version\":\"0.1.0\"}],"
		"\"id\":1,"
		"\"jobs\":{\"failed\":1,\"passed\":1,\"total\":2},\"label\":\"nightly\","
		"\"meta\":{\"commit\":\"0123456789abcdef0123456789abcdef01234567\","
		"\"dirty\":\"1\",\"kernel\":\"6.1-rc3\"},"
		"\"started_at\":\"2024-05-01T12:00:00.000Z\",\"status\":\"failed\","
		"\"uuid\":\"00000000-0000-4000-8000-000000000001\","
		"\"vmorch_version\":\"0.1.0\"},"
		"\"vmorch_show\":2}");
	free(s);
	assert_null(db_run_show_json(f->db, 9, &f->e));
	assert_string_equal(f->e.msg, "no run 9");
}

/* `vmorch show RUN`: header, one line per job with key counters summed over disks, failures. */
static void test_show_text(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	char *s;

	show_fixture(f);
	assert_int_equal(db_run_show_print(f->db, 1, capture_open(&c), &f->e), 0);
	s = capture_close(&c);
	assert_non_null(strstr(s, "run 1 (nightly): failed\nuuid      "
				  "00000000-0000-4000-8000-000000000001\nstarted   "));
	assert_non_null(strstr(s, "jobs      2 total, 1 passed, 1 failed\n"));
	assert_non_null(strstr(s, "\nmeta      commit=0123456789abcdef0123456789abcdef01234567"
				  " dirty=1 kernel=6.1-rc3\njobs "));
	assert_non_null(strstr(s, "file      scenarios/smoke.yaml  sha256 " SHA_EMPTY "\n"
		"machine   build1: 6.1.0-57-cloud-amd64, AMD EPYC 7B13 (2 CPUs, 24.0 GiB), KVM pvm\n"));
	assert_non_null(strstr(s,
		"ID  SCENARIO  VM     PARAMS       REPEAT  VERDICT  EXIT             WALL"
		"  reads_completed  writes_completed  flushes_completed"
		"  throttled_count  io_errors  invalid_avail_idx_count\n"
		" 1  smoke     read   bs=4k,qd=16       0  pass     guest_pass(0)  1.500s"
		"             1000                 0                  0"
		"                0          0                        0\n"
		" 2  smoke     write  -                 1  fail     guest_fail(1)  0.250s"
		"                0                15                  1"
		"                0          3                        0\n"));
	assert_non_null(strstr(s, "\nfailed expectations:\n"
		"  2 smoke/write#1: io_errors == 0: actual 3\n"
		"  2 smoke/write#1: iops >= 10: missing\n"));
	assert_non_null(strstr(s, "\nerrors:\n"
		"  2 smoke/write#1: guest reported 3 write errors\n"));
	free(s);
}


/* ---- schema 2: owners, abandoned runs, descriptions ---- */

/*
 * A schema-1 database as vmorch 1 left it: two runs (one ended, one still
 * 'running' from a vmorch that did not record its owner), three results,
 * four disk rows, two metrics, one expectation.
 */
static void make_v1_database(const char *path)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	sql_exec(h, "PRAGMA journal_mode = WAL");
	sql_exec(h, "BEGIN");
	sql_exec(h, db_migrations[0].sql);
	sql_exec(h, "PRAGMA user_version = 1;"
		 "INSERT INTO runs (id, label, started_at, ended_at, status, host,"
		 " vmorch_version, command_line, jobs_total, jobs_passed, jobs_failed)"
		 " VALUES (1, 'nightly', '2024-05-01T12:00:00.000Z',"
		 " '2024-05-01T12:00:07.500Z', 'failed', 'build1', '0.1.0', 'vmorch run a',"
		 " 2, 1, 1),"
		 " (2, NULL, '2024-05-02T12:00:00.000Z', NULL, 'running', 'build1',"
		 " '0.1.0', 'vmorch run b', 5, 0, 0);"
		 "INSERT INTO run_files VALUES (1, 'a.yaml', '" SHA_EMPTY "');"
		 "INSERT INTO vm_results (id, run_id, scenario, scenario_file, vm,"
		 " params, params_key, repeat_idx, host, verdict, success, exit_kind,"
		 " exit_code, wall_us, boot_us, started_at, console_tail, error) VALUES"
		 " (1, 1, 's', 'a.yaml', 'v', '{}', '', 0, 'h', 'pass', 1, 'guest_pass',"
		 "  0, 10, 1, '2024-05-01T12:00:01.000Z', '', ''),"
		 " (2, 1, 's', 'a.yaml', 'v', '{}', '', 1, 'h', 'fail', 0, 'guest_fail',"
		 "  1, 10, 1, '2024-05-01T12:00:01.000Z', '', 'bad'),"
		 " (3, 2, 's', 'b.yaml', 'v', '{}', '', 0, 'h', 'pass', 1, 'guest_pass',"
		 "  0, 10, 1, '2024-05-02T12:00:01.000Z', '', '');"
		 "INSERT INTO blk_counters (result_id, disk_idx, reads_completed,"
		 " writes_completed, flushes_completed, bytes_read, bytes_written,"
		 " throttled_count, io_errors, currently_throttled_gauge,"
		 " invalid_avail_idx_count) VALUES (1, 0, 7, 0, 0, 28672, 0, 0, 0, 0, 0),"
		 " (1, 1, 1, 0, 0, 4096, 0, 0, 0, 0, 0), (2, 0, 0, 3, 0, 0, 0, 0, 2, 0, 0),"
		 " (3, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0);"
		 "INSERT INTO metrics VALUES (1, 'iops', 12.5), (3, 'iops', 3.0);"
		 "INSERT INTO expectations VALUES (2, 0, 'io_errors', '== 0', 0, 2, 0, 0);");
	sql_exec(h, "COMMIT");
	sqlite3_close(h);
}

/*
 * Migration 005 keys stored results by sorted matrix keys, as new ones
 * are: an old key in matrix order ("qd" before "bs") is rewritten, with
 * its percent-encoding kept; a result without params stays "".
 */
static void test_migrate_sorts_params_keys(void **state)
{
	struct fixture *f = *state;
	sqlite3 *h;

	make_v1_database(f->path);
	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "INSERT INTO vm_results (id, run_id, scenario, scenario_file, vm,"
		 " params, params_key, repeat_idx, host, verdict, success, exit_kind,"
		 " exit_code, wall_us, boot_us, started_at, console_tail, error) VALUES"
		 " (4, 1, 's', 'a.yaml', 'v', '{\"qd\":\"16\",\"bs\":\"a,b=c%\"}',"
		 "  'qd=16,bs=a%2Cb%3Dc%25', 0, 'h', 'pass', 1, 'guest_pass', 0, 10, 1,"
		 "  '2024-05-01T12:00:01.000Z', '', '')");
	sqlite3_close(h);
	open_db(f);
	h = db_sqlite(f->db);
	assert_sql_text(h, "SELECT params_key FROM vm_results WHERE id = 4",
			"bs=a%2Cb%3Dc%25,qd=16");
	assert_sql_text(h, "SELECT params FROM vm_results WHERE id = 4",
			"{\"qd\":\"16\",\"bs\":\"a,b=c%\"}");
	assert_int_equal(sql_int(h, "SELECT count(*) FROM vm_results WHERE params_key = ''"), 3);
}

/*
 * Migration 007: runs stored before it get UUIDs made from their content
 * (version 8), the same in two copies of a database migrated apart, one
 * per run; runs stored after it get random ones (version 4).
 */
static void test_migrate_gives_content_uuids(void **state)
{
	struct fixture *f = *state;
	char copy[sizeof(f->path) + 8], *a, *b;
	struct db *other;
	sqlite3 *h;

	make_v1_database(f->path);
	snprintf(copy, sizeof(copy), "%s.copy", f->path);
	make_v1_database(copy);
	open_db(f);
	assert_int_equal(db_open(copy, &other, &f->e), 0);
	h = db_sqlite(f->db);
	a = sql_text(h, "SELECT group_concat(uuid, ' ') FROM runs ORDER BY id");
	b = sql_text(db_sqlite(other), "SELECT group_concat(uuid, ' ') FROM runs ORDER BY id");
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 2 * DB_UUID_LEN + 1);
	assert_int_equal(sql_int(h, "SELECT count(DISTINCT uuid) FROM runs"), 2);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM runs WHERE length(uuid) = 36"
				 " AND substr(uuid, 15, 1) = '8' AND substr(uuid, 20, 1)"
				 " IN ('8', '9', 'a', 'b')"), 2);
	free(a);
	free(b);
	db_close(other);
	unlink(copy);
	begin_run(f, NULL, 0);
	assert_sql_text(h, "SELECT uuid FROM runs WHERE id = 3", "00000000-0000-4000-8000-000000000001");
	/* Without a given one, vmorch makes a random version 4 UUID. */
	{
		const struct db_run_info info = { .host = "h", .command_line = "c" };
		int64_t id;

		assert_int_equal(db_run_begin(f->db, &info, &id, &f->e), 0);
		assert_int_equal(sql_int(h, "SELECT count(*) FROM runs WHERE id = 4 AND"
					 " length(uuid) = 36 AND substr(uuid, 15, 1) = '4' AND"
					 " substr(uuid, 20, 1) IN ('8', '9', 'a', 'b')"), 1);
	}
}

/* Every "id" key of @doc, at any depth, removed: ids are each database's own. */
static json_t *strip_ids(json_t *doc)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(doc)) {
		json_object_del(doc, "id");
		json_object_foreach_safe(doc, tmp, key, v)
			strip_ids(v);
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, v)
			strip_ids(v);
	}
	return doc;
}

/*
 * vmorch import: another database's runs come in whole (run, files, hosts,
 * meta, results, counters, metrics, expectations, attempts), under new
 * ids after this database's own; importing again adds nothing.  The other
 * database is live (its WAL not checkpointed) and is not written.
 */
static void test_import_merges_and_skips(void **state)
{
	struct fixture *f = *state;
	const struct db_run_info own = { .host = "b", .command_line = "b", .uuid =
					 "11111111-1111-4111-8111-111111111111" };
	struct db_import_stats st;
	char other[sizeof(f->path) + 8], *want, *got;
	struct db *b;
	int64_t id;
	sqlite3 *h;

	show_fixture(f);
	h = db_sqlite(f->db);
	sql_exec(h, "INSERT INTO attempts VALUES (1, 'smoke/read[bs=4k,qd=16]#0', 1, 'h1',"
		 " '2024-05-01T12:00:01.000Z', '2024-05-01T12:00:02.000Z', 'result', 'ok', 1)");
	snprintf(other, sizeof(other), "%s/b.db", f->dir);
	assert_int_equal(db_open(other, &b, &f->e), 0);
	assert_int_equal(db_run_begin(b, &own, &id, &f->e), 0);
	assert_int_equal(db_import(b, f->path, &st, &f->e), 0);
	assert_int_equal(st.runs, 2);
	assert_int_equal(st.results, 2);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT count(*) FROM runs"), 3);
	/* Run 1 there is run 2 here, everything with it the same. */
	assert_sql_text(db_sqlite(b), "SELECT group_concat(id || '=' || uuid, ' ') FROM runs"
			" WHERE id > 1", "2=00000000-0000-4000-8000-000000000001"
			" 3=00000000-0000-4000-8000-000000000002");
	want = json_text(strip_ids(db_run_show_json(f->db, 1, &f->e)));
	got = json_text(strip_ids(db_run_show_json(b, 2, &f->e)));
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "\"attempts\":[{\"attempt\":1"));
	assert_non_null(strstr(got, "\"kernel\":\"6.1-rc3\""));
	free(want);
	free(got);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	/* Again: nothing new. */
	assert_int_equal(db_import(b, f->path, &st, &f->e), 0);
	assert_int_equal(st.runs, 0);
	assert_int_equal(st.results, 0);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT count(*) FROM vm_results"), 2);
	db_close(b);
}

/*
 * An older database is imported through a migrated copy, the file itself
 * left byte for byte; a table this vmorch does not know is refused.
 */
static void test_import_old_schema_and_unknown_table(void **state)
{
	struct fixture *f = *state;
	char old[sizeof(f->path) + 8], *before, *after;
	struct db_import_stats st;
	size_t nb, na;
	sqlite3 *h;

	snprintf(old, sizeof(old), "%s/v1.db", f->dir);
	make_v1_database(old);
	before = file_read(old, &nb);
	open_db(f);
	assert_int_equal(db_import(f->db, old, &st, &f->e), 0);
	assert_int_equal(st.runs, 2);
	assert_int_equal(st.results, 3);
	after = file_read(old, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	free(before);
	free(after);
	h = db_sqlite(f->db);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM blk_counters"), 4);
	assert_sql_text(h, "SELECT group_concat(name || '=' || value, ' ') FROM metrics", "iops=12.5 iops=3.0");

	assert_int_equal(sqlite3_open(old, &h), SQLITE_OK);
	sql_exec(h, "CREATE TABLE extra (x)");
	sqlite3_close(h);
	assert_int_equal(db_import(f->db, old, &st, &f->e), -EPROTO);
	assert_non_null(strstr(f->e.msg, "import does not know table extra (of the other database)"));
}

/*
 * vmorch rm and gc: a finished run goes with every row stored with it; a
 * run whose vmorch (this process) is alive is refused; gc keeps the newest
 * N and, unless told, every labelled run.
 */
static void test_delete_runs(void **state)
{
	struct fixture *f = *state;
	int64_t *ids;
	size_t n;
	sqlite3 *h;

	show_fixture(f);		/* run 1 nightly (failed), run 2 running */
	h = db_sqlite(f->db);
	assert_int_equal(db_run_delete(f->db, 2, &f->e), -EBUSY);
	assert_string_equal(f->e.msg, "run 2 is still running (its vmorch is alive)");
	assert_int_equal(db_run_delete(f->db, 9, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "no run 9");
	assert_int_equal(db_runs_past(f->db, 0, false, &ids, &n, &f->e), 0);
	assert_int_equal(n, 0);		/* 1 is labelled, 2 running */
	free(ids);
	assert_int_equal(db_runs_past(f->db, 0, true, &ids, &n, &f->e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 1);
	free(ids);
	assert_int_equal(db_run_delete(f->db, 1, &f->e), 0);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(sql_int(h, "SELECT (SELECT count(*) FROM vm_results) +"
				 " (SELECT count(*) FROM blk_counters) + (SELECT count(*) FROM metrics)"
				 " + (SELECT count(*) FROM expectations) + (SELECT count(*) FROM run_meta)"
				 " + (SELECT count(*) FROM run_files WHERE run_id = 1)"
				 " + (SELECT count(*) FROM host_facts WHERE run_id = 1)"), 0);
}

/* Migrations 002 to 005 from a v1 database keep every row and every reference. */
static void test_migrate_v1_keeps_results(void **state)
{
	struct fixture *f = *state;
	sqlite3 *h;

	make_v1_database(f->path);
	open_db(f);
	h = db_sqlite(f->db);
	assert_int_equal(sql_int(h, "PRAGMA user_version"), 11);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM host_facts"), 0);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM attempts"), 0);
	assert_int_equal(sql_int(h, "PRAGMA foreign_keys"), 1);
	assert_sql_text(h, "PRAGMA integrity_check", "ok");
	assert_int_equal(sql_int(h, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_sql_text(h, "SELECT group_concat(id || ' ' || ifnull(label, '-') || ' '"
			" || status || ' ' || jobs_passed || '/' || jobs_failed || ' '"
			" || ifnull(owner_pid, 'NULL'), '; ') FROM runs",
			"1 nightly failed 1/1 NULL; 2 - running 0/0 NULL");
	assert_int_equal(sql_int(h, "SELECT count(*) FROM vm_results"), 3);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM blk_counters"), 4);
	assert_int_equal(sql_int(h, "SELECT sum(reads_completed) FROM blk_counters"), 17);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM metrics"), 2);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM expectations"), 1);
	assert_sql_text(h, "SELECT path || ' ' || ifnull(description, 'NULL')"
			" FROM run_files", "a.yaml NULL");
	/* The rebuilt table kept its indexes, and the new status is allowed. */
	assert_int_equal(sql_int(h, "SELECT count(*) FROM sqlite_schema WHERE"
				 " tbl_name = 'runs' AND type = 'index'"
				 " AND name IN ('runs_label', 'runs_started_at')"), 2);
	sql_exec(h, "UPDATE runs SET status = 'abandoned' WHERE id = 2");
	/* Deleting a run still cascades to its results: the references hold. */
	sql_exec(h, "DELETE FROM runs WHERE id = 1");
	assert_int_equal(sql_int(h, "SELECT count(*) FROM vm_results"), 1);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM blk_counters"), 1);
}

/* A v1 run with no recorded owner cannot be judged: it stays 'running'. */
static void test_unknown_owner_stays_running(void **state)
{
	struct fixture *f = *state;
	char *s;

	make_v1_database(f->path);
	open_db(f);
	s = json_text(db_runs_json(f->db, &one_run, &f->e));
	assert_non_null(strstr(s, "\"status\":\"running\""));
	free(s);
}

/* The pid of a process that has exited (and been reaped). */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static const char *run_status_of(struct fixture *f, int64_t id)
{
	static char status[32];
	json_t *doc = db_run_show_json(f->db, id, &f->e);

	if (!doc)
		fail_msg("show %d: %s", (int)id, f->e.msg);
	snprintf(status, sizeof(status), "%s", json_string_value(
		 json_object_get(json_object_get(doc, "run"), "status")));
	json_decref(doc);
	return status;
}

/*
 * A run records its owner; it is shown 'abandoned' once that process is
 * gone (pid exited, or pid reused by a process with another start time),
 * and stays 'running' while the owner lives or is on another host.
 */
static void test_dead_owner_shows_abandoned(void **state)
{
	struct fixture *f = *state;
	char sql[256];
	sqlite3 *h;

	open_db(f);
	h = db_sqlite(f->db);
	begin_run(f, "alive", 1);
	begin_run(f, "exited", 1);
	begin_run(f, "reused", 1);
	begin_run(f, "elsewhere", 1);
	assert_int_equal(sql_int(h, "SELECT owner_pid FROM runs WHERE id = 1"), getpid());
	assert_int_equal(sql_int(h, "SELECT count(*) FROM runs WHERE owner_start > 0"
				 " AND owner_boot LIKE '%-% pid:[%]'"), 4);
	snprintf(sql, sizeof(sql), "UPDATE runs SET owner_pid = %d WHERE id = 2",
		 (int)dead_pid());
	sql_exec(h, sql);
	sql_exec(h, "UPDATE runs SET owner_start = owner_start - 1 WHERE id = 3;"
		 "UPDATE runs SET owner_host = 'other-host', owner_pid = 999999999"
		 " WHERE id = 4;");

	assert_string_equal(run_status_of(f, 1), "running");
	assert_string_equal(run_status_of(f, 2), "abandoned");
	assert_string_equal(run_status_of(f, 3), "abandoned");
	assert_string_equal(run_status_of(f, 4), "running");
	assert_sql_text(h, "SELECT group_concat(status) FROM runs",
			"running,running,running,running");
}

/* Opening for writing stores 'abandoned' for good, with the job counts. */
static void test_open_marks_dead_owner_runs(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	char sql[128];

	open_db(f);
	begin_run(f, "mine", 3);
	begin_run(f, "dead", 3);
	job_init(&job, "read", 0);
	memset(&r, 0, sizeof(r));
	r.exit_kind = VM_EXIT_GUEST_PASS;
	r.success = true;
	assert_int_equal(db_store_result(f->db, 2, &job, "h", &r, NULL, true,
					 NULL, &f->e), 0);
	snprintf(sql, sizeof(sql), "UPDATE runs SET owner_pid = %d WHERE id = 2",
		 (int)dead_pid());
	sql_exec(db_sqlite(f->db), sql);
	db_close(f->db);
	f->db = NULL;
	open_db(f);
	assert_sql_text(db_sqlite(f->db), "SELECT group_concat(status || ' ' ||"
			" jobs_passed || ' ' || ifnull(ended_at, '-'), '; ') FROM runs",
			"running 0 -; abandoned 1 -");
}

/* A scenario's description is stored with its file and shown. */
static void test_run_file_description(void **state)
{
	struct fixture *f = *state;
	static const struct db_run_file files[] = {
		{ "a.yaml", SHA_EMPTY, "nightly \x1b[31mread\x1b[0m checks" },
		{ "b.yaml", SHA_EMPTY, NULL },
	};
	const struct db_run_info info = {
		.label = "d", .host = "h", .vmorch_version = "0", .command_line = "c",
		.nfiles = 2, .files = files, .jobs_total = 0,
	};
	struct capture c;
	int64_t id;
	char *s;

	open_db(f);
	assert_int_equal(db_run_begin(f->db, &info, &id, &f->e), 0);
	s = json_text(db_run_show_json(f->db, id, &f->e));
	assert_non_null(strstr(s, "\"files\":[{\"description\":\"nightly"
			       " \\u001B[31mread\\u001B[0m checks\",\"path\":\"a.yaml\","));
	assert_non_null(strstr(s, "{\"description\":null,\"path\":\"b.yaml\","));
	free(s);
	assert_int_equal(db_run_show_print(f->db, id, capture_open(&c), &f->e), 0);
	s = capture_close(&c);
	assert_non_null(strstr(s, "file      a.yaml  sha256 " SHA_EMPTY "\n"
			       "          nightly \\e[31mread\\e[0m checks\n"
			       "file      b.yaml  sha256 " SHA_EMPTY "\n\n"));
	free(s);
}

/* ---- labels and terminal escapes ---- */

static void assert_label_refused(const char *label, const char *msg)
{
	struct verr e = { "" };

	assert_int_equal(db_label_check(label, &e), -EINVAL);
	assert_string_equal(e.msg, msg);
}

/* Labels that a RUN reference could never find are refused. */
static void test_label_check(void **state)
{
	struct verr e = { "" };

	(void)state;
	assert_int_equal(db_label_check("nightly", &e), 0);
	assert_int_equal(db_label_check("pr-42", &e), 0);
	assert_int_equal(db_label_check("2x", &e), 0);
	assert_int_equal(db_label_check("lastly", &e), 0);
	assert_int_equal(db_label_check("r\xc3\xa9sum\xc3\xa9", &e), 0);
	assert_label_refused("", "--label: a label cannot be empty");
	assert_label_refused("2", "--label 2: a number names the run with that id;"
			     " use a label with a letter in it");
	assert_label_refused("99999999999999999999", "--label 99999999999999999999:"
			     " a number names the run with that id; use a label"
			     " with a letter in it");
	assert_label_refused("last", "--label last: last and last~N name runs by"
			     " position; choose another label");
	assert_label_refused("last~1", "--label last~1: last and last~N name runs"
			     " by position; choose another label");
	assert_label_refused("last~x", "--label last~x: last and last~N name runs"
			     " by position; choose another label");
	assert_label_refused("a\x1b]0;x\x07", "--label: control characters or"
			     " invalid UTF-8 in a label");
	assert_label_refused("a\nb", "--label: control characters or invalid"
			     " UTF-8 in a label");
	assert_label_refused("\xff", "--label: control characters or invalid"
			     " UTF-8 in a label");
}

/* Text listings show stored control characters escaped; JSON keeps them exact. */
static void test_text_output_escapes_controls(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	struct capture c;
	int64_t id;
	char *s;

	open_db(f);
	id = begin_run(f, "x\x1b]0;owned\x07\x1b[2J", 1);
	job_init(&job, "v\x1b[31m", 0);
	memset(&r, 0, sizeof(r));
	r.exit_kind = VM_EXIT_GUEST_FAIL;
	strcpy(r.error, "bad\r\x9b" "1Aforged");
	assert_int_equal(db_store_result(f->db, id, &job, "h", &r, NULL, false,
					 NULL, &f->e), 0);
	sql_exec(db_sqlite(f->db), "UPDATE runs SET command_line ="
		 " 'vmorch run ' || char(27) || 'c'");

	assert_int_equal(db_runs_print(f->db, capture_open(&c), &all_runs, &f->e), 0);
	s = capture_close(&c);
	assert_non_null(strstr(s, "  x\\e]0;owned\\x07\\e[2J\n"));
	assert_null(strchr(s, 0x1b));
	free(s);

	assert_int_equal(db_run_show_print(f->db, id, capture_open(&c), &f->e), 0);
	s = capture_close(&c);
	assert_non_null(strstr(s, "run 1 (x\\e]0;owned\\x07\\e[2J): running\n"));
	assert_non_null(strstr(s, "command   vmorch run \\ec\n"));
	assert_non_null(strstr(s, "  1 smoke/v\\e[31m#0: bad\\r\\x9b1Aforged\n"));
	assert_non_null(strstr(s, "  smoke     v\\e[31m  "));
	assert_null(strchr(s, 0x1b));
	assert_null(strchr(s, '\r'));
	free(s);

	s = json_text(db_runs_json(f->db, &all_runs, &f->e));
	assert_non_null(strstr(s, "\"label\":\"x\\u001B]0;owned\\u0007\\u001B[2J\""));
	free(s);
}

/* ---- read-only opening ---- */

/* A missing file is "no database at PATH", and nothing is created. */
static void test_readonly_missing_creates_nothing(void **state)
{
	struct fixture *f = *state;
	char want[256];

	assert_int_equal(db_open_readonly(f->path, &f->db, &f->e), -ENOENT);
	snprintf(want, sizeof(want), "no database at %s", f->path);
	assert_string_equal(f->e.msg, want);
	assert_false(file_exists(f->path));
}

/* /dev/null is no database, and no /dev/null-journal appears. */
static void test_readonly_dev_null(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(db_open_readonly("/dev/null", &f->db, &f->e), -EINVAL);
	assert_string_equal(f->e.msg, "/dev/null: not a vmorch database (not a"
			    " regular file)");
	assert_false(file_exists("/dev/null-journal"));
	assert_false(file_exists("/dev/null-wal"));
}

/* An empty file and a foreign SQLite file are refused byte for byte untouched. */
static void test_readonly_refuses_foreign(void **state)
{
	struct fixture *f = *state;
	char want[256];
	FILE *fp;
	sqlite3 *h;

	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(db_open_readonly(f->path, &f->db, &f->e), -ENOENT);
	snprintf(want, sizeof(want), "no database at %s (the file is empty)", f->path);
	assert_string_equal(f->e.msg, want);
	assert_int_equal(file_size(f->path), 0);

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "PRAGMA application_id = 1234; CREATE TABLE t (x)");
	sqlite3_close(h);
	assert_int_equal(db_open_readonly(f->path, &f->db, &f->e), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a vmorch database (application_id"
		 " 0x4d2, user_version 0)", f->path);
	assert_string_equal(f->e.msg, want);
}

/* An older schema is not migrated by a reader: the message says what to do. */
static void test_readonly_older_schema_refused(void **state)
{
	struct fixture *f = *state;
	char want[256];

	make_v1_database(f->path);
	assert_int_equal(db_open_readonly(f->path, &f->db, &f->e), -EPROTO);
	snprintf(want, sizeof(want), "database at %s has schema 1, this vmorch"
		 " needs 11: run a write command (vmorch run) to upgrade it", f->path);
	assert_string_equal(f->e.msg, want);
	assert_null(f->db);
	open_db(f);
	assert_int_equal(sql_int(db_sqlite(f->db), "PRAGMA user_version"), 11);
}

/* A read-only connection lists runs and cannot write. */
static void test_readonly_reads_not_writes(void **state)
{
	struct fixture *f = *state;
	struct db *ro;
	char *s;

	show_fixture(f);
	assert_int_equal(db_open_readonly(f->path, &ro, &f->e), 0);
	s = json_text(db_runs_json(ro, &all_runs, &f->e));
	assert_non_null(strstr(s, "\"id\":2"));
	assert_non_null(strstr(s, "\"id\":1"));
	free(s);
	assert_int_not_equal(sqlite3_exec(db_sqlite(ro), "DELETE FROM runs",
					  NULL, NULL, NULL), SQLITE_OK);
	db_close(ro);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM runs"), 2);
}

/*
 * In a read-only directory (a read-only bind mount: root ignores 0555),
 * a WAL database with no -shm is read as immutable, giving the whole
 * answer; with a -wal holding commits it is refused rather than misread.
 * The mount lives in a child's private mount namespace.
 */
static int readonly_dir_child(const char *dir, const char *path)
{
	struct db *db = NULL;
	struct verr e = { "" };
	json_t *doc;
	int n;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(dir, dir, NULL, MS_BIND, NULL) ||
	    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		return 77;
	if (db_open_readonly(path, &db, &e)) {
		fprintf(stderr, "readonly dir: %s\n", e.msg);
		return 1;
	}
	doc = db_runs_json(db, &all_runs, &e);
	n = doc ? (int)json_array_size(json_object_get(doc, "runs")) : -1;
	json_decref(doc);
	db_close(db);
	return n == 2 ? 0 : 2;
}

static int run_in_child(int (*fn)(const char *, const char *), const char *a,
			const char *b)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(a, b));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_readonly_directory(void **state)
{
	struct fixture *f = *state;
	char shm[160];
	int rc;

	show_fixture(f);
	db_close(f->db);	/* checkpoints and removes -wal and -shm */
	f->db = NULL;
	snprintf(shm, sizeof(shm), "%s-shm", f->path);
	assert_false(file_exists(shm));
	rc = run_in_child(readonly_dir_child, f->dir, f->path);
	if (rc == 77)
		skip();	/* no CAP_SYS_ADMIN for a private read-only mount */
	assert_int_equal(rc, 0);
	assert_false(file_exists(shm));
}


/* The run's host facts are stored with the run, and a fleet host's beside them. */
static void test_run_host_facts_stored(void **state)
{
	struct fixture *f = *state;
	static const struct db_run_file files[] = {
		{ "scenarios/smoke.yaml", SHA_EMPTY, NULL },
	};
	const struct host_facts local = {
		.kernel_release = "6.1.0-57-amd64", .cpu_model = "AMD EPYC 7B13",
		.cpus = 2, .memory_bytes = 25769803776ULL, .kvm_flavour = "pvm",
	};
	const struct host_facts remote = {
		.kernel_release = "6.12.9", .cpu_model = "Intel Xeon", .cpus = 64,
		.memory_bytes = 0, .kvm_flavour = "intel",
	};
	const struct db_run_info info = {
		.host = "build1", .host_facts = &local, .vmorch_version = "0.1.0",
		.command_line = "vmorch run", .nfiles = 1, .files = files,
	};
	int64_t id = 0;
	sqlite3 *h;

	open_db(f);
	h = db_sqlite(f->db);
	assert_int_equal(db_run_begin(f->db, &info, &id, &f->e), 0);
	assert_int_equal(db_run_host(f->db, id, "kvm07", &remote, "0.2.0", &f->e), 0);
	assert_sql_text(h, "SELECT group_concat(host || '|' || kernel_release || '|'"
			" || cpu_model || '|' || cpus || '|' || memory_bytes || '|' || kvm"
			" || '|' || vmorch_version, ';') FROM host_facts WHERE run_id = 1",
			"build1|6.1.0-57-amd64|AMD EPYC 7B13|2|25769803776|pvm|0.1.0;"
			"kvm07|6.12.9|Intel Xeon|64|0|intel|0.2.0");
	/* Once per run and host. */
	assert_int_equal(db_run_host(f->db, id, "kvm07", &remote, "0.2.0", &f->e),
			 -EINVAL);
}

/* A job retried after a lost host: both tries stored, one result, linked. */
static void test_attempts_stored_with_result(void **state)
{
	struct fixture *f = *state;
	struct job_desc job;
	struct vm_result r;
	const struct db_attempt tries[] = {
		{ 1, "kvm01", 1714564800000000LL, 1714564801500000LL, true,
		  "host lost: no answer to 3 keepalives" },
		{ 2, "kvm02", 1714564801600000LL, 1714564803000000LL, false, "" },
	};
	struct db_result_rec rec = { 0 };
	int64_t run;
	sqlite3 *h;

	open_db(f);
	h = db_sqlite(f->db);
	run = begin_run(f, NULL, 1);
	job_init(&job, "read", 0);
	job.spec.name = "smoke/read#0";
	memset(&r, 0, sizeof(r));
	r.success = true;
	r.exit_kind = VM_EXIT_GUEST_PASS;
	rec = (struct db_result_rec){ .job = &job, .host = "kvm02", .r = &r,
				      .verdict_pass = true, .attempts = tries,
				      .nattempts = 2 };
	assert_int_equal(db_store_results(f->db, run, &rec, 1, &f->e), 0);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM vm_results"), 1);
	assert_sql_text(h, "SELECT group_concat(job || '|' || attempt || '|' || host"
			" || '|' || started_at || '|' || ended_at || '|' || outcome"
			" || '|' || reason || '|' || result_id, ';') FROM attempts",
			"smoke/read#0|1|kvm01|2024-05-01T12:00:00.000Z|"
			"2024-05-01T12:00:01.500Z|host_lost|host lost: no answer to 3"
			" keepalives|1;"
			"smoke/read#0|2|kvm02|2024-05-01T12:00:01.600Z|"
			"2024-05-01T12:00:03.000Z|result||1");
	job.spec.name = NULL;
	/* show lists both tries of a job whose host was lost. */
	{
		struct capture c;
		char *t;

		assert_int_equal(db_run_show_print(f->db, run, capture_open(&c), &f->e), 0);
		t = capture_close(&c);
		assert_non_null(strstr(t, "\nattempts (jobs whose host was lost):\n"
				       "  1 smoke/read#0:\n"
				       "    #1 on kvm01: host_lost (host lost: no answer to 3"
				       " keepalives)\n"
				       "    #2 on kvm02: result\n"));
		free(t);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_migrate_from_empty),
		T(test_run_host_facts_stored),
		T(test_attempts_stored_with_result),
		T(test_blk_counters_columns_are_counter_list),
		T(test_migrations_embedded_in_order),
		T(test_reopen_keeps_runs),
		T(test_newer_version_refused_untouched),
		T(test_not_a_database_refused),
		T(test_foreign_sqlite_database_refused),
		T(test_store_load_round_trip_exact),
		T(test_store_without_disks),
		T(test_store_params_canonical),
		T(test_store_expectations),
		T(test_store_refuses_counter_above_int64),
		T(test_store_unknown_run),
		T(test_result_visible_to_other_connection),
		T(test_store_group_round_trip),
		T(test_store_group_invalid_stores_none),
		T(test_store_group_sql_failure_rolls_back),
		T(test_store_group_unknown_run),
		T(test_integrity_check_ok),
		T(test_run_end),
		T(test_run_files),
		T(test_load_unknown_result),
		T(test_resolve_references),
		T(test_resolve_errors),
		T(test_runs_json),
		T(test_runs_text),
		T(test_show_json),
		T(test_show_text),
		T(test_migrate_sorts_params_keys),
		T(test_migrate_gives_content_uuids),
		T(test_import_merges_and_skips),
		T(test_import_old_schema_and_unknown_table),
		T(test_delete_runs),
		T(test_migrate_v1_keeps_results),
		T(test_unknown_owner_stays_running),
		T(test_dead_owner_shows_abandoned),
		T(test_open_marks_dead_owner_runs),
		T(test_run_file_description),
		T(test_label_check),
		T(test_text_output_escapes_controls),
		T(test_readonly_missing_creates_nothing),
		T(test_readonly_dev_null),
		T(test_readonly_refuses_foreign),
		T(test_readonly_older_schema_refused),
		T(test_readonly_reads_not_writes),
		T(test_readonly_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
