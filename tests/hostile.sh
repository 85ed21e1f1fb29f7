#!/bin/sh
# tests/hostile.sh - vmorch used the way a hostile or careless user would:
# its own outputs aimed at the database, planted symlinks, corrupted and
# missing databases, full disks, closed pipes, terminal escapes, FIFOs,
# misspelt expectations, a low descriptor limit, a guest program whose
# library is missing.  Each case checks the exit
# status, the words, and that no stored byte changed.  Speaks TAP.
#
# None of it needs KVM: where a job must run, the worker's result may be a
# pass (with /dev/kvm) or an infrastructure error (without: exit 3), and
# the case asserts what holds in both.  The cases that need a guest to run
# for real live in tests/test_worker.c and tests/test_run.c, which the
# nested suite runs under a real KVM.
set -u

. "$(dirname "$0")/cli-lib.sh"
cli_start hostile sqlite3 jq

sum() { sha256sum "$1" | cut -d' ' -f1; }

# A job that needs no KVM to be stored: the built-in guest, tiny.
cat > tiny.yaml <<'EOF'
vmorch: 1
name: tiny
description: "a tiny job; \e]0;owned\a\e[31mred\e[0m in the description"
defaults:
  memory: 64M
  timeout: 20s
  disks:
    - size: 1M
vms:
  - name: read
    workload: {pattern: randread, bs: 4k, ops: 16, qd: 1}
    expect:
      reads_completed: "== 16"
EOF

# ---- a database to attack ----
vm run --db r.db --label base tiny.yaml
pass_or_infra $rc "run stores a run"
vm run --db r.db --label second tiny.yaml
pass_or_infra $rc "a second run"
is "$(sqlite3 r.db 'select count(*) from vm_results')" 2 "both results stored"
sqlite3 r.db 'pragma wal_checkpoint(truncate)' >/dev/null
before=$(sum r.db)

# ---- item 1: outputs and disks aimed at the database ----
vm report --db r.db last -o r.db
is $rc 2 "report -o the database: usage error"
has err "refusing" "report -o the database: says it refuses"
is "$(sum r.db)" "$before" "report -o the database: database unchanged"

ln r.db hard.db
vm report --db r.db last -o hard.db
is $rc 2 "report -o a hard link to the database (same inode, other name)"
rm -f hard.db

cat > overwrite.yaml <<EOF
vmorch: 1
name: overwrite
vms:
  - name: w
    memory: 64M
    timeout: 20s
    disks:
      - image: $tmp/r.db
    workload: {pattern: seqwrite, bs: 4k, ops: 64, qd: 1}
EOF
# The worker checks its disks before it opens /dev/kvm: these hold with
# or without KVM.
ln -s r.db link.db
ln r.db hardlink.db
for image in r.db link.db hardlink.db; do
	sed "s|image: .*|image: $tmp/$image|" overwrite.yaml > ow.yaml
	vm run --db r.db ow.yaml
	is $rc 3 "disk image = $image (the database): an infrastructure error"
	has out "is the result database" "disk image = $image: the worker says why"
	is "$(sqlite3 r.db "select exit_kind || ' ' || exit_code from vm_results order by id desc limit 1")" \
		"infra_error 1" "disk image = $image: stored as infra_error EPERM"
done
rm -f link.db hardlink.db
is "$(sqlite3 r.db 'pragma integrity_check')" ok "disk image = the database: still a sound database"
is "$(sqlite3 r.db 'select count(*) from runs')" 5 "disk image = the database: each attempt is stored as a run"
sqlite3 r.db 'pragma wal_checkpoint(truncate)' >/dev/null
before=$(sum r.db)

# ---- item 2: a planted symlink next to the output ----
echo "victim" > victim
ln -s victim report.txt.tmp
ln -s victim .report.txt.tmp
vm report --db r.db base -o report.txt
is $rc 0 "report -o beside planted symlinks succeeds"
is "$(cat victim)" victim "the symlinks' target is untouched"
has report.txt "tiny" "the report went to report.txt"
ln -sf victim link.txt
vm report --db r.db last -o link.txt
is "$(cat victim)" victim "report -o a symlink does not write through it"

# ---- item 12: read commands never create ----
vm runs --db typo.db
is $rc 3 "runs --db a missing file: infrastructure error"
has err "no database at typo.db" "runs --db a missing file: says so"
[ ! -e typo.db ] && [ ! -e typo.db-journal ] && [ ! -e typo.db-wal ]
ok $? "runs --db a missing file creates nothing"
vm show --db typo.db last
is $rc 3 "show --db a missing file: infrastructure error"
[ ! -e typo.db ]
ok $? "show --db a missing file creates nothing"
vm runs --db /dev/null
is $rc 3 "runs --db /dev/null: infrastructure error"
[ ! -e /dev/null-journal ] && [ ! -e /dev/null-wal ]
ok $? "runs --db /dev/null leaves no /dev/null-journal"

