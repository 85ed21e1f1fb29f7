/*
 * db_query.c - runs for people: RUN references, `vmorch runs` and
 * `vmorch show RUN` as aligned text tables or JSON.  Read-only; the only
 * code in orchestrator/ besides the CLI that prints, and only to the FILE*
 * it is given.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_escape.h"
#include "common/text_table.h"
#include "orchestrator/db_query.h"
#include "orchestrator/jobname.h"

/* ---- small helpers ---- */

/* Every SQLite error of a query; a corrupt file says so in plain words. */
static int q_fail(struct db *db, int rc, const char *what, struct verr *e)
{
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		verr_set(e, "%s: the database is corrupt (%s)", what,
			 sqlite3_errmsg(db_sqlite(db)));
		return -EUCLEAN;
	case SQLITE_NOMEM:
		verr_set(e, "%s: out of memory", what);
		return -ENOMEM;
	default:
		verr_set(e, "%s: %s", what, sqlite3_errmsg(db_sqlite(db)));
		return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	}
}

/* A cell of untrusted text, control characters made visible. */
static void table_set_text(struct text_table *t, unsigned col, const char *s)
{
	size_t n = text_escape(NULL, 0, s, 0) + 1;
	char *buf = malloc(n);

	if (!buf) {
		t->oom = true;
		return;
	}
	text_escape(buf, n, s, 0);
	text_table_set(t, col, "%s", buf);
	free(buf);
}

static int q_prepare(struct db *db, const char *sql, sqlite3_stmt **st,
		     struct verr *e)
{
	int rc = sqlite3_prepare_v2(db_sqlite(db), sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : q_fail(db, rc, "query", e);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "";
}

static json_t *col_json_text(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string(col_text(st, col));
}

/* The text tables show these: completions, and every counter where more is worse. */
static bool counter_is_key(int i)
{
	return (vblk_fields[i].kind == VBLK_CUMULATIVE &&
		strcmp(vblk_fields[i].unit, "requests") == 0) ||
	       vblk_fields[i].dir == VMORCH_DIR_LOWER;
}

/* ---- RUN references ---- */

/*
 * Run @sql (one parameter: @text, or @num when @text is NULL) and take the
 * first column of its first row.  -ENOENT, without a message, for no row.
 */
static int query_id(struct db *db, const char *sql, const char *text,
		    int64_t num, int64_t *out, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = q_prepare(db, sql, &st, e);
	if (rc)
		return rc;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, num);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = q_fail(db, rc, "resolve run", e);
	}
	sqlite3_finalize(st);
	return rc;
}

/* A non-empty string of decimal digits that fits int64_t. */
static bool parse_count(const char *s, int64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == 0;
}

static int resolve_last(struct db *db, const char *ref, int64_t back,
			int64_t *run_id, struct verr *e)
{
	int64_t nruns = 0;
	int rc;

	rc = query_id(db, "SELECT id FROM runs ORDER BY id DESC"
		      " LIMIT 1 OFFSET ?", NULL, back, run_id, e);
	if (rc != -ENOENT)
		return rc;
	/* No parameter to bind: query_id's bind then fails harmlessly. */
	rc = query_id(db, "SELECT count(*) FROM runs", NULL, 0, &nruns, e);
	if (rc)
		return rc;
	if (nruns == 0)
		verr_set(e, "%s: there are no runs yet", ref);
	else
		verr_set(e, "%s: there %s only %" PRId64 " run%s", ref,
			 nruns == 1 ? "is" : "are", nruns, nruns == 1 ? "" : "s");
	return -ENOENT;
}

int db_run_resolve(struct db *db, const char *ref, int64_t *run_id,
		   struct verr *e)
{
	int64_t n;
	int rc;

	if (!ref || !*ref) {
		verr_set(e, "empty run reference: expected an id, a label,"
			 " last or last~N");
		return -EINVAL;
	}
	if (parse_count(ref, &n)) {
		rc = query_id(db, "SELECT id FROM runs WHERE id = ?", NULL, n,
			      run_id, e);
		if (rc == -ENOENT)
			verr_set(e, "no run %s", ref);
		return rc;
	}
	if (strcmp(ref, "last") == 0)
		return resolve_last(db, ref, 0, run_id, e);
	if (strncmp(ref, "last~", 5) == 0) {
		if (!parse_count(ref + 5, &n)) {
			verr_set(e, "%s: expected last~N with N a number of"
				 " runs back", ref);
			return -EINVAL;
		}
		return resolve_last(db, ref, n, run_id, e);
	}
	rc = query_id(db, "SELECT id FROM runs WHERE label = ?"
		      " ORDER BY id DESC LIMIT 1", ref, 0, run_id, e);
	if (rc == -ENOENT)
		verr_set(e, "no run with id or label '%s'", ref);
	return rc;
}

/*
 * A label must name its run back through db_run_resolve(): not a number
 * (taken as an id), not last or last~..., not empty, and printable.
 */
