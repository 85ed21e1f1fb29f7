/*
 * db.c - the SQLite result store: open + migrate vmorch.db, record runs and
 * finished jobs (a group of them per transaction), and read results back.
 * Counter columns in every statement are expanded from vblk_fields[] at
 * open time.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/console_zlib.h"
#include "common/sha256.h"
#include "orchestrator/db.h"
#include "orchestrator/sql_err.h"
#include "orchestrator/jobname.h"

/* PRAGMA application_id of a vmorch database: 'vmor' (schema/001). */
#define DB_APPLICATION_ID	0x766d6f72
/* Writers queue behind each other (several vmorch, a sqlite3 shell). */
#define DB_BUSY_TIMEOUT_MS	5000

/* The statements a run needs, prepared once at open. */
enum db_stmt {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RUN_INSERT,
	ST_RUN_FILE_INSERT,
	ST_RUN_END,
	ST_HOST_FACTS_INSERT,
	ST_META_INSERT,
	ST_ATTEMPT_INSERT,
	ST_RESULT_INSERT,
	ST_COUNTERS_INSERT,
	ST_METRIC_INSERT,
	ST_EXPECT_INSERT,
	ST_CONSOLE_INSERT,
	ST_RESULT_SELECT,
	ST_CONSOLE_SELECT,
	ST_COUNTERS_SELECT,
	ST_METRICS_SELECT,
	ST_NR
};

/* Where this process runs, as runs.owner_host and runs.owner_boot hold it. */
struct db_owner {
	char host[256];
	char boot[128];		/* "<boot_id> pid:[N]" */
	int64_t pid;
	int64_t start;		/* clock ticks since boot */
};

struct db {
	sqlite3 *h;
	char *path;
	bool readonly;
	int last_rc;		/* SQLite's code for the last db_fail() */
	struct db_owner self;
	sqlite3_stmt *st[ST_NR];
};

static const char *const db_stmt_sql[ST_NR] = {
	/* IMMEDIATE: take the write lock up front, so busy_timeout applies. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RUN_INSERT] =
		"INSERT INTO runs (label, started_at, host, vmorch_version,"
		" command_line, jobs_total, owner_host, owner_boot, owner_pid,"
		" owner_start, uuid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_RUN_FILE_INSERT] =
		"INSERT INTO run_files (run_id, path, sha256, description)"
		" VALUES (?, ?, ?, ?)",
	/*
	 * The job counts are written once, here, not per result: touching
	 * the runs page in every result's transaction cost ~8% of ingest.
	 * Listings count a still-running run's results live (db_query.c).
	 */
	[ST_RUN_END] =
		"UPDATE runs SET status = ?1, ended_at = ?2,"
		" jobs_passed = (SELECT count(*) FROM vm_results"
		"  WHERE run_id = ?3 AND verdict = 'pass'),"
		" jobs_failed = (SELECT count(*) FROM vm_results"
		"  WHERE run_id = ?3 AND verdict = 'fail')"
		" WHERE id = ?3",
	[ST_HOST_FACTS_INSERT] =
		"INSERT INTO host_facts (run_id, host, kernel_release, cpu_model,"
		" cpus, memory_bytes, kvm, vmorch_version)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_META_INSERT] =
		"INSERT INTO run_meta (run_id, key, value, source) VALUES (?, ?, ?, ?)",
	[ST_ATTEMPT_INSERT] =
		"INSERT INTO attempts (run_id, job, attempt, host, started_at,"
		" ended_at, outcome, reason, result_id)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_RESULT_INSERT] =
		"INSERT INTO vm_results (run_id, scenario, scenario_file, vm,"
		" params, params_key, repeat_idx, host, verdict, success,"
		" exit_kind, exit_code, wall_us, boot_us, started_at,"
		" console_tail, error, config, config_hash)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* ST_COUNTERS_*: built from vblk_fields[] by db_counter_sql(). */
	[ST_METRIC_INSERT] =
		"INSERT INTO metrics (result_id, name, value) VALUES (?, ?, ?)",
	[ST_EXPECT_INSERT] =
		"INSERT INTO expectations (result_id, idx, name, op_text,"
		" expected, actual, passed, missing)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_CONSOLE_INSERT] =
		"INSERT INTO consoles (result_id, bytes, dropped, zdata) VALUES (?, ?, ?, ?)",
	/* Prepared once: JUnit asks for each job's console in turn. */
	[ST_CONSOLE_SELECT] =
		"SELECT bytes, dropped, zdata FROM consoles WHERE result_id = ?",
	[ST_RESULT_SELECT] =
		"SELECT success, exit_kind, exit_code, wall_us, boot_us,"
		" console_tail, error FROM vm_results WHERE id = ?",
	[ST_METRICS_SELECT] =
		"SELECT name, value FROM metrics WHERE result_id = ?"
		" ORDER BY name",
};

/*
 * "what: sqlite's message", returning the matching -errno.  Corruption says
 * so in plain words: the user must stop writing and restore a copy, not
 * retry.
 */
static int db_fail(struct db *db, int rc, const char *what, struct verr *e)
{
	db->last_rc = rc;
	return sql_fail(db->h, rc, what, e);
}

sqlite3 *db_sqlite(struct db *db)
{
	return db->h;
}

const char *db_file(const struct db *db)
{
	return db->path;
}

unsigned db_schema_version(void)
{
	return db_nmigrations ? db_migrations[db_nmigrations - 1].version : 0;
}

int db_counter_columns(char *buf, size_t size, const char *before,
		       const char *after)
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		int n = snprintf(buf + len, size - len, "%s%s%s%s",
				 i ? ", " : "", before, vblk_fields[i].name,
				 after);

		if (n < 0 || (size_t)n >= size - len)
			return -ENAMETOOLONG;
		len += (size_t)n;
	}
	return 0;
}

/* UTC ISO 8601 with milliseconds: sorts as text, sqlite's date functions read it. */
static void db_format_time(int64_t us, char buf[32])
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)(us % 1000000 / 1000));
}

static int64_t db_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int db_exec(struct db *db, const char *sql, const char *what,
		   struct verr *e)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, rc, what, e);
}

int db_exec_sql(struct db *db, const char *sql, const char *what, struct verr *e)
{
	return db_exec(db, sql, what, e);
}

int db_sql_fail(struct db *db, int rc, const char *what, struct verr *e)
{
	return db_fail(db, rc, what, e);
}

/* ---- run owners ---- */

/*
 * A process's start time in clock ticks since boot: field 22 of
 * /proc/PID/stat, counted after the ')' that ends the command name (which
 * may itself hold spaces and parentheses).  -ENOENT when there is no such
 * process.
 */
