/*
 * test_db_console.c - whole consoles in the database (table consoles,
 * schema 11): stored with their result in the group's transaction, read
 * back byte for byte, refused when their counts or stream disagree,
 * migrated onto a schema-10 database, copied by import, deleted with their
 * run; and `vmorch show RUN JOB` (--json, --console) printing them.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "orchestrator/db.h"
#include "orchestrator/db_query.h"

struct fixture {
	char dir[64];
	char path[128];
	char out[128];
	char err[128];
	struct db *db;
	struct verr e;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-console-XXXXXX");
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

	db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

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

static void sql_exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static void open_db(struct fixture *f)
{
	if (db_open(f->path, &f->db, &f->e))
		fail_msg("db_open: %s", f->e.msg);
}

static int64_t begin_run(struct db *db, const char *uuid)
{
	const struct db_run_info info = {
		.host = "build1", .vmorch_version = "0.1.0",
		.command_line = "vmorch run t.yaml", .jobs_total = 2, .uuid = uuid,
	};
	struct verr e;
	int64_t id = 0;

	if (db_run_begin(db, &info, &id, &e))
		fail_msg("db_run_begin: %s", e.msg);
	return id;
}

/* A console as the pool hands it over: @kept bytes of @text, @bytes printed. */
static struct console_text console_of(const char *text, size_t kept, uint64_t bytes)
{
	struct console_text c = { .data = malloc(kept + 1), .len = kept, .bytes = bytes,
				  .dropped = bytes - kept };

	assert_non_null(c.data);
	memcpy(c.data, text, kept);
	c.data[kept] = 0;
	return c;
}

static void job_init(struct job_desc *job, const char *vm)
{
	memset(job, 0, sizeof(*job));
	strcpy(job->scenario, "smoke");
	strcpy(job->scenario_file, "smoke.yaml");
	snprintf(job->vm, sizeof(job->vm), "%s", vm);
}

static void result_init(struct vm_result *r, const char *tail)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	r->wall_us = 1000;
	snprintf(r->console_tail, sizeof(r->console_tail), "%s", tail);
}

/*
 * Run @run_id's two jobs: smoke/whole#0 with @c as its console (NULL:
 * none), smoke/tail#0 without one, as a fleet job is.  Their result ids
 * into @ids.
 */
static int store_pair(struct fixture *f, struct db *db, int64_t run_id,
		      const struct console_text *c, int64_t ids[2])
{
	static struct job_desc job[2];
	static struct vm_result r[2];
	struct db_result_rec recs[2];
	int rc;

	job_init(&job[0], "whole");
	job_init(&job[1], "tail");
	result_init(&r[0], "tail of whole\n");
	result_init(&r[1], "only a tail\n");
	recs[0] = (struct db_result_rec){ .job = &job[0], .host = "local", .r = &r[0],
					  .verdict_pass = true, .console = c };
	recs[1] = (struct db_result_rec){ .job = &job[1], .host = "kvm07", .r = &r[1],
					  .verdict_pass = true };
	rc = db_store_results(db, run_id, recs, 2, &f->e);
	if (!rc && ids) {
		ids[0] = recs[0].result_id;
		ids[1] = recs[1].result_id;
	}
	return rc;
}

static void assert_console(struct db *db, int64_t id, const char *data, size_t len,
			   uint64_t bytes, uint64_t dropped)
{
	struct console_text t;
	struct verr e;

	if (db_console_load(db, id, &t, &e))
		fail_msg("db_console_load: %s", e.msg);
	assert_int_equal(t.len, len);
	assert_memory_equal(t.data, data, len);
	assert_int_equal(t.data[len], 0);
	assert_true(t.bytes == bytes);
	assert_true(t.dropped == dropped);
	console_text_release(&t);
}

/* ---- storing and loading ---- */

/*
 * A job's console goes in with its result and comes back byte for byte,
 * NULs and escapes included; a result without one has no row, and saying
 * so is -ENOENT.
 */