int db_label_check(const char *label, struct verr *e)
{
	if (!label || !*label) {
		verr_set(e, "--label: a label cannot be empty");
		return -EINVAL;
	}
	if (!text_is_clean(label, 0)) {
		verr_set(e, "--label: control characters or invalid UTF-8 in"
			 " a label");
		return -EINVAL;
	}
	if (strspn(label, "0123456789") == strlen(label)) {
		verr_set(e, "--label %s: a number names the run with that id;"
			 " use a label with a letter in it", label);
		return -EINVAL;
	}
	if (strcmp(label, "last") == 0 || strncmp(label, "last~", 5) == 0) {
		verr_set(e, "--label %s: last and last~N name runs by position;"
			 " choose another label", label);
		return -EINVAL;
	}
	return 0;
}

/* ---- runs ---- */

/*
 * Job counts are stored when a run ends; a run still 'running' (or whose
 * vmorch was killed) is counted live from its results.
 */
#define RUN_LIVE_COUNT(verdict)						\
	"(SELECT count(*) FROM vm_results v WHERE v.run_id = runs.id"	\
	" AND v.verdict = '" verdict "')"
#define RUN_COLUMNS							\
	"id, label, vmorch_run_status(status, owner_host, owner_boot,"	\
	" owner_pid, owner_start), started_at, ended_at, host, vmorch_version,"	\
	" command_line, jobs_total,"					\
	" CASE status WHEN 'running' THEN " RUN_LIVE_COUNT("pass")	\
	" ELSE jobs_passed END,"						\
	" CASE status WHEN 'running' THEN " RUN_LIVE_COUNT("fail")	\
	" ELSE jobs_failed END,"						\
	" CAST(round((julianday(ended_at) - julianday(started_at))"	\
	" * 86400000) AS INTEGER),"					\
	" (SELECT json_group_object(key, value) FROM run_meta m"	\
	"  WHERE m.run_id = runs.id), uuid"

enum {
	RC_ID, RC_LABEL, RC_STATUS, RC_STARTED, RC_ENDED, RC_HOST, RC_VERSION,
	RC_CMDLINE, RC_TOTAL, RC_PASSED, RC_FAILED, RC_DURATION_MS, RC_META, RC_UUID
};

/* The run's meta as an object ({} without any); NULL only out of memory. */
static json_t *run_meta_json(sqlite3_stmt *st)
{
	const char *text = (const char *)sqlite3_column_text(st, RC_META);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;

	if (json_is_object(o))
		return o;
	json_decref(o);
	return json_object();
}

static json_t *run_row_json(sqlite3_stmt *st)
{
	json_t *duration = sqlite3_column_type(st, RC_DURATION_MS) == SQLITE_NULL ?
			   json_null() :
			   json_integer(sqlite3_column_int64(st, RC_DURATION_MS));

	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:s, s:s,"
			 " s:{s:I, s:I, s:I}, s:o}",
			 "id", (json_int_t)sqlite3_column_int64(st, RC_ID),
			 "uuid", col_text(st, RC_UUID),
			 "label", col_json_text(st, RC_LABEL),
			 "status", col_text(st, RC_STATUS),
			 "started_at", col_text(st, RC_STARTED),
			 "ended_at", col_json_text(st, RC_ENDED),
			 "duration_ms", duration,
			 "host", col_text(st, RC_HOST),
			 "vmorch_version", col_text(st, RC_VERSION),
			 "command_line", col_text(st, RC_CMDLINE),
			 "jobs",
			 "total", (json_int_t)sqlite3_column_int64(st, RC_TOTAL),
			 "passed", (json_int_t)sqlite3_column_int64(st, RC_PASSED),
			 "failed", (json_int_t)sqlite3_column_int64(st, RC_FAILED),
			 "meta", run_meta_json(st));
}

/* COMMIT: the first 10 digits of meta's commit, "+" when dirty; else "-". */
static void runs_set_commit(struct text_table *t, unsigned col, sqlite3_stmt *st)
{
	json_t *meta = run_meta_json(st);
	const char *commit = json_string_value(json_object_get(meta, "commit"));
	const char *dirty = json_string_value(json_object_get(meta, "dirty"));

	if (commit)
		text_table_set(t, col, "%.10s%s", commit, dirty && !strcmp(dirty, "1") ?
			       "+" : "");
	else
		text_table_set(t, col, "-");
	json_decref(meta);
}

static const char *const runs_head[] = {
	"ID", "STARTED", "STATUS", "JOBS", "PASSED", "FAILED", "DURATION",
	"COMMIT", "LABEL",
};
#define RUNS_NCOLS (sizeof(runs_head) / sizeof(runs_head[0]))

static void runs_table_row(struct text_table *t, sqlite3_stmt *st)
{
	text_table_row(t);
	text_table_set(t, 0, "%" PRId64, (int64_t)sqlite3_column_int64(st, RC_ID));
	text_table_set(t, 1, "%s", col_text(st, RC_STARTED));
	table_set_text(t, 2, col_text(st, RC_STATUS));
	text_table_set(t, 3, "%" PRId64, (int64_t)sqlite3_column_int64(st, RC_TOTAL));
	text_table_set(t, 4, "%" PRId64, (int64_t)sqlite3_column_int64(st, RC_PASSED));
	text_table_set(t, 5, "%" PRId64, (int64_t)sqlite3_column_int64(st, RC_FAILED));
	if (sqlite3_column_type(st, RC_DURATION_MS) == SQLITE_NULL)
		text_table_set(t, 6, "-");
	else
		text_table_set(t, 6, "%.1fs",
			  sqlite3_column_int64(st, RC_DURATION_MS) / 1000.0);
	runs_set_commit(t, 7, st);
	table_set_text(t, 8, col_text(st, RC_LABEL));
}

