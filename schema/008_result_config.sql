-- 008_result_config.sql - each result's effective configuration: its job
-- spec without what only names the machine (paths, the job's name), each
-- file given by the sha256 of its content, as canonical JSON (@config),
-- and that text's sha256 (@config_hash).  diff, regressions and history
-- compare them: a job whose configuration changed between two runs is not
-- called regressed unless asked (--allow-config-change).  NULL for results
-- stored before this schema: unknown, never taken for a change.

ALTER TABLE vm_results ADD COLUMN config TEXT;
ALTER TABLE vm_results ADD COLUMN config_hash TEXT;
