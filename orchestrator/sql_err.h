/*
 * sql_err.h - the one mapping of SQLite's result codes to -errno and
 * messages, for the store (orchestrator/db.c and its kin) and the
 * reports alike: the same failure reads and exits the same way
 * whichever command met it.
 */
#ifndef VMORCH_SQL_ERR_H
#define VMORCH_SQL_ERR_H

#include <sqlite3.h>

#include "common/verr.h"

/*
 * -errno of an SQLite result code (primary or extended): -EBUSY (busy,
 * locked), -ENOMEM, -ENOSPC (full), -EACCES (read-only, permission),
 * -ENOENT (cannot open), -EUCLEAN (corrupt), -EINVAL (not a database,
 * constraint, mismatch), else -EIO; 0 for SQLITE_OK.
 */
int sql_errno(int rc);

/*
 * Set @e to "FILE: what: SQLite's message" (corruption said in plain
 * words: the user must restore a copy, not retry) and return sql_errno().
 */
int sql_fail(sqlite3 *h, int rc, const char *what, struct verr *e);

#endif
