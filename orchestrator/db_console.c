/*
 * db_console.c - a result's whole console back from table consoles (schema
 * 10, doc/database.md): the row's counts, and its zlib stream inflated to
 * exactly the length they give, or refused.  db.c stores the rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/console_zlib.h"
#include "orchestrator/db.h"

int db_console_load(struct db *db, int64_t result_id, struct console_text *out,
		    struct verr *e)
{
	sqlite3_stmt *st = NULL;
	int64_t bytes, dropped;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_prepare_v2(db_sqlite(db), "SELECT bytes, dropped, zdata FROM consoles"
				" WHERE result_id = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_sql_fail(db, rc, "console", e);
	sqlite3_bind_int64(st, 1, result_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		verr_set(e, "result %" PRId64 " has no stored console", result_id);
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = db_sql_fail(db, rc, "console", e);
		goto out;
	}
	bytes = sqlite3_column_int64(st, 0);
	dropped = sqlite3_column_int64(st, 1);
	/* The table's CHECKs say 0 <= dropped <= bytes; the stream must agree. */
	rc = bytes < 0 || dropped < 0 || dropped > bytes ? -EBADMSG :
	     console_inflate(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
			     (size_t)(bytes - dropped), &out->data);
	if (rc) {
		verr_set(e, "%s: the console of result %" PRId64 " is damaged (%s)",
			 db_file(db), result_id, strerror(-rc));
		goto out;
	}
	out->len = (size_t)(bytes - dropped);
	out->bytes = (uint64_t)bytes;
	out->dropped = (uint64_t)dropped;
out:
	sqlite3_finalize(st);
	return rc;
}