/* The filters' SQL: a run is listed when every one holds. */
static int runs_select(struct db *db, const struct db_runs_filter *f, sqlite3_stmt **st,
		       struct verr *e)
{
	char sql[2048];
	size_t len;
	int rc, n = 0;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT " RUN_COLUMNS " FROM runs WHERE 1");
	if (f->label)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND label GLOB ?");
	if (f->scenario)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
					" AND EXISTS (SELECT 1 FROM vm_results v"
					" WHERE v.run_id = runs.id AND v.scenario = ?)");
	for (unsigned i = 0; i < f->nmeta; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
					" AND EXISTS (SELECT 1 FROM run_meta m WHERE"
					" m.run_id = runs.id AND m.key = ? AND m.value GLOB ?)");
	snprintf(sql + len, sizeof(sql) - len, " ORDER BY id DESC LIMIT ?");
	rc = q_prepare(db, sql, st, e);
	if (rc)
		return rc;
	if (f->label)
		sqlite3_bind_text(*st, ++n, f->label, -1, SQLITE_STATIC);
	if (f->scenario)
		sqlite3_bind_text(*st, ++n, f->scenario, -1, SQLITE_STATIC);
	for (unsigned i = 0; i < f->nmeta; i++) {
		sqlite3_bind_text(*st, ++n, f->meta_key[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(*st, ++n, f->meta_glob[i], -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(*st, ++n, f->limit ? (int64_t)f->limit : -1);
	return 0;
}

int db_runs_print(struct db *db, FILE *out, const struct db_runs_filter *f,
		  struct verr *e)
{
	bool right[RUNS_NCOLS];
	struct text_table t;
	sqlite3_stmt *st = NULL;
	int rc;

	for (unsigned c = 0; c < RUNS_NCOLS; c++)
		right[c] = c == 0 || (c >= 3 && c <= 6);
	text_table_init(&t, RUNS_NCOLS, runs_head, right);
	rc = runs_select(db, f, &st, e);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		runs_table_row(&t, st);
	if (rc != SQLITE_DONE) {
		rc = q_fail(db, rc, "runs", e);
		goto out;
	}
	rc = t.oom ? -ENOMEM : text_table_print(&t, out);
out:
	if (rc == -ENOMEM)
		verr_set(e, "out of memory");
	sqlite3_finalize(st);
	text_table_free(&t);
	return rc;
}

json_t *db_runs_json(struct db *db, const struct db_runs_filter *f, struct verr *e)
{
	sqlite3_stmt *st = NULL;
	json_t *runs = json_array(), *doc = NULL;
	int rc;

	if (!runs) {
		verr_set(e, "out of memory");
		return NULL;
	}
	if (runs_select(db, f, &st, e))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = run_row_json(st);

		if (!row || json_array_append_new(runs, row)) {
			verr_set(e, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		q_fail(db, rc, "runs", e);
		goto out;
	}
	doc = json_pack("{s:i, s:O}", "vmorch_runs", DB_QUERY_JSON_VERSION,
			"runs", runs);
	if (!doc)
		verr_set(e, "out of memory");
out:
	sqlite3_finalize(st);
	json_decref(runs);
	return doc;
}

/* ---- show: one run ---- */

static int run_select(struct db *db, int64_t run_id, sqlite3_stmt **st,
		      struct verr *e)
{
	int rc = q_prepare(db, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?",
			   st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(*st, 1, run_id);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE) {
		verr_set(e, "no run %" PRId64, run_id);
		return -ENOENT;
	}
	return q_fail(db, rc, "run", e);
}

#define RUN_FILES_SQL							\
	"SELECT path, sha256, description FROM run_files WHERE run_id = ?"	\
	" ORDER BY path"

static int run_file_row(sqlite3_stmt *st, json_t *into)
{
	json_t *f = json_pack("{s:s, s:s, s:o}", "path", col_text(st, 0),
			      "sha256", col_text(st, 1),
			      "description", col_json_text(st, 2));

	return !f || json_array_append_new(into, f) ? -ENOMEM : 0;
}

#define RUN_HOSTS_SQL							\
	"SELECT host, kernel_release, cpu_model, cpus, memory_bytes, kvm,"	\
	" vmorch_version FROM host_facts WHERE run_id = ? ORDER BY host"

static int run_host_row(sqlite3_stmt *st, json_t *into)
{
	json_t *h = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
			      "host", col_text(st, 0),
			      "kernel_release", col_text(st, 1),
			      "cpu_model", col_text(st, 2),
			      "cpus", (json_int_t)sqlite3_column_int64(st, 3),
			      "memory_bytes", (json_int_t)sqlite3_column_int64(st, 4),
			      "kvm", col_text(st, 5),
			      "vmorch_version", col_text(st, 6));

	return !h || json_array_append_new(into, h) ? -ENOMEM : 0;
}

/*
 * Every row of @sql (one parameter: the run's id) through @row into
 * @into, to the statement's end: an unread row is an error, never a
 * shorter list.
 */
static int run_rows_json(struct db *db, const char *sql, int64_t run_id,
			 int (*row)(sqlite3_stmt *st, json_t *into), json_t *into,
			 const char *what, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = q_prepare(db, sql, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, into)) {
			sqlite3_finalize(st);
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, what, e);
}

/* The run's header as an object, with its files and hosts. */
static json_t *show_run_json(struct db *db, int64_t run_id, struct verr *e)
{
	sqlite3_stmt *st = NULL;
	json_t *run = NULL, *files = json_array(), *hosts = json_array();

	if (!files || !hosts) {
		verr_set(e, "out of memory");
		goto fail;
	}
	if (run_select(db, run_id, &st, e))
		goto fail;
	run = run_row_json(st);
	if (!run || json_object_set(run, "files", files) ||
	    json_object_set(run, "hosts", hosts)) {
		verr_set(e, "out of memory");
		goto fail;
	}
	if (run_rows_json(db, RUN_FILES_SQL, run_id, run_file_row, files,
			  "run files", e) ||
	    run_rows_json(db, RUN_HOSTS_SQL, run_id, run_host_row, hosts,
			  "run hosts", e))
		goto fail;
	sqlite3_finalize(st);
	json_decref(files);
	json_decref(hosts);
	return run;
fail:
	sqlite3_finalize(st);
	json_decref(files);
	json_decref(hosts);
	json_decref(run);
	return NULL;
}

/* Per-result detail statements, prepared once per `show`. */
enum { SD_DISKS, SD_METRICS, SD_EXPECT, SD_ATTEMPTS, SD_NR };

struct show_ctx {
	struct db *db;
	sqlite3_stmt *st[SD_NR];
};

static int show_ctx_prepare(struct show_ctx *c, struct verr *e)
{
	char cols[1024], sql[1200];
	int rc;

	if (db_counter_columns(cols, sizeof(cols), "", "")) {
		verr_set(e, "counter list too long");
		return -ENAMETOOLONG;
	}
	snprintf(sql, sizeof(sql), "SELECT %s FROM blk_counters"
		 " WHERE result_id = ? ORDER BY disk_idx", cols);
	rc = q_prepare(c->db, sql, &c->st[SD_DISKS], e);
	if (!rc)
		rc = q_prepare(c->db, "SELECT name, value FROM metrics"
			       " WHERE result_id = ? ORDER BY name",
			       &c->st[SD_METRICS], e);
	if (!rc)
		rc = q_prepare(c->db, "SELECT name, op_text, expected, actual,"
			       " passed, missing FROM expectations"
			       " WHERE result_id = ? ORDER BY idx",
			       &c->st[SD_EXPECT], e);
	if (!rc)
		rc = q_prepare(c->db, "SELECT attempt, host, started_at, ended_at,"
			       " outcome, reason FROM attempts"
			       " WHERE result_id = ? ORDER BY attempt",
			       &c->st[SD_ATTEMPTS], e);
	return rc;
}

static void show_ctx_free(struct show_ctx *c)
{
	for (int i = 0; i < SD_NR; i++)
		sqlite3_finalize(c->st[i]);
}

/*
 * One row of a detail statement, added to @into (an array or object).
 * Returns 0 or -ENOMEM.
 */
static int show_disk_row(sqlite3_stmt *st, json_t *into)
{
	json_t *d = json_object();

	if (!d)
		return -ENOMEM;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		if (json_object_set_new(d, vblk_fields[i].name,
					json_integer(sqlite3_column_int64(st, i)))) {
			json_decref(d);
			return -ENOMEM;
		}
	}
	return json_array_append_new(into, d) ? -ENOMEM : 0;
}

static int show_metric_row(sqlite3_stmt *st, json_t *into)
{
	return json_object_set_new(into, col_text(st, 0),
				   json_real(sqlite3_column_double(st, 1))) ?
	       -ENOMEM : 0;
}

static int show_expect_row(sqlite3_stmt *st, json_t *into)
{
	json_t *actual = sqlite3_column_type(st, 3) == SQLITE_NULL ?
			 json_null() : json_real(sqlite3_column_double(st, 3));
	json_t *x = json_pack("{s:s, s:s, s:f, s:o, s:b, s:b}",
			      "metric", col_text(st, 0),
			      "op", col_text(st, 1),
			      "expected", sqlite3_column_double(st, 2),
			      "actual", actual,
			      "passed", sqlite3_column_int(st, 4),
			      "missing", sqlite3_column_int(st, 5));

	return !x || json_array_append_new(into, x) ? -ENOMEM : 0;
}

static int show_attempt_row(sqlite3_stmt *st, json_t *into)
{
	json_t *x = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}",
			      "attempt", (json_int_t)sqlite3_column_int64(st, 0),
			      "host", col_text(st, 1),
			      "started_at", col_text(st, 2),
			      "ended_at", col_text(st, 3),
			      "outcome", col_text(st, 4),
			      "reason", col_text(st, 5));

	return !x || json_array_append_new(into, x) ? -ENOMEM : 0;
}

