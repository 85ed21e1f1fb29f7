#!/bin/sh
# fleet-in-l1.sh - `vmorch run --hosts` under a real KVM: inside L1 (QEMU's
# software-emulated machine with kvm_amd, tests/nested/run-l1.sh), three
# fake fleet hosts are OpenSSH servers on 127.0.0.2-4, and their workers use
# L1's /dev/kvm.  The same scenarios run on the fleet and locally, into one
# database each, and the deterministic counters (requests, bytes, flushes,
# errors, invalid indexes) of every job must be equal; every job passes, is
# stored once, on a fleet host, with one attempt.  The scenarios include
# disk images, read-only and writable, so they go through the hosts'
# stores and the workers' clones.  tests/fleet/ covers the rest (host loss,
# keys, staging, gc) on this machine's hosts, where /dev/kvm may be absent.
#
# Needs what the other nested suites need, and openssh-server (sshd,
# ssh-keygen), sqlite3 and libssh2 on this machine: they are copied into L1.
# Speaks TAP; the checks run in L1 and come back as its TAP lines.
set -u

. "$(dirname "$0")/suite.sh"
nested_suite_start sqlite3
for f in /usr/sbin/sshd /usr/bin/ssh-keygen; do
	[ -x "$f" ] || unavailable "no $f (Debian: openssh-server)"
done
libssh2=
for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
	[ -e "$d/libssh2.so.1" ] && libssh2=$d/libssh2.so.1 && break
done
[ -n "$libssh2" ] || unavailable "no libssh2.so.1 (Debian: libssh2-1)"
for prog in orchestrator/vmorch vmm-worker/vmm-worker-static; do
	[ -x "$builddir/$prog" ] || unavailable "no $builddir/$prog (make builds it)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleet-in-l1.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/payload"
cp "$srcdir/scenarios/smoke.yaml" "$tmp/payload/"
# 4 MiB images of known bytes: one read, one written (on a clone there).
awk 'BEGIN { for (i = 0; i < 262144; i++) printf "%015d\n", i }' > "$tmp/payload/ro.raw"
cp "$tmp/payload/ro.raw" "$tmp/payload/rw.raw"
cat > "$tmp/payload/images.yaml" <<'EOF'
vmorch: 1
name: images
defaults: {timeout: 120s}
vms:
  - name: read
    disks: [{image: ro.raw, read_only: true}]
    workload: {pattern: randread, ops: 500}
  - name: write
    disks: [{image: rw.raw}, {size: 1M}]
    workload: {pattern: randwrite, ops: 500}
EOF

cat > "$tmp/run.sh" <<'EOF'
set -u
cd /payload || exit 1
n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() { [ "$1" = "$2" ]; ok $? "$3 (got '$1', want '$2')"; }
V=/vmorch/orchestrator/vmorch
export VMORCH_STATIC_WORKER=/vmorch/vmm-worker/vmm-worker-static

# What an sshd needs that L1's initramfs lacks: users, its privilege
# separation directory, loopback.
ip link set lo up
mkdir -p /etc /root /run/sshd
printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n' > /etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > /etc/group
chmod 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f id
cp id.pub authorized_keys
for h in 2 3 4; do
	ssh-keygen -q -t ed25519 -N '' -f hostkey$h
	cat > sshd$h.conf <<C
HostKey /payload/hostkey$h
ListenAddress 127.0.0.$h
Port 22
PidFile /payload/sshd$h.pid
AuthorizedKeysFile /payload/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
C
	/usr/sbin/sshd -f /payload/sshd$h.conf -E /payload/sshd$h.log
	ok $? "sshd on 127.0.0.$h"
done
cat > inv.yaml <<I
vmorch-hosts: 1
defaults:
  user: root
  identity: /payload/id
  known_hosts: /payload/known_hosts
  host_key_check: accept-new
  slots: 2
hosts:
  - {name: a, address: 127.0.0.2, workdir: /payload/wa}
  - {name: b, address: 127.0.0.3, workdir: /payload/wb}
  - {name: c, address: 127.0.0.4, workdir: /payload/wc}
I

