#!/bin/sh
# ingest.sh - issue 4's ingest benchmark: 100,000 synthetic results into a
# fresh database, one transaction per result; goal >= 20,000 results/s.
# Run from the build directory: sh bench/ingest.sh [RESULTS] (or make bench-db).
set -eu

n=${1:-100000}
builddir=${VMORCH_BUILDDIR:-.}

make -s -C "$builddir" bench/db_ingest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmorch-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$builddir/bench/db_ingest" -n "$n" "$tmp/ingest.db"
printf 'database: %s bytes, integrity_check: %s\n' \
	"$(wc -c < "$tmp/ingest.db" | tr -d ' ')" \
	"$(sqlite3 "$tmp/ingest.db" 'PRAGMA integrity_check' 2>/dev/null || echo '(no sqlite3 shell)')"
