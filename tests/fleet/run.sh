#!/bin/sh
# tests/fleet/run.sh - `vmorch run --hosts` against real sshd servers on
# 127.0.0.N (tests/fleet/sshd.sh), each fake host with its own workdir.
#   - The worker is staged on each host once, by its sha256; every job of
#     scenarios/smoke.yaml is stored exactly once, on a fleet host, with
#     one attempt, and each host's facts are stored with the run.  With a
#     usable /dev/kvm the counters equal a local run's exactly; without
#     one (this machine may be a PVM guest) VMORCH_FLEET_ALLOW_NO_KVM=1
#     lets the hosts be used and every job ends as infra_error: the path
#     (staging, channels, frames, storing) is the same.
#   - A host whose worker ends without a result (a broken worker planted
#     at the staged path) loses its jobs: each is tried on the other host
#     and stored once, with both attempts; a job lost on a host goes
#     back to it only when no other host is left.
#   - With both hosts broken every job is stored as host_lost and the run
#     exits 3; no host reachable: exit 3 and nothing stored.
#   - Mid-job host loss, with a worker that holds its job without answering
#     (a copy of cat planted at the staged path: it ends only when its
#     stdin does) on host a: a partition (SIGSTOP of a's sshd) is found by
#     the 1 s keepalive and a crash (SIGKILL) at once; either way a's jobs
#     are tried on host b and stored once.  And SIGKILL of vmorch leaves no
#     such process on any host after 2 s: the connections close, sshd
#     closes the channels, the workers see EOF.
#   - Usage: placement no host meets, --limit or --jobs 0 without --hosts.
# Disk images and kernels on hosts: tests/fleet/stage.sh.
# Speaks TAP.
set -u

. "$(dirname "$0")/suite.sh"
VMORCH_WORKER=$build/vmm-worker/vmm-worker
export VMORCH_WORKER
fleet_suite_start fleet-run sqlite3

q() { sqlite3 "$1" "$2"; }

fleet_kvm

fleet_inventory accept-new "slots: 2" "keepalive: 1s"
smoke=$src/scenarios/smoke.yaml
sha=$(sha256sum "$W" | cut -d' ' -f1)
njobs=$(q /dev/null "select 5")	# smoke.yaml: 5 VMs, one repeat each

"$V" run -q --hosts inv.yaml --db f.db "$smoke" >out 2>err
rc=$?
is "$rc" "$([ $kvm = 1 ] && echo 0 || echo 3)" "a fleet run of smoke.yaml: exit as a local run would"
cmp -s "$W" "wa/bin/$sha/vmm-worker" && cmp -s "$W" "wb/bin/$sha/vmm-worker"
ok $? "the static worker is staged on both hosts under its sha256"
is "$(q f.db 'select count(*) from vm_results')" "$njobs" "every job stored exactly once"
is "$(q f.db "select count(*) from vm_results where host in ('a', 'b')")" "$njobs" "each on a fleet host"
is "$(q f.db "select count(*) from attempts where attempt = 1 and outcome = 'result'")" "$njobs" "each with one attempt, the one that gave its result"
is "$(q f.db 'select group_concat(host) from (select host from host_facts order by host)')" "a,b" "the facts of both hosts, and none of this machine (--jobs 0)"
is "$(q f.db 'select kernel_release from host_facts where host = "a"')" "$(uname -r)" "a host's kernel release as it reported it"
if [ $kvm = 1 ]; then
	"$V" run -q --db l.db "$smoke" >/dev/null 2>&1
	cols="reads_completed, writes_completed, flushes_completed, bytes_read, bytes_written, io_errors, invalid_avail_idx_count"
	is "$(q f.db "select group_concat(x, ';') from (select r.vm || ':' || c.disk_idx || ':' || $(echo "$cols" | sed 's/, / || \x27,\x27 || /g') as x from vm_results r join blk_counters c on c.result_id = r.id order by 1)")" \
	   "$(q l.db "select group_concat(x, ';') from (select r.vm || ':' || c.disk_idx || ':' || $(echo "$cols" | sed 's/, / || \x27,\x27 || /g') as x from vm_results r join blk_counters c on c.result_id = r.id order by 1)")" \
	   "the deterministic counters equal a local run's"
