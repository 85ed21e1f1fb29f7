-- 006_run_meta.sql - what a run was of: `vmorch run --meta KEY=VALUE`
-- (source 'user') and what vmorch found by itself (source 'auto'): the
-- git commit, branch and dirty state of the repository it ran in.  The
-- machine's own facts (kernel, CPU, vmorch version) are in host_facts.
-- `runs --meta KEY=GLOB` filters on it; `runs` and `show` print it.
-- @key is [a-z0-9_.-], 1..63 characters; @value printable text.

CREATE TABLE run_meta (
	run_id		INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key		TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 63),
	value		TEXT NOT NULL,
	source		TEXT NOT NULL CHECK (source IN ('user', 'auto')),
	PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX run_meta_key ON run_meta (key, value);
