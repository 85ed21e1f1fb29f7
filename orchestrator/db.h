/*
 * db.h - the SQLite result store: opening and migrating vmorch.db, recording
 * a run and each finished job's VmResult, and reading a result back.  The
 * schema lives in schema/NNN_name.sql (embedded at build time) and is
 * described for users in doc/database.md.  A struct db is one SQLite
 * connection: use it from one thread at a time.
 */
#ifndef VMORCH_DB_H
#define VMORCH_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/console_ring.h"
#include "common/host_facts.h"
#include "common/verr.h"
#include "common/vm_result.h"
#include "orchestrator/jobdesc.h"

struct db;

/* A scenario file a run read; the caller hashes it (lowercase hex). */
struct db_run_file {
	const char *path;
	const char *sha256;
	const char *description;	/* the scenario's description:, or NULL */
};

/* One fact of what a run was of (run_meta): KEY=VALUE. */
struct db_meta {
	const char *key;		/* [a-z0-9_.-], 1..DB_META_KEY_MAX */
	const char *value;		/* printable, at most DB_META_VALUE_MAX bytes */
	bool user;			/* --meta, not found by vmorch */
};

#define DB_META_MAX		32
#define DB_META_KEY_MAX		63
#define DB_META_VALUE_MAX	256

/* Is @key a good meta key?  @e says why not. */
int db_meta_check(const char *key, const char *value, struct verr *e);

struct db_run_info {
	const char *label;		/* NULL: none */
	const char *host;
	const struct host_facts *host_facts;	/* @host's, or NULL */
	const char *vmorch_version;
	const char *command_line;
	unsigned nfiles;
	const struct db_run_file *files;
	unsigned jobs_total;
	unsigned nmeta;
	const struct db_meta *meta;
	const char *uuid;		/* NULL: a fresh random one (tests fix it) */
};

#define DB_UUID_LEN	36	/* 8-4-4-4-12 lowercase hex */

/* Run statuses, as stored in runs.status. */
#define DB_RUN_RUNNING		"running"
#define DB_RUN_PASSED		"passed"
#define DB_RUN_FAILED		"failed"
#define DB_RUN_INTERRUPTED	"interrupted"
#define DB_RUN_ERROR		"error"
/*
 * Shown for a 'running' run whose vmorch, on this host, is dead (pid gone or
 * reused, or the host rebooted); stored as such by the next db_open().
 */
#define DB_RUN_ABANDONED	"abandoned"

/*
 * Open (creating if need be) and migrate the database at @path.  A file that
 * is not a vmorch database, or one written by a newer vmorch, is refused
 * untouched.  Runs of this host whose vmorch died are marked abandoned.
 * Returns 0 or a negative errno, with a message in @e; -EUCLEAN when SQLite
 * finds the file corrupt, and the message says so.
 */
int db_open(const char *path, struct db **out, struct verr *e);

/*
 * Open an existing database for reading only: never creates, migrates or
 * writes it (`runs`, `show`, `diff`, `history`, `report`).  -ENOENT "no
 * database at PATH"; a non-vmorch file, a newer schema or an older one
 * (which only a write command may migrate) are refused.  Works in a
 * read-only directory (doc/database.md says how).  Only the reading
 * functions may be used on the result.
 */
int db_open_readonly(const char *path, struct db **out, struct verr *e);
/*
 * Map the file (up to 1 GiB) for a command that reads whole runs in order
 * (diff, report): sequential pages cost fewer kernel entries mapped than
 * read.  A read connection is not mapped otherwise: history seeks one
 * page per run, where each mapped page is a page fault.  0 or -errno.
 */
int db_map(struct db *db, struct verr *e);
void db_close(struct db *db);

/* The connection, for read-only queries (db_query.c, reports/). */
sqlite3 *db_sqlite(struct db *db);

/* The file's path, as opened. */
const char *db_file(const struct db *db);

/* Run @sql (statements without results) on the connection: 0 or -errno,
 * @e naming the database and @what, SQLite's errors mapped as everywhere. */
int db_exec_sql(struct db *db, const char *sql, const char *what, struct verr *e);

/* SQLite's failure @rc on the connection as -errno, @e set the same way. */
int db_sql_fail(struct db *db, int rc, const char *what, struct verr *e);

/*
 * Delete run @run_id with everything stored with it (one transaction).
 * A run whose vmorch is still running is refused (-EBUSY); "abandoned"
 * ones may go.  -ENOENT for no such run.
 */
int db_run_delete(struct db *db, int64_t run_id, struct verr *e);

/*
 * The ids of the finished runs older than the newest @keep runs,
 * unlabelled ones only unless @labelled: what `vmorch gc --keep` deletes.
 * Malloc'd into *@ids (*@n of them, oldest first).
 */
int db_runs_past(struct db *db, unsigned keep, bool labelled, int64_t **ids, size_t *n,
		 struct verr *e);

/*
 * A matrix point as the user writes it ("qd=16,bs=4k": key=value pairs,
 * any order) as its stored params_key ("bs=4k,qd=16"), into @out.  0, or
 * -EINVAL with @e saying what is wrong with @spec.
 */
int db_params_key_parse(const char *spec, char *out, size_t cap, struct verr *e);

/*
 * `vmorch run --rerun-failed RUN`: @keep[i] for each of @jobs that failed
 * in run @run_id (its verdict, infrastructure failures included) or is
 * missing there; matched by scenario, VM, matrix point and repeat.
 */
