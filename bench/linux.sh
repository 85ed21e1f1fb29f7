#!/usr/bin/env bash
# bench/linux.sh - a Linux guest (Debian's cloud kernel, the initramfs our
# worker builds, the guest agent as /init) under our vmm-worker and under
# QEMU (-accel kvm -M microvm,acpi=on) side by side, inside ONE nested L1
# (tests/nested/run-l1.sh: QEMU TCG -cpu max with Debian's kernel and
# kvm_amd), with the same kernel, initramfs, command line, memory, vCPUs and
# backing file.  This machine's /dev/kvm (PVM) cannot run an unmodified
# kernel, hence L1.
#
# Measures boot to /init (the agent's init_ms, guest clock; and exec -> the
# kernel's "Run /init" line on the console, L1 clock, with exec -> its first
# "Linux version" line as a stage mark) and to power-off (the VMM process's
# wall time), median of BOOT_REPS; in-guest 4 KiB randread QD1 and QD32,
# randwrite QD32 and 1 MiB seqread (the agent's iops), median of IO_REPS;
# each with the ratio ours/QEMU against the goals of issue 6 (boot <= 0.5x,
# I/O >= 1.0x).  These are nested-under-TCG figures: ratios, not speeds.
#
#   bench/linux.sh                  (from a built tree: make)
#   BOOT_REPS=5 IO_REPS=3 MEM_MB=256 VCPUS=1 DISK_MB=64 bench/linux.sh
#   VMORCH_BUILDDIR=... bench/linux.sh;  L1_TIMEOUT=720 (seconds, bound per L1;
#   a frozen L1 is tried once more, see tests/nested/README)
#   KEEP=DIR keeps L1's console log and the raw per-run lines in DIR.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMORCH_BUILDDIR:-$src}
export VMORCH_SRCDIR=$src VMORCH_BUILDDIR=$build
qemu=${QEMU:-qemu-system-x86_64}
boot_reps=${BOOT_REPS:-5}
io_reps=${IO_REPS:-3}
mem_mb=${MEM_MB:-256}
vcpus=${VCPUS:-1}
disk_mb=${DISK_MB:-64}
l1_timeout=${L1_TIMEOUT:-720}

die() { echo "bench/linux.sh: $*" >&2; exit 2; }

[ -x "$build/vmm-worker/vmm-worker" ] || die "no $build/vmm-worker/vmm-worker (build first: make)"
[ -x "$build/tests/test_initramfs" ] ||
	die "no $build/tests/test_initramfs (make check builds it; it builds the initramfs)"
command -v "$qemu" >/dev/null 2>&1 || die "$qemu not found (Debian: qemu-system-x86)"
command -v jq >/dev/null 2>&1 || die "jq not found"
qemu_bin=$(command -v "$qemu")
qemu_data=/usr/share/qemu
[ -f "$qemu_data/qboot.rom" ] || die "no $qemu_data/qboot.rom (microvm's firmware; Debian: qemu-system-data)"
kdir=$("$src/scripts/fetch-test-kernel.sh") || die "cannot fetch the test kernel (scripts/fetch-test-kernel.sh)"
kernel=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$kernel" ] || die "no boot/vmlinuz-* in $kdir"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmorch-bench-linux.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
p=$tmp/payload
mkdir -p "$p"

# The initramfs our worker would build (agent as /init, virtio_mmio and
# virtio_blk), built once here and given to both VMMs as the same file.
initrd=$("$build/tests/test_initramfs" --build "$kernel") || die "initramfs build failed"
cp "$kernel" "$p/vmlinuz"
cp "$initrd" "$p/initramfs.cpio.gz"
cc -O2 -static -D_GNU_SOURCE -o "$p/stopwatch" "$src/bench/linux/stopwatch.c" ||
	die "cannot build bench/linux/stopwatch.c statically (glibc static: libc6-dev)"

