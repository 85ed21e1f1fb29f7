-- 001_initial.sql - vmorch's first schema: runs, one row per VM result, its
-- per-disk counters, guest metrics and expectation outcomes.  Embedded into
-- vmorch at build time and applied once, under BEGIN IMMEDIATE, by db_open.
-- doc/database.md describes every column for users of the sqlite3 shell.

-- Identifies the file as a vmorch database ('vmor'), so db_open can refuse
-- someone else's SQLite file instead of adding tables to it.
PRAGMA application_id = 1986883442;

-- One `vmorch run`.  Times are UTC ISO 8601 text ("2024-05-01T12:00:00.123Z"):
-- they sort, and the sqlite3 shell's date functions read them.  The job
-- counts are set when the run ends; a run still 'running' (or whose vmorch
-- was killed) is counted from vm_results instead, so that storing a result
-- touches no runs page.
CREATE TABLE runs (
	id		INTEGER PRIMARY KEY,
	label		TEXT,
	started_at	TEXT NOT NULL,
	ended_at	TEXT,
	status		TEXT NOT NULL DEFAULT 'running'
			CHECK (status IN ('running', 'passed', 'failed',
					  'interrupted', 'error')),
	host		TEXT NOT NULL,
	vmorch_version	TEXT NOT NULL,
	command_line	TEXT NOT NULL,
	jobs_total	INTEGER NOT NULL CHECK (jobs_total >= 0),
	jobs_passed	INTEGER NOT NULL DEFAULT 0,
	jobs_failed	INTEGER NOT NULL DEFAULT 0
) STRICT;

-- `vmorch show nightly` and `diff nightly last` want the newest run of a label.
CREATE INDEX runs_label ON runs (label, id);
CREATE INDEX runs_started_at ON runs (started_at);

-- The scenario files a run read, with the sha256 the caller computed.
CREATE TABLE run_files (
	run_id		INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	path		TEXT NOT NULL,
	sha256		TEXT NOT NULL
			CHECK (length(sha256) = 64 AND
			       sha256 NOT GLOB '*[^0-9a-f]*'),
	PRIMARY KEY (run_id, path)
) STRICT, WITHOUT ROWID;

-- One job: a VM of a scenario, with one set of matrix values, one repeat.
-- @params is canonical JSON in matrix key order ({"bs":"4k","qd":"16"});
-- @params_key is the same values as "bs=4k,qd=16" (',', '=' and '%' in
-- values percent-encoded), the text diff and history group by.
-- @verdict is the job's verdict (guest passed and every expectation held);
-- @success is the guest's own.
CREATE TABLE vm_results (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	scenario	TEXT NOT NULL,
	scenario_file	TEXT NOT NULL,
	vm		TEXT NOT NULL,
	params		TEXT NOT NULL,
	params_key	TEXT NOT NULL,
	repeat_idx	INTEGER NOT NULL CHECK (repeat_idx >= 0),
	host		TEXT NOT NULL,
	verdict		TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
	success		INTEGER NOT NULL CHECK (success IN (0, 1)),
	exit_kind	TEXT NOT NULL,
	exit_code	INTEGER NOT NULL,
	wall_us		INTEGER NOT NULL CHECK (wall_us >= 0),
	boot_us		INTEGER NOT NULL CHECK (boot_us >= 0),
	started_at	TEXT NOT NULL,
	console_tail	TEXT NOT NULL,
	error		TEXT NOT NULL
) STRICT;

-- diff: every result of one run, already in matching order.
CREATE INDEX vm_results_run ON vm_results (run_id, scenario, vm, params_key,
					    repeat_idx);
-- history: one scenario/VM (and parameter set) over all runs, in run order.
CREATE INDEX vm_results_series ON vm_results (scenario, vm, params_key,
					       run_id);

-- One row per disk per result.  The counter columns are the counter list
-- (VBLK_COUNTERS in common/vblk_counters.h), in its order; tests/test_db.c
-- checks that they agree.  A new counter is a migration that appends its
-- column.  Values are the snapshot's uint64_t, limited to INT64_MAX.
-- Clustered on (result_id, disk_idx): a result's disks sit in one page.
CREATE TABLE blk_counters (
	result_id			INTEGER NOT NULL
					REFERENCES vm_results (id) ON DELETE CASCADE,
	disk_idx			INTEGER NOT NULL CHECK (disk_idx >= 0),
	reads_completed			INTEGER NOT NULL,
	writes_completed		INTEGER NOT NULL,
	flushes_completed		INTEGER NOT NULL,
	bytes_read			INTEGER NOT NULL,
	bytes_written			INTEGER NOT NULL,
	throttled_count			INTEGER NOT NULL,
	io_errors			INTEGER NOT NULL,
	currently_throttled_gauge	INTEGER NOT NULL,
	invalid_avail_idx_count		INTEGER NOT NULL,
	PRIMARY KEY (result_id, disk_idx)
) STRICT, WITHOUT ROWID;

-- Guest-reported figures ("iops", "verify_errors"), clustered by result so
-- that history and diff reach a result's metrics with one seek.
CREATE TABLE metrics (
	result_id	INTEGER NOT NULL REFERENCES vm_results (id) ON DELETE CASCADE,
	name		TEXT NOT NULL,
	value		REAL NOT NULL,
	PRIMARY KEY (result_id, name)
) STRICT, WITHOUT ROWID;

-- One row per `expect:` check of a result, in scenario order.  @actual is
-- NULL when the result had no such counter or metric (@missing = 1).
CREATE TABLE expectations (
	result_id	INTEGER NOT NULL REFERENCES vm_results (id) ON DELETE CASCADE,
	idx		INTEGER NOT NULL CHECK (idx >= 0),
	name		TEXT NOT NULL,
	op_text		TEXT NOT NULL,
	expected	REAL NOT NULL,
	actual		REAL,
	passed		INTEGER NOT NULL CHECK (passed IN (0, 1)),
	missing		INTEGER NOT NULL CHECK (missing IN (0, 1)),
	PRIMARY KEY (result_id, idx)
) STRICT, WITHOUT ROWID;
