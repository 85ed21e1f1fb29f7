#!/bin/sh
# tests/fleet/stage.sh - the files of this machine that jobs name, on fleet
# hosts (real sshd servers on 127.0.0.2 and .3, tests/fleet/sshd.sh):
#   - disk images go into each host's store once, as <workdir>/cas/<sha256>,
#     byte for byte; the jobs run on them there (a writable image as a
#     private clone, so the staged file and this machine's image stay as
#     they were), and nothing else is left in the store;
#   - a second run sends nothing and marks the files as used (mtime, which
#     `vmorch hosts gc` goes by); an image that changed is sent again under
#     its new hash;
#   - a host whose store cannot take a file stays up for the jobs that do
#     not need it, and says why;
#   - a Linux guest's kernel and the initramfs built here go by hash too
#     (when a test kernel is in the cache: scripts/fetch-test-kernel.sh);
#   - a FIFO or the result database as an image never travels: such a job
#     needs a local slot;
#   - on a terminal the progress bar shows each host's state.
# Without a usable /dev/kvm (this machine may be a PVM guest) the workers
# end each job as infra_error naming /dev/kvm, after opening (and cloning)
# their disks: that order is what the checks below rely on.
# Speaks TAP.
set -u

. "$(dirname "$0")/suite.sh"
VMORCH_WORKER=$build/vmm-worker/vmm-worker
export VMORCH_WORKER
fleet_suite_start fleet-stage sqlite3 sha256sum

q() { sqlite3 "$1" "$2"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

fleet_kvm
want_rc=$([ $kvm = 1 ] && echo 0 || echo 3)

fleet_inventory accept-new "slots: 2" "keepalive: 1s"

# 1 MiB and 2 MiB images of known bytes; the second one read-only.
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "%015d\n", i }' > rw.raw
awk 'BEGIN { for (i = 0; i < 131072; i++) printf "%015d\n", i * 3 }' > ro.raw
rw=$(sha rw.raw)
ro=$(sha ro.raw)
cat > img.yaml <<'Y'
vmorch: 1
name: img
defaults: {timeout: 60s}
vms:
  - name: w
    disks: [{image: rw.raw}]
    workload: {pattern: randwrite, ops: 100}
  - name: r
    disks: [{image: ro.raw, read_only: true}]
    workload: {pattern: randread, ops: 100}
  - name: both
    disks: [{image: rw.raw}, {image: ro.raw, read_only: true}, {size: 1M}]
    workload: {pattern: randread, ops: 100}
Y

"$V" run -q --hosts inv.yaml --db s.db img.yaml >out 2>err
is "$?" "$want_rc" "a fleet run of jobs with disk images: exit as a local run would"
for h in a b; do
	cmp -s rw.raw "w$h/cas/$rw" && cmp -s ro.raw "w$h/cas/$ro"
	ok $? "host $h holds both images under their sha256, byte for byte"
	is "$(ls -A "w$h/cas" | sort | tr '\n' ' ')" "$(printf '%s\n' "$rw" "$ro" | sort | tr '\n' ' ')" \
	   "host $h's store holds those two files and nothing else (no temporary, no clone)"
	grep -q "host $h: staged 2 files (3.0 MiB)" err
	ok $? "the run says what it sent host $h"
done
is "$(q s.db 'select count(*) from vm_results')" 3 "every job stored exactly once"
is "$(q s.db "select count(*) from vm_results where host in ('a', 'b')")" 3 "each on a fleet host"
if [ $kvm = 1 ]; then
	is "$(q s.db "select count(*) from vm_results where exit_kind = 'guest_pass'")" 3 "each passed"
else
	is "$(q s.db "select count(*) from vm_results where exit_kind = 'infra_error' and error like '%/dev/kvm%'")" 3 \
	   "each opened its disks on the host, then stopped at /dev/kvm"
fi
is "$(sha rw.raw) $(sha wa/cas/$rw) $(sha wb/cas/$rw)" "$rw $rw $rw" \
   "the writable image is unchanged here and in both stores: the jobs wrote clones"

# On a terminal the bar shows each host's state (here: all jobs done).
if command -v script >/dev/null; then
	script -qec "'$V' run --hosts inv.yaml --db t.db img.yaml" /dev/null > tty.out 2>&1
	grep -q "hosts a:0 b:0" tty.out
	ok $? "on a terminal the progress bar shows each host and its running jobs"
else
	ok 0 "# SKIP no script(1) for a terminal"
fi