# The worker's own command line start (LINUX_CMDLINE_BASE): QEMU gets it too.
base=$(sed -n 's/^#define LINUX_CMDLINE_BASE "\(.*\)"$/\1/p' "$src/vmm-worker/linux_boot.h")
[ -n "$base" ] || die "cannot read LINUX_CMDLINE_BASE from vmm-worker/linux_boot.h"
cat > "$p/bench.conf" <<EOC
MEM_MB=$mem_mb VCPUS=$vcpus DISK_MB=$disk_mb BOOT_REPS=$boot_reps IO_REPS=$io_reps
CMDLINE_BASE='$base'
IO_CMDLINE='quiet'
EOC
# NAME WORKLOAD (agent words; 64 MiB disk; counts kept small: TCG is slow)
cat > "$p/workloads" <<'EOW'
randread-4k-qd1 pattern=randread bs=4k ops=1000 qd=1
randread-4k-qd32 pattern=randread bs=4k ops=3000 qd=32
randwrite-4k-qd32 pattern=randwrite bs=4k ops=3000 qd=32
seqread-1m-qd4 pattern=seqread bs=1M ops=192 qd=4
EOW

echo "vmorch Linux-guest benchmark: $(date -u +%FT%TZ), host $(nproc) CPUs, $(uname -r)"
echo "kernel: $kernel"
echo "initramfs: $initrd ($(wc -c < "$initrd") bytes), the same file for both VMMs"
echo "L2: $vcpus vCPU, $mem_mb MiB, one $disk_mb MiB raw disk; boot reps $boot_reps, I/O reps $io_reps"
echo "NOTE: nested under TCG (L1 = QEMU -accel tcg -cpu max, kvm_amd; L2 on L1's /dev/kvm):"
echo "      compare the ratios, not the absolute figures."

t0=$(date +%s)
"$src/tests/nested/run-l1.sh" -R 1 -k "$kdir" -t "$l1_timeout" -l "$tmp/l1.console" \
	-x "$qemu_bin" -x "$qemu_data/qboot.rom" -x "$qemu_data/bios-microvm.bin" \
	"$src/bench/linux/l1-bench.sh" "$p" > "$tmp/out" 2> "$tmp/err"
rc=$?
t1=$(date +%s)
if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP" && cp "$tmp/out" "$tmp/err" "$tmp/l1.console" "$KEEP/"
fi
sed 's/^/# /' "$tmp/err"
sed -n 's/^INFO /  /p' "$tmp/out"
if [ $rc != 0 ]; then
	echo "L1 run failed (run-l1.sh status $rc); last lines:"
	tail -20 "$tmp/out"
	exit 1
fi

# Per-run records (bench/linux/l1-bench.sh):
#   RUN kind name who rep linux_us init_us disk_us result_us total_us rc json
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() {	# RATIO OP GOAL
	awk -v r="$1" -v op="$2" -v g="$3" 'BEGIN { if (r == "n/a") print "?";
		else if ((op == "le" && r <= g) || (op == "ge" && r >= g)) print "met"; else print "MISSED" }'
}
# field KIND NAME WHO FIELD: values over the passing runs, one a line
field() {
	awk -v k="$1" -v n="$2" -v w="$3" '$1 == "RUN" && $2 == k && $3 == n && $4 == w' "$tmp/out" |
	while read -r _ _ _ who _ linux first disk res total code json; do
		ok=0
		case $who/$code in ours/0 | qemu/33) ok=1 ;; esac
		[ $ok = 1 ] && [ "$(jq -r .status <<<"$json" 2>/dev/null)" = pass ] || continue
		case $4 in
		linux) echo "$linux" | awk '$1 > 0 { printf "%.0f\n", $1 / 1000 }' ;;
		first) echo "$first" | awk '$1 > 0 { printf "%.0f\n", $1 / 1000 }' ;;
		total) echo "$total" | awk '{ printf "%.0f\n", $1 / 1000 }' ;;
		# ops over the L1-clock time from the agent's disk line to its
		# result line: a cross-check of the guest-clock iops
		wall_iops) awk -v d="$disk" -v r="$res" -v o="$(jq -r .ops <<<"$json")" \
			'BEGIN { if (d > 0 && r > d) printf "%.1f\n", o / ((r - d) / 1e6) }' ;;
		*) jq -r ".$4 // empty" <<<"$json" ;;
		esac
	done
}
count() { awk -v k="$1" -v n="$2" -v w="$3" '$1 == "RUN" && $2 == k && $3 == n && $4 == w' "$tmp/out" | wc -l; }
runs() { field "$@" | tr '\n' ' ' | sed 's/ $//'; }