# ---- item 11: full output ----
for c in "runs --db r.db" "show --db r.db last" "show --db r.db --json last" \
	 "diff --db r.db base second" "history --db r.db --scenario tiny --metric reads_completed" \
	 "report --db r.db last"; do
	# shellcheck disable=SC2086
	"$V" $c >/dev/full 2>err
	rc=$?
	is $rc 3 "$c >/dev/full: infrastructure error"
	has err "write error: No space left on device" "$c >/dev/full: says why"
done
"$V" run --db r.db tiny.yaml >/dev/full 2>err
is $? 3 "run >/dev/full: infrastructure error"
is "$(sqlite3 r.db "select count(*) from runs where status = 'running'")" 0 \
	"run >/dev/full: its run is ended"

# ---- item 8: a closed pipe ----
cp tiny.yaml tiny-copy.yaml
"$V" run --db r.db tiny.yaml tiny-copy.yaml 2>/dev/null | head -c 1 >/dev/null
is "$(sqlite3 r.db "select count(*) from runs where status = 'running'")" 0 \
	"run | head: no run left running"

# ---- item 6: terminal escapes ----
vm show --db r.db base
ESC=$(printf '\033')
BEL=$(printf '\007')
! grep -q "[$ESC$BEL]" out
ok $? "show prints the description's escapes made visible"
has out '\e]0;owned' "show shows the escape as text"
vm run --db r.db --label "$(printf 'x\033]0;pwned\007')" tiny.yaml
is $rc 2 "a label with control characters: usage error"
vm run --db r.db --label 2 tiny.yaml
is $rc 2 "label 2 (a run id): usage error"
vm run --db r.db --label 'last~1' tiny.yaml
is $rc 2 "label last~1: usage error"

# ---- item 13: files read once, hashed as parsed ----
vm validate /dev/stdin < tiny.yaml
is $rc 0 "validate reads a pipe"
runs_before=$(sqlite3 r.db 'select count(*) from runs')
"$V" run --db r.db --label fifo /dev/stdin < tiny.yaml >/dev/null 2>&1
is "$(sqlite3 r.db "select f.sha256 from run_files f join runs r on r.id = f.run_id where r.label = 'fifo'")" \
	"$(sum tiny.yaml)" "run from a pipe stores the hash of the bytes parsed"
is "$(sqlite3 r.db "select f.description from run_files f join runs r on r.id = f.run_id where r.label = 'fifo'" | cut -c1-10)" \
	"a tiny job" "the scenario's description is stored"
vm run --db r.db tiny.yaml tiny.yaml
is $rc 2 "the same file twice: usage error"
is "$(sqlite3 r.db 'select count(*) from runs')" $((runs_before + 1)) "the same file twice stores nothing"
mkdir adir
vm validate adir
is $rc 2 "validate a directory: scenario error"

# ---- items 14 and 15: caught at validate ----
sed 's/reads_completed: "== 16"/reads_complete: "== 16"/' tiny.yaml > typo.yaml
vm validate typo.yaml
is $rc 2 "a misspelt metric fails validate"
has err "did you mean reads_completed" "and suggests the name"
has err "typo.yaml:" "and names the file"
sed 's/ops: 16, qd: 1}/ops: 16, qd: 1, span: 2M}/' tiny.yaml > span.yaml
vm validate span.yaml
is $rc 2 "span beyond the disk fails validate"
sed 's/ops: 16, qd: 1}/ops: 16, qd: 1, span: 512}/' tiny.yaml > span2.yaml
vm validate span2.yaml
is $rc 2 "span below bs fails validate"
cat > nodisk.yaml <<'EOF'
vmorch: 1
name: nodisk
vms:
  - name: r
    workload: {pattern: randread, ops: 16}
EOF
vm validate nodisk.yaml
is $rc 2 "a workload with ops and no disk fails validate"

# ---- item 10: few descriptors, many jobs ----
cat > many.yaml <<'EOF'
vmorch: 1
name: many
matrix:
  seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
         33, 34, 35, 36, 37, 38, 39, 40]
vms:
  - name: r
    memory: 64M
    timeout: 20s
    disks: [{size: 1M}]
    workload: {pattern: randread, bs: 4k, ops: 8, qd: 1, seed: "${seed}"}
