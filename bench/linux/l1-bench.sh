#!/bin/sh
# l1-bench.sh - the part of bench/linux.sh that runs inside L1 (as /run.sh
# of tests/nested/run-l1.sh, working directory /payload).  Boots Debian's
# kernel with the worker's initramfs as an L2 guest, alternately under our
# vmm-worker and under QEMU (-accel kvm -M microvm,acpi=on), with the same
# kernel, initramfs, command line, memory, vCPUs and backing file, and
# prints one line per run for the host side to summarise:
#
#   RUN KIND NAME WHO REP linux_us init_us disk_us result_us total_us rc {json}
#
# KIND is boot or io; from the VMM's exec, in L1's clock: linux_us to the
# kernel's first console line ("Linux version", once its serial console is
# up), init_us to its "Run /init" line (0 when it never came, e.g. with
# quiet), disk_us to the agent's "vmorch-agent: disk" line (printed just
# before the workload starts), result_us to its VMORCH-RESULT line (just
# after it ends), total_us to the VMM's exit.  json: the VMORCH-RESULT.
# Also INFO lines (versions, the guests' command lines and clocksources,
# and our worker's exits to user space, VMORCH_EXIT_STATS).  Boot runs twice
# per rep: NAME boot with the kernel's full console log, NAME quiet with
# `quiet` added, which shows the part of boot both VMMs spend in the guest's
# own work rather than in console exits.
#
# Payload: vmlinuz, initramfs.cpio.gz, stopwatch (static), bench.conf:
#   MEM_MB VCPUS DISK_MB BOOT_REPS IO_REPS CMDLINE_BASE IO_CMDLINE
# and workloads (NAME WORKLOAD... one a line).
. ./bench.conf
qemu=${QEMU:-qemu-system-x86_64}
disk=/tmp/disk.raw

dd if=/dev/zero of=$disk bs=1M count="$DISK_MB" 2>/dev/null || {
	echo "INFO cannot create the $DISK_MB MiB backing file in /tmp"
	exit 1
}
echo "INFO L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
echo "INFO qemu: $("$qemu" --version 2>&1 | head -1)"
echo "INFO disk: $disk, $DISK_MB MiB on L1's tmpfs (page cache), same file for both VMMs"

# ours_run NAME EXTRA_CMDLINE WORKLOAD: writes /tmp/out (console + stderr)
ours_run() {
	extra=
	[ -z "$2" ] || extra=',"cmdline":"'"$2"'"'
	cat > /tmp/job.json <<EOJ
{"version":1,"name":"$1","vcpus":$VCPUS,"memory":$((MEM_MB * 1048576)),"timeout_ms":120000,
 "guest":{"kind":"linux","kernel":"/payload/vmlinuz","initramfs":"/payload/initramfs.cpio.gz"$extra},
 "workload":"$3","disks":[{"path":"$disk"}]}
EOJ
	VMORCH_EXIT_STATS=1 ./stopwatch -o /tmp/out -m 'Linux version' -m 'Run /init' \
		-m 'vmorch-agent: disk' -m 'VMORCH-RESULT' -- \
		vmm-worker --job /tmp/job.json --console - --result /tmp/result.json
}

# qemu_run NAME EXTRA_CMDLINE WORKLOAD: the same guest under QEMU.
# microvm: rtc=on because without an RTC in the DSDT Linux probes a legacy
# rtc_cmos that is not there and waits ~6.5 s for it; no PIT/PIC (ACPI with
# IOAPIC + LAPIC, as our worker offers); no option ROMs; the default
# firmware (qboot, bios-microvm.bin).  QEMU's default cache=writeback with
# aio=threads on the same file our worker opens.
qemu_run() {
	./stopwatch -o /tmp/out -m 'Linux version' -m 'Run /init' \
		-m 'vmorch-agent: disk' -m 'VMORCH-RESULT' -- \
		"$qemu" -M microvm,acpi=on,x-option-roms=off,pit=off,pic=off,rtc=on \
		-accel kvm -cpu host -m "${MEM_MB}M" -smp "$VCPUS" \
		-nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel vmlinuz -initrd initramfs.cpio.gz \
		-append "$CMDLINE_BASE${2:+ $2} $3" \
		-global virtio-mmio.force-legacy=false \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "id=d0,file=$disk,format=raw,if=none,cache=writeback,aio=threads" \
		-device virtio-blk-device,drive=d0 </dev/null
}

# vmm-worker's agent prints a nonce before the JSON; under QEMU it has none.
result() {
	tr -d '\r' < /tmp/out | sed -n 's/.*VMORCH-RESULT \([0-9a-f]\{32\} \)\{0,1\}//p' | tail -1
}

# run KIND NAME WHO REP EXTRA WORKLOAD
run() {
	t=$("$3"_run "$2" "$5" "$6")
	r=$(result)
	echo "RUN $1 $2 $3 $4 $t ${r:-{\}}"
	if [ -z "$r" ]; then
		echo "INFO $3 $2 rep $4: no VMORCH-RESULT line; console tail:"
		tr -d '\r' < /tmp/out | tail -8 | sed 's/^/INFO   | /'
	fi
	if [ "$4" = 1 ] && [ "$1" = boot ]; then
		echo "INFO $3 guest: $(tr -d '\r' < /tmp/out | grep -a -m1 -o 'Kernel command line: .*')"
		echo "INFO $3 guest: $(tr -d '\r' < /tmp/out | grep -a -o 'Switched to clocksource .*' | tail -1)"
	fi
	if [ "$4" = 1 ] && [ "$3" = ours ] && [ "$1" = boot ]; then
		tr -d '\r' < /tmp/out | grep -a '^exit-stats: ' | head -8 |
			sed "s/^/INFO ours $2 rep 1: /"
	fi
}

# Which VMM goes first alternates by rep: in L1 a VM runs slower after
# another VM than on fresh memory, and the one that follows the other's
# exit shares L1 with its teardown.
order() { if [ $(($1 % 2)) = 1 ]; then echo ours qemu; else echo qemu ours; fi; }

boot_wl="pattern=seqread bs=4k ops=1"
i=1
while [ $i -le "$BOOT_REPS" ]; do
	for who in $(order $i); do
		run boot boot $who $i "" "$boot_wl"
		run boot quiet $who $i "quiet" "$boot_wl"
	done
	i=$((i + 1))
done

while read -r name wl; do
	[ -n "$name" ] || continue
	i=1
	while [ $i -le "$IO_REPS" ]; do
		for who in $(order $i); do
			run io "$name" $who $i "$IO_CMDLINE" "$wl"
		done
		i=$((i + 1))
	done
done < workloads
exit 0
