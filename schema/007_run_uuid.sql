-- 007_run_uuid.sql - every run gets a UUID, so `vmorch import` can merge
-- another database's runs and skip those it already has.  New runs get a
-- random one (version 4).  Runs stored before this migration get one made
-- from their content (vmorch_content_uuid(), version 8: the first 16 bytes
-- of a sha256 over their id, start time, host, command line and owner),
-- so that two copies of a database made before it migrate to the same
-- UUIDs and still deduplicate.

ALTER TABLE runs ADD COLUMN uuid TEXT;

UPDATE runs SET uuid = vmorch_content_uuid(id || char(31) || started_at || char(31) ||
	host || char(31) || command_line || char(31) || ifnull(owner_boot, '') ||
	char(31) || ifnull(owner_pid, ''));

CREATE UNIQUE INDEX runs_uuid ON runs (uuid);
