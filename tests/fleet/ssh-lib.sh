#!/bin/sh
# tests/fleet/ssh-lib.sh - libssh2 is loaded at run time, only by commands
# that use SSH (orchestrator/ssh_lib.c): vmorch does not link it or the
# libcrypto it brings, commands without SSH never map it, and a
# libssh2 that cannot be loaded (VMORCH_LIBSSH2, the test hook naming the
# file) is one clear line and exit 3 from the commands that need it.
# No sshd needed: nothing listens on the inventory's address.  Speaks TAP.
set -u

src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
V=$build/orchestrator/vmorch
W=$build/vmm-worker/vmm-worker-static
. "$src/tests/tap.sh"

[ -x "$V" ] || skip_all "$V not built"
[ -x "$W" ] || skip_all "$W not built"
command -v readelf >/dev/null || skip_all "no readelf (apt-get install binutils)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssh-lib.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 99

vm() {	# vm ARGS...: $rc, out, err; ld.* lists the files ld.so loaded
	rm -f ld.*
	LD_DEBUG=files LD_DEBUG_OUTPUT=$tmp/ld "$V" "$@" >out 2>err
	rc=$?
}

loaded() {	# loaded NAME: did the last vm load a library named NAME.so*?
	cat ld.* 2>/dev/null | grep -q "file=$1\.so[.0-9]* "
}

readelf -d "$V" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' > needed
# Not libz: vmorch compresses stored consoles with it (schema 11).
for lib in libssh2 libcrypto libssl; do
	is "$(grep "^$lib\.so" needed)" "" "vmorch does not link $lib"
done

# 127.0.0.77 port 9: nothing listens, the connection is refused at once.
cat > inv.yaml <<Y
vmorch-hosts: 1
defaults:
  user: $(id -un)
  known_hosts: $tmp/known_hosts
  workdir: $tmp/work
hosts:
  - name: a
    address: 127.0.0.77
    port: 9
Y
cat > one.yaml <<'Y'
vmorch: 1
name: one
vms:
  - name: a
Y

vm --help
is "$rc" 0 "--help works"
loaded libssh2
is "$?" 1 "--help does not load libssh2"
loaded libcrypto
is "$?" 1 "nor libcrypto"

vm validate --hosts inv.yaml one.yaml
is "$rc" 0 "validate --hosts places VMs without SSH"
loaded libssh2
is "$?" 1 "and does not load libssh2"

vm hosts check --timeout 5 inv.yaml
is "$rc" 3 "hosts check: a host that refuses the connection is not usable"
loaded libssh2
ok $? "hosts check loads libssh2"
grep -q "connect to 127.0.0.77 port 9: Connection refused" out
ok $? "and reaches the host through it"

export VMORCH_LIBSSH2=/nonexistent/libssh2.so.1
missing="SSH needs libssh2, which cannot be loaded: $VMORCH_LIBSSH2: cannot open shared object file: No such file or directory (Debian: apt-get install libssh2-1)"

vm hosts check inv.yaml
is "$rc" 3 "hosts check without libssh2 is an infrastructure failure"
is "$(cat err)" "vmorch hosts check: $missing" "one line naming the file, why, and the package"
is "$(cat out)" "" "and no host table"

vm run --hosts inv.yaml --db runs.db one.yaml
is "$rc" 3 "run --hosts without libssh2 is an infrastructure failure"
is "$(cat err)" "vmorch run: $missing" "with the same one line"
[ ! -e runs.db ]
ok $? "before any run is recorded"

vm validate --hosts inv.yaml one.yaml
is "$rc" 0 "validate --hosts needs no libssh2"
vm --help
is "$rc" 0 "nor does --help"

# A library that loads but is not libssh2 (the C library): the first
# function it lacks is named.
VMORCH_LIBSSH2=$(ldd "$V" | sed -n 's/.*libc\.so\.6 => \([^ ]*\) .*/\1/p')
vm hosts check inv.yaml
is "$rc" 3 "a library without libssh2's functions is refused"
case $(cat err) in
"vmorch hosts check: SSH needs libssh2 "[0-9]*" or later, but $VMORCH_LIBSSH2: undefined symbol: libssh2_init (Debian: apt-get install libssh2-1)")
	ok 0 "naming the first missing function and the version built against";;
*)	ok 1 "naming the first missing function and the version built against (got '$(cat err)')";;
esac

tap_end
