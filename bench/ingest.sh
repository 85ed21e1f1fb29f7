#!/bin/sh
# ingest.sh - issue 4's ingest benchmark: 100,000 synthetic results into a
# fresh database per batch size, one transaction per batch; goal >= 20,000
# results/s.  `vmorch run --jobs N` commits the results reaped in one pool
# tick together (at most N): batch 1 is the floor when results trickle in,
# larger batches are what a busy pool reaches.
# Run from the build directory: sh bench/ingest.sh [RESULTS] (or make bench-db).
set -eu

n=${1:-100000}
builddir=${VMORCH_BUILDDIR:-.}

make -s -C "$builddir" bench/db_ingest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmorch-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for b in 1 2 4 8 64; do
	db=$tmp/ingest-b$b.db
	"$builddir/bench/db_ingest" -n "$n" -b "$b" "$db"
	printf '  database: %s bytes, integrity_check: %s\n' \
		"$(wc -c < "$db" | tr -d ' ')" \
		"$(sqlite3 "$db" 'PRAGMA integrity_check' 2>/dev/null || echo '(no sqlite3 shell)')"
done
