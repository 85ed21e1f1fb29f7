#!/usr/bin/env bash
# bench/worker.sh - vmm-worker side by side with QEMU (-accel kvm -M microvm)
# running the same guest ELF with the same command line on the same
# page-cached backing file.  Prints start-up, guest-measured I/O rates with
# the host's own pread rate as the ceiling, throttle accuracy and memory.
#
#   bench/worker.sh            (from a built tree; REPS=5 by default)
#   VMORCH_BUILDDIR=... REPS=9 bench/worker.sh
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMORCH_BUILDDIR:-$src}
worker=$build/vmm-worker/vmm-worker
elf=$build/guest/builtin/vmorch-guest.elf
reps=${REPS:-5}
qemu=${QEMU:-qemu-system-x86_64}
tmp=$(mktemp -d /tmp/vmorch-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -x "$worker" ] && [ -f "$elf" ] || { echo "build first (make): $worker, $elf" >&2; exit 2; }
cc -O2 -o "$tmp/timeit" "$src/bench/timeit.c" || exit 2
cc -O2 -o "$tmp/pread_rate" "$src/bench/pread_rate.c" || exit 2

disk=$tmp/disk.raw
dd if=/dev/urandom of="$disk" bs=1M count=256 status=none
cat "$disk" > /dev/null		# page-cached, for both VMMs and the host

