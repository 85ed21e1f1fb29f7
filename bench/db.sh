#!/bin/sh
# db.sh - issue 5's query benchmark: on a synthetic database of 1,000 runs
# x 1,000 results (bench/db_synth, cached under /var/tmp), time
# `vmorch diff` of two runs (goal < 100 ms), `vmorch history` of one metric
# over all runs (< 50 ms) and `vmorch report` (< 1 s), each the best of 5
# runs of the real binary, and show the history query's plan.
# Run from the build directory: sh bench/db.sh (or make bench-reports).
# VMORCH_BENCH_DB=PATH uses another cache file; delete it to regenerate.
# VMORCH_BENCH_RUNS=10000 makes (and times) the 10-million-result database
# of issue 13 (default file /var/tmp/vmorch-bench-10m.db, about 4 GB).
set -eu

builddir=${VMORCH_BUILDDIR:-.}
runs=${VMORCH_BENCH_RUNS:-1000}
if [ "$runs" = 1000 ]; then
	db=${VMORCH_BENCH_DB:-/var/tmp/vmorch-bench-1m.db}
else
	db=${VMORCH_BENCH_DB:-/var/tmp/vmorch-bench-$((runs / 1000))m.db}
fi
vmorch="$builddir/orchestrator/vmorch"

make -s -C "$builddir" bench/db_synth orchestrator/vmorch
if [ ! -f "$db" ]; then
	echo "generating $db ($runs runs x 1,000 results; once)..."
	rm -f "$db.tmp" "$db.tmp-wal" "$db.tmp-shm"
	g0=$(date +%s)
	"$builddir/bench/db_synth" -r "$runs" -n 1000 "$db.tmp"
	mv "$db.tmp" "$db"
	echo "generated in $(($(date +%s) - g0)) s"
fi

count() {
	sqlite3 -readonly "$db" "SELECT count(*) FROM $1" 2>/dev/null || echo '?'
}
echo "database: $db, $(wc -c < "$db" | tr -d ' ') bytes"
echo "rows: runs $(count runs), vm_results $(count vm_results)," \
     "blk_counters $(count blk_counters), metrics $(count metrics)," \
     "expectations $(count expectations)"

now_us() {
	echo $(($(date +%s%N) / 1000))
}

# best_of LABEL GOAL_MS COMMAND...: the fastest of 5 runs, output discarded.
best_of() {
	label=$1 goal=$2
	shift 2
	best=
	for _ in 1 2 3 4 5; do
		t0=$(now_us)
		"$@" > /dev/null
		t=$(($(now_us) - t0))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
	done
	verdict=ok
	[ "$best" -lt $((goal * 1000)) ] || verdict=SLOW
	printf '%-44s %8.1f ms  (goal < %d ms) %s\n' "$label" \
		"$(echo "$best" | awk '{ print $1 / 1000 }')" "$goal" "$verdict"
}

# Two runs half the database apart: 500 and 1000 of the 1M database.
a=$((runs / 2))
b=$runs
best_of "diff $a $b ($(sqlite3 -readonly "$db" "SELECT count(*) FROM vm_results WHERE run_id IN ($a, $b)" 2>/dev/null || echo '?') results)" \
	100 "$vmorch" diff --db "$db" "$a" "$b"
best_of "diff --json $a $b" 100 "$vmorch" diff --db "$db" --json "$a" "$b"
best_of "history s3/vm4[bs=4k] iops, all runs ($(sqlite3 -readonly "$db" "SELECT count(*) FROM vm_results WHERE scenario = 's3' AND vm = 'vm4' AND params_key = 'bs=4k'" 2>/dev/null || echo '?') results)" \
	50 "$vmorch" history --db "$db" --scenario s3 --vm vm4 --params bs=4k --metric iops
best_of "history s3/vm4 reads_completed, all runs" 50 \
	"$vmorch" history --db "$db" --scenario s3 --vm vm4 --params bs=4k --metric reads_completed
best_of "history s3/vm4 iops --last 20" 50 \
	"$vmorch" history --db "$db" --scenario s3 --vm vm4 --params bs=4k --last 20
best_of "history s3/vm4 iops --by commit, all runs" 50 \
	"$vmorch" history --db "$db" --scenario s3 --vm vm4 --params bs=4k --by commit
best_of "report $b --vs $a --format text" 1000 \
	"$vmorch" report --db "$db" "$b" --vs "$a" --format text
best_of "report $b --vs $a --format json" 1000 \
	"$vmorch" report --db "$db" "$b" --vs "$a" --format json
best_of "report $b --vs $a --format html" 1000 \
	"$vmorch" report --db "$db" "$b" --vs "$a" --format html

echo
echo "query plans of: vmorch history --scenario s3 --vm vm4 --metric iops"
"$vmorch" history --db "$db" --scenario s3 --vm vm4 --params bs=4k --metric iops --explain
