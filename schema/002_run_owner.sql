-- 002_run_owner.sql - who owns a running run, and each scenario file's
-- description.  A run whose vmorch died stays 'running' forever unless its
-- owner is known: `runs` and `show` then call it 'abandoned', and the next
-- `vmorch run` on the same host stores that status for good.
--
-- 'abandoned' widens runs.status's CHECK, which SQLite cannot alter, so the
-- table is rebuilt (https://sqlite.org/lang_altertable.html, "other kinds of
-- table schema changes").  db_open runs every migration with foreign keys
-- off and checks them (PRAGMA foreign_key_check) before committing, so the
-- rows of run_files and vm_results that point at runs stay valid.

CREATE TABLE runs_new (
	id		INTEGER PRIMARY KEY,
	label		TEXT,
	started_at	TEXT NOT NULL,
	ended_at	TEXT,
	status		TEXT NOT NULL DEFAULT 'running'
			CHECK (status IN ('running', 'passed', 'failed',
					  'interrupted', 'error', 'abandoned')),
	host		TEXT NOT NULL,
	vmorch_version	TEXT NOT NULL,
	command_line	TEXT NOT NULL,
	jobs_total	INTEGER NOT NULL CHECK (jobs_total >= 0),
	jobs_passed	INTEGER NOT NULL DEFAULT 0,
	jobs_failed	INTEGER NOT NULL DEFAULT 0,
	-- The vmorch process that began the run: gethostname(), the kernel's
	-- boot id and pid namespace ("<boot_id> pid:[N]"), its pid and its
	-- start time in clock ticks since boot (/proc/PID/stat field 22), so
	-- that a reused pid is not taken for the owner.  NULL for runs stored
	-- before this migration: their owner is unknown.
	owner_host	TEXT,
	owner_boot	TEXT,
	owner_pid	INTEGER,
	owner_start	INTEGER
) STRICT;

INSERT INTO runs_new (id, label, started_at, ended_at, status, host,
		      vmorch_version, command_line, jobs_total, jobs_passed,
		      jobs_failed)
	SELECT id, label, started_at, ended_at, status, host, vmorch_version,
	       command_line, jobs_total, jobs_passed, jobs_failed
	FROM runs;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

CREATE INDEX runs_label ON runs (label, id);
CREATE INDEX runs_started_at ON runs (started_at);

-- The scenario's `description:`, as the file said it; NULL when it had none.
ALTER TABLE run_files ADD COLUMN description TEXT;