static void test_console_stored_with_result(void **state)
{
	static const char text[] = "vmorch-guest: start\n\0\x1b[31mred\xff\nVMORCH-RESULT {}\n";
	struct fixture *f = *state;
	struct console_text c = console_of(text, sizeof(text) - 1, sizeof(text) - 1);
	struct console_text t;
	int64_t ids[2];

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, ids), 0);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM consoles"), 1);
	assert_console(f->db, ids[0], text, sizeof(text) - 1, sizeof(text) - 1, 0);
	assert_int_equal(db_console_load(f->db, ids[1], &t, &f->e), -ENOENT);
	assert_string_equal(f->e.msg, "result 2 has no stored console");
	assert_null(t.data);
	console_text_release(&c);
}

/* A capped console keeps its counts: printed in all, and dropped by the cap. */
static void test_capped_console_keeps_counts(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("the last ten", 10, 3000000);
	int64_t ids[2];

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, ids), 0);
	assert_console(f->db, ids[0], "the last t", 10, 3000000, 2999990);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT bytes - dropped FROM consoles"), 10);
	console_text_release(&c);
}

/* A console whose counts disagree with its text is refused, the group with it. */
static void test_malformed_console_stores_nothing(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("abc", 3, 2);	/* 3 kept of 2 printed */

	open_db(f);
	c.dropped = 0;
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, NULL), -EINVAL);
	assert_string_equal(f->e.msg, "smoke/whole#0: malformed console (3 bytes kept of 2,"
			    " 0 dropped)");
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM vm_results"), 0);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM consoles"), 0);
	console_text_release(&c);
}

/* A row whose stream does not inflate to its length is refused, never trusted. */
static void test_damaged_row_refused(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("0123456789", 10, 10);
	struct console_text t;
	int64_t ids[2];

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, ids), 0);
	sql_exec(db_sqlite(f->db), "UPDATE consoles SET bytes = 11");
	assert_int_equal(db_console_load(f->db, ids[0], &t, &f->e), -EBADMSG);
	assert_non_null(strstr(f->e.msg, "the console of result 1 is damaged"));
	sql_exec(db_sqlite(f->db), "UPDATE consoles SET bytes = 10, zdata = x'789c'");
	assert_int_equal(db_console_load(f->db, ids[0], &t, &f->e), -EBADMSG);
	assert_null(t.data);
	console_text_release(&c);
}

/* ---- schema, import, rm ---- */

/*
 * A schema-10 database (before consoles) migrates: the table appears, every
 * result stays, and the old results have no console.
 */
static void test_schema_10_migrates(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("new", 3, 3), t;
	int64_t ids[2];
	sqlite3 *h;

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), NULL, ids), 0);
	db_close(f->db);
	f->db = NULL;
	/* What schema 10 was: everything but the consoles table. */
	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	sql_exec(h, "DROP TABLE consoles; PRAGMA user_version = 10");
	sqlite3_close(h);
	open_db(f);
	h = db_sqlite(f->db);
	assert_int_equal(sql_int(h, "PRAGMA user_version"), 11);
	assert_int_equal(sql_int(h, "SELECT strict FROM pragma_table_list WHERE name = 'consoles'"), 1);
	assert_int_equal(sql_int(h, "SELECT count(*) FROM vm_results"), 2);
	assert_int_equal(db_console_load(f->db, ids[0], &t, &f->e), -ENOENT);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, ids), 0);
	assert_console(f->db, ids[0], "new", 3, 3, 0);
	console_text_release(&c);
}

/*
 * vmorch import copies each result's console under the result's new id;
 * importing again adds none.
 */