EOF
(ulimit -n 64 && exec "$V" run --db fd.db --jobs 32 many.yaml) >out 2>err
pass_or_infra $? "40 jobs, --jobs 32 under ulimit -n 64"
is "$(sqlite3 fd.db 'select count(*) from vm_results')" 40 "every started job is stored"

# ---- item 3: a corrupted database ----
cp r.db bad.db
size=$(stat -c %s bad.db)
pages=$((size / 4096))
# Scribble over every page but the header page: any read of a table fails.
dd if=/dev/urandom of=bad.db bs=4096 seek=1 count=$((pages - 1)) conv=notrunc 2>/dev/null
bad=$(sum bad.db)
vm show --db bad.db --json 1
is $rc 3 "show --json on a corrupted database: infrastructure error"
is "$(wc -c < out)" 0 "show --json on a corrupted database prints no partial document"
vm runs --db bad.db
is $rc 3 "runs on a corrupted database: infrastructure error"
vm run --db bad.db tiny.yaml
is $rc 3 "run refuses to append to a corrupted database"
is "$(sum bad.db)" "$bad" "and leaves it as it was"

# ---- a guest program whose library this machine lacks ----
# This test program, with every libc.so.6 in it made libc.so.9: refused by
# `vmorch run` before any job starts, naming the library; nothing stored.
# (perl-base is essential in Debian.)
perl -pe 's/libc\.so\.6/libc.so.9/g' < "$V" > badprog
chmod 755 badprog
cat > badlib.yaml <<EOF
vmorch: 1
name: badlib
vms:
  - name: a
    guest:
      kernel: /nonexistent/vmlinuz
      files: [$tmp/badprog]
      run: [$tmp/badprog]
    disks: [{size: 1M}]
EOF
vm run --db badlib.db badlib.yaml
is $rc 2 "run: a guest program missing a library is refused (exit 2)"
has err "badprog needs libc.so.9, which is not on this machine" "the library is named"
[ ! -e badlib.db ]
ok $? "before any job ran: no database was made"

# ---- run --list and -k: the jobs by name, a selection ----
cat > sel.yaml <<'EOF'
vmorch: 1
name: sel
matrix:
  qd: [1, 16]
  bs: [4k, 64k]
vms:
  - name: a
    memory: 64M
    timeout: 20s
    workload: {pattern: randread, ops: 4, qd: "${qd}", bs: "${bs}"}
    disks: [{size: 1M}]
EOF
vm run --list sel.yaml
is "$rc:$(tr '\n' ' ' < out)" "0:sel/a[bs=4k,qd=1]#0 sel/a[bs=64k,qd=1]#0 sel/a[bs=4k,qd=16]#0 sel/a[bs=64k,qd=16]#0 " \
	"run --list prints every job's name, runs nothing"
[ ! -e vmorch.db ]
ok $? "run --list makes no database"
vm run --list -k 'sel/a\[*,qd=16\]*' -k 'sel/a[bs=4k,qd=1]#0' sel.yaml
is "$rc:$(tr '\n' ' ' < out)" "0:sel/a[bs=4k,qd=1]#0 sel/a[bs=4k,qd=16]#0 sel/a[bs=64k,qd=16]#0 " \
	"-k: a glob or an exact name, repeatable (their union), in run order"
vm run --list --interleave qd sel.yaml
is "$rc:$(tr '\n' ' ' < out)" "0:sel/a[bs=4k,qd=1]#0 sel/a[bs=4k,qd=16]#0 sel/a[bs=64k,qd=1]#0 sel/a[bs=64k,qd=16]#0 " \
	"--interleave qd: qd's values take turns, each keeping its order"
vm run --list --interleave nosuch sel.yaml
is "$rc:$(cat err)" "2:vmorch run: --interleave nosuch: no job has this matrix key" \
	"--interleave of a key no job has: exit 2"
vm run --list --interleave qd -k '*qd=1]*' sel.yaml
is "$rc:$(cat err)" "2:vmorch run: --interleave qd: the jobs have one value of it: nothing to alternate" \
	"--interleave with one value left after -k: exit 2"
vm run --list -k 'sel/b*' sel.yaml
is "$rc" 2 "-k that matches nothing: exit 2"
has err "no job matches -k sel/b*" "and it says so"
vm run --db sel.db -k '*bs=64k,qd=16*' sel.yaml
pass_or_infra $rc "run -k runs the selection"
is "$(sqlite3 sel.db 'select count(*) || params_key from vm_results')" "1bs=64k,qd=16" \
	"only the selected job is stored"