static const struct show_detail_kind {
	const char *key;
	bool object;
	int (*row)(sqlite3_stmt *st, json_t *into);
} show_details[SD_NR] = {
	[SD_DISKS] = { "disks", false, show_disk_row },
	[SD_METRICS] = { "metrics", true, show_metric_row },
	[SD_EXPECT] = { "expectations", false, show_expect_row },
	[SD_ATTEMPTS] = { "attempts", false, show_attempt_row },
};

/*
 * Each detail statement, bound to @id, stepped to its end into @result's
 * key: an unread row (a corrupt page) is an error, never a shorter list.
 */
static int show_detail(struct show_ctx *c, int which, int64_t id,
		       json_t *result, struct verr *e)
{
	const struct show_detail_kind *k = &show_details[which];
	sqlite3_stmt *st = c->st[which];
	json_t *v = k->object ? json_object() : json_array();
	int rc;

	if (!v || json_object_set_new(result, k->key, v)) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k->row(st, v)) {
			sqlite3_reset(st);
			verr_set(e, "out of memory");
			return -ENOMEM;
		}
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	rc = q_fail(c->db, rc, k->key, e);
	verr_prefix(e, "result %" PRId64, id);
	return rc;
}

#define RESULT_COLUMNS							\
	"id, scenario, vm, params, params_key, repeat_idx, host, verdict,"	\
	" exit_kind, exit_code, wall_us, boot_us, error"