static int proc_start_ticks(int64_t pid, int64_t *out)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%" PRId64 "/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* ") S ppid ..." : field 3 is the state, just after the ')'. */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EINVAL;
	*out = (int64_t)start;
	return 0;
}

/*
 * The scope in which pids mean something: the kernel's boot id (a new one
 * at every boot) and the pid namespace.  Either may be unreadable (no
 * /proc): then the owner cannot be judged and runs stay 'running'.
 */
static void db_owner_scope(char *buf, size_t size)
{
	char boot[64] = "", ns[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	ssize_t n;

	buf[0] = 0;
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = 0;
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = 0;
	n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	if (n <= 0 || !boot[0])
		return;
	ns[n] = 0;
	snprintf(buf, size, "%s %s", boot, ns);
}

static void db_owner_self(struct db_owner *o)
{
	memset(o, 0, sizeof(*o));
	if (gethostname(o->host, sizeof(o->host) - 1))
		o->host[0] = 0;
	db_owner_scope(o->boot, sizeof(o->boot));
	o->pid = getpid();
	if (proc_start_ticks(o->pid, &o->start))
		o->start = -1;
}

/*
 * Is the owner of a run recorded as (@host, @boot, @pid, @start) dead, as
 * seen from @self?  Only when it ran on this host: in this boot and pid
 * namespace, its pid is gone or now belongs to a process that started at
 * another time; or this host has rebooted since.  Another host's (or
 * another container's) owner cannot be judged, and counts as alive.
 */
static bool db_owner_dead(const struct db_owner *self, const char *host,
			  const char *boot, int64_t pid, int64_t start)
{
	size_t idlen = strcspn(self->boot, " ");
	int64_t now;

	if (!host || !boot || !self->host[0] || !self->boot[0] ||
	    strcmp(host, self->host) != 0)
		return false;
	if (strncmp(boot, self->boot, idlen) != 0 || boot[idlen] != ' ')
		return true;	/* this host booted again since */
	if (strcmp(boot, self->boot) != 0 || pid <= 0)
		return false;	/* another pid namespace */
	switch (proc_start_ticks(pid, &now)) {
	case 0:
		return now != start;
	case -ENOENT:
		return true;
	default:
		return false;	/* hidden from us (hidepid): cannot tell */
	}
}

/*
 * SQL: vmorch_run_status(status, owner_host, owner_boot, owner_pid,
 * owner_start) is @status, or 'abandoned' for a 'running' run whose owner
 * is dead.  Registered on every connection, so listings, diff and reports
 * can all show the same status.
 */
static void db_sql_run_status(sqlite3_context *ctx, int argc,
			      sqlite3_value **argv)
{
	const struct db_owner *self = sqlite3_user_data(ctx);
	const char *status = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	if (status && strcmp(status, DB_RUN_RUNNING) == 0 &&
	    sqlite3_value_type(argv[3]) == SQLITE_INTEGER &&
	    sqlite3_value_type(argv[4]) == SQLITE_INTEGER &&
	    db_owner_dead(self, (const char *)sqlite3_value_text(argv[1]),
			  (const char *)sqlite3_value_text(argv[2]),
			  sqlite3_value_int64(argv[3]),
			  sqlite3_value_int64(argv[4])))
		status = DB_RUN_ABANDONED;
	if (status)
		sqlite3_result_text(ctx, status, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

/* RFC 9562 text of @raw with its version nibble and variant bits set. */
static void uuid_format(uint8_t raw[16], unsigned version, char out[DB_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	raw[6] = (uint8_t)((raw[6] & 0x0f) | (version << 4));
	raw[8] = (uint8_t)((raw[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hex[raw[i] >> 4];
		out[n++] = hex[raw[i] & 15];
	}
	out[n] = 0;
}

/*
 * SQL: vmorch_content_uuid(text), a version 8 UUID made of the first 16
 * bytes of the text's sha256: what migration 007 gives runs stored before
 * it, the same in every copy of a database.
 */
static void db_sql_content_uuid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *text = sqlite3_value_text(argv[0]);
	char out[DB_UUID_LEN + 1];
	struct sha256 s;
	uint8_t d[32];

	(void)argc;
	if (!text) {
		sqlite3_result_null(ctx);
		return;
	}
	sha256_init(&s);
	sha256_update(&s, text, (size_t)sqlite3_value_bytes(argv[0]));
	sha256_final(&s, d);
	uuid_format(d, 8, out);
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* SQL: vmorch_params_key(params), with the params key code below. */
static void db_sql_params_key(sqlite3_context *ctx, int argc, sqlite3_value **argv);

static int db_register_functions(struct db *db, struct verr *e)
{
	int rc = sqlite3_create_function_v2(db->h, "vmorch_run_status", 5,
					    SQLITE_UTF8 | SQLITE_DIRECTONLY,
					    &db->self, db_sql_run_status,
					    NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db->h, "vmorch_content_uuid", 1,
						SQLITE_UTF8 | SQLITE_DIRECTONLY |
						SQLITE_DETERMINISTIC, NULL,
						db_sql_content_uuid, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db->h, "vmorch_params_key", 1,
						SQLITE_UTF8 | SQLITE_DIRECTONLY |
						SQLITE_DETERMINISTIC, NULL,
						db_sql_params_key, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(db, rc, "register functions", e);
}

/*
 * `vmorch run` stores 'abandoned' for good for this host's runs whose owner
 * died, with their job counts, as db_run_end would have.  ended_at stays
 * NULL: when the owner died is not known.
 */
static int db_mark_abandoned(struct db *db, struct verr *e)
{
	return db_exec(db, "UPDATE runs SET status = 'abandoned',"
		       " jobs_passed = (SELECT count(*) FROM vm_results v"
		       "  WHERE v.run_id = runs.id AND v.verdict = 'pass'),"
		       " jobs_failed = (SELECT count(*) FROM vm_results v"
		       "  WHERE v.run_id = runs.id AND v.verdict = 'fail')"
		       " WHERE status = 'running' AND vmorch_run_status(status,"
		       " owner_host, owner_boot, owner_pid, owner_start)"
		       " = 'abandoned'", "mark abandoned runs", e);
}

/* ---- opening ---- */

static int db_pragma_int(struct db *db, const char *sql, int64_t *out,
			 struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB) {
			verr_set(e, "%s: not a SQLite database", db->path);
			rc = sql_errno(rc);
		} else {
			rc = db_fail(db, rc, "read", e);
		}
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * A read-only connection cannot migrate.  An older database is refused
 * with what to do rather than read through a schema it lacks: every query
 * in db_query.c and reports/ names the newest schema's columns.
 */
static int db_check_version_readonly(struct db *db, int64_t version,
				     struct verr *e)
{
	if (version == (int64_t)db_schema_version())
		return 0;
	verr_set(e, "database at %s has schema %" PRId64 ", this vmorch needs"
		 " %u: run a write command (vmorch run) to upgrade it",
		 db->path, version, db_schema_version());
	return -EPROTO;
}

/*
 * Decide, by reading only, whether we may use this file: it must be ours
 * and not newer than this build, or (to write) empty.  Nothing before this
 * point writes (journal_mode=WAL would rewrite the header), so a refused
 * file stays byte-identical.
 */
static int db_check_identity(struct db *db, struct verr *e)
{
	int64_t version, app_id, nobjects;
	int rc;

	rc = db_pragma_int(db, "PRAGMA user_version", &version, e);
	if (rc)
		return rc;
	if (version > (int64_t)db_schema_version()) {
		verr_set(e, "%s: schema version %" PRId64 " is newer than this"
			 " vmorch (knows %u); upgrade vmorch", db->path,
			 version, db_schema_version());
		return -EPROTONOSUPPORT;
	}
	rc = db_pragma_int(db, "PRAGMA application_id", &app_id, e);
	if (rc)
		return rc;
	if (app_id == DB_APPLICATION_ID)
		return db->readonly ? db_check_version_readonly(db, version, e) : 0;
	if (app_id != 0 || version != 0) {
		verr_set(e, "%s: not a vmorch database (application_id %#" PRIx64
			 ", user_version %" PRId64 ")", db->path,
			 (uint64_t)(uint32_t)app_id, version);
		return -EINVAL;
	}
	rc = db_pragma_int(db, "SELECT count(*) FROM sqlite_schema", &nobjects, e);
	if (rc)
		return rc;
	if (nobjects) {
		verr_set(e, "%s: a SQLite database without a vmorch schema;"
			 " refusing to change it", db->path);
		return -EINVAL;
	}
	if (db->readonly) {
		verr_set(e, "no database at %s (the file is empty)", db->path);
		return -ENOENT;
	}
	return 0;
}


static int db_configure(struct db *db, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	/*
	 * No mmap for the read commands unless they ask (db_map): each is a
	 * new process, and a query that touches one page per run (history)
	 * pays a page fault for each mapped page it meets, more than the
	 * pread() that SQLite's own cache does instead.  Measured on 10M
	 * results: history of one series 297 -> 217 ms (doc/database.md).
	 */
	if (db->readonly)
		return db_exec(db, "PRAGMA query_only = ON;", "pragmas", e);
	/*
	 * WAL: readers (vmorch show, a sqlite3 shell) never block the run that
	 * is storing results.  synchronous=NORMAL in WAL mode still survives
	 * a crash of vmorch; only a power loss may drop the last commits.
	 */
	rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "journal_mode", e);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		rc = rc == SQLITE_ROW ? SQLITE_ERROR : rc;
		sqlite3_finalize(st);
		return db_fail(db, rc, "cannot switch to WAL mode", e);
	}
	sqlite3_finalize(st);
	return db_exec(db, "PRAGMA synchronous = NORMAL;"
			   "PRAGMA mmap_size = 1073741824;", "pragmas", e);
}

/* A migration that rebuilt a table must leave every reference valid. */
static int db_check_foreign_keys(struct db *db, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "foreign_key_check", e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		verr_set(e, "%s: a row of %s points at a missing %s row",
			 db->path, sqlite3_column_text(st, 0),
			 sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		db_fail(db, rc, "foreign_key_check", e);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return -EINVAL;
	return rc == SQLITE_DONE ? 0 : sql_errno(rc);
}

static int db_migrate_one(struct db *db, const struct db_migration *m,
			  struct verr *e)
{
	char sql[64];
	int64_t version;
	int rc;

	rc = db_exec(db, "BEGIN IMMEDIATE", "migration", e);
	if (rc)
		return rc;
	/* Another vmorch may have migrated while we waited for the lock. */
	rc = db_pragma_int(db, "PRAGMA user_version", &version, e);
	if (rc || version >= m->version)
		goto out;
	rc = db_exec(db, m->sql, m->name, e);
	if (!rc)
		rc = db_check_foreign_keys(db, e);
	if (rc)
		goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", m->version);
	rc = db_exec(db, sql, m->name, e);
out:
	if (rc) {
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		verr_prefix(e, "migration %s", m->name);
		return rc;
	}
	return db_exec(db, "COMMIT", m->name, e);
}

/*
 * Foreign keys are off while migrations run (they cannot be switched inside
 * a transaction): a migration that rebuilds a table drops the parent that
 * other tables reference (SQLite's 12-step ALTER TABLE procedure), and
 * db_check_foreign_keys() checks the result before each commit.
 */
static int db_migrate(struct db *db, struct verr *e)
{
	int64_t version;
	int rc;

	rc = db_pragma_int(db, "PRAGMA user_version", &version, e);
	if (rc)
		return rc;
	rc = db_exec(db, "PRAGMA foreign_keys = OFF", "pragmas", e);
	for (unsigned i = 0; i < db_nmigrations && !rc; i++) {
		if (db_migrations[i].version != i + 1) {
			verr_set(e, "embedded migration %s is not number %u",
				 db_migrations[i].name, i + 1);
			return -EINVAL;
		}
		if (db_migrations[i].version <= version)
			continue;
		rc = db_migrate_one(db, &db_migrations[i], e);
	}
	if (rc)
		return rc;
	return db_exec(db, "PRAGMA foreign_keys = ON", "pragmas", e);
}

/*
 * The counter columns are typed twice: in the X-macro and in the migrations.
 * Refuse to run when they disagree (a counter added without its migration)
 * rather than fail on the first insert.
 */
static int db_check_counter_columns(struct db *db, struct verr *e)
{
	sqlite3_stmt *st;
	int col = 0, rc;

	rc = sqlite3_prepare_v2(db->h, "SELECT name FROM"
				" pragma_table_info('blk_counters') ORDER BY cid",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "blk_counters", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *want = col == 0 ? "result_id" :
				   col == 1 ? "disk_idx" :
				   col - 2 < VBLK_NR_COUNTERS ?
				   vblk_fields[col - 2].name : "(none)";

		if (strcmp(name, want) != 0)
			break;
		col++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || col != VBLK_NR_COUNTERS + 2) {
		verr_set(e, "%s: blk_counters column %d does not match the"
			 " counter list (a counter without a migration?)",
			 db->path, col);
		return -EINVAL;
	}
	return 0;
}

static char *db_counter_sql(enum db_stmt which)
{
	char cols[1024], params[256] = "";
	char *sql = NULL;
	int rc;

	if (db_counter_columns(cols, sizeof(cols), "", ""))
		return NULL;
	if (which == ST_COUNTERS_INSERT) {
		for (int i = 0; i < VBLK_NR_COUNTERS; i++)
			strcat(params, ", ?");
		rc = asprintf(&sql, "INSERT INTO blk_counters (result_id,"
			      " disk_idx, %s) VALUES (?, ?%s)", cols, params);
	} else {
		rc = asprintf(&sql, "SELECT disk_idx, %s FROM blk_counters"
			      " WHERE result_id = ? ORDER BY disk_idx", cols);
	}
	return rc < 0 ? NULL : sql;
}

static int db_prepare_all(struct db *db, struct verr *e)
{
	for (int i = 0; i < ST_NR; i++) {
		char *built = NULL;
		const char *sql = db_stmt_sql[i];
		int rc;

		if (i == ST_COUNTERS_INSERT || i == ST_COUNTERS_SELECT) {
			built = db_counter_sql(i);
			if (!built) {
				verr_set(e, "out of memory");
				return -ENOMEM;
			}
			sql = built;
		}
		rc = sqlite3_prepare_v3(db->h, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &db->st[i],
					NULL);
		free(built);
		if (rc != SQLITE_OK)
			return db_fail(db, rc, "prepare", e);
	}
	return 0;
}

static struct db *db_alloc(const char *path, bool readonly, struct verr *e)
{
	struct db *db = calloc(1, sizeof(*db));

	if (!db || !(db->path = strdup(path))) {
		free(db);
		verr_set(e, "out of memory");
		return NULL;
	}
	db->readonly = readonly;
	db_owner_self(&db->self);
	return db;
}

/* What both kinds of connection do once the file is known to be ours. */
static int db_open_finish(struct db *db, struct verr *e)
{
	int rc;

	rc = db_configure(db, e);
	/* First: a migration may call them (005 does). */
	if (!rc)
		rc = db_register_functions(db, e);
	if (!rc && !db->readonly)
		rc = db_migrate(db, e);
	if (!rc)
		rc = db_check_counter_columns(db, e);
	if (!rc && !db->readonly)
		rc = db_mark_abandoned(db, e);
	if (!rc)
		rc = db_prepare_all(db, e);
	return rc;
}

int db_open(const char *path, struct db **out, struct verr *e)
{
	struct db *db;
	int rc;

	*out = NULL;
	db = db_alloc(path, false, e);
	if (!db)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &db->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "cannot open", e);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	rc = db_check_identity(db, e);
	if (!rc)
		rc = db_open_finish(db, e);
	if (rc)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc;
}

/* "file:" URI of @path with every byte a URI could misread %-encoded. */
static char *db_uri_immutable(const char *path)
{
	static const char keep[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~";
	size_t n = strlen(path);
	char *uri = malloc(3 * n + 32), *p = uri;

	if (!uri)
		return NULL;
	p += sprintf(p, "file:");
	for (; *path; path++) {
		if (strchr(keep, *path))
			*p++ = *path;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*path);
	}
	strcpy(p, "?immutable=1");
	return uri;
}

/* The file at @path plus @suffix: its size, -1 when it does not exist. */
static off_t db_side_file_size(const char *path, const char *suffix)
{
	char side[4096];
	struct stat sb;

	snprintf(side, sizeof(side), "%s%s", path, suffix);
	return stat(side, &sb) ? -1 : sb.st_size;
}

/*
 * Reading a WAL database needs its -shm, which SQLite creates beside it: in
 * a read-only directory without one, the first read fails with CANTOPEN.
 * If there is no -wal with frames either, no writer has commits that the
 * file lacks, and reading the file alone as immutable gives the same
 * answer.  With a live -wal there is no right answer without the -shm.
 */
static int db_reopen_immutable(struct db *db, struct verr *e)
{
	char *uri;
	int rc;

	if (db_side_file_size(db->path, "-wal") > 0) {
		verr_set(e, "%s: cannot read its write-ahead log (%s-wal) without"
			 " a -shm file, which cannot be created here: %s",
			 db->path, db->path, sqlite3_errmsg(db->h));
		return -EACCES;
	}
	uri = db_uri_immutable(db->path);
	if (!uri) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	sqlite3_close(db->h);
	rc = sqlite3_open_v2(uri, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			     NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "cannot open", e);
	sqlite3_extended_result_codes(db->h, 1);
	return db_check_identity(db, e);
}

int db_map(struct db *db, struct verr *e)
{
	return db_exec(db, "PRAGMA mmap_size = 1073741824;", "mmap_size", e);
}

int db_open_readonly(const char *path, struct db **out, struct verr *e)
{
	struct db *db;
	struct stat sb;
	int rc;

	*out = NULL;
	if (stat(path, &sb)) {
		if (errno == ENOENT) {
			verr_set(e, "no database at %s", path);
			return -ENOENT;
		}
		return verr_errno(e, "%s", path);
	}
	if (!S_ISREG(sb.st_mode)) {
		verr_set(e, "%s: not a vmorch database (not a regular file)", path);
		return -EINVAL;
	}
	db = db_alloc(path, true, e);
	if (!db)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "cannot open", e);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	rc = db_check_identity(db, e);
	if (rc && (db->last_rc & 0xff) == SQLITE_CANTOPEN)
		rc = db_reopen_immutable(db, e);
	if (!rc)
		rc = db_open_finish(db, e);
	if (rc)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_NR; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

/* ---- statements ---- */

/* Step a write statement to completion and make it reusable. */
static int db_step_done(struct db *db, enum db_stmt which, const char *what,
			struct verr *e)
{
	sqlite3_stmt *st = db->st[which];
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		rc = db_fail(db, rc, what, e);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

static int db_begin(struct db *db, struct verr *e)
{
	return db_step_done(db, ST_BEGIN, "begin", e);
}

static int db_commit(struct db *db, struct verr *e)
{
	return db_step_done(db, ST_COMMIT, "commit", e);
}

/* Keeps the first error's message: the rollback is only cleanup. */
static void db_rollback(struct db *db)
{
	for (int i = 0; i < ST_NR; i++)
		sqlite3_reset(db->st[i]);
	if (!sqlite3_get_autocommit(db->h))
		db_step_done(db, ST_ROLLBACK, "rollback", NULL);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* ---- runs ---- */

static bool sha256_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

int db_run_host(struct db *db, int64_t run_id, const char *host,
		const struct host_facts *f, const char *version, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_HOST_FACTS_INSERT];

	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, host);
	bind_text(st, 3, f->kernel_release);
	bind_text(st, 4, f->cpu_model);
	sqlite3_bind_int64(st, 5, f->cpus);
	sqlite3_bind_int64(st, 6, f->memory_bytes > INT64_MAX ? INT64_MAX :
			   (int64_t)f->memory_bytes);
	bind_text(st, 7, f->kvm_flavour);
	bind_text(st, 8, version);
	return db_step_done(db, ST_HOST_FACTS_INSERT, "host facts", e);
}

static int db_run_insert(struct db *db, const struct db_run_info *info,
			 int64_t *run_id, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_RUN_INSERT];
	char now[32], uuid[DB_UUID_LEN + 1];
	uint8_t raw[16];
	int rc;

	if (info->uuid) {
		snprintf(uuid, sizeof(uuid), "%s", info->uuid);
	} else {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return verr_errno(e, "new run: getrandom");
		uuid_format(raw, 4, uuid);
	}
	db_format_time(db_now_us(), now);
	bind_text(st, 1, info->label);
	bind_text(st, 2, now);
	bind_text(st, 3, info->host ? info->host : "");
	bind_text(st, 4, info->vmorch_version ? info->vmorch_version : "");
	bind_text(st, 5, info->command_line ? info->command_line : "");
	sqlite3_bind_int64(st, 6, info->jobs_total);
	bind_text(st, 7, db->self.host[0] ? db->self.host : NULL);
	bind_text(st, 8, db->self.boot[0] ? db->self.boot : NULL);
	sqlite3_bind_int64(st, 9, db->self.pid);
	if (db->self.start >= 0)
		sqlite3_bind_int64(st, 10, db->self.start);
	else
		sqlite3_bind_null(st, 10);
	bind_text(st, 11, uuid);
	rc = db_step_done(db, ST_RUN_INSERT, "new run", e);
	if (rc)
		return rc;
	*run_id = sqlite3_last_insert_rowid(db->h);

	st = db->st[ST_RUN_FILE_INSERT];
	for (unsigned i = 0; i < info->nfiles; i++) {
		sqlite3_bind_int64(st, 1, *run_id);
		bind_text(st, 2, info->files[i].path);
		bind_text(st, 3, info->files[i].sha256);
		bind_text(st, 4, info->files[i].description);
		rc = db_step_done(db, ST_RUN_FILE_INSERT, info->files[i].path, e);
		if (rc)
			return rc;
	}
	st = db->st[ST_META_INSERT];
	for (unsigned i = 0; i < info->nmeta; i++) {
		sqlite3_bind_int64(st, 1, *run_id);
		bind_text(st, 2, info->meta[i].key);
		bind_text(st, 3, info->meta[i].value);
		bind_text(st, 4, info->meta[i].user ? "user" : "auto");
		rc = db_step_done(db, ST_META_INSERT, info->meta[i].key, e);
		if (rc)
			return rc;
	}
	if (info->host_facts)
		return db_run_host(db, *run_id, info->host ? info->host : "",
				   info->host_facts, info->vmorch_version ?
				   info->vmorch_version : "", e);
	return 0;
}

int db_meta_check(const char *key, const char *value, struct verr *e)
{
	size_t klen = strlen(key);

	if (!klen || klen > DB_META_KEY_MAX || strspn(key, "abcdefghijklmnopqrstuvwxyz"
						       "0123456789_.-") != klen) {
		verr_set(e, "meta key '%s': expected 1..%d of a-z, 0-9, '_', '.', '-'", key,
			 DB_META_KEY_MAX);
		return -EINVAL;
	}
	if (strlen(value) > DB_META_VALUE_MAX) {
		verr_set(e, "meta %s: value longer than %d bytes", key, DB_META_VALUE_MAX);
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			verr_set(e, "meta %s: value holds a control character", key);
			return -EINVAL;
		}
	return 0;
}

int db_run_begin(struct db *db, const struct db_run_info *info,
		 int64_t *run_id, struct verr *e)
{
	int rc;

	for (unsigned i = 0; i < info->nmeta; i++)
		if ((rc = db_meta_check(info->meta[i].key, info->meta[i].value, e)))
			return rc;

	for (unsigned i = 0; i < info->nfiles; i++) {
		if (!info->files[i].path || !sha256_ok(info->files[i].sha256)) {
			verr_set(e, "run file %s: sha256 must be 64 lowercase"
				 " hex digits", info->files[i].path ?
				 info->files[i].path : "(null)");
			return -EINVAL;
		}
	}
	rc = db_begin(db, e);
	if (rc)
		return rc;
	rc = db_run_insert(db, info, run_id, e);
	if (!rc)
		rc = db_commit(db, e);
	if (rc)
		db_rollback(db);
	return rc;
}

static bool run_status_final(const char *s)
{
	return s && (!strcmp(s, DB_RUN_PASSED) || !strcmp(s, DB_RUN_FAILED) ||
		     !strcmp(s, DB_RUN_INTERRUPTED) || !strcmp(s, DB_RUN_ERROR) ||
		     !strcmp(s, DB_RUN_ABANDONED));
}

int db_run_end(struct db *db, int64_t run_id, const char *status,
	       struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_RUN_END];
	char now[32];
	int rc;

	if (!run_status_final(status)) {
		verr_set(e, "run %" PRId64 ": bad final status '%s'", run_id,
			 status ? status : "(null)");
		return -EINVAL;
	}
	db_format_time(db_now_us(), now);
	bind_text(st, 1, status);
	bind_text(st, 2, now);
	sqlite3_bind_int64(st, 3, run_id);
	rc = db_step_done(db, ST_RUN_END, "end run", e);
	if (rc)
		return rc;
	if (sqlite3_changes(db->h) != 1) {
		verr_set(e, "no run %" PRId64, run_id);
		return -ENOENT;
	}
	return 0;
}

/* ---- results ---- */

#define PARAMS_KEY_MAX	JOB_PARAMS_KEY_MAX

/*
 * SQL: vmorch_params_key(params) is the params_key of a result whose
 * params column (a JSON object of strings) is @params: what migration 005
 * rewrites the stored keys with.  NULL for anything else.
 */
static void db_sql_params_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	const char *key[JOB_MAX_PARAMS], *value[JOB_MAX_PARAMS];
	char buf[PARAMS_KEY_MAX];
	json_t *o = text ? json_loads(text, 0, NULL) : NULL, *v;
	const char *k;
	unsigned n = 0;

	(void)argc;
	if (!json_is_object(o) || json_object_size(o) > JOB_MAX_PARAMS)
		goto null;
	json_object_foreach(o, k, v) {
		if (!json_is_string(v) || strlen(k) > JOB_PARAM_KEY_MAX ||
		    json_string_length(v) > JOB_PARAM_VALUE_MAX)
			goto null;
		key[n] = k;
		value[n++] = json_string_value(v);
	}
	job_params_key_of(key, value, n, buf);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
	json_decref(o);
	return;
null:
	json_decref(o);
	sqlite3_result_null(ctx);
}

int db_rerun_select(struct db *db, int64_t run_id, const struct job_desc *jobs, size_t n,
		    bool *keep, struct verr *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->h, "SELECT verdict FROM vm_results WHERE run_id = ?1 AND"
				" scenario = ?2 AND vm = ?3 AND params_key = ?4 AND"
				" repeat_idx = ?5", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "rerun", e);
	for (size_t i = 0; i < n; i++) {
		char key[PARAMS_KEY_MAX];

		job_params_key(&jobs[i], key);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, run_id);
		bind_text(st, 2, jobs[i].scenario);
		bind_text(st, 3, jobs[i].vm);
		bind_text(st, 4, key);
		sqlite3_bind_int64(st, 5, jobs[i].repeat);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			keep[i] = true;		/* missing from that run */
		} else if (rc == SQLITE_ROW) {
			keep[i] = strcmp((const char *)sqlite3_column_text(st, 0), "pass") != 0;
		} else {
			rc = db_fail(db, rc, "rerun", e);
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int db_params_key_parse(const char *spec, char *out, size_t cap, struct verr *e)
{
	char copy[PARAMS_KEY_MAX], buf[PARAMS_KEY_MAX], *save = NULL, *kv;
	const char *key[JOB_MAX_PARAMS], *value[JOB_MAX_PARAMS];
	unsigned n = 0;

	if (strlen(spec) >= sizeof(copy)) {
		verr_set(e, "--params: too long");
		return -EINVAL;
	}
	strcpy(copy, spec);
	for (kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv || n == JOB_MAX_PARAMS || eq - kv > JOB_PARAM_KEY_MAX ||
		    strlen(eq + 1) > JOB_PARAM_VALUE_MAX) {
			verr_set(e, "--params %s: expected KEY=VALUE,... (at most %d)", spec,
				 JOB_MAX_PARAMS);
			return -EINVAL;
		}
		*eq = 0;
		for (unsigned i = 0; i < n; i++)
			if (!strcmp(key[i], kv)) {
				verr_set(e, "--params %s: %s given twice", spec, kv);
				return -EINVAL;
			}
		key[n] = kv;
		value[n++] = eq + 1;
	}
	if (!n) {
		verr_set(e, "--params: expected KEY=VALUE,...");
		return -EINVAL;
	}
	job_params_key_of(key, value, n, buf);
	if (strlen(buf) >= cap) {
		verr_set(e, "--params: too long");
		return -EINVAL;
	}
	strcpy(out, buf);
	return 0;
}

/* {"bs":"4k","qd":"16"}: compact, keys in matrix order.  Malloc'd. */
static char *params_json_build(const struct job_desc *job)
{
	json_t *o = json_object();
	char *text = NULL;

	if (!o)
		return NULL;
	for (unsigned i = 0; i < job->nparams && i < JOB_MAX_PARAMS; i++) {
		json_t *v = json_string(job->param[i].value);

		if (!v || json_object_set_new(o, job->param[i].key, v))
			goto out;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(o);
	return text;
}

/*
 * Refuse what SQLite's INTEGER cannot hold exactly, before any write.  The
 * caller prefixes the message with the job's name.
 */
static int result_check(const struct vm_result *r, const struct job_desc *job,
			const struct expect_outcome *outcomes, struct verr *e)
{
	if (r->ndisks > JOB_MAX_DISKS || r->nmetrics > VM_RESULT_MAX_METRICS ||
	    job->nexpect > JOB_MAX_EXPECT || (job->nexpect && !outcomes)) {
		verr_set(e, "malformed result (%u disks, %u metrics,"
			 " %u expectations)", r->ndisks, r->nmetrics,
			 job->nexpect);
		return -EINVAL;
	}
	if (r->wall_us > INT64_MAX || r->boot_us > INT64_MAX) {
		verr_set(e, "duration above INT64_MAX");
		return -ERANGE;
	}
	for (uint32_t d = 0; d < r->ndisks; d++) {
		for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
			uint64_t v = vblk_snapshot_get(&r->disk[d], i);

			if (v <= INT64_MAX)
				continue;
			verr_set(e, "disk %u %s = %" PRIu64 " is above"
				 " INT64_MAX", d, vblk_fields[i].name, v);
			return -ERANGE;
		}
	}
	for (uint32_t m = 0; m < r->nmetrics; m++) {
		if (!isfinite(r->metric[m].value)) {
			verr_set(e, "metric %s is not a finite number",
				 r->metric[m].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int result_insert_row(struct db *db, int64_t run_id,
			     const struct job_desc *job, const char *host,
			     const struct vm_result *r, bool verdict_pass,
			     int64_t *result_id, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_RESULT_INSERT];
	char key[PARAMS_KEY_MAX], started[32];
	char *params;
	int rc;

	params = params_json_build(job);
	if (!params) {
		verr_set(e, "matrix values are not valid UTF-8");
		return -EINVAL;
	}
	job_params_key(job, key);
	db_format_time(db_now_us() - (int64_t)r->wall_us, started);
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, job->scenario);
	bind_text(st, 3, job->scenario_file);
	bind_text(st, 4, job->vm);
	bind_text(st, 5, params);
	bind_text(st, 6, key);
	sqlite3_bind_int64(st, 7, job->repeat);
	bind_text(st, 8, host ? host : "");
	bind_text(st, 9, verdict_pass ? "pass" : "fail");
	sqlite3_bind_int(st, 10, r->success);
	bind_text(st, 11, vm_exit_kind_name(r->exit_kind));
	sqlite3_bind_int64(st, 12, r->exit_code);
	sqlite3_bind_int64(st, 13, (int64_t)r->wall_us);
	sqlite3_bind_int64(st, 14, (int64_t)r->boot_us);
	bind_text(st, 15, started);
	bind_text(st, 16, r->console_tail);
	bind_text(st, 17, r->error);
	bind_text(st, 18, job->config);
	bind_text(st, 19, job->config && job->config_hash[0] ? job->config_hash : NULL);
	rc = db_step_done(db, ST_RESULT_INSERT, "store result", e);
	if (rc && sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_FOREIGNKEY) {
		verr_set(e, "no run %" PRId64, run_id);
		rc = -ENOENT;
	}
	free(params);
	if (!rc)
		*result_id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

static int result_insert_counters(struct db *db, int64_t result_id,
				  const struct vm_result *r, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_COUNTERS_INSERT];

	for (uint32_t d = 0; d < r->ndisks; d++) {
		int rc;

		sqlite3_bind_int64(st, 1, result_id);
		sqlite3_bind_int64(st, 2, d);
		for (int i = 0; i < VBLK_NR_COUNTERS; i++)
			sqlite3_bind_int64(st, 3 + i, (int64_t)
					   vblk_snapshot_get(&r->disk[d], i));
		rc = db_step_done(db, ST_COUNTERS_INSERT, "store counters", e);
		if (rc)
			return rc;
	}
	return 0;
}

static int result_insert_metrics(struct db *db, int64_t result_id,
				 const struct vm_result *r, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_METRIC_INSERT];

	for (uint32_t m = 0; m < r->nmetrics; m++) {
		int rc;

		sqlite3_bind_int64(st, 1, result_id);
		bind_text(st, 2, r->metric[m].name);
		sqlite3_bind_double(st, 3, r->metric[m].value);
		rc = db_step_done(db, ST_METRIC_INSERT, r->metric[m].name, e);
		if (rc)
			return rc;
	}
	return 0;
}

static int result_insert_expectations(struct db *db, int64_t result_id,
				      const struct job_desc *job,
				      const struct expect_outcome *outcomes,
				      struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_EXPECT_INSERT];

	for (unsigned i = 0; i < job->nexpect; i++) {
		const struct expect_check *c = &job->expect[i];
		const struct expect_outcome *o = &outcomes[i];
		int rc;

		sqlite3_bind_int64(st, 1, result_id);
		sqlite3_bind_int64(st, 2, i);
		bind_text(st, 3, c->name);
		bind_text(st, 4, c->text);
		sqlite3_bind_double(st, 5, c->value);
		if (o->missing || !isfinite(o->actual))
			sqlite3_bind_null(st, 6);
		else
			sqlite3_bind_double(st, 6, o->actual);
		sqlite3_bind_int(st, 7, o->passed);
		sqlite3_bind_int(st, 8, o->missing);
		rc = db_step_done(db, ST_EXPECT_INSERT, c->name, e);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * "scenario/vm[params]#repeat: " before a message about one job of a group.
 * A job from scenario expansion carries that name; one built by hand (tests,
 * benchmarks) may not, and gets "scenario/vm#repeat".
 */
static void result_name_job(const struct job_desc *job, struct verr *e)
{
	if (job->spec.name)
		verr_prefix(e, "%s", job->spec.name);
	else
		verr_prefix(e, "%s/%s#%u", job->scenario, job->vm, job->repeat);
}

static int result_insert_attempts(struct db *db, int64_t run_id,
				  int64_t result_id, const struct db_result_rec *rec,
				  struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_ATTEMPT_INSERT];
	char t0[32], t1[32];
	int rc;

	for (size_t i = 0; i < rec->nattempts; i++) {
		const struct db_attempt *a = &rec->attempts[i];

		db_format_time(a->started_us, t0);
		db_format_time(a->ended_us, t1);
		sqlite3_bind_int64(st, 1, run_id);
		bind_text(st, 2, rec->job->spec.name ? rec->job->spec.name : rec->job->vm);
		sqlite3_bind_int64(st, 3, a->attempt);
		bind_text(st, 4, a->host);
		bind_text(st, 5, t0);
		bind_text(st, 6, t1);
		bind_text(st, 7, a->host_lost ? "host_lost" : "result");
		bind_text(st, 8, a->reason ? a->reason : "");
		sqlite3_bind_int64(st, 9, result_id);
		rc = db_step_done(db, ST_ATTEMPT_INSERT, "attempt", e);
		if (rc)
			return rc;
	}
	return 0;
}

/* A console deflated before the group's transaction: none holds its lock. */
struct console_z {
	unsigned char *z;
	size_t len;
};

static int result_insert_console(struct db *db, int64_t result_id,
				 const struct console_text *c,
				 const struct console_z *cz, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_CONSOLE_INSERT];

	if (!c)
		return 0;
	sqlite3_bind_int64(st, 1, result_id);
	sqlite3_bind_int64(st, 2, (int64_t)c->bytes);
	sqlite3_bind_int64(st, 3, (int64_t)c->dropped);
	sqlite3_bind_blob64(st, 4, cz->z, cz->len, SQLITE_STATIC);
	return db_step_done(db, ST_CONSOLE_INSERT, "store console", e);
}

/* One result's rows, inside the group's transaction. */
static int result_insert(struct db *db, int64_t run_id,
			 struct db_result_rec *rec, const struct console_z *cz,
			 struct verr *e)
{
	int64_t id = 0;
	int rc;

	rc = result_insert_row(db, run_id, rec->job, rec->host, rec->r,
			       rec->verdict_pass, &id, e);
	if (rc == -ENOENT)
		return rc;	/* "no run N": the group's run, not this job */
	if (!rc)
		rc = result_insert_counters(db, id, rec->r, e);
	if (!rc)
		rc = result_insert_metrics(db, id, rec->r, e);
	if (!rc)
		rc = result_insert_expectations(db, id, rec->job,
						rec->outcomes, e);
	if (!rc)
		rc = result_insert_attempts(db, run_id, id, rec, e);
	if (!rc)
		rc = result_insert_console(db, id, rec->console, cz, e);
	if (rc) {
		result_name_job(rec->job, e);
		return rc;
	}
	rec->result_id = id;
	return 0;
}

/* A console's counts must be a row's: bytes - dropped is what it holds. */
static int console_check(const struct console_text *c, struct verr *e)
{
	if (c->bytes > INT64_MAX || c->dropped > c->bytes || c->bytes - c->dropped != c->len) {
		verr_set(e, "malformed console (%zu bytes kept of %" PRIu64 ", %" PRIu64
			 " dropped)", c->len, c->bytes, c->dropped);
		return -EINVAL;
	}
	return 0;
}

/* Every result checked, every console deflated, before the transaction. */
static int results_prepare(struct db_result_rec *recs, size_t n, struct console_z *cz,
			   struct verr *e)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		const struct console_text *c = recs[i].console;

		rc = result_check(recs[i].r, recs[i].job, recs[i].outcomes, e);
		if (!rc && c && !(rc = console_check(c, e)) &&
		    (rc = console_deflate(c->data, c->len, &cz[i].z, &cz[i].len)))
			verr_set(e, "compressing the console: %s", strerror(-rc));
		if (rc)
			result_name_job(recs[i].job, e);
	}
	return rc;
}