metric() { grep -o "\"$1\":[-0-9.e+]*" | head -1 | cut -d: -f2; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# job_json WORKLOAD [THROTTLE_JSON]
job_json() {
	local thr=${2:+,\"throttle\":$2}
	printf '{"version":1,"name":"bench","vcpus":1,"memory":67108864,"timeout_ms":120000,'
	printf '"guest":{"kind":"builtin"},"workload":"%s","disks":[{"path":"%s"%s}]}\n' \
		"$1" "$disk" "$thr"
}

ours() {	# WORKLOAD [THROTTLE_JSON] -> VmResult JSON
	job_json "$@" > "$tmp/job.json"
	"$worker" --job "$tmp/job.json"
}

qemu_cmd() {	# WORKLOAD [EXTRA_DRIVE_OPTS]
	echo "$qemu" -M microvm,x-option-roms=off,rtc=off,pit=off,pic=off,isa-serial=on,acpi=off \
		-accel kvm -cpu host,-arch-capabilities -m 64M -nodefaults -no-user-config \
		-nographic -no-reboot -serial stdio -kernel "$elf" -append "\"$1\"" \
		-global virtio-mmio.force-legacy=false -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "id=d0,file=$disk,format=raw,if=none,cache=writeback${2:+,$2}" \
		-device virtio-blk-device,drive=d0
}

theirs() {	# WORKLOAD [EXTRA_DRIVE_OPTS] -> the guest's VMORCH-RESULT line
	eval "$(qemu_cmd "$@")" 2>&1 </dev/null | grep '^VMORCH-RESULT'
}

# The host's TSC rate, as KVM tells our worker (QEMU's guest may not see it).
tsc_khz=$(ours "pattern=seqread bs=4k ops=1" | metric tsc_khz)
tsc_khz=${tsc_khz%.*}

# Guest-measured ops/s from a result line or VmResult: ops / (cycles / TSC).
rate() { awk -v o="$1" -v c="$2" -v k="$tsc_khz" 'BEGIN { if (c > 0) printf "%.0f", o / (c / (k * 1000)); else print 0 }'; }

echo "vmorch worker benchmark: $(date -u +%FT%TZ), $(nproc) CPUs, $(uname -r), reps=$reps"
echo "worker: $worker"
have_qemu=1
probe=$(eval "$(qemu_cmd "pattern=seqread bs=4k ops=1")" 2>&1 </dev/null)
if ! grep -q '"status":"pass"' <<<"$probe"; then
	have_qemu=0
	echo "QEMU cannot run the guest here; its own words:"
	sed 's/^/  | /' <<<"$probe" | tail -5
fi
$qemu --version | head -1

echo
echo "== start-up (median of $reps, ms) =="
# job_nodisk: the trivial job (boot, report, exit); job with "ops=1": one read.
nodisk_json() {
	printf '{"version":1,"name":"bench","vcpus":1,"memory":67108864,"timeout_ms":120000,'
	printf '"guest":{"kind":"builtin"},"workload":"","disks":[]}\n'
}
qemu_nodisk() {
	echo "$qemu" -M microvm,x-option-roms=off,rtc=off,pit=off,pic=off,isa-serial=on,acpi=off \
		-accel kvm -cpu host,-arch-capabilities -m 64M -nodefaults -no-user-config \
		-nographic -no-reboot -serial stdio -kernel "$elf" -append '""' \
		-device isa-debug-exit,iobase=0xf4,iosize=4
}
# startup WHO KIND -> "first_ms total_ms" medians
startup() {
	: > "$tmp/first"; : > "$tmp/total"
	for _ in $(seq "$reps"); do
		case "$1/$2" in
		ours/trivial)	nodisk_json > "$tmp/job.json" ;;
		ours/oneread)	job_json "pattern=seqread bs=4k ops=1" > "$tmp/job.json" ;;
		esac
		case "$1/$2" in
		ours/*)	out=$("$tmp/timeit" -e -- "$worker" --job "$tmp/job.json" --console - --result /dev/null) ;;
		qemu/trivial) out=$(eval "\"$tmp/timeit\" -- $(qemu_nodisk)" </dev/null) ;;
		qemu/oneread) out=$(eval "\"$tmp/timeit\" -- $(qemu_cmd "pattern=seqread bs=4k ops=1")" </dev/null) ;;
		esac
		echo "$out" | awk '{ print $1 / 1000 }' >> "$tmp/first"
		echo "$out" | awk '{ print $2 / 1000 }' >> "$tmp/total"
	done
	echo "$(median < "$tmp/first") $(median < "$tmp/total")"
}
read -r o_first o_triv < <(startup ours trivial)
read -r _ o_one < <(startup ours oneread)
q_first=0 q_triv=0 q_one=0
if [ $have_qemu = 1 ]; then
	read -r q_first q_triv < <(startup qemu trivial)
	read -r _ q_one < <(startup qemu oneread)
fi
printf '%-34s %10s %10s %8s\n' "" "vmm-worker" "qemu" "ratio"
printf '%-34s %10s %10s %8s\n' "exec -> first guest line" "$o_first" "$q_first" "$(ratio "$o_first" "$q_first")"
printf '%-34s %10s %10s %8s\n' "trivial job (boot, no disk)" "$o_triv" "$q_triv" "$(ratio "$o_triv" "$q_triv")"
printf '%-34s %10s %10s %8s\n' "one 4 KiB read, end to end" "$o_one" "$q_one" "$(ratio "$o_one" "$q_one")"

echo
echo "== I/O measured by the guest (best of $reps; ops/s, and MB/s for 1 MiB) =="
printf '%-24s %10s %10s %8s %12s\n' "workload" "vmm-worker" "qemu" "ratio" "host pread"
while read -r line; do
	eval "set -- $line"; name=$1 wl=$2 bs=$3 ops=$4 mode=$5
	best_o=0 best_q=0
	for _ in $(seq "$reps"); do
		r=$(ours "$wl")
		o=$(rate "$(metric ops <<<"$r")" "$(metric cycles <<<"$r")")
		[ "$o" -gt "$best_o" ] && best_o=$o
		if [ $have_qemu = 1 ]; then
			l=$(theirs "$wl")
			q=$(rate "$(metric ops <<<"$l")" "$(metric cycles <<<"$l")")
			[ "$q" -gt "$best_q" ] && best_q=$q
		fi
	done
	host=$("$tmp/pread_rate" "$disk" "$bs" "$ops" "$mode" | cut -d' ' -f1)
	if [ "$bs" = 1048576 ]; then
		mb() { awk -v v="$1" 'BEGIN { printf "%.0f", v * 1.048576 }'; }
		printf '%-24s %10s %10s %8s %12s\n' "$name (MB/s)" "$(mb $best_o)" \
			"$(mb $best_q)" "$(ratio $best_o $best_q)" "$(mb "$host")"
	else
		printf '%-24s %10s %10s %8s %12s\n' "$name" "$best_o" "$best_q" \
			"$(ratio $best_o $best_q)" "$host"
	fi
done <<'EOF2'
randread-4k-qd1 "pattern=randread bs=4k ops=20000 qd=1" 4096 20000 rand
randread-4k-qd32 "pattern=randread bs=4k ops=50000 qd=32" 4096 50000 rand
randwrite-4k-qd32 "pattern=randwrite bs=4k ops=50000 qd=32" 4096 50000 rand
seqread-1m-qd4 "pattern=seqread bs=1M ops=1000 qd=4" 1048576 1000 seq
EOF2

echo
echo "== throttle accuracy (ours: ops bucket 100 per 100 ms = 1000 ops/s) =="
r=$(ours "pattern=randread bs=4k ops=3100 qd=1" '{"ops":{"size":100,"refill_time_ms":100}}')
secs=$(metric guest_seconds <<<"$r")
awk -v s="$secs" 'BEGIN { m = 3000 / s; printf "configured 1000 ops/s, measured %.1f ops/s over %.2f s (%+.2f%%)\n", m, s, (m - 1000) / 10 }'

echo
echo "== memory: resident set minus guest RAM touched (KiB), sampled mid-run =="
job_json "pattern=randread bs=4k ops=3000 qd=1" '{"ops":{"size":100,"refill_time_ms":100}}' > "$tmp/job.json"
"$worker" --job "$tmp/job.json" --result /dev/null & pid=$!
sleep 1.5; read -r t g o < <("$src/bench/rss.sh" $pid 67108864); wait $pid
printf '%-12s total %7s  guest %7s  overhead %7s\n' "vmm-worker" "$t" "$g" "$o"
if [ $have_qemu = 1 ]; then
	eval "exec $(qemu_cmd "pattern=randread bs=4k ops=3000 qd=1" "throttling.iops-total=1000")" \
		>/dev/null 2>&1 </dev/null & pid=$!
	sleep 1.5; read -r t g o < <("$src/bench/rss.sh" $pid 67108864); wait $pid
	printf '%-12s total %7s  guest %7s  overhead %7s\n' "qemu" "$t" "$g" "$o"
fi
