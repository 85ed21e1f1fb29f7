/*
 * sql_err.c - SQLite result codes to -errno and messages (sql_err.h).
 */
#include <errno.h>

#include "orchestrator/sql_err.h"

int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
		return -EUCLEAN;
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int sql_fail(sqlite3 *h, int rc, const char *what, struct verr *e)
{
	const char *path = sqlite3_db_filename(h, "main");

	if (!path || !*path)
		path = ":memory:";
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		verr_set(e, "%s: %s: the database is corrupt (%s)", path, what,
			 sqlite3_errmsg(h));
	else
		verr_set(e, "%s: %s: %s", path, what, sqlite3_errmsg(h));
	return sql_errno(rc);
}