enum {
	RS_ID, RS_SCENARIO, RS_VM, RS_PARAMS, RS_PARAMS_KEY, RS_REPEAT, RS_HOST,
	RS_VERDICT, RS_EXIT_KIND, RS_EXIT_CODE, RS_WALL, RS_BOOT, RS_ERROR,
	RS_NCOLS
};

static int show_result_json(struct show_ctx *c, sqlite3_stmt *st,
			    json_t *results, struct verr *e)
{
	int64_t id = sqlite3_column_int64(st, RS_ID);
	json_t *params = json_loads(col_text(st, RS_PARAMS), 0, NULL);
	json_t *r;
	int rc = 0;

	r = json_pack("{s:I, s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:I, s:I,"
		      " s:I, s:s}",
		      "id", (json_int_t)id,
		      "scenario", col_text(st, RS_SCENARIO),
		      "vm", col_text(st, RS_VM),
		      "params", params ? params : json_object(),
		      "repeat", (json_int_t)sqlite3_column_int64(st, RS_REPEAT),
		      "host", col_text(st, RS_HOST),
		      "verdict", col_text(st, RS_VERDICT),
		      "exit_kind", col_text(st, RS_EXIT_KIND),
		      "exit_code", (json_int_t)sqlite3_column_int64(st, RS_EXIT_CODE),
		      "wall_us", (json_int_t)sqlite3_column_int64(st, RS_WALL),
		      "boot_us", (json_int_t)sqlite3_column_int64(st, RS_BOOT),
		      "error", col_text(st, RS_ERROR));
	if (!r || json_array_append_new(results, r)) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < SD_NR && !rc; i++)
		rc = show_detail(c, i, id, r, e);
	return rc;
}

static int show_results_json(struct db *db, int64_t run_id, json_t *results,
			     struct verr *e)
{
	struct show_ctx c = { .db = db };
	sqlite3_stmt *st = NULL;
	int rc;

	rc = show_ctx_prepare(&c, e);
	if (!rc)
		rc = q_prepare(db, "SELECT " RESULT_COLUMNS " FROM vm_results"
			       " WHERE run_id = ? ORDER BY scenario, vm,"
			       " params_key, repeat_idx", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = show_result_json(&c, st, results, e);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : q_fail(db, rc, "results", e);
out:
	sqlite3_finalize(st);
	show_ctx_free(&c);
	return rc;
}

/*
 * "console": what table consoles holds of the job (columns bytes, dropped
 * and the compressed length from @col on), or null when it has no row:
 * only the tail was kept.
 */
static int show_console_json(sqlite3_stmt *st, int col, json_t *r)
{
	int64_t bytes = sqlite3_column_int64(st, col), dropped = sqlite3_column_int64(st, col + 1);
	json_t *c;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		c = json_null();
	else
		c = json_pack("{s:I, s:I, s:I, s:I}", "printed_bytes", (json_int_t)bytes,
			      "kept_bytes", (json_int_t)(bytes - dropped),
			      "dropped_bytes", (json_int_t)dropped,
			      "compressed_bytes", (json_int_t)sqlite3_column_int64(st, col + 2));
	return c && !json_object_set_new(r, "console", c) ? 0 : -ENOMEM;
}

/*
 * Reads run in one transaction: a run being written while `show` reads it
 * is seen at one instant, its header counts agreeing with its results.
 */
static int q_begin(struct db *db, struct verr *e)
{
	int rc = sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : q_fail(db, rc, "begin", e);
}

static void q_end(struct db *db)
{
	if (!sqlite3_get_autocommit(db_sqlite(db)))
		sqlite3_exec(db_sqlite(db), "ROLLBACK", NULL, NULL, NULL);
}

int db_job_show_json(struct db *db, int64_t run_id, const char *name, json_t **doc,
		     struct verr *e)
{
	char scenario[JOB_NAME_MAX + 1], vm[JOB_NAME_MAX + 1], pk[JOB_PARAMS_KEY_MAX];
	struct show_ctx c = { .db = db };
	json_t *results = NULL, *r, *config;
	sqlite3_stmt *st = NULL;
	int64_t repeat;
	int rc;

