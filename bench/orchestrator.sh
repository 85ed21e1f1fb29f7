#!/usr/bin/env bash
# bench/orchestrator.sh - what vmorch adds on top of the workers it runs:
# 1000 trivial jobs (the built-in guest, no disk) with `vmorch run --jobs 2`,
# against the same 1000 worker invocations from a plain shell pipeline
# (xargs -P 2, and a sequential loop for reference), then the database
# ingest rate.  Goal: >= 100 jobs/s, overhead under 20 %.
#
#   bench/orchestrator.sh [JOBS]        (from a built tree)
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMORCH_BUILDDIR:-$src}
n=${1:-1000}
vmorch=$build/orchestrator/vmorch
worker=$build/vmm-worker/vmm-worker
tmp=$(mktemp -d /tmp/vmorch-bench-orch-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -x "$vmorch" ] && [ -x "$worker" ] || { echo "build first (make)" >&2; exit 2; }

cat > "$tmp/trivial.yaml" <<EOF2
vmorch: 1
name: trivial
vms:
  - name: boot
    repeat: $n
    timeout: 10s
EOF2
# The job spec vmorch hands each worker, for the shell pipeline to reuse.
printf '{"version":1,"name":"trivial/boot","vcpus":1,"memory":67108864,"timeout_ms":10000,"guest":{"kind":"builtin"},"workload":"","disks":[]}\n' > "$tmp/job.json"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%7.1f jobs/s  %6.2f ms/job", n / s, 1000 * s / n }'; }

echo "vmorch orchestrator benchmark: $n trivial jobs, $(nproc) CPUs, $(date -u +%FT%TZ)"

t0=$(now)
"$vmorch" run --jobs 2 --quiet --db "$tmp/bench.db" "$tmp/trivial.yaml" > "$tmp/run.out" 2>&1
rc=$?
t1=$(now)
orch=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
[ $rc -eq 0 ] || { echo "vmorch run failed ($rc):"; tail -5 "$tmp/run.out"; }
stored=$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM vm_results WHERE verdict = 'pass'" 2>/dev/null || echo "?")

t0=$(now)
seq "$n" | xargs -P 2 -I{} "$worker" --job "$tmp/job.json" --result /dev/null
t1=$(now)
par=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

t0=$(now)
for _ in $(seq "$n"); do "$worker" --job "$tmp/job.json" --result /dev/null; done
t1=$(now)
seqt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

printf 'vmorch run --jobs 2      %s   (%s results stored, passing)\n' "$(rate "$n" "$orch")" "$stored"
printf 'xargs -P 2 vmm-worker    %s\n' "$(rate "$n" "$par")"
printf 'sequential shell loop    %s\n' "$(rate "$n" "$seqt")"
awk -v o="$orch" -v p="$par" 'BEGIN { printf "orchestrator overhead vs xargs -P 2: %+.1f %%\n", 100 * (o - p) / p }'

echo
# Ingest: one result per transaction (results trickling in) and groups of
# 64 (what group commit reaches when results arrive faster than it commits).
if make -s -C "$build" bench/db_ingest >/dev/null 2>&1; then
	"$build/bench/db_ingest" -n 100000 "$tmp/ingest1.db"
	"$build/bench/db_ingest" -n 100000 -b 64 "$tmp/ingest64.db"
fi
