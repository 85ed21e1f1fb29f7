/*
 * db_manage.c - whole runs in and out: `vmorch import` merges another
 * database's runs into this one (db_import() in db.h); `vmorch rm` and
 * `vmorch gc` delete runs (db_run_delete, db_runs_past).
 *
 * The other file is copied (SQLite's backup API) and the copy migrated by
 * db_open, so both sides have one schema.  The copy is attached and every
 * table is copied with INSERT ... SELECT, its columns read from the schema
 * itself: a run's new id and each result's come from two temporary maps
 * (old id -> new id), numbered after this database's highest ids, and every
 * id, run_id and result_id column goes through them.  A table this code
 * does not know is an error, never left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "orchestrator/db.h"

/* Parents first: the foreign keys hold at every step. */
static const char *const import_tables[] = {
	"runs", "run_files", "host_facts", "run_meta", "vm_results", "blk_counters",
	"metrics", "expectations", "attempts", "consoles",
};
#define NTABLES (sizeof(import_tables) / sizeof(import_tables[0]))

#define IMPORT_SQL_MAX	8192

/* SQLite's online backup of @from into the new file @to. */
static int import_copy(const char *from, const char *to, struct verr *e)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc;

	rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		verr_set(e, "%s: %s", from, sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = sqlite3_errcode(dst);
		verr_set(e, "%s: cannot copy it: %s", from, sqlite3_errmsg(dst));
		goto out;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		verr_set(e, "%s: cannot copy it: %s", from, sqlite3_errstr(rc));
		goto out;
	}
	rc = SQLITE_OK;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/* The expression that gives @col of @table its value here. */
static const char *import_expr(const char *table, const char *col, char *buf, size_t cap)
{
	bool is_result_id = !strcmp(col, "result_id") ||
			    (!strcmp(col, "id") && !strcmp(table, "vm_results"));
	bool is_run_id = !strcmp(col, "run_id") || (!strcmp(col, "id") && !strcmp(table, "runs"));

	if (is_run_id)
		snprintf(buf, cap, "(SELECT new FROM temp.import_run WHERE old = src.%s)", col);
	else if (is_result_id)
		snprintf(buf, cap, "(SELECT new FROM temp.import_result WHERE old = src.%s)", col);
	else
		snprintf(buf, cap, "src.\"%s\"", col);
	return buf;
}

/* INSERT INTO main.@table (...) SELECT ... FROM other.@table, mapped. */
static int import_table(struct db *db, const char *table, struct verr *e)
{
	char sql[256], cols[IMPORT_SQL_MAX / 2], exprs[IMPORT_SQL_MAX / 2], expr[128], *q;
	size_t clen = 0, elen = 0;
	bool has_run_id = false, has_result_id = false;
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s', 'main') ORDER BY cid",
		 table);
	rc = sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_sql_fail(db, rc, table, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 0);

		has_run_id |= !strcmp(col, "run_id");
		has_result_id |= !strcmp(col, "result_id");
		clen += (size_t)snprintf(cols + clen, sizeof(cols) - clen, "%s\"%s\"",
					 clen ? ", " : "", col);
		elen += (size_t)snprintf(exprs + elen, sizeof(exprs) - elen, "%s%s",
					 elen ? ", " : "", import_expr(table, col, expr, sizeof(expr)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || clen >= sizeof(cols) || elen >= sizeof(exprs)) {
		verr_set(e, "%s: import: cannot read the columns of %s", db_file(db), table);
		return -EIO;
	}
	q = sqlite3_mprintf("INSERT INTO main.%s (%s) SELECT %s FROM other.%s src WHERE %s",
			    table, cols, exprs, table,
			    !strcmp(table, "runs") ? "src.id IN (SELECT old FROM temp.import_run)" :
			    has_run_id ? "src.run_id IN (SELECT old FROM temp.import_run)" :
			    has_result_id ? "src.result_id IN (SELECT old FROM temp.import_result)" :
			    "0");
	rc = q ? db_exec_sql(db, q, table, e) : -ENOMEM;
	sqlite3_free(q);
	return rc;
}

