#!/bin/sh
# tests/json-schema.sh - every JSON document vmorch prints (runs, show RUN,
# show RUN JOB, diff, regressions, history, report) against its schema in
# doc/schema/, checked by Debian's python3-jsonschema (draft 2020-12), on a
# database with full results: two runs of the same jobs where one matrix
# point regressed and one job newly fails, a third with a changed
# configuration, run metadata, a fleet job's attempts.  Then documents with
# a field removed, renamed or added, which the validator must reject.
# Speaks TAP.  Needs no KVM: the runs' results are rewritten with sqlite3.
set -u

. "$(dirname "$0")/cli-lib.sh"
cli_start json-schema sqlite3

# The system's Python with the Debian package, never the image's own.
py=/usr/bin/python3
if ! [ -x "$py" ] || ! "$py" -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
	echo "1..1"
	echo "not ok 1 - $py with python3-jsonschema >= 4 is needed:" \
		"apt-get install python3-jsonschema (it is in .ci/packages)"
	exit 1
fi
schemas=$src/doc/schema

# check.py SCHEMA_DIR [SCHEMA DOC]: without SCHEMA, every *.schema.json of
# the directory must be a valid draft 2020-12 schema; with it, DOC must
# match SCHEMA.  References between the files ("common.schema.json#/...")
# are resolved from the directory only, never fetched.  Exit 3 when DOC
# does not match, with its first errors; anything else is a broken check.
checker='
import json, os, pathlib, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
from jsonschema import Draft202012Validator, RefResolver
store = {}
for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".schema.json"):
        path = pathlib.Path(sys.argv[1], name).resolve()
        with open(path) as f:
            store[path.as_uri()] = json.load(f)
        Draft202012Validator.check_schema(store[path.as_uri()])
if len(sys.argv) == 2:
    print("%d schemas" % len(store))
    sys.exit(0 if store else 1)
uri = pathlib.Path(sys.argv[1], sys.argv[2]).resolve().as_uri()
schema = store[uri]
v = Draft202012Validator(schema, resolver=RefResolver(uri, schema, store=store))
with open(sys.argv[3]) as f:
    errors = list(v.iter_errors(json.load(f)))
