#!/bin/sh
# tests/fleet/placement.sh - `vmorch validate --hosts INVENTORY`: a VM whose
# placement labels no host of the inventory (after --limit) has is refused
# at validate, with the position of its labels, before any host is asked.
# No SSH needed.  Speaks TAP.
set -u

src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
V=$build/orchestrator/vmorch
. "$src/tests/tap.sh"

[ -x "$V" ] || skip_all "$V not built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/placement.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 99

vm() {	# vm ARGS...: $rc, out, err
	"$V" "$@" >out 2>err
	rc=$?
}

cat > lab.yaml <<'Y'
vmorch-hosts: 1
hosts:
  - name: kvm01
    labels: [amd, nvme]
  - name: kvm[02-03]
    labels: [intel]
Y
cat > pl.yaml <<'Y'
vmorch: 1
name: pl
vms:
  - name: fast
    repeat: 3
    placement:
      labels: [nvme, intel]
  - name: amd-nvme
    placement:
      labels: [nvme, amd]
  - name: anywhere
Y

vm validate --hosts lab.yaml pl.yaml
is "$rc" 2 "a VM no host can take fails validate"
is "$(cat err)" "pl.yaml:7:15: VM 'fast': no host of lab.yaml has every label of [nvme, intel]" \
	"the message names the VM, its labels' position and the inventory, once for 3 repeats"

sed -i 's/labels: \[nvme, intel\]/labels: [intel]/' pl.yaml
vm validate --hosts lab.yaml pl.yaml
is "$rc" 0 "every VM has a host"
is "$(cat out)" "pl.yaml: ok, 5 jobs, sha256 $(sha256sum pl.yaml | cut -d' ' -f1)" "validate says what run would store"

vm validate --hosts lab.yaml --limit intel pl.yaml
is "$rc" 2 "--limit leaves only the intel hosts"
is "$(cat err)" "pl.yaml:10:15: VM 'amd-nvme': no host of lab.yaml has every label of [nvme, amd]" \
	"the VM that needs the hosts --limit dropped is named"

vm validate pl.yaml
is "$rc" 0 "without --hosts, placement is not checked"

vm validate --limit intel pl.yaml
is "$rc" 2 "--limit without --hosts is a usage error"
is "$(cat err)" "vmorch validate: --limit needs --hosts" "and says so"

vm validate --hosts lab.yaml --limit kvm09 pl.yaml
is "$rc" 2 "a --limit that selects nothing is refused"
grep -q "kvm09" err
ok $? "and the message names it"

printf 'vmorch-hosts: 1\nhosts:\n  - name: a\n    password: x\n' > pw.yaml
vm validate --hosts pw.yaml pl.yaml
is "$rc" 2 "an inventory with a password is refused"
grep -q "^pw.yaml:4:5: " err
ok $? "with its position ($(cat err))"

tap_end
