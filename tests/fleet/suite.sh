# tests/fleet/suite.sh - sourced by the fleet TAP scripts that run real
# sshd servers (hosts-check.sh, run.sh, stage.sh, gc.sh): the tree's
# programs, TAP's ok/is (tests/tap.sh), an inventory of them, and fake
# hosts 2 (127.0.0.2) and 3 (127.0.0.3) of tests/fleet/sshd.sh in a fresh
# directory that is the current one, all gone at exit.
#
#   fleet_suite_start NAME TOOL...   needs vmorch, vmm-worker-static, sshd
#                                    and each TOOL; skips without them
#                                    (fails under CI)

src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
V=$build/orchestrator/vmorch
W=$build/vmm-worker/vmm-worker-static
SSHD_SH=$src/tests/fleet/sshd.sh
. "$src/tests/tap.sh"

# fleet_inventory POLICY [LINE...]: inv.yaml with hosts a (127.0.0.2,
# label first, workdir $tmp/wa) and b (127.0.0.3, $tmp/wb) of the running
# sshd servers, key checking POLICY, and each LINE ("slots: 2") added to
# the defaults.
fleet_inventory() {
	policy=$1
	shift
	{
		printf 'vmorch-hosts: 1\ndefaults:\n  user: %s\n' "$(id -un)"
		printf '  identity: %s/fleet/id_ed25519\n  known_hosts: %s/known_hosts\n' "$tmp" "$tmp"
		printf '  host_key_check: %s\n' "$policy"
		for line; do printf '  %s\n' "$line"; done
		printf 'hosts:\n'
		printf '  - name: a\n    address: 127.0.0.2\n    port: %s\n    workdir: %s/wa\n' \
			"$(cat fleet/h2/port)" "$tmp"
		printf '    labels: [first]\n'
		printf '  - name: b\n    address: 127.0.0.3\n    port: %s\n    workdir: %s/wb\n' \
			"$(cat fleet/h3/port)" "$tmp"
	} > inv.yaml
}

# fleet_kvm: kvm=1 when this user may use /dev/kvm; else kvm=0 and
# VMORCH_FLEET_ALLOW_NO_KVM=1, so that the hosts are used anyway and every
# job ends at /dev/kvm, having taken the whole path.
fleet_kvm() {
	kvm=0
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		kvm=1
	else
		VMORCH_FLEET_ALLOW_NO_KVM=1
		export VMORCH_FLEET_ALLOW_NO_KVM
	fi
}

fleet_suite_start() {
	name=$1
	shift
	[ -x "$V" ] || skip_all "$V not built"
	[ -x "$W" ] || skip_all "$W not built"
	[ -x /usr/sbin/sshd ] || skip_all "no sshd (apt-get install openssh-server)"
	for tool; do
		command -v "$tool" >/dev/null || skip_all "no $tool"
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || exit 99
	trap 'bash "$SSHD_SH" stopall "$tmp/fleet" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
	cd "$tmp" || exit 99
	export SSHD_OWNER_PID=$$
	unset SSH_AUTH_SOCK
	bash "$SSHD_SH" keys fleet >/dev/null || skip_all "cannot make user keys"
	for h in 2 3; do
		bash "$SSHD_SH" start fleet $h ed25519 >/dev/null ||
			skip_all "cannot start sshd on 127.0.0.$h"
	done
}
