# tests/cli-lib.sh - sourced by the TAP scripts that drive the built vmorch
# (hostile.sh, run-meta.sh, db-manage.sh, cli-docs.sh): where the binaries
# are, a plain environment (no colour, no VMORCH_DB of the caller's), tap.sh,
# and what each of them needs:
#
#   cli_start NAME TOOL...   skip without vmorch or a TOOL; $tmp, a fresh
#                            directory removed at exit, becomes the cwd
#   vm ARGS...               run vmorch: $rc its status, out and err its output
#   has FILE TEXT DESC       FILE contains TEXT (else its head is shown)
#   pass_or_infra RC DESC    RC is 0 (a pass, with KVM) or 3 (no KVM)
src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
V=$build/orchestrator/vmorch
VMORCH_WORKER=$build/vmm-worker/vmm-worker
NO_COLOR=1
export VMORCH_WORKER NO_COLOR
unset VMORCH_DB
. "$src/tests/tap.sh"

cli_start() {
	_name=$1
	shift
	[ -x "$V" ] || skip_all "$V not built"
	for _tool; do
		command -v "$_tool" >/dev/null || skip_all "no $_tool (apt-get install $_tool)"
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$_name.XXXXXX") || exit 99
	trap 'rm -rf "$tmp"' EXIT
	cd "$tmp" || exit 99
}

vm() {
	"$V" "$@" >out 2>err
	rc=$?
}

has() {
	grep -qF -- "$2" "$1"
	ok $? "$3"
	grep -qF -- "$2" "$1" || sed 's/^/#   /' "$1" | head -5
}

pass_or_infra() {
	case $1 in
	0|3) ok 0 "$2 (status $1)" ;;
	*) ok 1 "$2 (status $1, want 0 or 3)"; [ -f err ] && sed 's/^/#   /' err ;;
	esac
}