static void test_import_copies_consoles(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("imported console\n", 17, 17);
	struct db_import_stats st;
	char other[sizeof(f->path) + 8];
	struct db *b;
	int64_t ids[2];

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, "00000000-0000-4000-8000-000000000001"),
				    &c, ids), 0);
	snprintf(other, sizeof(other), "%s/b.db", f->dir);
	assert_int_equal(db_open(other, &b, &f->e), 0);
	/* b has a run of its own, so the imported ids move up by two. */
	assert_int_equal(store_pair(f, b, begin_run(b, "11111111-1111-4111-8111-111111111111"),
				    &c, NULL), 0);
	assert_int_equal(db_import(b, f->path, &st, &f->e), 0);
	assert_int_equal(st.results, 2);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT count(*) FROM consoles"), 2);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT r.vm = 'whole' AND r.run_id = 2"
				 " FROM consoles c JOIN vm_results r ON r.id = c.result_id"
				 " WHERE c.result_id = 3"), 1);
	assert_console(b, 3, "imported console\n", 17, 17, 0);
	assert_int_equal(db_import(b, f->path, &st, &f->e), 0);
	assert_int_equal(sql_int(db_sqlite(b), "SELECT count(*) FROM consoles"), 2);
	db_close(b);
	console_text_release(&c);
}

/* vmorch rm (and gc, which deletes the same way) takes the consoles along. */
static void test_rm_deletes_consoles(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("x", 1, 1);
	int64_t run, keep;

	open_db(f);
	run = begin_run(f->db, NULL);
	assert_int_equal(store_pair(f, f->db, run, &c, NULL), 0);
	assert_int_equal(db_run_end(f->db, run, DB_RUN_PASSED, &f->e), 0);
	keep = begin_run(f->db, NULL);
	assert_int_equal(store_pair(f, f->db, keep, &c, NULL), 0);
	assert_int_equal(db_run_end(f->db, keep, DB_RUN_PASSED, &f->e), 0);
	assert_int_equal(db_run_delete(f->db, run, &f->e), 0);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM consoles"), 1);
	assert_int_equal(sql_int(db_sqlite(f->db), "SELECT count(*) FROM consoles c"
				 " JOIN vm_results r ON r.id = c.result_id WHERE r.run_id = 2"), 1);
	console_text_release(&c);
}

/* ---- show ---- */

/* show RUN JOB --json says what is stored; null for a job with a tail only. */
static void test_show_json_says_console_size(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("0123456789", 10, 1000);
	json_t *doc, *con;
	int64_t run;

	open_db(f);
	run = begin_run(f->db, NULL);
	assert_int_equal(store_pair(f, f->db, run, &c, NULL), 0);
	assert_int_equal(db_job_show_json(f->db, run, "smoke/whole#0", &doc, &f->e), 0);
	con = json_object_get(json_object_get(doc, "job"), "console");
	assert_int_equal(json_integer_value(json_object_get(con, "printed_bytes")), 1000);
	assert_int_equal(json_integer_value(json_object_get(con, "kept_bytes")), 10);
	assert_int_equal(json_integer_value(json_object_get(con, "dropped_bytes")), 990);
	assert_true(json_integer_value(json_object_get(con, "compressed_bytes")) > 0);
	json_decref(doc);
	assert_int_equal(db_job_show_json(f->db, run, "smoke/tail#0", &doc, &f->e), 0);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "job"), "console")));
	json_decref(doc);
	console_text_release(&c);
}

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

/* vmorch @args... with stdout in f->out and stderr in f->err; its exit status. */
static int vmorch(struct fixture *f, const char *const args[])
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
		int o = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(f->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		alarm(60);
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The file @path, NUL-terminated; its length in *@len. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(4 << 20);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, (4 << 20) - 1, fp);
	buf[*len] = 0;
	fclose(fp);
	return buf;
}

/*
 * A console far past the 4 KiB tail: `show RUN JOB --console` prints all of
 * it, its first line too, with control bytes and NULs made visible.
 */