# Again: nothing to send; the files are marked as used now.
touch -d '2 days ago' "wa/cas/$rw" "wa/cas/$ro"
"$V" run -q --hosts inv.yaml --db s.db img.yaml >out 2>err
is "$?" "$want_rc" "a second run"
grep -q "staged" err
is "$?" 1 "sends nothing: every file is in both stores"
is "$(find wa/cas -type f -mmin -60 | wc -l | tr -d ' ')" 2 "and marks the files it uses as used (mtime)"

# A changed image goes again, under its new hash; the old one stays.
printf 'changed' | dd of=rw.raw bs=1 seek=4096 conv=notrunc 2>/dev/null
rw2=$(sha rw.raw)
"$V" run -q --hosts inv.yaml --db s.db img.yaml >out 2>err
is "$?" "$want_rc" "a run after the image changed"
cmp -s rw.raw "wa/cas/$rw2" && [ -f "wa/cas/$rw" ]
ok $? "the new content is staged under its own hash, beside the old"
grep -q "host a: staged 1 file (1.0 MiB)" err
ok $? "and only it was sent"

# Host b's store cannot take files (its cas is a plain file): b runs only
# the jobs without images, a the rest.
rm -rf wb/cas && echo not-a-directory > wb/cas
cat > mixed.yaml <<'Y'
vmorch: 1
name: mixed
defaults: {timeout: 60s}
vms:
  - name: img
    disks: [{image: ro.raw, read_only: true}]
    workload: {pattern: randread, ops: 10}
  - name: tmp
    disks: [{size: 1M}]
    workload: {pattern: randread, ops: 10}
Y
"$V" run -q --hosts inv.yaml --db m.db mixed.yaml >out 2>err
is "$?" "$want_rc" "a host whose store is broken: the run goes on"
grep -q "host b takes only the jobs whose files it has: .*ro.raw" err
ok $? "and says why host b takes fewer jobs"
is "$(q m.db "select host from vm_results where vm = 'img'")" "a" "the job with an image ran on host a"
is "$(q m.db 'select count(*) from vm_results')" 2 "both jobs stored once"
rm -f wb/cas

# A Linux guest: its kernel and the initramfs built here go by hash.
kernel=$(ls "${VMORCH_CACHE:-$HOME/.cache/vmorch}"/kernel/*/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -n "$kernel" ]; then
	cat > linux.yaml <<Y
vmorch: 1
name: lin
defaults: {timeout: 60s}
vms:
  - name: l
    memory: 256M
    guest: {kernel: $kernel}
    disks: [{size: 1M}]
    workload: {pattern: randread, ops: 10}
Y
	"$V" run -q --hosts inv.yaml --limit a --db l.db linux.yaml >out 2>err
	is "$?" "$want_rc" "a fleet run of a Linux guest"
	[ -f "wa/cas/$(sha "$kernel")" ]
	ok $? "the kernel is in host a's store under its sha256"
	initrd=$(echo '{"version":1,"name":"l","vcpus":1,"memory":268435456,"timeout_ms":60000,"guest":{"kind":"linux","kernel":"'"$kernel"'"}}' |
		 "$VMORCH_WORKER" --print-initramfs --job -)
	cmp -s "$initrd" "wa/cas/$(sha "$initrd")"
	ok $? "so is the initramfs built here for it"
else
	ok 0 "# SKIP no test kernel in the cache (scripts/fetch-test-kernel.sh)"
	ok 0 "# SKIP no test kernel in the cache"
	ok 0 "# SKIP no test kernel in the cache"
fi

# What never travels.
mkfifo fifo.raw
printf 'vmorch: 1\nname: ff\nvms:\n  - name: a\n    disks: [{image: fifo.raw}]\n' > fifo.yaml
"$V" run --hosts inv.yaml --db u.db fifo.yaml >out 2>err
is "$?" 2 "a FIFO as an image with --jobs 0: usage error"
grep -q "job ff/a#0 names a block device or the result database, which stay on this machine" err
ok $? "naming the job"
{ cat ro.raw; echo database; } > u.db
printf 'vmorch: 1\nname: dbimg\nvms:\n  - name: a\n    disks: [{image: u.db}]\n' > db.yaml
"$V" run --hosts inv.yaml --db u.db db.yaml >out 2>err
is "$?" 2 "the result database as an image with --jobs 0: usage error"
[ ! -f "wa/cas/$(sha u.db)" ]
ok $? "and the database was not sent anywhere"

tap_end