int db_store_results(struct db *db, int64_t run_id,
		     struct db_result_rec *recs, size_t n, struct verr *e)
{
	struct console_z *cz = NULL;
	size_t i;
	int rc;

	if (!n)
		return 0;
	cz = calloc(n, sizeof(*cz));
	if (!cz) {
		verr_set(e, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = results_prepare(recs, n, cz, e);
	if (rc)
		goto fail;
	rc = db_begin(db, e);
	if (rc)
		goto fail;
	for (i = 0; i < n && !rc; i++)
		rc = result_insert(db, run_id, &recs[i], &cz[i], e);
	if (!rc)
		rc = db_commit(db, e);
	if (!rc)
		goto out;
	db_rollback(db);
fail:
	for (i = 0; i < n; i++)
		recs[i].result_id = 0;	/* nothing of the group is stored */
out:
	for (i = 0; cz && i < n; i++)
		free(cz[i].z);
	free(cz);
	return rc;
}

int db_store_result(struct db *db, int64_t run_id, const struct job_desc *job,
		    const char *host, const struct vm_result *r,
		    const struct expect_outcome *outcomes, bool verdict_pass,
		    int64_t *result_id, struct verr *e)
{
	struct db_result_rec rec = {
		.job = job, .host = host, .r = r, .outcomes = outcomes,
		.verdict_pass = verdict_pass,
	};
	int rc;

	rc = db_store_results(db, run_id, &rec, 1, e);
	if (!rc && result_id)
		*result_id = rec.result_id;
	return rc;
}

/* ---- reading back ---- */

static void copy_column_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", s ? s : "");
}

static int load_result_row(struct db *db, int64_t result_id,
			   struct vm_result *out, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_RESULT_SELECT];
	const char *kind;
	int k, rc;

