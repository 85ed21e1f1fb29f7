-- 005_params_key_sorted.sql - a job's params_key lists its matrix values
-- by key name ("bs=4k,qd=16"), no longer in the order the scenario's
-- matrix: wrote them, so that moving qd: above bs: keeps every job the
-- same job for diff and history.  @params keeps the matrix order, for
-- display.  vmorch_params_key() is vmorch's own SQL function (db.c), the
-- same code that keys new results, so old and new keys agree byte for
-- byte.

UPDATE vm_results SET params_key = vmorch_params_key(params)
	WHERE params_key != vmorch_params_key(params);