int db_rerun_select(struct db *db, int64_t run_id, const struct job_desc *jobs, size_t n,
		    bool *keep, struct verr *e);

/* What db_import() did. */
struct db_import_stats {
	unsigned runs;		/* runs copied in */
	unsigned results;	/* their results */
	unsigned skipped;	/* runs this database had already (same UUID) */
};

/*
 * Merge the runs of the vmorch database at @other into @db, each with
 * everything stored with it, skipping the runs @db already has by UUID,
 * in one transaction.  @other is never written: a copy of it (SQLite's
 * backup, so a live database's WAL is included) is made in $TMPDIR and
 * migrated to this schema first, and removed after.  0 or -errno with @e.
 */
int db_import(struct db *db, const char *other, struct db_import_stats *st,
	      struct verr *e);

/* The schema version this build knows: the highest embedded migration. */
unsigned db_schema_version(void);

/*
 * The counter column list from vblk_fields[], each name wrapped in @before
 * and @after ("sum(c." and ")"), comma-separated, into @buf.  Every SQL
 * statement naming counters is built with it.  -ENAMETOOLONG if @size is
 * too small.
 */
int db_counter_columns(char *buf, size_t size, const char *before,
		       const char *after);

/* Insert a run with status 'running'. */
int db_run_begin(struct db *db, const struct db_run_info *info,
		 int64_t *run_id, struct verr *e);

/* One try at a job on a fleet host (table attempts, schema 4). */
struct db_attempt {
	unsigned attempt;			/* 1, 2, ... */
	const char *host;
	int64_t started_us, ended_us;		/* CLOCK_REALTIME, microseconds */
	bool host_lost;				/* else: this try gave the result */
	const char *reason;			/* why it ended, one line */
};

/* One finished job of a group that db_store_results() stores. */
struct db_result_rec {
	const struct job_desc *job;
	const char *host;
	const struct vm_result *r;
	const struct expect_outcome *outcomes;	/* job->nexpect, or NULL if 0 */
	bool verdict_pass;
	/* Its tries on fleet hosts, in order; none for a local job. */
	const struct db_attempt *attempts;
	size_t nattempts;
	/* Its whole console (table consoles, schema 11), or NULL: none kept. */
	const struct console_text *console;
	int64_t result_id;			/* out: set once the group is stored */
};

/*
 * Store @n finished jobs in one transaction (group commit): each one's
 * vm_results row, one blk_counters row per disk, its metrics and outcomes,
 * and its console (compressed before the transaction begins).
 * Every result is checked before anything is written; counter values above
 * INT64_MAX are refused (-ERANGE), as the JSON codec refuses them.  If any
 * job fails, the whole group is rolled back and the message names that job
 * ("no run N" when @run_id does not exist).  When this returns 0 the whole
 * group is durable against a crash of vmorch and every result_id is set.
 *
 * Why groups: a WAL commit writes each dirty page once (2 pwrites) and
 * takes its locks (6 fcntls) however many results share them; for one
 * result alone that is ~16 pwrite + 6 fcntl.  So `vmorch run` stores the
 * results one pool tick reaped together, before reporting any of them.
 */
int db_store_results(struct db *db, int64_t run_id,
		     struct db_result_rec *recs, size_t n, struct verr *e);

/*
 * Store one finished job: db_store_results() with a group of one.
 * @outcomes has job->nexpect entries (NULL when there are none);
 * @result_id may be NULL.
 */
int db_store_result(struct db *db, int64_t run_id, const struct job_desc *job,
		    const char *host, const struct vm_result *r,
		    const struct expect_outcome *outcomes, bool verdict_pass,
		    int64_t *result_id, struct verr *e);

/*
 * Record what machine @host (the name its results carry) was during run
 * @run_id; once per run and host.  In the caller's transaction if one is
 * open, else on its own.
 */
int db_run_host(struct db *db, int64_t run_id, const char *host,
		const struct host_facts *f, const char *version, struct verr *e);

/*
 * Set the run's final @status (one of DB_RUN_*, not running) and end time.
 * Returns 0 or a negative errno with a message: a run whose status is not
 * stored ends 'running' and is shown abandoned once vmorch has exited.
 */
int db_run_end(struct db *db, int64_t run_id, const char *status,
	       struct verr *e);

/*
 * Read a stored result back into @out (zeroed first).  Disks come back in
 * disk_idx order, metrics in name order.
 */
int db_load_result(struct db *db, int64_t result_id, struct vm_result *out,
		   struct verr *e);

/*
 * A result's stored console (table consoles) into @out: its text (the last
 * bytes, bytes - dropped of them), how many bytes the guest printed and
 * how many the cap dropped.  -ENOENT when the result has none (stored
 * before schema 11, or run on a fleet host), -EBADMSG when the row is
 * damaged (its stream does not inflate to its length); @e set.
 */
int db_console_load(struct db *db, int64_t result_id, struct console_text *out,
		    struct verr *e);

/*
 * Internal: the migrations, generated into schema_embed.c from
 * schema/NNN_name.sql by orchestrator/db.mk, in version order.
 */
struct db_migration {
	unsigned version;	/* NNN */
	const char *name;	/* "001_initial" */
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const unsigned db_nmigrations;

#endif