	sqlite3_bind_int64(st, 1, result_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			verr_set(e, "no result %" PRId64, result_id);
			rc = -ENOENT;
		} else {
			rc = db_fail(db, rc, "load result", e);
		}
		sqlite3_reset(st);
		return rc;
	}
	out->success = sqlite3_column_int(st, 0);
	kind = (const char *)sqlite3_column_text(st, 1);
	k = vm_exit_kind_parse(kind ? kind : "");
	out->exit_code = sqlite3_column_int64(st, 2);
	out->wall_us = (uint64_t)sqlite3_column_int64(st, 3);
	out->boot_us = (uint64_t)sqlite3_column_int64(st, 4);
	copy_column_text(st, 5, out->console_tail, sizeof(out->console_tail));
	copy_column_text(st, 6, out->error, sizeof(out->error));
	if (k < 0)
		verr_set(e, "result %" PRId64 ": unknown exit kind '%s'",
			 result_id, kind ? kind : "");
	sqlite3_reset(st);
	if (k < 0)
		return -EINVAL;
	out->exit_kind = (enum vm_exit_kind)k;
	return 0;
}

static int load_counters(struct db *db, int64_t result_id,
			 struct vm_result *out, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_COUNTERS_SELECT];
	int rc;

	sqlite3_bind_int64(st, 1, result_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vblk_snapshot *s = &out->disk[out->ndisks];

		if (out->ndisks == JOB_MAX_DISKS ||
		    sqlite3_column_int64(st, 0) != out->ndisks) {
			verr_set(e, "result %" PRId64 ": disk rows are not"
				 " 0..%d", result_id, JOB_MAX_DISKS - 1);
			sqlite3_reset(st);
			return -EINVAL;
		}
		for (int i = 0; i < VBLK_NR_COUNTERS; i++)
			*(uint64_t *)((char *)s + vblk_fields[i].plain_off) =
				(uint64_t)sqlite3_column_int64(st, 1 + i);
		out->ndisks++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, rc, "load counters", e);
}