def show(e):    # an anyOf by its branches, less the "is not null" one
    if e.context:
        for c in e.context:
            if c.validator != "type":
                show(c)
    else:
        print("%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message[:200]))
for e in errors[:5]:
    show(e)
sys.exit(3 if errors else 0)
'

# valid SCHEMA DOC DESC
valid() {
	"$py" -c "$checker" "$schemas" "$1" "$2" > verr 2>&1
	_v=$?
	ok $_v "$3"
	[ $_v -eq 0 ] || sed 's/^/#   /' verr | head -8
}

# invalid SCHEMA DOC DESC: the validator must reject DOC (status 3)
invalid() {
	"$py" -c "$checker" "$schemas" "$1" "$2" > verr 2>&1
	_v=$?
	is "$_v" 3 "$3"
	[ $_v -eq 3 ] && sed 's/^/#   rejected: /' verr | head -2
	[ $_v -eq 3 ] || sed 's/^/#   /' verr | head -8
}

# json SCHEMA STATUS ARGS...: vmorch ARGS must exit STATUS; its stdout,
# saved as the next doc-N.json, must match SCHEMA.
docs=0
json() {
	_schema=$1 _want=$2
	shift 2
	vm "$@"
	docs=$((docs + 1))
	doc=doc-$docs.json
	cp out "$doc"
	if [ "$rc" != "$_want" ]; then
		ok 1 "vmorch $* (status $rc, want $_want)"
		sed 's/^/#   /' err | head -3
		return
	fi
	valid "$_schema" "$doc" "vmorch $* matches $_schema"
}

# edit IN OUT PYTHON: OUT is IN's document after PYTHON (on d) ran
edit() {
	"$py" -c 'import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
exec(sys.argv[3])
with open(sys.argv[2], "w") as f:
    json.dump(d, f)' "$1" "$2" "$3"
}

nschemas=$("$py" -c "$checker" "$schemas" 2>&1)
ok $? "every doc/schema/*.schema.json is a valid draft 2020-12 schema ($nschemas)"

# ---- the database: three runs of one matrix, results as a KVM host stores them ----
cat > sch.yaml <<'YAML'
vmorch: 1
name: sch
description: JSON schema test
matrix: {bs: [4k, 64k]}
vms:
  - name: a
    memory: 64M
    timeout: 20s
    repeat: 5
    disks: [{size: 1M}]
    workload: {pattern: randread, bs: "${bs}", ops: 4, qd: 1}
    expect: {reads_completed: ">= 4"}
YAML
sed 's/ops: 4/ops: 8/' sch.yaml > sch-ops8.yaml
db=s.db
vm run -q --db $db --label base --meta ci=yes --meta pipeline=17 --meta commit=1111aaaa sch.yaml
pass_or_infra $rc "run 1 (base)"
vm run -q --db $db --label cand --meta ci=yes --meta commit=2222bbbb sch.yaml
pass_or_infra $rc "run 2 (cand)"
vm run -q --db $db --label ops8 --report json:run3.json sch-ops8.yaml
pass_or_infra $rc "run 3 (ops8, another configuration) with --report json:FILE"
is "$(sqlite3 $db 'select count(*) from runs')" 3 "three runs stored"

# Every job passed with 4 reads and iops ~1000, except in cand: bs=4k at
# ~800 (a 20% regression, 5 repeats a side: Mann-Whitney applies) and
# bs=64k#4 failing its expectation with 3 reads; cand's bs=4k#0 lost its
# first host.  cache_hits (a metric without a direction) grows with each
# run, verify_errors is new in cand.  Run statuses and counts follow.
sqlite3 $db "
UPDATE vm_results SET verdict = 'pass', success = 1, exit_kind = 'guest_pass',
	exit_code = 0, error = '', wall_us = 150000 + 1000 * repeat_idx,
	boot_us = 20000 + 100 * repeat_idx,
	console_tail = 'vmorch-guest: booted' || char(10) || 'vmorch-guest: PASS' || char(10);
DELETE FROM blk_counters;
INSERT INTO blk_counters (result_id, disk_idx, reads_completed, writes_completed,
	flushes_completed, bytes_read, bytes_written, throttled_count, io_errors,
	currently_throttled_gauge, invalid_avail_idx_count)
	SELECT id, 0, 4, 0, 0, 4 * (CASE params_key WHEN 'bs=4k' THEN 4096 ELSE 65536 END),
	0, 0, 0, 0, 0 FROM vm_results;
DELETE FROM metrics;
INSERT INTO metrics (result_id, name, value) SELECT id, 'iops',
	(CASE WHEN run_id = 2 AND params_key = 'bs=4k' THEN 800 ELSE 1000 END)
	+ 2.5 * repeat_idx FROM vm_results;
INSERT INTO metrics (result_id, name, value) SELECT id, 'guest_seconds',
	0.004 + 0.0001 * repeat_idx FROM vm_results;
INSERT INTO metrics (result_id, name, value) SELECT id, 'cache_hits',
	100 * run_id + repeat_idx FROM vm_results;
INSERT INTO metrics (result_id, name, value) SELECT id, 'verify_errors', 0
	FROM vm_results WHERE run_id >= 2;
UPDATE expectations SET actual = 4, passed = 1, missing = 0;
UPDATE vm_results SET verdict = 'fail', success = 0, exit_kind = 'guest_fail',
	exit_code = 1, console_tail = 'vmorch-guest: FAIL reads=3' || char(10)
	WHERE run_id = 2 AND params_key = 'bs=64k' AND repeat_idx = 4;
UPDATE blk_counters SET reads_completed = 3, bytes_read = 196608, io_errors = 1
	WHERE result_id = (SELECT id FROM vm_results WHERE verdict = 'fail');
UPDATE expectations SET actual = 3, passed = 0
	WHERE result_id = (SELECT id FROM vm_results WHERE verdict = 'fail');
INSERT INTO attempts (run_id, job, attempt, host, started_at, ended_at, outcome,
	reason, result_id)
	SELECT 2, 'sch/a[bs=4k]#0', 1, 'h1', started_at, started_at, 'host_lost',
	'connection lost', id FROM vm_results
	WHERE run_id = 2 AND params_key = 'bs=4k' AND repeat_idx = 0
	UNION ALL
	SELECT 2, 'sch/a[bs=4k]#0', 2, 'h2', started_at, started_at, 'result', '', id
	FROM vm_results WHERE run_id = 2 AND params_key = 'bs=4k' AND repeat_idx = 0;
UPDATE runs SET
	jobs_passed = (SELECT count(*) FROM vm_results v WHERE v.run_id = runs.id AND verdict = 'pass'),
	jobs_failed = (SELECT count(*) FROM vm_results v WHERE v.run_id = runs.id AND verdict = 'fail');
UPDATE runs SET status = CASE jobs_failed WHEN 0 THEN 'passed' ELSE 'failed' END;
"
ok $? "results rewritten: counters, metrics, expectations, one failure, attempts"

# ---- each document against its schema ----
json runs.schema.json 0 runs --db $db --json
runs=$doc
json runs.schema.json 0 runs --db $db --json --meta ci=yes --label 'ca*'
json show.schema.json 0 show --db $db --json base
json show.schema.json 0 show --db $db --json cand
show=$doc
json show-job.schema.json 0 show --db $db --json cand 'sch/a[bs=64k]#4'
job=$doc
json show-job.schema.json 0 show --db $db --json cand 'sch/a[bs=4k]#0'
json diff.schema.json 0 diff --db $db --json base cand
diff=$doc
json diff.schema.json 1 regressions --db $db --json --baseline base --candidate cand
json diff.schema.json 0 diff --db $db --json --correction holm --metric iops \
	--metric cache_hits:higher --params bs=4k base cand
json diff.schema.json 0 diff --db $db --json cand ops8
json diff.schema.json 0 diff --db $db --json cand --ab bs=4k,bs=64k
ab=$doc
json history.schema.json 0 history --db $db --json --scenario sch --vm a --params bs=4k
history=$doc
json history.schema.json 0 history --db $db --json --scenario sch --vm a --params bs=64k \
	--metric wall_us
json history.schema.json 0 history --db $db --json --scenario sch --vm a --params bs=4k \
	--by commit
bycommit=$doc
json history.schema.json 0 history --db $db --json --scenario sch --vm a --params bs=4k \
	--by date
json report.schema.json 0 report --db $db --format json cand --vs base
report=$doc
json report.schema.json 0 report --db $db --format json base
valid report.schema.json run3.json "run --report json:FILE matches report.schema.json"

# The documents hold what the database does: the checks above saw full data.
q() { "$py" -c 'import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
print(eval(sys.argv[2]))' "$1" "$2"; }
is "$(q $runs 'len(d["runs"]), sorted(d["runs"][2]["meta"])')" "(3, ['ci', 'commit', 'pipeline'])" \
	"runs: three runs, base with its meta"
is "$(q $show '[r["metrics"]["iops"] for r in d["results"]][:2], len(d["run"]["hosts"])')" \
	"([800.0, 802.5], 1)" "show: metrics and the machine"
is "$(q $job '(d["job"]["verdict"], d["job"]["disks"][0]["reads_completed"], d["job"]["expectations"][0]["passed"])')" \
	"('fail', 3, False)" "show RUN JOB: the failing job, its counters and expectation"
is "$(q $diff '(sorted(set((r["verdict"], r["metric"]) for r in d["rows"] if r["verdict"] != "unchanged")), d["summary"]["newly_failing_jobs"])')" \
	"([('new', 'verify_errors'), ('regressed', 'iops'), ('reported', 'cache_hits')], 1)" \
	"diff: iops regressed, cache_hits reported, verify_errors new; one job newly fails"
is "$(q $diff '[(r["p_adjusted"] is not None, r["ci"]["low"] < r["ci"]["high"] < 0) for r in d["rows"] if r["verdict"] == "regressed"]')" \
	"[(True, True)]" "diff: the regression has an adjusted p and an interval below zero"
is "$(q $ab '(d["ab"], d["a"]["id"] == d["b"]["id"], sorted(set(r["params_key"] for r in d["rows"])))')" \
	"({'a': 'bs=4k', 'b': 'bs=64k'}, True, [''])" "diff --ab: one run, bs=4k against bs=64k"
is "$(q $history '[(p["label"], p["config_changed"], p["config_keys"]) for p in d["points"]]')" \
	"[('base', False, None), ('cand', False, None), ('ops8', True, 'workload')]" \
	"history: three points, the configuration changed at the third"
is "$(q $bycommit '(d["by"], d["runs"], d["runs_without_commit"], [(p["group"], p["runs"]) for p in d["points"]])')" \
	"('commit', 2, 1, [('1111aaaa', 1), ('2222bbbb', 1)])" \
	"history --by commit: a point per commit, the run without one counted"
is "$(q $report '(d["diff"] is not None, len(d["jobs"]), len(d["trends"]) > 0)')" "(True, 10, True)" \
	"report: jobs, diff and trends"

# ---- the validator rejects what the schemas forbid ----
edit $runs bad.json 'del d["runs"][0]["uuid"]'
invalid runs.schema.json bad.json "runs without a run's uuid is rejected"
edit $show bad.json 'd["run"]["wall_s"] = 1.0'
invalid show.schema.json bad.json "show with an unknown field in its run is rejected"
edit $job bad.json 'd["run"] = d.pop("run_id")'
invalid show-job.schema.json bad.json "show RUN JOB with run for run_id (version 1) is rejected"
edit $diff bad.json 'r = d["rows"][0]; r["name"] = r.pop("metric")'
invalid diff.schema.json bad.json "diff with a row's name for metric (version 1) is rejected"
edit $diff bad.json 'd["vmorch_diff"] = 1'
invalid diff.schema.json bad.json "diff of version 1 is rejected"
edit $history bad.json 'd["params"] = d.pop("params_key")'
invalid history.schema.json bad.json "history with params for params_key (version 1) is rejected"
edit $report bad.json 'j = d["jobs"][0]; j["wall_s"] = j.pop("wall_us") / 1e6'
invalid report.schema.json bad.json "report with a job's wall_s for wall_us (version 1) is rejected"
edit $report bad.json 'd["diff"]["vmorch_diff"] = 2'
invalid report.schema.json bad.json "report whose diff has a stray field is rejected"
edit $report bad.json 'd["jobs"][0]["counters"]["reads_done"] = 1'
invalid report.schema.json bad.json "report with an unknown counter is rejected"

tap_end
