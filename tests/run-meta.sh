#!/bin/sh
# tests/run-meta.sh - what a run was of: `vmorch run --meta KEY=VALUE`, the
# git commit, branch and dirty state found by itself, shown by `runs` and
# `show`, and `runs --meta/--label/--scenario` filters.  Speaks TAP.  Needs
# no KVM: a job's result may be a pass or an infrastructure error (exit 3),
# the run and its meta are stored either way.
set -u

. "$(dirname "$0")/cli-lib.sh"
cli_start run-meta git jq sqlite3
db=$tmp/m.db
# No repository above the test's directory counts, wherever TMPDIR is.
GIT_CEILING_DIRECTORIES=$(dirname "$tmp")
export GIT_CEILING_DIRECTORIES

cat > a.yaml <<'YAML'
vmorch: 1
name: alpha
vms: [{name: a, memory: 64M, timeout: 20s, disks: [{size: 1M}]}]
YAML
sed 's/alpha/beta/' a.yaml > b.yaml

run() {	# run ARGS...: vmorch run, status 0 or 3 (no KVM) is fine
	vm run --quiet --db "$db" "$@"
	pass_or_infra $rc "run $*"
}
meta() {	# meta RUN: its meta as compact JSON
	"$V" runs --db "$db" --json | jq -c ".runs[] | select(.id == $1) | .meta"
}

# Outside any repository: only what the user gave.
run --meta kernel=6.1-rc3 --meta 'note=a b' --label base a.yaml
is "$(meta 1)" '{"kernel":"6.1-rc3","note":"a b"}' "--meta is stored; no git: no commit"

# In a repository: commit, branch, dirty found.
git init -q repo && cd repo || exit 99
git config user.email t@example.org && git config user.name t
cp ../a.yaml ../b.yaml . && git add a.yaml && git commit -qm one
head=$(git rev-parse HEAD)
run --label clean a.yaml
is "$(meta 2)" "{\"branch\":\"$(git symbolic-ref --short HEAD)\",\"commit\":\"$head\",\"dirty\":\"0\"}" \
	"in a git repository: commit, branch, dirty=0"
echo "# changed" >> a.yaml
run --meta branch=mine b.yaml
is "$(meta 3 | jq -r '.dirty + " " + .branch + " " + .commit')" "1 mine $head" \
	"a changed tracked file: dirty=1; the user's branch= wins"
cd "$tmp" || exit 99

# Listing and filtering.
"$V" runs --db "$db" > out
is "$(awk 'NR > 1 {print $1, $8}' out | tr '\n' ' ')" "3 $(echo "$head" | cut -c1-10)+ 2 $(echo "$head" | cut -c1-10) 1 - " \
	"runs: the COMMIT column, + when dirty, - without"
ids() { "$V" runs --db "$db" --json "$@" | jq -r '[.runs[].id] | join(",")'; }
is "$(ids --meta "commit=$(echo "$head" | cut -c1-7)*")" "3,2" "runs --meta commit=PREFIX*"
is "$(ids --meta dirty=0 --meta "commit=$head")" "2" "runs --meta twice: both must hold"
is "$(ids --label 'ba*')" "1" "runs --label GLOB"
is "$(ids --scenario beta)" "3" "runs --scenario NAME"
is "$(ids --meta nosuch=x)" "" "a key no run has: none"
"$V" show --db "$db" 2 > out
grep -q "^meta      branch=.* commit=$head dirty=0$" out
ok $? "show prints the meta line"

# Bad --meta: refused before anything is stored.
"$V" run --db "$db" --meta 'Bad=1' a.yaml >out 2>err
is "$?:$(cat err)" "2:vmorch run: meta key 'Bad': expected 1..63 of a-z, 0-9, '_', '.', '-'" \
	"a bad meta key: exit 2, named"
"$V" run --db "$db" --meta k=1 --meta k=2 a.yaml >out 2>err
is "$?:$(cat err)" "2:vmorch run: --meta k: given twice" "a key given twice: exit 2"
"$V" run --db "$db" --meta novalue a.yaml >out 2>err
is "$?:$(cat err)" "2:vmorch run: --meta novalue: expected KEY=VALUE" "no '=': exit 2"
is "$("$V" runs --db "$db" --json | jq '.runs | length')" 3 "and nothing was stored"
"$V" runs --db "$db" --meta nokey >out 2>err
is "$?" 2 "runs --meta without '=': exit 2"

# Each result's configuration: no paths (an image by its content), and a
# change between two runs is said by diff and regressions, not judged.
head -c 65536 /dev/zero > img.raw
cat > c.yaml <<'YAML'
vmorch: 1
name: conf
vms:
  - name: a
    memory: 64M
    timeout: 20s
    disks: [{image: img.raw, read_only: true}]
    workload: {pattern: randread, ops: 10}
YAML
run c.yaml
sed 's/ops: 10/ops: 40/' c.yaml > c2.yaml && mv c2.yaml c.yaml
run c.yaml
cfg=$(sqlite3 "$db" "select config from vm_results where scenario = 'conf' order by id limit 1")
case $cfg in *"$tmp"*) ok 1 "the stored configuration names no path ($cfg)" ;;
*sha256:de2f256064a0af797747c2b97505dc0b9f3df0de4f489eac731c23ae9ca9cc31*)
	ok 0 "the stored configuration gives the image by its content, no path" ;;
*) ok 1 "the stored configuration gives the image by its content ($cfg)" ;; esac
is "$(sqlite3 "$db" "select count(distinct config_hash) from vm_results where scenario = 'conf'")" 2 \
	"ops 10 -> 40: two configurations"
"$V" diff --db "$db" last~1 last >out 2>err
grep -q "^configuration changed for 1 job: their numbers are reported, not judged" out &&
	grep -q "^CONFIG-CHANGED conf/a: workload$" out
ok $? "diff says the configuration changed, and where"
"$V" regressions --db "$db" --baseline last~1 --candidate last >out 2>err
grep -q "^CONFIG-CHANGED conf/a: workload$" out
ok $? "regressions says it too"
last=$("$V" runs --db "$db" --json | jq '.runs[0].id')
"$V" history --db "$db" --scenario conf --metric wall_us >out 2>err
grep -q "^configuration changed at run $last: workload$" out
ok $? "history says at which run the configuration changed"
"$V" history --db "$db" --scenario conf --metric wall_us --json >out 2>err
is "$(jq -c '[.points[] | [.config_changed, .config_keys]]' out)" '[[false,null],[true,"workload"]]' \
	"history --json: config_changed and config_keys per point"

tap_end
