# suite.sh - sourced by the nested TAP suites (builtin-in-l1.sh,
# linux-in-l1.sh) before their own work: the source and build trees, and
# what they need on the host.  When something is missing the suite skips
# (TAP "1..0 # SKIP why"), unless CI or VMORCH_REQUIRE_NESTED=1 is set: then
# it fails and says what is missing.  VMORCH_NESTED=0 skips on purpose.
# Sets here, srcdir, builddir (exported as VMORCH_SRCDIR/VMORCH_BUILDDIR)
# and kdir, the test kernel's directory.
#
#   nested_suite_start TOOL...   also requires each TOOL on $PATH

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${VMORCH_SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${VMORCH_BUILDDIR:-$srcdir}
export VMORCH_SRCDIR=$srcdir VMORCH_BUILDDIR=$builddir

unavailable() {
	if [ -n "${CI:-}" ] || [ "${VMORCH_REQUIRE_NESTED:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - nested KVM harness: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

nested_suite_start() {
	if [ "${VMORCH_NESTED:-1}" = 0 ]; then
		echo "1..0 # SKIP VMORCH_NESTED=0"
		exit 0
	fi
	command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 ||
		unavailable "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
	for tool in cpio "$@"; do
		command -v "$tool" >/dev/null 2>&1 || unavailable "$tool is not installed"
	done
	[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] ||
		unavailable "busybox is not installed (Debian: busybox-static)"
	kdir=$("$srcdir/scripts/fetch-test-kernel.sh" 2>/tmp/fetch-kernel.$$) || {
		why=$(cat /tmp/fetch-kernel.$$)
		rm -f /tmp/fetch-kernel.$$
		unavailable "cannot fetch the test kernel: $why"
	}
	rm -f /tmp/fetch-kernel.$$
}

# nested_relay FILE: the TAP lines a script printed in L1, numbered after
# the $n tests so far ($n is updated): plans dropped, "L1: " before each
# description, a skip kept as a skip, anything else as a comment.
nested_relay() {
	while IFS= read -r line; do
		case $line in
		"1.."*) ;;
		"ok "* | "not ok "*)
			st=${line%%ok *}ok
			rest=$(printf '%s\n' "${line#"$st" }" | sed 's/^[0-9]* *//; s/^- //')
			n=$((n + 1))
			case $st:$rest in
			*:"# SKIP"* | "ok:#"*) echo "ok $n $rest" ;;
			"not ok":*) echo "not ok $n - L1: $rest" ;;
			*) echo "ok $n - L1: $rest" ;;
			esac
			;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done < "$1"
}