else
	is "$(q f.db "select count(*) from vm_results where exit_kind = 'infra_error' and error like '%/dev/kvm%'")" "$njobs" "without KVM every job is infra_error, naming /dev/kvm"
fi

# A broken worker on host a: it ends without a result.
printf '#!/bin/sh\nexit 0\n' > "wa/bin/$sha/vmm-worker"
"$V" run -q --hosts inv.yaml --db g.db "$smoke" >out 2>err
rc=$?
is "$rc" "$([ $kvm = 1 ] && echo 0 || echo 3)" "a host that loses jobs: the run still ends as the jobs do"
is "$(q g.db 'select count(*) from vm_results')" "$njobs" "every job stored exactly once"
is "$(q g.db "select count(*) from vm_results where host = 'b'")" "$njobs" "all of them by host b"
# At least the first job a took; more when a is probed again (2, 4, 8 s
# later) while jobs remain, as they do when real guests take seconds.
lost=$(q g.db "select count(*) from attempts where host = 'a' and outcome = 'host_lost'")
[ "$lost" -ge 1 ]
ok $? "host a lost the jobs it took: $lost"
is "$(q g.db "select count(*) from attempts a where outcome = 'host_lost' and not exists (select 1 from attempts b where b.job = a.job and b.attempt = a.attempt + 1 and b.host = 'b' and b.outcome = 'result')")" 0 \
	"each lost job's next attempt is on host b, and gave its result"
q g.db "select reason from attempts where outcome = 'host_lost' limit 1" | grep -q "^host a lost: the worker's channel closed without a result"
ok $? "the attempt says why the host was lost"

# Both broken: nothing can run anywhere.
mkdir -p "wb/bin/$sha" && cp "wa/bin/$sha/vmm-worker" "wb/bin/$sha/vmm-worker"
"$V" run -q --hosts inv.yaml --db h.db "$smoke" >out 2>err
rc=$?
is "$rc" 3 "every host lost: exit 3"
is "$(q h.db "select count(*) from vm_results where exit_kind = 'host_lost'")" "$njobs" "every job stored, as host_lost"
is "$(q h.db 'select status from runs')" "error" "the run is an error, not a failure of the tests"

# No host reachable.
sed "s/port: $(cat fleet/h2/port)/port: 1/; s/port: $(cat fleet/h3/port)/port: 1/" inv.yaml > dead.yaml
"$V" run -q --hosts dead.yaml --db d.db "$smoke" >out 2>err
is "$?" 3 "no host reachable: exit 3"
grep -q "no fleet host is usable" err
ok $? "and says so"
is "$(q d.db 'select count(*) from runs' 2>/dev/null || echo 0)" 0 "nothing stored"

# ---- mid-job: a worker that holds its job until its stdin ends ----
cp "$(command -v cat)" holder
printf '#!/bin/sh\nexec %s/holder >/dev/null\n' "$tmp" > "wa/bin/$sha/vmm-worker"
rm -f "wb/bin/$sha/vmm-worker"	# b gets the real worker staged again
holders() { pgrep -f "^$tmp/holder" | wc -l | tr -d ' '; }
wait_holders() {	# wait_holders N: up to 15 s for N holders to run
	i=0
	while [ "$(holders)" -lt "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(holders)" -ge "$1" ]
}
# Two jobs: the pool fills host a's two slots first (a is listed first).
one_vm=$tmp/one.yaml
printf 'vmorch: 1\nname: one\ndefaults: {timeout: 60s, disks: [{size: 1M}]}\nvms:\n' > "$one_vm"
printf '  - {name: v1, workload: {pattern: randread, ops: 10}}\n' >> "$one_vm"
printf '  - {name: v2, workload: {pattern: randread, ops: 10}}\n' >> "$one_vm"

