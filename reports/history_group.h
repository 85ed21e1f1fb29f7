/*
 * history_group.h - pooling a history's per-run points by commit or day
 * (reports/history_group.c), for reports/history.c.
 */
#ifndef VMORCH_REPORTS_HISTORY_GROUP_H
#define VMORCH_REPORTS_HISTORY_GROUP_H

#include <sqlite3.h>

#include "reports/report.h"

/*
 * Replace @h's points (one per run, oldest first, values aggregated) by
 * one per group of @by, in the order of their first runs; a run without a
 * commit is left out and counted in h->ungrouped.  HISTORY_BY_RUN only
 * sets the counts.  0, -ENOMEM or an SQLite failure (e says).
 */
int history_group(sqlite3 *db, struct history *h, enum history_by by,
		  struct verr *e);

#endif
