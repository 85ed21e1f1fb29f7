-- 009_config_index.sql - the results that have a configuration (schema 8),
-- in series order: `vmorch history` finds the last one before its first
-- run with one seek, and a window of runs without reading the results of
-- the series that have none (stored before schema 8).

CREATE INDEX vm_results_config ON vm_results (scenario, vm, params_key, run_id)
	WHERE config_hash IS NOT NULL;
