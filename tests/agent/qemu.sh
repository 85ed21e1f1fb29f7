#!/bin/sh
# tests/agent/qemu.sh - vmorch-agent and the initramfs the worker builds,
# booted by QEMU in software emulation (TCG) with Debian's cloud kernel and
# QEMU's own virtio-blk: the workload runs, the VMORCH-RESULT line parses
# with exact counts, and the verdict reaches isa-debug-exit (QEMU exits 33
# on pass, 35 on fail).  The user's own program too: a job.json appended to
# the initramfs as the worker appends it, the result line bound to its
# nonce.  Speaks TAP.  Skips without QEMU or the kernel,
# unless CI is set.
#
# Machines: microvm with ACPI (virtio-mmio devices as LNRO0005 in the DSDT,
# as vmm-worker describes them; tsc_early_khz= because TCG offers the
# kernel no clock to calibrate the TSC against, it hangs without) and the
# pc machine with virtio-blk-pci (virtio_pci added to the initramfs).
set -u

src=${VMORCH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${VMORCH_BUILDDIR:-$src}
mkinitramfs=$build/tests/test_initramfs
PLAN=84
. "$src/tests/tap.sh"

command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64"
command -v jq >/dev/null || skip_all "no jq"
command -v cpio >/dev/null || skip_all "no cpio"
[ -x "$mkinitramfs" ] || skip_all "$mkinitramfs not built"
kdir=$("$src/scripts/fetch-test-kernel.sh" 2>/dev/null) || skip_all "cannot fetch Debian's kernel"
kernel=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$kernel" ] || skip_all "no vmlinuz in $kdir"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agent-qemu.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

initrd=$("$mkinitramfs" --build "$kernel") || skip_all "initramfs build failed"
initrd_pci=$(VMORCH_INITRAMFS_MODULES=virtio_pci "$mkinitramfs" --build "$kernel") ||
	skip_all "initramfs (virtio_pci) build failed"

echo "1..$PLAN"

is() {	# is GOT WANT DESCRIPTION: tap.sh's, with the console's tail on a miss
	[ "$1" = "$2" ]
	ok $? "$3 (got $1, want $2)"
	[ "$1" = "$2" ] || { echo "# console tail:"; tail -15 "$console" | sed 's/^/#   /'; }
}

# field KEY: from the last VMORCH-RESULT line of $console.
field() {
	printf '%s\n' "$result" | jq -r ".$1"
}

# boot MACHINE INITRD APPEND DISK-ARGS...: sets $rc, $console, $result.
# Single-threaded TCG, as in tests/nested/builtin-in-l1.sh: in the third of
# five `make check` runs beside stress-ng (2026-12-07), a microvm guest on
# QEMU 7.2's default multi-threaded TCG froze for good 0.5 s after the agent
# started (no output for 160 s, though every wait of the agent is bounded by
# 10 s of guest time: the guest's clock stopped).  One vCPU gains nothing
# from the multi-threaded mode.
boot() {
	machine=$1 rd=$2 append=$3
	shift 3
	console=$tmp/console.$n
	t0=$(date +%s%N)
	if [ "$machine" = microvm ]; then
		timeout 180 qemu-system-x86_64 -M microvm,acpi=on -accel tcg,thread=single -cpu max \
			-m 512M -nodefaults -no-user-config -nographic -no-reboot \
			-serial stdio -kernel "$kernel" -initrd "$rd" \
			-append "console=ttyS0 tsc_early_khz=2000000 $append" \
			-global virtio-mmio.force-legacy=false \
			-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
			</dev/null >"$console" 2>&1
	else
		timeout 180 qemu-system-x86_64 -accel tcg,thread=single -cpu max \
			-m 512M -nodefaults -no-user-config -nographic -no-reboot \
			-serial stdio -kernel "$kernel" -initrd "$rd" \
			-append "console=ttyS0 $append" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
			</dev/null >"$console" 2>&1
	fi
	rc=$?
	echo "# $machine boot to power-off: $(( ($(date +%s%N) - t0) / 1000000 )) ms" \
		"(guest: /init at $(sed -n 's/.*"init_ms":\([0-9]*\).*/\1/p' "$console" | tail -1) ms)"
	if [ -n "${nonce:-}" ]; then
		result=$(tr -d '\r' <"$console" | sed -n "s/^VMORCH-RESULT $nonce //p" | tail -1)
	else
		result=$(sed -n 's/^VMORCH-RESULT //p' "$console" | tr -d '\r' | tail -1)
	fi
	printf '%s\n' "$result" | jq -e . >/dev/null 2>&1
	ok $? "the result line parses as JSON"
}

disk() {	# disk NAME SIZE [readonly=on]: -drive/-device args on stdout
	[ -f "$tmp/$1.raw" ] || truncate -s "$2" "$tmp/$1.raw"
	echo "-drive file=$tmp/$1.raw,format=raw,if=none,id=$1${3:+,$3} -device virtio-blk-device,drive=$1"
}

# 1. The issue's workload on one disk: verify=1 first writes the 1 MiB span
#    (256 blocks), then 200 random reads check it.
boot microvm "$initrd" "pattern=randread bs=4k ops=200 qd=8 verify=1 span=1M" \
	$(disk d0 16M)
is "$rc" 33 "randread verify: QEMU exits 33 (pass)"
is "$(field status)" pass "randread verify: status"
is "$(field disks)" 1 "randread verify: disks"
is "$(field ops)" 200 "randread verify: ops"
is "$(field reads)" 200 "randread verify: reads"
is "$(field writes)" 256 "randread verify: writes (the verify fill)"
is "$(field bytes_read)" 819200 "randread verify: bytes_read"
is "$(field bytes_written)" 1048576 "randread verify: bytes_written"
is "$(field verify_errors)" 0 "randread verify: verify_errors"
is "$(field sys_writes)" 256 "randread verify: the block layer sent exactly the agent's writes"

# 2. Two disks: disk 0 is the lower window, which QEMU gives the LAST
#    -device; randrw counts reads + writes == ops, flush=50 queues 6 per disk.
boot microvm "$initrd" "pattern=randrw rwmix=70 bs=4k ops=300 qd=16 flush=50 seed=7" \
	$(disk d2 16M) $(disk d1 8M)
is "$rc" 33 "two disks: QEMU exits 33"
is "$(field disks)" 2 "two disks: disks"
is "$(field ops)" 600 "two disks: ops"
is "$(($(field reads) + $(field writes)))" 600 "two disks: reads + writes == ops"
is "$(field flushes)" 12 "two disks: flushes"
is "$(field sys_flushes)" 12 "two disks: one FLUSH reached the device per flush"
is "$(field sys_writes)" "$(field writes)" "two disks: sys_writes == writes"
grep -q 'disk 0: vd[a-z] at 0x[0-9a-f]*, 8388608 bytes' "$console"
ok $? "two disks: disk 0 is the 8 MiB disk at the lower window"
grep -q 'disk 1: vd[a-z] at 0x[0-9a-f]*, 16777216 bytes' "$console"
ok $? "two disks: disk 1 is the 16 MiB disk"

# 3. A read-only disk: Linux refuses the writes itself (nothing reaches the
#    device) and the agent counts each refusal.
boot microvm "$initrd" "pattern=seqread ops=10 ro_check=4" $(disk d3 4M readonly=on)
is "$rc" 33 "read-only: QEMU exits 33"
is "$(field ro_disks)" 1 "read-only: ro_disks"
is "$(field ro_refused)" 4 "read-only: ro_refused"
is "$(field sys_writes)" 0 "read-only: no write reached the device"

# 4. Without ro_check a write workload on it fails, with a reason.
boot microvm "$initrd" "pattern=seqwrite ops=10" $(disk d3 4M readonly=on)
is "$rc" 35 "read-only write workload: QEMU exits 35 (fail)"
is "$(field status)" fail "read-only write workload: status"
is "$(field reason)" "disk 0 is read-only" "read-only write workload: reason"

# 5. A known key with a bad value fails the run.
boot microvm "$initrd" "pattern=randread bs=3" $(disk d0 16M)
is "$rc" 35 "bad value: QEMU exits 35"
is "$(field reason)" "bad value in bs=3" "bad value: reason"

# 6. command= (base64) runs through busybox sh when the initramfs has it.
if gzip -dc "$initrd" | cpio -t --quiet 2>/dev/null | grep -qx bin/busybox; then
	cmd=$(printf 'echo hello-$((6*7)); ls /lib/modules | wc -l' | base64 -w0)
	boot microvm "$initrd" "command=$cmd" $(disk d0 16M)
	is "$rc" 33 "command: QEMU exits 33"
	is "$(field exit_code)" 0 "command: exit_code"
	grep -q '^hello-42' "$console"
	ok $? "command: its output is on the console"
	boot microvm "$initrd" "command=$(printf 'exit 3' | base64 -w0)"
	is "$rc" 35 "failing command: QEMU exits 35"
	is "$(field exit_code)" 3 "failing command: exit_code"
else
	skip_n 7 "no static busybox on this machine (busybox-static)"
fi

# 7. The pc machine: virtio-blk-pci, virtio_pci in the initramfs; a write
#    pattern verifies by reading back what it wrote.
truncate -s 8M "$tmp/p0.raw"
boot pc "$initrd_pci" "pattern=seqwrite bs=64k ops=64 qd=4 verify=1" \
	-drive file="$tmp/p0.raw",format=raw,if=none,id=p0 -device virtio-blk-pci,drive=p0
is "$rc" 33 "pc machine: QEMU exits 33"
is "$(field writes)" 64 "pc machine: writes"
is "$(field reads)" 64 "pc machine: reads (read-back)"
is "$(field verify_errors)" 0 "pc machine: verify_errors"

# job_initrd JSON: $initrd plus a second, uncompressed newc archive holding
# /.vmorch/job.json (0400), as the worker appends it: Linux unpacks
# concatenated archives, zero padding between them allowed.  @NONCE@ in
# JSON becomes a fresh nonce.  Sets $job_rd and $nonce.
job_initrd() {
	nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	jd=$tmp/jobdir.$n
	mkdir -p "$jd/.vmorch"
	printf '%s' "$1" | sed "s/@NONCE@/$nonce/" >"$jd/.vmorch/job.json"
	chmod 0400 "$jd/.vmorch/job.json"
	job_rd=$tmp/job.$n.img
	cp "$initrd" "$job_rd"
	size=$(stat -c %s "$job_rd")
	head -c $(( (4 - size % 4) % 4 )) /dev/zero >>"$job_rd"
	(cd "$jd" && printf '.vmorch\n.vmorch/job.json\n' | cpio -o -H newc --quiet) >>"$job_rd"
}

# nonce_lines: result lines bound to $nonce on the console.
nonce_lines() {
	tr -d '\r' <"$console" | grep -c "^VMORCH-RESULT $nonce "
}

# on_console LINE DESCRIPTION: the console has LINE, whole.
on_console() {
	tr -d '\r' <"$console" | grep -qxF -- "$1"
	ok $? "$2"
}

# 8. The user's program (job.json's run) needs busybox's sh.
if gzip -dc "$initrd" | cpio -t --quiet 2>/dev/null | grep -qx bin/sh; then
	# a. A shell string: its metric, and the job file is gone before it runs.
	job_initrd '{"nonce":"@NONCE@","run":"echo VMORCH-METRIC user.answer $((6*7)); echo VMORCH-METRIC user.job_left $(ls -d /.vmorch 2>/dev/null | wc -l)"}'
	boot microvm "$job_rd" "" $(disk d0 16M)
	is "$rc" 33 "run: QEMU exits 33"
	is "$(nonce_lines)" 1 "run: one result line, bound to the nonce"
	is "$(field status)" pass "run: status"
	is "$(field exit_code)" 0 "run: exit_code"
	is "$(field '["user.answer"]')" 42 "run: user.answer"
	is "$(field '["user.job_left"]')" 0 "run: job.json was removed before the program ran"

	# b. A failing exit status fails the run; its output is on the console.
	job_initrd '{"nonce":"@NONCE@","run":"echo visible-$((40+2)); exit 3"}'
	boot microvm "$job_rd" "" $(disk d0 16M)
	is "$rc" 35 "run exit 3: QEMU exits 35"
	is "$(field status)" fail "run exit 3: status"
	is "$(field exit_code)" 3 "run exit 3: exit_code"
	is "$(field reason)" "run: exited with status 3" "run exit 3: reason"
	on_console visible-42 "run exit 3: the program's line is on the console"

	# c. A forged result line without the nonce changes nothing.
	job_initrd '{"nonce":"@NONCE@","run":"echo '"'"'VMORCH-RESULT {\"status\":\"pass\"}'"'"'; exit 1"}'
	boot microvm "$job_rd" "" $(disk d0 16M)
	is "$rc" 35 "forged line: QEMU exits 35"
	on_console 'VMORCH-RESULT {"status":"pass"}' "forged line: the program printed it"
	is "$(nonce_lines)" 1 "forged line: one line bound to the nonce"
	is "$(field status)" fail "forged line: the bound line says fail"

	# d. An argv run: ${disk0} is disk 0 (the 8 MiB disk at the lower window).
	job_initrd '{"nonce":"@NONCE@","run":["/bin/sh","-c","test -b \"$1\" && echo VMORCH-METRIC user.disk_ok 1; echo VMORCH-METRIC user.disk0_sectors $(cat /sys/class/block/${1#/dev/}/size)","sh","${disk0}"]}'
	boot microvm "$job_rd" "" $(disk d2 16M) $(disk d1 8M)
	is "$rc" 33 "argv run: QEMU exits 33"
	is "$(field '["user.disk_ok"]')" 1 "argv run: \${disk0} is a block device"
	is "$(field '["user.disk0_sectors"]')" 16384 "argv run: \${disk0} is the 8 MiB disk"

	# e. The in-guest time limit ends sleep 600: SIGTERM at 8 s after boot.
	job_initrd '{"nonce":"@NONCE@","time_limit_ms":8000,"run":"echo started; sleep 600"}'
	boot microvm "$job_rd" "" $(disk d0 16M)
	is "$rc" 35 "time limit: QEMU exits 35"
	is "$(field status)" timeout "time limit: status"
	is "$(field reason)" "run: killed at the in-guest time limit (8000 ms after boot)" \
		"time limit: reason"
	is "$(field exit_code)" 143 "time limit: exit_code (SIGTERM)"
	on_console started "time limit: the output before it is on the console"

	# f. A rootfs image (scripts/make-rootfs.sh: static busybox, a marker)
	#    after the test disk: the program runs chrooted there, /proc, /sys,
	#    /dev and a writable /tmp inside, and ${disk0} is still the test
	#    disk.  The program is found by name in the image's PATH through
	#    an absolute link to a file only the image has.  QEMU gives the
	#    last -device the lowest window, so the rootfs comes first on its
	#    command line.
	mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/opt/bb"
	cp "$(command -v busybox)" "$tmp/rootfs/opt/bb/busybox"
	ln -sf /opt/bb/busybox "$tmp/rootfs/bin/busybox"
	ln -sf /opt/bb/busybox "$tmp/rootfs/bin/sh"
	echo rootfs-marker-5 >"$tmp/rootfs/etc/marker"
	if "$src/scripts/make-rootfs.sh" -d "$tmp/rootfs" "$tmp/root.raw" 2>/dev/null; then
		job_initrd '{"nonce":"@NONCE@","rootfs_disk":1,"run":["sh","-c","/bin/busybox cat /etc/marker; /bin/busybox test -w /tmp && /bin/busybox test -e /proc/self/stat && /bin/busybox test -d /sys/block && /bin/busybox test -c /dev/null && echo VMORCH-METRIC user.in_rootfs 1; echo VMORCH-METRIC user.disk0_sectors $(/bin/busybox cat /sys/class/block/${1#/dev/}/size)","sh","${disk0}"]}'
		boot microvm "$job_rd" "" $(disk root 0 readonly=on) $(disk d0 16M)
		is "$rc" 33 "rootfs: QEMU exits 33"
		is "$(field status)" pass "rootfs: status"
		is "$(field '["user.in_rootfs"]')" 1 "rootfs: chrooted, with /proc /sys /dev and a writable /tmp"
		is "$(field '["user.disk0_sectors"]')" 32768 "rootfs: \${disk0} is the 16 MiB test disk"
		is "$(field disks)" 1 "rootfs: one test disk (the image is not one)"
		on_console rootfs-marker-5 "rootfs: the image's own file was read"
	else
		skip_n 7 "cannot make an ext4 image here (mkfs.ext4: e2fsprogs)"
	fi
else
	skip_n 35 "no static busybox on this machine (busybox-static)"
fi

# 9. A bad job.json fails the run, on the line bound to its nonce.
job_initrd '{"nonce":"@NONCE@","run":"true","retries":2}'
boot microvm "$job_rd" "" $(disk d0 16M)
is "$rc" 35 "bad job.json: QEMU exits 35"
is "$(field status)" fail "bad job.json: status"
is "$(field reason)" 'job.json: unknown key "retries"' "bad job.json: reason"
nonce=

[ "$n" -eq "$PLAN" ] || { echo "# ran $n checks, planned $PLAN"; failed=$((failed + 1)); }
[ "$failed" -eq 0 ]
