/*
 * db_query.h - reading runs back for people: resolving a RUN reference and
 * the `vmorch runs` / `vmorch show RUN` listings, as a text table on a FILE*
 * or as a jansson document.  The CLI wraps these; nothing here parses argv.
 */
#ifndef VMORCH_DB_QUERY_H
#define VMORCH_DB_QUERY_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/verr.h"
#include "orchestrator/db.h"

/*
 * The JSON documents below start with their kind and version, as the
 * reports' do (REPORT_JSON_VERSION): {"vmorch_runs": 2, ...},
 * {"vmorch_show": 2, ...}, {"vmorch_show_job": 2, ...}.  The version goes
 * up when a field changes meaning or goes away; doc/schema/ has the shapes.
 */
#define DB_QUERY_JSON_VERSION 2

/*
 * Resolve @ref to a run id: "42" (an id), "last" (the newest run),
 * "last~N" (N runs before the newest), or a label (the newest run with that
 * label; a label that looks like a number is taken as an id).  -ENOENT with
 * a message naming @ref when there is no such run, -EINVAL for a malformed
 * reference.
 */
int db_run_resolve(struct db *db, const char *ref, int64_t *run_id,
		   struct verr *e);

/*
 * Refuse a label that db_run_resolve() could never find its run by: empty,
 * all digits (an id), last or last~..., or holding control characters or
 * invalid UTF-8.  -EINVAL with a message for `vmorch run --label`.
 */
int db_label_check(const char *label, struct verr *e);

/*
 * Every function below reads to the end of each query or fails: a SQLite
 * error (a corrupt page) gives a negative errno (-EUCLEAN for corruption)
 * and a message, never a shorter listing, and the printers then write
 * nothing to @out.  Text output shows control characters escaped.
 */

/* Which runs `vmorch runs` lists: every field given must hold. */
#define DB_RUNS_META_MAX 8
struct db_runs_filter {
	unsigned limit;			/* at most this many, newest first (0: all) */
	const char *label;		/* a GLOB on the label */
	const char *scenario;		/* the run has results of this scenario */
	unsigned nmeta;			/* run_meta KEY's value matches GLOB */
	const char *meta_key[DB_RUNS_META_MAX], *meta_glob[DB_RUNS_META_MAX];
};

/* `vmorch runs`: newest first. */
int db_runs_print(struct db *db, FILE *out, const struct db_runs_filter *f,
		  struct verr *e);
json_t *db_runs_json(struct db *db, const struct db_runs_filter *f, struct verr *e);

/*
 * `vmorch show RUN`: the run, its jobs (verdict, exit, key counters summed
 * over disks) and its failed expectations.  The JSON form carries every
 * counter per disk, every metric and every expectation outcome.
 */
int db_run_show_print(struct db *db, int64_t run_id, FILE *out,
		      struct verr *e);
json_t *db_run_show_json(struct db *db, int64_t run_id, struct verr *e);

/*
 * `vmorch show RUN JOB`: one job in full, @name as run and show print it
 * (scenario/vm[k=v,...]#repeat): its result, disks, metrics, expectations,
 * attempts, stored configuration, console tail and how much of its whole
 * console is stored ("console", null when none is), into *@doc.  -EINVAL
 * when the name is malformed, -ENOENT when the run has no such job, another
 * -errno when the database fails; @e set on each.
 */
int db_job_show_json(struct db *db, int64_t run_id, const char *name, json_t **doc,
		     struct verr *e);

#endif