static int load_metrics(struct db *db, int64_t result_id,
			struct vm_result *out, struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_METRICS_SELECT];
	int rc;

	sqlite3_bind_int64(st, 1, result_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vm_metric *m = &out->metric[out->nmetrics];

		if (out->nmetrics == VM_RESULT_MAX_METRICS) {
			verr_set(e, "result %" PRId64 ": more than %d metrics",
				 result_id, VM_RESULT_MAX_METRICS);
			sqlite3_reset(st);
			return -E2BIG;
		}
		copy_column_text(st, 0, m->name, sizeof(m->name));
		m->value = sqlite3_column_double(st, 1);
		out->nmetrics++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, rc, "load metrics", e);
}

int db_load_result(struct db *db, int64_t result_id, struct vm_result *out,
		   struct verr *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	/* One read transaction, so the parts agree with each other. */
	rc = db_step_done(db, ST_BEGIN_READ, "begin", e);
	if (rc)
		return rc;
	rc = load_result_row(db, result_id, out, e);
	if (!rc)
		rc = load_counters(db, result_id, out, e);
	if (!rc)
		rc = load_metrics(db, result_id, out, e);
	db_rollback(db);
	return rc;
}

/*
 * The row's counts say 0 <= dropped <= bytes (the table's CHECKs); its
 * stream must inflate to exactly bytes - dropped, or the row is damaged.
 */