sqlite3 sel.db "update vm_results set verdict = 'pass'"
vm run --list --db sel.db --rerun-failed last sel.yaml
is "$rc:$(tr '\n' ' ' < out)" "0:sel/a[bs=4k,qd=1]#0 sel/a[bs=64k,qd=1]#0 sel/a[bs=4k,qd=16]#0 " \
	"--rerun-failed: the jobs missing from the run (the one that passed is left out)"
sqlite3 sel.db "update vm_results set verdict = 'fail'"
vm run --list --db sel.db --rerun-failed last -k '*bs=64k*' sel.yaml
is "$rc:$(tr '\n' ' ' < out)" "0:sel/a[bs=64k,qd=1]#0 sel/a[bs=64k,qd=16]#0 " \
	"--rerun-failed with -k: the failed one and the missing one of the selection"
vm run --list --db sel.db --rerun-failed nosuch sel.yaml
is "$rc" 2 "--rerun-failed of a run that is not there: exit 2"
vm gc --db none.db --keep 1
vm run --list --db none.db --rerun-failed last sel.yaml
is "$rc:$(cat err)" "2:vmorch run: --rerun-failed: last: there are no runs yet" \
	"--rerun-failed last of a database without runs: exit 2"
sqlite3 sel.db "update vm_results set verdict = 'pass'"
vm run --db sel.db --rerun-failed last -k '*bs=64k,qd=16*' sel.yaml
is "$rc:$(cat out)" "0:nothing to run again: every job of run last passed" \
	"nothing failed: nothing runs, exit 0"
is "$(sqlite3 sel.db 'select count(*) from runs')" 1 "and no run was stored"
vm show --db sel.db --json last 'sel/a[bs=64k,qd=16]#0'
is "$rc:$(jq -r '.job.name + " " + .job.params.bs + " " + (.job.config.workload // "-")' out)" \
	"0:sel/a[bs=64k,qd=16]#0 64k pattern=randread bs=65536 ops=4 qd=16" \
	"show RUN JOB: the job run printed, with its stored configuration"
vm show --db sel.db last 'sel/a[bs=64k,qd=16]#0'
grep -q "^job       sel/a\[bs=64k,qd=16\]#0 (run 1)$" out && grep -q "^config    {" out
ok $? "show RUN JOB as text"
vm show --db sel.db last 'sel/a[bs=4k,qd=1]#0'
is "$rc:$(cat err)" "2:vmorch show: run 1 has no job sel/a[bs=4k,qd=1]#0" "show of a job the run does not have: exit 2"
vm show --db sel.db last 'sel/a'
is "$rc:$(cat err)" "2:vmorch show: job 'sel/a': expected a name as run and show print it, scenario/vm[k=v,...]#repeat" \
	"show of a malformed job name: exit 2"

# ---- run --junit FILE --report FORMAT:FILE: reports as the run ends ----
vm run --db rep.db --junit rep.xml --report json:rep.json --report html:rep.html tiny.yaml
pass_or_infra $rc "run --junit --report json: --report html:"
command -v xmllint >/dev/null && xmllint --noout rep.xml
ok $? "the JUnit report is well-formed XML"
is "$(jq -r '.run.id' rep.json 2>/dev/null)" 1 "the JSON report is of the run just stored"
grep -q '</html>' rep.html
ok $? "the HTML report is whole"
vm run --db rep.db --report pdf:x.pdf tiny.yaml
is "$rc:$(sqlite3 rep.db 'select count(*) from runs')" "2:1" \
	"--report with an unknown format: exit 2 before anything runs"
vm run --db rep.db --junit rep.db tiny.yaml
is "$rc:$(sqlite3 rep.db 'select count(*) from runs')" "2:1" \
	"--junit naming the database: refused, nothing run"

# ---- VMORCH_DB: the database without --db; --db still wins ----
VMORCH_DB=$tmp/env.db "$V" run --quiet tiny.yaml >out 2>err
pass_or_infra $? "run with VMORCH_DB set"
[ -s env.db ] && [ ! -e vmorch.db ]
ok $? "VMORCH_DB named the database it wrote (not ./vmorch.db)"
VMORCH_DB=$tmp/env.db "$V" runs >out 2>err
is "$?:$(grep -c '^ *1  ' out):$(grep -c base out)" "0:1:0" "runs reads VMORCH_DB's database"
VMORCH_DB=$tmp/env.db "$V" runs --db r.db >out 2>err
is "$(grep -c base out)" 1 "--db wins over VMORCH_DB"

tap_end