static void test_show_console_prints_whole(void **state)
{
	struct fixture *f = *state;
	size_t n = 0, len;
	char *text = malloc(20000), *out;
	struct console_text c;

	n += (size_t)sprintf(text, "FIRST LINE \x1b]0;owned\a\n");
	while (n < 19000)
		n += (size_t)sprintf(text + n, "line %zu\n", n);
	n += (size_t)sprintf(text + n, "nul:");
	text[n++] = 0;
	n += (size_t)sprintf(text + n, ":LAST LINE\n");
	c = console_of(text, n, n);
	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, NULL), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(vmorch(f, (const char *[]){ "show", "--db", f->path, "1",
						     "smoke/whole#0", "--console", NULL }), 0);
	out = slurp(f->out, &len);
	assert_true(strncmp(out, "FIRST LINE \\e]0;owned\\x07\nline ", 31) == 0);
	assert_non_null(strstr(out, "nul:\\x00:LAST LINE\n"));
	assert_null(strchr(out, '\x1b'));
	assert_int_equal(len, n + 1 + 3 + 3);	/* ESC, BEL, NUL became \e, \x07, \x00 */
	free(out);
	free(text);
	console_text_release(&c);
}

/* Past the cap: a first line says how many bytes went; then the kept ones. */
static void test_show_console_says_dropped(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("kept end\n", 9, 2000009);
	size_t len;
	char *out;

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, NULL), 0);
	assert_int_equal(vmorch(f, (const char *[]){ "show", "--db", f->path, "1",
						     "smoke/whole#0", "--console", NULL }), 0);
	out = slurp(f->out, &len);
	assert_string_equal(out, "[vmorch: the first 2000000 of 2000009 bytes were dropped;"
			    " the last 9 follow]\nkept end\n");
	free(out);
	console_text_release(&c);
}

/* A job with no stored console (a fleet job, an older result): its tail. */
static void test_show_console_falls_back_to_tail(void **state)
{
	struct fixture *f = *state;
	size_t len;
	char *out;

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), NULL, NULL), 0);
	assert_int_equal(vmorch(f, (const char *[]){ "show", "--db", f->path, "1",
						     "smoke/tail#0", "--console", NULL }), 0);
	out = slurp(f->out, &len);
	assert_string_equal(out, "only a tail\n");
	free(out);
}

/* show RUN JOB as text: a line says how much of the console is stored. */
static void test_show_text_says_console_size(void **state)
{
	struct fixture *f = *state;
	struct console_text c = console_of("the last ten", 10, 3000000);
	size_t len;
	char *out;

	open_db(f);
	assert_int_equal(store_pair(f, f->db, begin_run(f->db, NULL), &c, NULL), 0);
	assert_int_equal(vmorch(f, (const char *[]){ "show", "--db", f->path, "1",
						     "smoke/whole#0", NULL }), 0);
	out = slurp(f->out, &len);
	assert_non_null(strstr(out, "\nconsole   3000000 bytes, the last 10 stored (the first"
			       " 2999990 dropped by the cap) ("));
	assert_non_null(strstr(out, " compressed): --console prints it\nconsole (tail):\n"
			       "tail of whole\n"));
	free(out);
	assert_int_equal(vmorch(f, (const char *[]){ "show", "--db", f->path, "1",
						     "smoke/tail#0", NULL }), 0);
	out = slurp(f->out, &len);
	assert_non_null(strstr(out, "\nconsole   only its tail is stored (a fleet job, or"
			       " stored before vmorch kept whole consoles)\n"));
	free(out);
	console_text_release(&c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_console_stored_with_result),
		T(test_capped_console_keeps_counts),
		T(test_malformed_console_stores_nothing),
		T(test_damaged_row_refused),
		T(test_schema_10_migrates),
		T(test_import_copies_consoles),
		T(test_rm_deletes_consoles),
		T(test_show_json_says_console_size),
		T(test_show_console_prints_whole),
		T(test_show_console_says_dropped),
		T(test_show_console_falls_back_to_tail),
		T(test_show_text_says_console_size),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
