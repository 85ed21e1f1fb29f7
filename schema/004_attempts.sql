-- 004_attempts.sql - every attempt at a job of a fleet run: on which host,
-- when, and why it ended.  A job whose host is lost (connection dropped or
-- silent, worker killed on the host, no result record) is tried again on
-- another host, up to `vmorch run --retries`; each try is a row here, and
-- the job's final result is stored once, in vm_results, with the number of
-- attempts it took.  Local runs store no rows (one attempt each).
-- @job is the job's name as every command prints it
-- ("scenario/vm[k=v,...]#repeat"); @outcome is 'result' for the attempt
-- whose result was stored, 'host_lost' for one that lost its host;
-- @result_id is the job's stored result (the same for all its attempts).

CREATE TABLE attempts (
	run_id		INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	job		TEXT NOT NULL,
	attempt		INTEGER NOT NULL CHECK (attempt >= 1),
	host		TEXT NOT NULL,
	started_at	TEXT NOT NULL,
	ended_at	TEXT NOT NULL,
	outcome		TEXT NOT NULL CHECK (outcome IN ('result', 'host_lost')),
	reason		TEXT NOT NULL,
	result_id	INTEGER REFERENCES vm_results (id) ON DELETE CASCADE,
	PRIMARY KEY (run_id, job, attempt)
) STRICT;

CREATE INDEX attempts_result ON attempts (result_id);
