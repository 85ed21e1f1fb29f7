#!/bin/sh
# tests/fleet/hosts-check.sh - `vmorch hosts check` against real sshd
# servers on 127.0.0.N (tests/fleet/sshd.sh): each host's facts equal this
# machine's own (the fake hosts are this machine), the worker is seen
# staged once it is, an unreachable host and an unknown host key are
# reported per host with exit 3, and an inventory that turns host key
# checking off needs an explicit flag.  Speaks TAP.
set -u

. "$(dirname "$0")/suite.sh"
fleet_suite_start hosts-check jq

vm() {	# vm ARGS...: $rc, out, err
	"$V" "$@" >out 2>err
	rc=$?
}

p2=$(cat fleet/h2/port) p3=$(cat fleet/h3/port)


fleet_inventory accept-new
vm hosts check --json inv.yaml
kvm_ok=1
[ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_ok=0
is "$rc" "$([ $kvm_ok -eq 0 ] && echo 0 || echo 3)" "exit status: 0 only when /dev/kvm is usable here"
is "$(jq -r '[.hosts[] | select(.connected and .probed)] | length' out)" 2 "both hosts logged in and probed"
# The hosts log in at once: either may be line 1.
line_a=$(grep -n "^\[127.0.0.2\]:$p2 ssh-ed25519 " known_hosts | cut -d: -f1)
is "$(jq -r '.hosts[0].login.host_key_status' out)" "recorded (known_hosts line $line_a)" "accept-new records host a's key, at the line that names it"
is "$(wc -l < known_hosts | tr -d ' ')" 2 "one known_hosts line per host"
is "$(jq -r '.hosts[1].login.auth' out)" "identity file $tmp/fleet/id_ed25519 (ssh-ed25519)" "logged in with the identity file"
# Timings: logged in, then the probe's answer, within the 20 s bounds.
is "$(jq -r '.hosts[0] | .login.ms > 0 and .probe_ms >= .login.ms and .probe_ms < 40000' out)" true \
   "the login and probe times are there, in order"
is "$(jq -r '.hosts[0].facts.kernel_release' out)" "$(uname -r)" "kernel release is the host's"
is "$(jq -r '.hosts[0].facts.cpus' out)" "$(grep -c '^processor' /proc/cpuinfo)" "CPU count is the host's"
is "$(jq -r '.hosts[0].facts.memory_bytes' out)" "$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo) * 1024))" "memory is the host's MemTotal"
is "$(jq -r '.hosts[0].kvm_usable' out)" "$([ $kvm_ok -eq 0 ] && echo true || echo false)" "/dev/kvm usable as this user says"
is "$(jq -r '.hosts[0].worker_staged' out)" false "no worker staged yet"

sha=$(sha256sum "$W" | cut -d' ' -f1)
mkdir -p "wa/bin/$sha" && cp "$W" "wa/bin/$sha/vmm-worker"
vm hosts check --json inv.yaml
is "$(jq -r '.hosts[0].worker_staged' out)" true "the staged worker (by its sha256) is seen"
is "$(jq -r '.hosts[0].login.host_key_status' out)" "known (known_hosts line $line_a)" "the recorded key is known the second time"

vm hosts check --limit first inv.yaml
is "$(tail -1 out)" "$([ $kvm_ok -eq 0 ] && echo 1 || echo 0) of 1 host usable" "--limit by label checks one host"
grep -q "^a  " out
ok $? "its row is in the table"

bash "$SSHD_SH" crash fleet 3 >/dev/null
vm hosts check --timeout 5 --json inv.yaml
is "$rc" 3 "an unreachable host: exit 3"
is "$(jq -r '.hosts[1].error' out)" "b: connect to 127.0.0.3 port $p3: Connection refused" "the error names the host and why"
is "$(jq -r '.hosts[1].usable' out)" false "and it is not usable"

rm -f known_hosts
fleet_inventory strict
vm hosts check --limit a --json inv.yaml
is "$rc" 3 "strict: an unknown host key is refused"
fp=$(ssh-keygen -lf fleet/h2/ssh_host_ed25519_key.pub -E sha256 | cut -d' ' -f2)
jq -r '.hosts[0].error' out | grep -qF "$fp"
ok $? "the refusal gives the key's fingerprint as ssh-keygen prints it ($fp)"
[ ! -e known_hosts ] || [ ! -s known_hosts ]
ok $? "strict records nothing"

fleet_inventory off
vm hosts check --limit a inv.yaml
is "$rc" 2 "host_key_check: off without --allow-unchecked-host-keys is refused"
grep -q "allow-unchecked-host-keys" err
ok $? "and the message names the flag"
vm hosts check --allow-unchecked-host-keys --limit a inv.yaml
grep -q "warning: host keys of some hosts are NOT checked" err
ok $? "with the flag, a warning on every check"

tap_end