counters="reads_completed || ',' || writes_completed || ',' || flushes_completed || ',' ||
	  bytes_read || ',' || bytes_written || ',' || io_errors || ',' || invalid_avail_idx_count"
rows() {	# rows DB: job:disk:counters, one line per disk of every job
	sqlite3 "$1" "select r.scenario || '/' || r.vm || r.params_key || '#' || r.repeat_idx || ':' ||
		      c.disk_idx || ':' || $counters from vm_results r
		      join blk_counters c on c.result_id = r.id order by 1"
}
for s in smoke images; do
	$V run -q --hosts inv.yaml --db fleet.db $s.yaml > fleet.out 2>&1
	rc=$?
	is "$rc" 0 "$s: a fleet run on 3 hosts passes"
	[ "$rc" = 0 ] || sed 's/^/#   /' fleet.out
	$V run -q --jobs 2 --db local.db $s.yaml > local.out 2>&1
	is "$?" 0 "$s: the same jobs run here pass"
	jobs=$(sqlite3 local.db "select count(*) from vm_results where scenario = '$s'")
	is "$(sqlite3 fleet.db "select count(*) from vm_results where scenario = '$s' and host in ('a', 'b', 'c')")" \
	   "$jobs" "$s: every job stored once, on a fleet host"
	is "$(sqlite3 fleet.db "select count(*) from attempts a join vm_results r on r.id = a.result_id where r.scenario = '$s'")" \
	   "$jobs" "$s: each with one attempt"
done
rows fleet.db > fleet.rows
rows local.db > local.rows
cmp -s fleet.rows local.rows
ok $? "the deterministic counters of every job and disk equal a local run's ($(wc -l < local.rows) disks)"
cmp -s fleet.rows local.rows || diff fleet.rows local.rows | head -20 | sed 's/^/#   /'
# throttled_count depends on timing: above 0 where the local run's is.
thr() {
	sqlite3 "$1" "select c.throttled_count > 0 from vm_results r join blk_counters c
		      on c.result_id = r.id where r.scenario = 'smoke' and r.vm = 'throttled'"
}
is "$(thr fleet.db)" "$(thr local.db)" "smoke/throttled: throttled on the fleet as here"
[ -n "$(ls wa/cas 2>/dev/null)$(ls wb/cas 2>/dev/null)$(ls wc/cas 2>/dev/null)" ]
ok $? "the images went through the hosts' stores"
for h in a b c; do
	for f in w$h/cas/*; do
		[ -f "$f" ] || continue
		cmp -s "$f" ro.raw || { echo "# $f is no longer the image it was"; failed=$((failed + 1)); }
	done
done
ok 0 "no staged image was written (the writes went to clones)"
echo "1..$n"
echo "L1-STATUS fleet checks: $failed failed"
[ "$failed" -eq 0 ]
EOF

log=${VMORCH_NESTED_LOG:-$builddir/tests/nested/fleet-in-l1.console}
mkdir -p "$(dirname "$log")"
# Single-threaded TCG, as builtin-in-l1.sh (tests/nested/README).
L1_ACCEL=${L1_ACCEL:-tcg,thread=single} \
"$here/run-l1.sh" -k "$kdir" -t "${VMORCH_NESTED_TIMEOUT:-600}" -l "$log" \
	-x vmm-worker/vmm-worker-static -x /usr/sbin/sshd -x /usr/bin/ssh-keygen \
	-x "$(command -v sqlite3)" -x "$libssh2" \
	"$tmp/run.sh" "$tmp/payload" \
	> "$tmp/out" 2> "$tmp/err"
rc=$?

grep '^run-l1:' "$tmp/err" | sed 's/^/# /'
n=0
nested_relay "$tmp/out"
n=$((n + 1))
case $rc in
0) echo "ok $n - L1: the fleet checks ran to the end and passed" ;;
97 | 98 | 99)
	echo "not ok $n - L1: the fleet checks ran to the end (run-l1 status $rc)"
	grep -v '^run-l1: \(L1 reached\|built\|payload ran\)' "$tmp/err" | sed 's/^/# /'
	;;
*) echo "not ok $n - L1: $(sed -n 's/^L1-STATUS //p' "$tmp/out" | tail -1)" ;;
esac
echo "1..$n"