	*doc = NULL;
	if (job_name_parse(name, scenario, vm, pk, &repeat)) {
		verr_set(e, "job '%s': expected a name as run and show print it,"
			 " scenario/vm[k=v,...]#repeat", name);
		return -EINVAL;
	}
	rc = q_begin(db, e);
	if (rc)
		return rc;
	rc = show_ctx_prepare(&c, e);
	if (!rc)
		rc = q_prepare(db, "SELECT " RESULT_COLUMNS ", config, console_tail,"
			       " c.bytes, c.dropped, length(c.zdata) FROM vm_results"
			       " LEFT JOIN consoles c ON c.result_id = vm_results.id"
			       " WHERE run_id = ? AND scenario = ? AND vm = ?"
			       " AND params_key = ? AND repeat_idx = ?", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, scenario, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pk, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, repeat);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		verr_set(e, "run %" PRId64 " has no job %s", run_id, name);
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = q_fail(db, rc, "job", e);
		goto out;
	}
	results = json_array();
	rc = results ? show_result_json(&c, st, results, e) : -ENOMEM;
	if (rc)
		goto out;
	r = json_array_get(results, 0);
	config = sqlite3_column_type(st, RS_NCOLS) == SQLITE_NULL ? json_null() :
		 json_loads(col_text(st, RS_NCOLS), 0, NULL);
	rc = show_console_json(st, RS_NCOLS + 2, r);
	if (rc) {
		json_decref(config);
		goto out;
	}
	if (json_object_set_new(r, "name", json_string(name)) ||
	    json_object_set_new(r, "config", config ? config : json_null()) ||
	    json_object_set_new(r, "console_tail", json_string(col_text(st, RS_NCOLS + 1))) ||
	    !(*doc = json_pack("{s:i, s:I, s:O}", "vmorch_show_job", DB_QUERY_JSON_VERSION,
			       "run_id", (json_int_t)run_id, "job", r)))
		rc = -ENOMEM;
out:
	if (rc == -ENOMEM)
		verr_set(e, "out of memory");
	sqlite3_finalize(st);
	show_ctx_free(&c);
	json_decref(results);
	q_end(db);
	return rc;
}

json_t *db_run_show_json(struct db *db, int64_t run_id, struct verr *e)
{
	json_t *run = NULL, *results = NULL, *doc = NULL;

	if (q_begin(db, e))
		return NULL;
	run = show_run_json(db, run_id, e);
	if (!run)
		goto out;
	results = json_array();
	if (!results) {
		verr_set(e, "out of memory");
		goto out;
	}
	if (show_results_json(db, run_id, results, e))
		goto out;
	doc = json_pack("{s:i, s:O, s:O}", "vmorch_show", DB_QUERY_JSON_VERSION,
			"run", run, "results", results);
	if (!doc)
		verr_set(e, "out of memory");
out:
	q_end(db);
	json_decref(run);
	json_decref(results);
	return doc;
}

/* ---- show as text ---- */

/*
 * The text form is written into a memory stream and copied to the caller's
 * FILE only once every query has ended well: an error half-way prints
 * nothing on stdout rather than a table that looks complete.
 */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "meta      branch=main commit=... dirty=0", keys in name order. */
static void show_print_meta(sqlite3_stmt *st, FILE *out)
{
	json_t *meta = run_meta_json(st), *v;
	const char *keys[DB_META_MAX + 3], *k;
	size_t n = 0;

	json_object_foreach(meta, k, v)
		if (n < sizeof(keys) / sizeof(keys[0]))
			keys[n++] = k;
	qsort(keys, n, sizeof(keys[0]), str_cmp);
	if (n)
		fputs("\nmeta     ", out);
	for (size_t i = 0; i < n; i++) {
		fputc(' ', out);
		text_fputs(keys[i], out, 0);
		fputc('=', out);
		text_fputs(json_string_value(json_object_get(meta, keys[i])), out, 0);
	}
	json_decref(meta);
}

static void show_print_header(sqlite3_stmt *st, FILE *out)
{
	const char *label = col_text(st, RC_LABEL);

	fprintf(out, "run %" PRId64, (int64_t)sqlite3_column_int64(st, RC_ID));
	if (*label) {
		fputs(" (", out);
		text_fputs(label, out, 0);
		fputc(')', out);
	}
	fprintf(out, ": %s\n", col_text(st, RC_STATUS));
	fprintf(out, "uuid      %s\n", col_text(st, RC_UUID));
	fprintf(out, "started   %s\n", col_text(st, RC_STARTED));
	fprintf(out, "ended     %s\n", sqlite3_column_type(st, RC_ENDED) ==
		SQLITE_NULL ? "-" : col_text(st, RC_ENDED));
	fputs("host      ", out);
	text_fputs(col_text(st, RC_HOST), out, 0);
	fputs("\nvmorch    ", out);
	text_fputs(col_text(st, RC_VERSION), out, 0);
	fputs("\ncommand   ", out);
	text_fputs(col_text(st, RC_CMDLINE), out, 0);
	show_print_meta(st, out);
	fprintf(out, "\njobs      %" PRId64 " total, %" PRId64 " passed, %"
		PRId64 " failed\n", (int64_t)sqlite3_column_int64(st, RC_TOTAL),
		(int64_t)sqlite3_column_int64(st, RC_PASSED),
		(int64_t)sqlite3_column_int64(st, RC_FAILED));
}