static int console_row_read(struct db *db, sqlite3_stmt *st, int64_t result_id,
			    struct console_text *out, struct verr *e)
{
	int64_t bytes = sqlite3_column_int64(st, 0), dropped = sqlite3_column_int64(st, 1);
	int rc;

	rc = bytes < 0 || dropped < 0 || dropped > bytes ? -EBADMSG :
	     console_inflate(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
			     (size_t)(bytes - dropped), &out->data);
	if (rc) {
		verr_set(e, "%s: the console of result %" PRId64 " is damaged (%s)",
			 db->path, result_id, strerror(-rc));
		return rc;
	}
	out->len = (size_t)(bytes - dropped);
	out->bytes = (uint64_t)bytes;
	out->dropped = (uint64_t)dropped;
	return 0;
}

int db_console_load(struct db *db, int64_t result_id, struct console_text *out,
		    struct verr *e)
{
	sqlite3_stmt *st = db->st[ST_CONSOLE_SELECT];
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, result_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = console_row_read(db, st, result_id, out, e);
	} else if (rc == SQLITE_DONE) {
		verr_set(e, "result %" PRId64 " has no stored console", result_id);
		rc = -ENOENT;
	} else {
		rc = db_fail(db, rc, "console", e);
	}
	sqlite3_reset(st);
	return rc;
}