for fault in partition crash; do
	rm -f m.db*
	"$V" run -q --hosts inv.yaml --db m.db "$one_vm" >out 2>err &
	vpid=$!
	if wait_holders 2; then
		bash "$SSHD_SH" "$fault" fleet 2 >/dev/null
		wait $vpid
		rc=$?
		[ "$fault" = partition ] && bash "$SSHD_SH" heal fleet 2 >/dev/null
		is "$rc" "$([ $kvm = 1 ] && echo 0 || echo 3)" "$fault of host a mid-job: the run ends as its jobs do"
		is "$(q m.db 'select count(*) from vm_results')" 2 "$fault: every job stored exactly once"
		is "$(q m.db "select count(*) from vm_results where host = 'b'")" 2 "$fault: both by host b"
		[ "$(q m.db "select count(*) from attempts where host = 'a' and outcome = 'host_lost'")" -ge 1 ]
		ok $? "$fault: host a's tries are stored as host_lost"
		q m.db "select reason from attempts where outcome = 'host_lost'" > reasons
		if [ "$fault" = partition ]; then
			grep -q "nothing received for" reasons
			ok $? "partition: found by keepalive ($(head -1 reasons))"
		else
			[ -s reasons ]
			ok $? "crash: the reason is stored ($(head -1 reasons))"
		fi
	else
		kill $vpid 2>/dev/null
		wait $vpid
		ok 1 "$fault: the two jobs never started on host a"
	fi
	bash "$SSHD_SH" stopall fleet >/dev/null 2>&1
	for h in 2 3; do
		port=$(cat fleet/h$h/port)
		bash "$SSHD_SH" start fleet $h ed25519 >/dev/null
		# start picks a new port: put it into the inventories
		sed -i "s/port: $port\$/port: $(cat fleet/h$h/port)/" inv.yaml
	done
	rm -f known_hosts
done

# A lost host comes back, its store emptied: probed again after 2 s, it
# gets the worker staged again and takes the jobs again.
rm -f r2.db*
"$V" run -q --hosts inv.yaml --limit a --db r2.db "$one_vm" >out 2>err &
vpid=$!
if wait_holders 2; then
	bash "$SSHD_SH" partition fleet 2 >/dev/null
	i=0	# until a is lost (3 missed keepalives): up to 15 s
	while ! grep -q . r2.db 2>/dev/null && [ $i -lt 150 ] &&
	      [ "$(q r2.db "select count(*) from runs" 2>/dev/null)" = "" ]; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 4
	rm -rf wa/bin	# it comes back without the worker: staged again
	bash "$SSHD_SH" heal fleet 2 >/dev/null
	wait $vpid
	rc=$?
	is "$rc" "$([ $kvm = 1 ] && echo 0 || echo 3)" "a host lost and back: the run ends as its jobs do"
	is "$(q r2.db "select count(*) from vm_results where host = 'a'")" 2 "both jobs stored once, by host a after all"
	cmp -s "$W" "wa/bin/$sha/vmm-worker"
	ok $? "host a came back without its worker and was given it again"
	is "$(q r2.db "select group_concat(outcome) from (select outcome from attempts where job = 'one/v1#0' order by attempt)")" \
	   "host_lost,result" "the job's first try lost with the host, the second gave the result"
else
	kill $vpid 2>/dev/null
	wait $vpid
	ok 1 "revival: the two jobs never started on host a"
fi
printf '#!/bin/sh\nexec %s/holder >/dev/null\n' "$tmp" > "wa/bin/$sha/vmm-worker"

# SIGKILL of vmorch: nothing of its run stays on the hosts.
printf '#!/bin/sh\nexec %s/holder >/dev/null\n' "$tmp" > "wb/bin/$sha/vmm-worker"
rm -f k.db*
"$V" run -q --hosts inv.yaml --db k.db "$smoke" >out 2>err &
vpid=$!
wait_holders 4
ok $? "4 jobs run on the two hosts (2 slots each)"
kill -9 $vpid
wait $vpid 2>/dev/null
sleep 2
is "$(holders)" 0 "2 s after kill -9 of vmorch no worker runs on any host"

# Usage errors, before anything connects.
cat > pl.yaml <<'Y'
vmorch: 1
name: pl
vms:
  - name: fast
    placement:
      labels: [nvme]
Y
"$V" run --hosts inv.yaml --db u.db pl.yaml >out 2>err
is "$?" 2 "a job whose placement no host meets: usage error"
grep -q "job pl/fast#0: no host of inv.yaml has all its placement labels" err
ok $? "naming the job"
"$V" run --limit a --db u.db "$smoke" >out 2>err
is "$?" 2 "--limit without --hosts: usage error"
"$V" run --jobs 0 --db u.db "$smoke" >out 2>err
is "$?" 2 "--jobs 0 without --hosts: usage error"

tap_end
