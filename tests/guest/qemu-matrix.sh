#!/bin/sh
# tests/guest/qemu-matrix.sh - runs the built-in guest under QEMU microvm
# over the workload matrix and the hostile modes, printing one line per
# case with QEMU's exit status (33 pass, 35 fail) and the result line.
#   usage: tests/guest/qemu-matrix.sh [ELF]   (ACCEL=kvm for -accel kvm)
set -u
elf=${1:-guest/builtin/vmorch-guest.elf}
accel=${ACCEL:-tcg}
cpu=max
[ "$accel" = kvm ] && cpu=host,-arch-capabilities	# PVM rejects MSR 0x10a
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
truncate -s 16M "$dir/d0.raw" "$dir/d1.raw"

# run NAME "APPEND" [ro]: two disks; ro makes the guest's disk 0 read-only.
run() {
	ro=
	[ "${3:-}" = ro ] && ro=,readonly=on
	# The last -device gets the lowest window, i.e. the guest's disk 0.
	out=$(timeout 120 qemu-system-x86_64 \
		-M microvm,x-option-roms=off,rtc=off,pit=off,pic=off,isa-serial=on,acpi=off \
		-accel "$accel" -cpu "$cpu" -m 128M -nodefaults -no-user-config \
		-nographic -no-reboot -serial stdio -kernel "$elf" -append "$2" \
		-global virtio-mmio.force-legacy=false \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive id=d1,file="$dir/d1.raw",format=raw,if=none \
		-device virtio-blk-device,drive=d1 \
		-drive id=d0,file="$dir/d0.raw",format=raw,if=none$ro \
		-device virtio-blk-device,drive=d0 2>&1)
	rc=$?
	printf '%-22s rc=%s %s\n' "$1" "$rc" \
		"$(printf '%s\n' "$out" | grep -o 'VMORCH-RESULT.*' | cut -c15-)"
}

run seqread "pattern=seqread bs=4k ops=1000"
run seqwrite "pattern=seqwrite bs=4k ops=1000 qd=16"
run randread-qd1 "pattern=randread bs=4k ops=1000 qd=1"
run randread-qd16 "pattern=randread bs=4k ops=1000 qd=16"
run randread-qd32 "pattern=randread bs=4k ops=1000 qd=32"
run randwrite-qd32 "pattern=randwrite bs=4k ops=1000 qd=32"
run randrw "pattern=randrw bs=8k ops=1000 qd=16 rwmix=70 flush=100"
run seqread-1m "pattern=seqread bs=1m ops=32 qd=4"
run verify-randread "pattern=randread bs=4k ops=1000 qd=16 verify=1"
run verify-randwrite "pattern=randwrite bs=4k ops=500 qd=32 verify=1"
run verify-randrw "pattern=randrw bs=4k ops=500 qd=8 verify=1 span=4m"
run event_idx "pattern=randread ops=500 qd=16 event_idx=1"
run indirect-qd128 "pattern=randread ops=500 qd=128 indirect=1"
run irq "pattern=randread ops=300 qd=4 completion=irq"
run irq-event_idx "pattern=randrw ops=300 qd=16 completion=irq event_idx=1 indirect=1"
run bad-value "bs=1000"
for h in invalid_avail_idx desc_loop oob_addr bad_type short_header \
	 no_status zero_len bad_insn; do
	run "hostile-$h" "hostile=$h pattern=randread ops=100 qd=4"
done
run hostile-ro_write "hostile=ro_write pattern=randread ops=100 qd=4" ro