static int show_print_files(struct db *db, int64_t run_id, FILE *out,
			    struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = q_prepare(db, RUN_FILES_SQL, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fputs("file      ", out);
		text_fputs(col_text(st, 0), out, 0);
		fprintf(out, "  sha256 %s\n", col_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			fputs("          ", out);
			text_fputs(col_text(st, 2), out, 0);
			fputc('\n', out);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, "run files", e);
}

/* "machine   build1: 6.1.0-57-cloud-amd64, AMD EPYC 7B13 (2 CPUs, 23.4 GiB), KVM pvm" */
static int show_print_hosts(struct db *db, int64_t run_id, FILE *out,
			    struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = q_prepare(db, RUN_HOSTS_SQL, &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fputs("machine   ", out);
		text_fputs(col_text(st, 0), out, 0);
		fputs(": ", out);
		text_fputs(col_text(st, 1), out, 0);
		fputs(", ", out);
		text_fputs(col_text(st, 2), out, 0);
		fprintf(out, " (%" PRId64 " CPUs, %.1f GiB), KVM ",
			(int64_t)sqlite3_column_int64(st, 3),
			(double)sqlite3_column_int64(st, 4) / (1 << 30));
		text_fputs(col_text(st, 5), out, 0);
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, "run hosts", e);
}

static const char *const jobs_head[] = {
	"ID", "SCENARIO", "VM", "PARAMS", "REPEAT", "VERDICT", "EXIT", "WALL",
};
#define JOBS_FIXED (sizeof(jobs_head) / sizeof(jobs_head[0]))

/* Counters summed over the result's disks: "sum(c.x), ..." from the list. */
static int jobs_select(struct db *db, int64_t run_id, sqlite3_stmt **st,
		       struct verr *e)
{
	char cols[1024], sql[2048];
	int rc;

	if (db_counter_columns(cols, sizeof(cols), "sum(c.", ")")) {
		verr_set(e, "counter list too long");
		return -ENAMETOOLONG;
	}
	snprintf(sql, sizeof(sql), "SELECT r.id, r.scenario, r.vm, r.params_key,"
		 " r.repeat_idx, r.verdict, r.exit_kind, r.exit_code, r.wall_us,"
		 " %s FROM vm_results r"
		 " LEFT JOIN blk_counters c ON c.result_id = r.id"
		 " WHERE r.run_id = ? GROUP BY r.id"
		 " ORDER BY r.scenario, r.vm, r.params_key, r.repeat_idx", cols);
	rc = q_prepare(db, sql, st, e);
	if (!rc)
		sqlite3_bind_int64(*st, 1, run_id);
	return rc;
}

static void jobs_table_row(struct text_table *t, sqlite3_stmt *st)
{
	unsigned col = JOBS_FIXED;

	text_table_row(t);
	text_table_set(t, 0, "%" PRId64, (int64_t)sqlite3_column_int64(st, 0));
	table_set_text(t, 1, col_text(st, 1));
	table_set_text(t, 2, col_text(st, 2));
	table_set_text(t, 3, *col_text(st, 3) ? col_text(st, 3) : "-");
	text_table_set(t, 4, "%" PRId64, (int64_t)sqlite3_column_int64(st, 4));
	text_table_set(t, 5, "%s", col_text(st, 5));
	text_table_set(t, 6, "%s(%" PRId64 ")", col_text(st, 6),
		  (int64_t)sqlite3_column_int64(st, 7));
	text_table_set(t, 7, "%.3fs", sqlite3_column_int64(st, 8) / 1e6);
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		if (!counter_is_key(i))
			continue;
		if (sqlite3_column_type(st, 9 + i) == SQLITE_NULL)
			text_table_set(t, col++, "-");
		else
			text_table_set(t, col++, "%" PRId64,
				  (int64_t)sqlite3_column_int64(st, 9 + i));
	}
}

static int show_print_jobs(struct db *db, int64_t run_id, FILE *out,
			   struct verr *e)
{
	const char *head[JOBS_FIXED + VBLK_NR_COUNTERS];
	bool right[JOBS_FIXED + VBLK_NR_COUNTERS];
	unsigned ncols = 0;
	sqlite3_stmt *st = NULL;
	struct text_table t;
	int rc;

	for (unsigned c = 0; c < JOBS_FIXED; c++)
		head[ncols++] = jobs_head[c];
	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		if (counter_is_key(i))
			head[ncols++] = vblk_fields[i].name;
	for (unsigned c = 0; c < ncols; c++)
		right[c] = c == 0 || c == 4 || c >= 7;
	text_table_init(&t, ncols, head, right);
	rc = jobs_select(db, run_id, &st, e);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		jobs_table_row(&t, st);
	if (rc != SQLITE_DONE) {
		rc = q_fail(db, rc, "results", e);
		goto out;
	}
	if (!t.oom)
		fputc('\n', out);
	rc = t.oom ? -ENOMEM : text_table_print(&t, out);
out:
	if (rc == -ENOMEM)
		verr_set(e, "out of memory");
	sqlite3_finalize(st);
	text_table_free(&t);
	return rc;
}