/* Every table of both sides is one this code copies, and the same. */
static int import_check_tables(struct db *db, struct verr *e)
{
	char sql[1024];
	size_t len;
	sqlite3_stmt *st;
	int rc;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT s, name FROM (SELECT 'main' s, name"
			       " FROM main.sqlite_schema WHERE type = 'table' UNION ALL"
			       " SELECT 'other', name FROM other.sqlite_schema WHERE type = 'table')"
			       " WHERE name NOT LIKE 'sqlite_%%' AND name NOT IN (");
	for (size_t i = 0; i < NTABLES; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s'%s'", i ? ", " : "",
					import_tables[i]);
	snprintf(sql + len, sizeof(sql) - len, ") LIMIT 1");
	rc = sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_sql_fail(db, rc, "import tables", e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		verr_set(e, "%s: import does not know table %s (of the %s database)",
			 db_file(db), sqlite3_column_text(st, 1), sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EPROTO;
}

static int import_count(struct db *db, const char *sql, unsigned *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (unsigned)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/* The maps, the tables, the counts: one transaction on the attached copy. */
static int import_merge(struct db *db, struct db_import_stats *st, struct verr *e)
{
	unsigned total = 0;
	int rc;

	rc = import_check_tables(db, e);
	if (!rc)
		rc = db_exec_sql(db, "CREATE TEMP TABLE import_run (old INTEGER PRIMARY KEY,"
				 " new INTEGER NOT NULL);"
				 "CREATE TEMP TABLE import_result (old INTEGER PRIMARY KEY,"
				 " new INTEGER NOT NULL)", "import maps", e);
	if (rc)
		return rc;
	rc = db_exec_sql(db, "BEGIN IMMEDIATE", "import", e);
	if (!rc)
		rc = db_exec_sql(db,
			"INSERT INTO temp.import_run SELECT id, (SELECT ifnull(max(id), 0)"
			" FROM main.runs) + row_number() OVER (ORDER BY id) FROM other.runs"
			" WHERE uuid NOT IN (SELECT uuid FROM main.runs);"
			"INSERT INTO temp.import_result SELECT id, (SELECT ifnull(max(id), 0)"
			" FROM main.vm_results) + row_number() OVER (ORDER BY id)"
			" FROM other.vm_results WHERE run_id IN (SELECT old FROM temp.import_run)",
			"import maps", e);
	for (size_t i = 0; !rc && i < NTABLES; i++)
		rc = import_table(db, import_tables[i], e);
	if (!rc && (import_count(db, "SELECT count(*) FROM temp.import_run", &st->runs) ||
		    import_count(db, "SELECT count(*) FROM temp.import_result", &st->results) ||
		    import_count(db, "SELECT count(*) FROM other.runs", &total))) {
		verr_set(e, "%s: import: cannot count what was copied", db_file(db));
		rc = -EIO;
	}
	if (!rc)
		rc = db_exec_sql(db, "COMMIT", "import", e);
	if (rc)
		sqlite3_exec(db_sqlite(db), "ROLLBACK", NULL, NULL, NULL);
	st->skipped = total - st->runs;
	sqlite3_exec(db_sqlite(db), "DROP TABLE IF EXISTS temp.import_run;"
		     " DROP TABLE IF EXISTS temp.import_result", NULL, NULL, NULL);
	return rc;
}

/* Replace each @from in @e's message by @to: the user named the original. */
static void import_rename(struct verr *e, const char *from, const char *to)
{
	char out[VERR_MAX];
	const char *p = e->msg, *hit;
	size_t len = 0, flen = strlen(from);

	out[0] = 0;
	while ((hit = strstr(p, from)) && len < sizeof(out)) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%.*s%s", (int)(hit - p), p, to);
		p = hit + flen;
	}
	if (len < sizeof(out))
		snprintf(out + len, sizeof(out) - len, "%s", p);
	snprintf(e->msg, sizeof(e->msg), "%s", out);
}

int db_import(struct db *db, const char *other, struct db_import_stats *st,
	      struct verr *e)
{
	const char *tmpdir = getenv("TMPDIR");
	char copy[4096], sql[4200], side[4200];
	struct db *c = NULL;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	if (access(other, R_OK))
		return verr_errno(e, "%s", other);
	snprintf(copy, sizeof(copy), "%s/vmorch-import-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemp(copy);
	if (fd < 0)
		return verr_errno(e, "import: a temporary copy in %s", copy);
	close(fd);
	rc = import_copy(other, copy, e);
	if (!rc) {
		rc = db_open(copy, &c, e);	/* migrates the copy to this schema */
		if (rc)
			import_rename(e, copy, other);
		else
			db_close(c);
	}
	if (!rc) {
		char *q = sqlite3_mprintf("ATTACH DATABASE %Q AS other", copy);

		rc = q ? db_exec_sql(db, q, "import", e) : -ENOMEM;
		sqlite3_free(q);
	}
	if (!rc) {
		rc = import_merge(db, st, e);
		snprintf(sql, sizeof(sql), "DETACH DATABASE other");
		sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL);
	}
	unlink(copy);
	snprintf(side, sizeof(side), "%s-wal", copy);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", copy);
	unlink(side);
	return rc;
}

/* ---- deleting runs (vmorch rm, vmorch gc) ---- */

int db_run_delete(struct db *db, int64_t run_id, struct verr *e)
{
	const char *status = NULL;
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db_sqlite(db), "SELECT vmorch_run_status(status, owner_host,"
				" owner_boot, owner_pid, owner_start) FROM runs WHERE id = ?",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_sql_fail(db, rc, "delete run", e);
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		status = (const char *)sqlite3_column_text(st, 0);
	if (rc == SQLITE_DONE) {
		verr_set(e, "no run %lld", (long long)run_id);
		rc = -ENOENT;
	} else if (rc != SQLITE_ROW) {
		verr_set(e, "%s: run %lld: %s", db_file(db), (long long)run_id,
			 sqlite3_errmsg(db_sqlite(db)));
		rc = -EIO;
	} else if (status && !strcmp(status, DB_RUN_RUNNING)) {
		verr_set(e, "run %lld is still running (its vmorch is alive)", (long long)run_id);
		rc = -EBUSY;
	} else {
		rc = 0;
	}
	sqlite3_finalize(st);
	if (!rc) {
		char sql[96];

		/* Foreign keys cascade from runs to every table below it. */
		snprintf(sql, sizeof(sql), "DELETE FROM runs WHERE id = %lld", (long long)run_id);
		rc = db_exec_sql(db, sql, "delete run", e);
	}
	return rc;
}

int db_runs_past(struct db *db, unsigned keep, bool labelled, int64_t **ids, size_t *n,
		 struct verr *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(db_sqlite(db), "SELECT id FROM runs WHERE id NOT IN"
				" (SELECT id FROM runs ORDER BY id DESC LIMIT ?)"
				" AND (? OR label IS NULL) AND vmorch_run_status(status, owner_host,"
				" owner_boot, owner_pid, owner_start) != 'running' ORDER BY id",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_sql_fail(db, rc, "old runs", e);
	sqlite3_bind_int64(st, 1, keep);
	sqlite3_bind_int(st, 2, labelled);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *grown = realloc(*ids, (cap ? cap * 2 : 64) * sizeof(**ids));

			if (!grown) {
				rc = SQLITE_NOMEM;
				break;
			}
			*ids = grown;
			cap = cap ? cap * 2 : 64;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	verr_set(e, "%s: old runs: %s", db_file(db), sqlite3_errstr(rc));
	free(*ids);
	*ids = NULL;
	*n = 0;
	return -EIO;
}
