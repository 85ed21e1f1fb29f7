#!/bin/sh
# tests/fleet/gc.sh - `vmorch hosts gc` against real sshd servers on
# 127.0.0.N (tests/fleet/sshd.sh), each fake host with its own workdir,
# whose stores are planted with exact sizes and ages (touch -d):
#   - least recently used files go first until the store fits --max-size;
#     this vmorch's worker stays however old, a file used within --min-age
#     stays though the store is still over the limit, a killed stage's
#     .stage.N temporary goes; --dry-run reports the same and deletes
#     nothing; exactly the expected files remain;
#   - a host whose store lock is held (a job's shared lock) is busy: exit
#     3, nothing deleted there, the other host collected; once it is let
#     go, the host is collected;
#   - an unreachable host: exit 3, the other host still collected;
#   - a bad --max-size or --min-age: exit 2 and a message saying what is
#     expected.
# Speaks TAP.
set -u

. "$(dirname "$0")/suite.sh"
fleet_suite_start gc jq flock

vm() {	# vm ARGS...: $rc, out, err
	"$V" "$@" >out 2>err
	rc=$?
}

p3=$(cat fleet/h3/port)
fleet_inventory accept-new

sha=$(sha256sum "$W" | cut -d' ' -f1)
hex() { printf '%064d' 0 | tr 0 "$1"; }	# a sha256-like name: 64 times $1
A=cas/$(hex a) B=cas/$(hex b) C=cas/$(hex c) D=cas/$(hex d) E=cas/$(hex e)
F=cas/$(hex f) OLD=bin/$(hex 1)/vmm-worker SELF=bin/$sha/vmm-worker

plant() {	# plant WORKDIR PATH KIB AGE
	mkdir -p "$(dirname "$1/$2")"
	head -c "$(($3 * 1024))" /dev/zero > "$1/$2"
	touch -d "$4" "$1/$2"
}

left() {	# left WORKDIR: the files in its store, sorted, on one line
	(cd "$1" && find cas bin -type f 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//')
}

vm hosts gc --max-size 10GB inv.yaml
is "$rc" 2 "--max-size 10GB: exit 2"
is "$(cat err)" "vmorch hosts gc: --max-size '10GB': expected bytes with an optional binary unit, like 512M, 10G or 0" "and the message says what a size is"
vm hosts gc --max-size 99999999999999999999 inv.yaml
is "$(cat err)" "vmorch hosts gc: --max-size '99999999999999999999': too large" "a size past 64 bits is too large"
vm hosts gc --min-age 15 inv.yaml
is "$rc" 2 "--min-age without a unit: exit 2"
is "$(cat err)" "vmorch hosts gc: --min-age '15': expected a duration with its unit, like 90s, 15m or 2h, or 0" "and the message says what a duration is"

# Host a, 8.5 MiB in the store and a 4 KiB temporary; --max-size 1M.
# Oldest first: this vmorch's worker (spared), an old worker, A, B, C go
# (1.5 MiB left), D was used a minute ago (spared, though over 1 MiB).
plant wa "$SELF" 512 '6 hours ago'
plant wa "$OLD" 1024 '6 hours ago'
plant wa "$A" 1024 '5 hours ago'
plant wa "$B" 2048 '4 hours ago'
plant wa "$C" 3072 '3 hours ago'
plant wa "$D" 1024 '1 minute ago'
plant wa cas/.stage.123 4 '1 minute ago'
# Host b: 1 MiB, exactly the limit: nothing goes.
plant wb "$E" 1024 '2 hours ago'
before_a=$(left wa) before_b=$(left wb)

vm hosts gc --max-size 1M --min-age 15m --dry-run --json inv.yaml
is "$rc" 0 "dry run: exit 0"
is "$(left wa)" "$before_a" "dry run: nothing deleted on a"
is "$(left wb)" "$before_b" "dry run: nothing deleted on b"
is "$(jq -r '[.hosts[0].files[] | "\(.fate) \(.path) \(.bytes)"] | join(", ")' out)" \
   "temporary cas/.stage.123 4096, deleted $OLD 1048576, deleted $A 1048576, deleted $B 2097152, deleted $C 3145728" \
   "dry run: what would go on a, oldest first"
is "$(jq -r '.dry_run' out)" true "the JSON says it was a dry run"

vm hosts gc --max-size 1M --min-age 15m --json inv.yaml
is "$rc" 0 "every host collected: exit 0"
is "$(left wa)" "$SELF $D" "a keeps this vmorch's worker and the file used a minute ago"
is "$(left wb)" "$E" "b, at its limit, keeps its file"
[ ! -e "wa/bin/$(hex 1)" ]
ok $? "the old worker's directory went with it"
is "$(jq -r '.hosts[0] | "\(.status) \(.files_before) \(.bytes_before) \(.files_deleted) \(.bytes_freed) \(.bytes_kept) \(.files_spared)"' out)" \
   "ok 7 8916992 5 7344128 1572864 2" "a: 7 files of 8916992 bytes, 5 deleted, 7344128 freed, 1572864 kept, 2 spared"
is "$(jq -r '.hosts[1] | "\(.status) \(.files_before) \(.bytes_freed)"' out)" "ok 1 0" "b: 1 file, nothing freed"

vm hosts gc --max-size 0 --min-age 15m inv.yaml
is "$(grep '^a ' out | tr -s ' ')" "a 2 1.5 MiB 0 0 B 1.5 MiB ok, still over --max-size: kept 2 files (this vmorch's worker, or used within --min-age)" \
   "the table says why a is still over the limit"
is "$(tail -1 out)" "2 of 2 hosts collected, 1.0 MiB freed" "the summary line"
is "$(left wb)" "" "b's file went with --max-size 0"

# A running job holds b's store lock shared.
plant wb "$E" 1024 '2 hours ago'
plant wb "$F" 1024 '3 hours ago'
( flock -s 9 && exec sleep 30 ) 9>>wb/lock &
holder=$!
i=0
while flock -x -n wb/lock true && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
vm hosts gc --max-size 0 --min-age 0 --json inv.yaml
is "$rc" 3 "a host busy: exit 3"
is "$(jq -r '.hosts[1] | "\(.status) (\(.message))"' out)" "busy (busy: a run is using its store)" "b is reported busy"
is "$(left wb)" "$E $F" "nothing deleted on the busy host"
is "$(jq -r '.hosts[0].status' out)" ok "a was still collected"
kill "$holder"
wait "$holder" 2>/dev/null
vm hosts gc --max-size 0 --min-age 0 inv.yaml
is "$rc" 0 "the lock let go: exit 0"
is "$(left wb)" "" "and b's files went"

# b unreachable.
plant wa "$A" 1024 '5 hours ago'
bash "$SSHD_SH" crash fleet 3 >/dev/null
vm hosts gc --max-size 0 --min-age 0 --timeout 5 --json inv.yaml
is "$rc" 3 "an unreachable host: exit 3"
is "$(jq -r '.hosts[1] | "\(.status): \(.error)"' out)" "unreachable: b: connect to 127.0.0.3 port $p3: Connection refused" \
   "b is unreachable, saying why"
is "$(left wa)" "$SELF" "a was collected: only this vmorch's worker stays with --min-age 0"

tap_end