echo
echo "== boot (median of $boot_reps, ms; lower is better; goal ours/QEMU <= 0.50) =="
printf '%-44s %10s %10s %7s  %s\n' "" "vmm-worker" "qemu" "ratio" "goal"
for m in "boot|init_ms|/init reached, guest clock (init_ms)" \
	"boot|linux|exec -> 'Linux version' on console" \
	"boot|first|exec -> 'Run /init' on the console" \
	"boot|total|exec -> power-off (VMM wall time)" \
	"quiet|init_ms|quiet: /init reached, guest clock" \
	"quiet|total|quiet: exec -> power-off (VMM wall time)"; do
	n=${m%%|*} rest=${m#*|}
	f=${rest%%|*} label=${rest#*|}
	o=$(field boot "$n" ours "$f" | median)
	q=$(field boot "$n" qemu "$f" | median)
	r=$(ratio "$o" "$q")
	v=$(verdict "$r" le 0.5)
	[ "$f" != linux ] || v="(stage)"
	[ "$n" != quiet ] || v="(floor)"
	printf '%-44s %10s %10s %7s  %s\n' "$label" "${o:-n/a}" "${q:-n/a}" "$r" "$v"
done
echo "   quiet: the same boot with 'quiet' added for both VMMs: almost no console"
echo "   exits, so what is left is the guest's own work under nested TCG, the same"
echo "   for both; it bounds how far below QEMU any VMM can get here."

echo
echo "== in-guest I/O (median of $io_reps; agent iops, MB/s for 1 MiB; higher is better; goal >= 1.00) =="
echo "   (L1 clock: the same ops over the time between the agent's disk and result lines"
echo "    as seen by L1, a cross-check of the guest's own clock; it includes the agent's"
echo "    open/io_setup and console lines, so it reads a little lower)"
printf '%-28s %10s %10s %7s %6s %10s %10s %7s\n' "workload" "vmm-worker" "qemu" "ratio" "goal" \
	"L1: ours" "L1: qemu" "ratio"
mb() { [ -z "$1" ] || awk -v v="$1" 'BEGIN { printf "%.1f", v * 1.048576 }'; }
while read -r name wl; do
	o=$(field io "$name" ours iops | median)
	q=$(field io "$name" qemu iops | median)
	ow=$(field io "$name" ours wall_iops | median)
	qw=$(field io "$name" qemu wall_iops | median)
	r=$(ratio "$o" "$q")
	rw=$(ratio "$ow" "$qw")
	label=$name
	case $wl in *bs=1M*)
		label="$name (MB/s)"
		o=$(mb "$o") q=$(mb "$q") ow=$(mb "$ow") qw=$(mb "$qw") ;;
	esac
	printf '%-28s %10s %10s %7s %6s %10s %10s %7s\n' "$label" "${o:-n/a}" "${q:-n/a}" "$r" \
		"$(verdict "$r" ge 1.0)" "${ow:-n/a}" "${qw:-n/a}" "$rw"
done < "$p/workloads"

echo
echo "== every run (passing runs only; a missing value is a failed run) =="
for w in ours qemu; do
	printf '%-4s boot init_ms  %s  (%s runs)\n' "$w" "$(runs boot boot $w init_ms)" "$(count boot boot $w)"
	printf '%-4s boot linux_ms %s\n' "$w" "$(runs boot boot $w linux)"
	printf '%-4s boot first_ms %s\n' "$w" "$(runs boot boot $w first)"
	printf '%-4s boot total_ms %s\n' "$w" "$(runs boot boot $w total)"
	printf '%-4s quiet init_ms %s\n' "$w" "$(runs boot quiet $w init_ms)"
	printf '%-4s quiet total_ms %s\n' "$w" "$(runs boot quiet $w total)"
done
while read -r name wl; do
	for w in ours qemu; do
		printf '%-4s %-18s iops %s  (%s runs); L1 clock %s\n' "$w" "$name" \
			"$(runs io "$name" $w iops)" "$(count io "$name" $w)" "$(runs io "$name" $w wall_iops)"
	done
	echo "     workload: $wl"
done < "$p/workloads"
echo
echo "whole benchmark: $((t1 - t0)) s on the host (bound: L1 timeout ${l1_timeout} s)"
echo "These are nested-under-TCG figures (L2 on kvm_amd inside QEMU TCG): ratios, not absolute speeds."
