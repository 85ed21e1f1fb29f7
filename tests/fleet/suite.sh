# tests/fleet/suite.sh - sourced by the fleet TAP scripts that run real
# sshd servers (hosts-check.sh, run.sh): the tree's programs, TAP's ok/is,
# and fake hosts 2 (127.0.0.2) and 3 (127.0.0.3) of tests/fleet/sshd.sh in
# a fresh directory that is the current one, all gone at exit.
#
#   fleet_suite_start NAME TOOL...   needs vmorch, vmm-worker-static, sshd
#                                    and each TOOL; skips without them
#                                    (fails under CI)

src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
V=$build/orchestrator/vmorch
W=$build/vmm-worker/vmm-worker-static
SSHD_SH=$src/tests/fleet/sshd.sh
n=0
failed=0

skip_all() {	# under CI a missing prerequisite is a failure
	if [ -n "${CI:-}" ]; then
		echo "1..1"
		echo "not ok 1 - $1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

ok() {	# ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

is() {	# is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	ok $? "$3 (got '$1', want '$2')"
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
