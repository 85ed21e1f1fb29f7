-- 011_console.sql - each local job's whole guest console, compressed: the
-- last VMORCH_CONSOLE_MAX bytes (1 MiB) it printed, in order, as one zlib
-- stream (@zdata; RFC 1950), with how many bytes it printed in all
-- (@bytes) and how many of the first ones the cap dropped (@dropped), so
-- the stored text is bytes - dropped long.  vm_results.console_tail keeps
-- its 4 KiB tail as before.  Results stored before this schema, and jobs
-- run on fleet hosts (their console is not streamed yet), have no row.

CREATE TABLE consoles (
	result_id	INTEGER PRIMARY KEY REFERENCES vm_results (id) ON DELETE CASCADE,
	bytes		INTEGER NOT NULL CHECK (bytes >= 0),
	dropped		INTEGER NOT NULL CHECK (dropped >= 0 AND dropped <= bytes),
	zdata		BLOB NOT NULL
) STRICT;
