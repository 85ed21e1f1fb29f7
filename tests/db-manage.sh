#!/bin/sh
# tests/db-manage.sh - whole runs in and out from the command line: `vmorch
# import` (twice adds nothing; the database itself is refused), `vmorch rm`
# (a bad reference deletes nothing) and `vmorch gc --keep N` (labelled runs
# stay unless --labelled; --dry-run deletes nothing).  Speaks TAP.  Needs
# no KVM: a job's result may be an infrastructure error, the run is stored.
set -u

. "$(dirname "$0")/cli-lib.sh"
cli_start db-manage sqlite3

cat > t.yaml <<'YAML'
vmorch: 1
name: t
vms: [{name: a, memory: 64M, timeout: 20s, disks: [{size: 1M}]}]
YAML
runs() {	# runs DB: its run ids, newest first
	sqlite3 "$1" 'select group_concat(id, " ") from (select id from runs order by id desc)'
}
q() { sqlite3 "$1" "$2"; }

for i in 1 2; do "$V" run -q --db a.db --label "ci$i" t.yaml >/dev/null 2>&1; done
"$V" run -q --db a.db t.yaml >/dev/null 2>&1
"$V" run -q --db b.db t.yaml >/dev/null 2>&1
is "$(runs a.db):$(runs b.db)" "3 2 1:1" "two databases: a with 3 runs, b with 1"

"$V" import --db b.db a.db >out 2>err
is "$?:$(cat out)" "0:a.db: 3 runs imported (3 results), 0 already here" "import a into b"
is "$(runs b.db):$(q b.db 'select count(*) from vm_results')" "4 3 2 1:4" \
	"b holds 4 runs and their results"
is "$(q b.db "select group_concat(label, ' ') from runs where label is not null")" "ci1 ci2" \
	"labels came along"
"$V" import --db b.db a.db >out 2>err
is "$?:$(cat out)" "0:a.db: 0 runs imported (0 results), 3 already here" "importing again adds nothing"
"$V" import --db b.db b.db >out 2>err
is "$?:$(cat err)" "2:vmorch import: b.db is the database itself" "importing a database into itself: exit 2"
"$V" import --db b.db nosuch.db >out 2>err
is "$?" 3 "a missing file: exit 3"
[ ! -e nosuch.db ]
ok $? "and it is not created"

"$V" rm --db b.db 4 nosuch >out 2>err
is "$?:$(runs b.db)" "2:4 3 2 1" "rm with a bad reference: exit 2, nothing deleted"
"$V" rm --db b.db 4 ci1 >out 2>err
is "$?:$(runs b.db):$(q b.db 'select count(*) from vm_results')" "0:3 1:2" \
	"rm 4 ci1: both runs gone, with their results"

"$V" run -q --db c.db --label base t.yaml >/dev/null 2>&1
for i in 1 2 3; do "$V" run -q --db c.db t.yaml >/dev/null 2>&1; done
"$V" gc --db c.db --keep 1 --dry-run >out 2>err
is "$?:$(runs c.db)" "0:4 3 2 1" "gc --dry-run deletes nothing"
has out "would remove 2 runs (2..3)" "and says what it would delete"
"$V" gc --db c.db --keep 1 >out 2>err
is "$?:$(runs c.db)" "0:4 1" "gc --keep 1: the labelled run stays"
"$V" gc --db c.db --keep 1 --labelled >out 2>err
is "$?:$(runs c.db)" "0:4" "gc --keep 1 --labelled: it goes too"
"$V" gc --db c.db >out 2>err
is "$?" 2 "gc without --keep: exit 2"

tap_end