/* "smoke/read[bs=4k]#0", the name a job has everywhere else. */
static void print_job_name(sqlite3_stmt *st, FILE *out)
{
	const char *key = col_text(st, 3);

	text_fputs(col_text(st, 1), out, 0);
	fputc('/', out);
	text_fputs(col_text(st, 2), out, 0);
	if (*key) {
		fputc('[', out);
		text_fputs(key, out, 0);
		fputc(']', out);
	}
	fprintf(out, "#%" PRId64, (int64_t)sqlite3_column_int64(st, 4));
}

static int show_print_failed(struct db *db, int64_t run_id, FILE *out,
			     struct verr *e)
{
	sqlite3_stmt *st;
	bool any = false;
	int rc;

	rc = q_prepare(db, "SELECT r.id, r.scenario, r.vm, r.params_key,"
		       " r.repeat_idx, x.name, x.op_text, x.actual, x.missing"
		       " FROM vm_results r JOIN expectations x"
		       " ON x.result_id = r.id WHERE r.run_id = ?"
		       " AND x.passed = 0 ORDER BY r.scenario, r.vm,"
		       " r.params_key, r.repeat_idx, x.idx", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!any)
			fputs("\nfailed expectations:\n", out);
		any = true;
		fprintf(out, "  %" PRId64 " ", (int64_t)sqlite3_column_int64(st, 0));
		print_job_name(st, out);
		fputs(": ", out);
		text_fputs(col_text(st, 5), out, 0);
		fputc(' ', out);
		text_fputs(col_text(st, 6), out, 0);
		fputs(": ", out);
		if (sqlite3_column_int(st, 8))
			fputs("missing\n", out);
		else
			fprintf(out, "actual %.17g\n", sqlite3_column_double(st, 7));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, "expectations", e);
}

static int show_print_errors(struct db *db, int64_t run_id, FILE *out,
			     struct verr *e)
{
	sqlite3_stmt *st;
	bool any = false;
	int rc;

	rc = q_prepare(db, "SELECT id, scenario, vm, params_key, repeat_idx,"
		       " error FROM vm_results WHERE run_id = ? AND error != ''"
		       " ORDER BY scenario, vm, params_key, repeat_idx", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!any)
			fputs("\nerrors:\n", out);
		any = true;
		fprintf(out, "  %" PRId64 " ", (int64_t)sqlite3_column_int64(st, 0));
		print_job_name(st, out);
		fputs(": ", out);
		text_fputs(col_text(st, 5), out, 0);
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, "errors", e);
}

/* Fleet jobs that needed more than one host: each try, in order. */
static int show_print_attempts(struct db *db, int64_t run_id, FILE *out,
			       struct verr *e)
{
	sqlite3_stmt *st;
	int64_t last = -1;
	int rc;

	rc = q_prepare(db, "SELECT r.id, r.scenario, r.vm, r.params_key, r.repeat_idx,"
		       " a.attempt, a.host, a.outcome, a.reason FROM attempts a"
		       " JOIN vm_results r ON r.id = a.result_id"
		       " WHERE r.run_id = ? AND a.result_id IN (SELECT result_id"
		       "  FROM attempts WHERE run_id = ? AND outcome = 'host_lost')"
		       " ORDER BY r.scenario, r.vm, r.params_key, r.repeat_idx, a.attempt",
		       &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (last < 0)
			fputs("\nattempts (jobs whose host was lost):\n", out);
		if (id != last) {
			fprintf(out, "  %" PRId64 " ", id);
			print_job_name(st, out);
			fputs(":\n", out);
			last = id;
		}
		fprintf(out, "    #%d on ", sqlite3_column_int(st, 5));
		text_fputs(col_text(st, 6), out, 0);
		fprintf(out, ": %s", col_text(st, 7));
		if (col_text(st, 8)[0]) {
			fputs(" (", out);
			text_fputs(col_text(st, 8), out, 0);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : q_fail(db, rc, "attempts", e);
}

static int show_print_all(struct db *db, int64_t run_id, FILE *out,
			  struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = run_select(db, run_id, &st, e);
	if (rc)
		goto out;
	show_print_header(st, out);
	rc = show_print_files(db, run_id, out, e);
	if (!rc)
		rc = show_print_hosts(db, run_id, out, e);
	if (!rc)
		rc = show_print_jobs(db, run_id, out, e);
	if (!rc)
		rc = show_print_failed(db, run_id, out, e);
	if (!rc)
		rc = show_print_errors(db, run_id, out, e);
	if (!rc)
		rc = show_print_attempts(db, run_id, out, e);
out:
	sqlite3_finalize(st);
	return rc;
}

int db_run_show_print(struct db *db, int64_t run_id, FILE *out, struct verr *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	mem = open_memstream(&text, &len);
	if (!mem) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	rc = q_begin(db, e);
	if (!rc)
		rc = show_print_all(db, run_id, mem, e);
	q_end(db);
	if (ferror(mem) && !rc) {
		verr_set(e, "out of memory");
		rc = -ENOMEM;
	}
	if (fclose(mem) && !rc) {
		verr_set(e, "out of memory");
		rc = -ENOMEM;
	}
	if (!rc && fwrite(text, 1, len, out) != len)
		rc = verr_errno(e, "write error");
	free(text);
	return rc;
}
