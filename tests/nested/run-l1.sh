#!/bin/sh
# run-l1.sh - run a script inside "L1": a QEMU machine in software emulation
# (-accel tcg -cpu max, which emulates AMD SVM with nested paging) booting
# Debian's cloud kernel with kvm + kvm_amd loaded, so the script sees a
# hardware-like /dev/kvm.  This machine's own /dev/kvm is PVM, which cannot
# run unmodified Linux; L1's can.  See tests/nested/README.
#
#   tests/nested/run-l1.sh [options] SCRIPT [PAYLOAD_DIR]
#
# SCRIPT runs in L1 as `sh /run.sh` with /payload (a copy of PAYLOAD_DIR) as
# its working directory and VMORCH_BUILDDIR=/vmorch, which holds
# vmm-worker/vmm-worker and orchestrator/vmorch (with their shared
# libraries) and whatever -x added.  Its output comes back over L1's serial
# console; run-l1.sh prints it on stdout and exits with the script's status.
#
# Options:
#   -x PATH     also put PATH into L1: relative to the build tree it lands
#               under /vmorch, absolute it keeps its path; an ELF file brings
#               its shared libraries, a directory is copied whole (repeatable)
#   -e VAR=VAL  set VAR in the script's environment (repeatable)
#   -M MODULE   load this kernel module (and its dependencies) too
#   -k DIR      kernel directory (boot/vmlinuz-*, lib/modules/*); default:
#               what scripts/fetch-test-kernel.sh prints
#   -t SECONDS  bound on the whole L1 run (default 600)
#   -m MEM      L1 memory (default 2G);  -c N  L1 vCPUs (default 2)
#   -l FILE     keep L1's whole console log in FILE
#   -R N        when L1 ends without finishing (status 97: QEMU 7.2's
#               multi-threaded TCG sometimes freezes L1 for good), try again
#               in a fresh L1 at most N more times; only the last attempt's
#               output reaches stdout, each retry is said on stderr and the
#               frozen attempt's console kept as FILE.attemptK
#   -v          copy L1's console to stderr as it comes
#
# Environment: VMORCH_BUILDDIR (default: the source tree), VMORCH_CACHE
# (default ~/.cache/vmorch; initramfs images are cached by content hash
# under l1/), QEMU (default qemu-system-x86_64), L1_QEMU_ARGS (more QEMU
# options, e.g. a monitor socket for debugging), L1_CMDLINE (more kernel
# parameters for L1), L1_ACCEL (QEMU's -accel value, default tcg;
# builtin-in-l1.sh uses tcg,thread=single, see tests/nested/README).
#
# Exit status: the script's own, or 97 when L1 ended without finishing the
# frame (timeout, crash, or an RCU stall report: a vCPU stuck for good), 98 when L1 booted but could not offer /dev/kvm,
# 99 when the run could not be set up (no QEMU, kernel, busybox, cpio ...).
# Timings go to stderr as "run-l1: ..." lines.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${VMORCH_SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${VMORCH_BUILDDIR:-$srcdir}
cache=${VMORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmorch}
qemu=${QEMU:-qemu-system-x86_64}
accel=${L1_ACCEL:-tcg}

die() {
	echo "run-l1: $*" >&2
	exit 99
}

extras= envs= mods= kdir= tmo=600 mem=2G cpus=2 log= verbose=0 retries=0
nl='
'
while getopts x:e:M:k:t:m:c:l:vR: opt; do
	case $opt in
	x) extras="$extras$OPTARG$nl" ;;
	e) envs="$envs$OPTARG$nl" ;;
	M) mods="$mods $OPTARG" ;;
	k) kdir=$OPTARG ;;
	t) tmo=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	l) log=$OPTARG ;;
	v) verbose=1 ;;
	R) retries=$OPTARG ;;
	*) die "usage: run-l1.sh [-x PATH] [-e VAR=VAL] [-M MOD] [-k DIR] [-t S] [-m MEM] [-c N] [-l LOG] [-v] [-R N] SCRIPT [PAYLOAD_DIR]" ;;
	esac
done
case $retries in *[!0-9]* | "") die "-R: expected a count, got '$retries'" ;; esac
if [ "$retries" -gt 0 ] && [ -z "${RUN_L1_ATTEMPT:-}" ]; then
	# Each attempt is this script again, in a fresh L1, without retries.
	attempt=1
	out=$(mktemp "${TMPDIR:-/tmp}/vmorch-l1-out.XXXXXX")
	while :; do
		rc=0
		RUN_L1_ATTEMPT=$attempt "$0" "$@" > "$out" || rc=$?
		[ $rc = 97 ] && [ $attempt -le "$retries" ] || break
		echo "run-l1: attempt $attempt: L1 froze after $(grep -c '^ok\|^not ok\|^RUN\|^JOB' "$out") result lines; retrying in a fresh L1" >&2
		[ -z "$log" ] || cp "$log" "$log.attempt$attempt" 2>/dev/null || true
		attempt=$((attempt + 1))
	done
	cat "$out"
	rm -f "$out"
	exit $rc
fi
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: run-l1.sh [options] SCRIPT [PAYLOAD_DIR]"
script=$1
payload=${2:-}
[ -f "$script" ] || die "no script $script"
[ -z "$payload" ] || [ -d "$payload" ] || die "no payload directory $payload"

command -v "$qemu" >/dev/null 2>&1 || die "$qemu not found (Debian: qemu-system-x86)"
command -v cpio >/dev/null 2>&1 || die "cpio not found (Debian: cpio)"
busybox=
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "no static busybox (Debian: busybox-static)"

if [ -z "$kdir" ]; then
	kdir=$("$srcdir/scripts/fetch-test-kernel.sh") || die "cannot fetch the test kernel"
fi
set -- "$kdir"/boot/vmlinuz-*
[ -f "$1" ] || die "no boot/vmlinuz-* in $kdir"
vmlinuz=$1
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver
[ -d "$moddir" ] || die "no modules directory $moddir"

mkdir -p "$cache/l1"
stage=$(mktemp -d "$cache/l1/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM

# ---- the L1 initramfs tree ----

# copy_to SRC DEST: DEST inside the stage, parents made, links followed.
copy_to() {
	mkdir -p "$stage$(dirname "$2")"
	cp -L "$1" "$stage$2"
}

# add_libs ELF: its interpreter and shared libraries at their own paths.
add_libs() {
	ldd "$1" 2>/dev/null | while read -r a b c _; do
		lib=
		case $a in /*) lib=$a ;; esac
		if [ "$b" = "=>" ]; then
			case $c in /*) lib=$c ;; esac
		fi
		[ -n "$lib" ] || continue
		[ -e "$stage$lib" ] || copy_to "$lib" "$lib"
	done
}

is_elf() {
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

# add_file SRC DEST
add_file() {
	copy_to "$1" "$2"
	if is_elf "$1"; then add_libs "$1"; fi
}

add_path() {
	case $1 in
	/*) src=$1 dest=$1 ;;
	*) src=$builddir/$1 dest=/vmorch/$1 ;;
	esac
	if [ -d "$src" ]; then
		mkdir -p "$stage$(dirname "$dest")"
		cp -rL "$src" "$stage$dest"
		find "$stage$dest" -type f | while read -r f; do
			if is_elf "$f"; then add_libs "$f"; fi
		done
	elif [ -f "$src" ]; then
		add_file "$src" "$dest"
	else
		die "no $src to put into L1"
	fi
}

copy_to "$busybox" /bin/busybox
copy_to "$here/l1-init.sh" /init
chmod 755 "$stage/init" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
copy_to "$script" /run.sh
mkdir -p "$stage/payload"
if [ -n "$payload" ]; then
	cp -rL "$payload/." "$stage/payload/"
fi

[ -x "$builddir/vmm-worker/vmm-worker" ] ||
	die "no $builddir/vmm-worker/vmm-worker (build first, or set VMORCH_BUILDDIR)"
add_path vmm-worker/vmm-worker
if [ -x "$builddir/orchestrator/vmorch" ]; then add_path orchestrator/vmorch; fi
while read -r p; do
	[ -z "$p" ] || add_path "$p"
done <<EOF
$extras
EOF

# Kernel modules, dependencies first, from each module's .modinfo
# "depends=" (the unpacked package has no modules.dep).
modinfo_depends() {
	objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}
modfile() {
	for cand in "$1" "$(echo "$1" | tr _ -)" "$(echo "$1" | tr - _)"; do
		f=$(find "$moddir/kernel" -name "$cand.ko" -o -name "$cand.ko.*" | head -1)
		[ -n "$f" ] && { echo "${f#"$moddir"/}"; return 0; }
	done
	return 1
}
modlist=
add_module() {
	local m f d
	m=$(echo "$1" | tr - _)
	case " $modlist " in *" $m "*) return 0 ;; esac
	f=$(modfile "$m") || die "kernel module $m not found under $moddir"
	modlist="$modlist $m"
	case $f in
	*.ko) copy_to "$moddir/$f" "/lib/modules/$f" ;;
	*.ko.xz) mkdir -p "$stage/lib/modules/$(dirname "$f")"; xz -dc "$moddir/$f" > "$stage/lib/modules/${f%.xz}" ;;
	*.ko.zst) mkdir -p "$stage/lib/modules/$(dirname "$f")"; zstd -qdc "$moddir/$f" > "$stage/lib/modules/${f%.zst}" ;;
	*.ko.gz) mkdir -p "$stage/lib/modules/$(dirname "$f")"; gzip -dc "$moddir/$f" > "$stage/lib/modules/${f%.gz}" ;;
	esac
	f=${f%.xz} f=${f%.zst} f=${f%.gz}
	for d in $(modinfo_depends "$stage/lib/modules/$f"); do
		add_module "$d"
	done
	echo "$f" >> "$stage/etc/l1-modules"
}
mkdir -p "$stage/etc"
: > "$stage/etc/l1-modules"
for m in kvm kvm_amd $mods; do add_module "$m"; done

{
	echo "export VMORCH_BUILDDIR=/vmorch VMORCH_IN_L1=1"
	echo "export PATH=/vmorch/vmm-worker:/vmorch/orchestrator:\$PATH"
	printf '%s' "$envs" | while IFS= read -r kv; do
		[ -n "$kv" ] || continue
		var=${kv%%=*} val=${kv#*=}
		printf "export %s='%s'\n" "$var" "$(printf '%s' "$val" | sed "s/'/'\\\\''/g")"
	done
} > "$stage/etc/l1-env"

# ---- pack, or reuse the image built from the same tree ----
t0=$(date +%s.%N)
hash=$(cd "$stage" && {
	find . -type f -exec sha256sum {} + | LC_ALL=C sort
	find . -type l -exec sh -c 'for l; do echo "$l -> $(readlink "$l")"; done' sh {} + | LC_ALL=C sort
	find . -type f -perm -u+x | LC_ALL=C sort
} | sha256sum | cut -c1-32)
img=$cache/l1/$hash.cpio.gz
if [ ! -f "$img" ]; then
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$img.tmp.$$"
	mv "$img.tmp.$$" "$img"
	# keep the 8 newest images
	ls -t "$cache"/l1/*.cpio.gz 2>/dev/null | tail -n +9 | while read -r old; do rm -f "$old"; done
	echo "run-l1: built $img ($(wc -c < "$img") bytes) in $(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}') s" >&2
else
	touch "$img"
fi
rm -rf "$stage"

# ---- boot L1 ----
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/vmorch-l1.XXXXXX")
: > "$log"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
}
trap 'cleanup; exit 130' INT TERM

start=$(date +%s.%N)
timeout -k 5 "$tmo" "$qemu" -accel "$accel" -cpu max -m "$mem" -smp "$cpus" \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial "file:$log" \
	-kernel "$vmlinuz" -initrd "$img" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off${L1_CMDLINE:+ $L1_CMDLINE}" \
	${L1_QEMU_ARGS:-} \
	</dev/null >"$log.qemu" 2>&1 &
qpid=$!

elapsed() { echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}'; }

# Watch the console: note when the payload starts, optionally echo it.
boot_t= seen=0 stall_t=
while kill -0 "$qpid" 2>/dev/null; do
	if [ -z "$boot_t" ] && grep -q '^=== NESTED-\(BEGIN\|ERROR\)' "$log"; then
		boot_t=$(elapsed)
	fi
	# A vCPU that stops answering for good (RCU stall) ends the run now:
	# under TCG it does not come back (see tests/nested/README).
	if [ -z "$stall_t" ] && grep -q 'rcu: INFO: .* detected stalls' "$log"; then
		stall_t=$(elapsed)
		sleep 2
		kill "$qpid" 2>/dev/null || true
	fi
	if [ "$verbose" = 1 ]; then
		n=$(wc -l < "$log")
		if [ "$n" -gt "$seen" ]; then
			sed -n "$((seen + 1)),${n}p" "$log" | tr -d '\r' >&2
			seen=$n
		fi
	fi
	sleep 0.2
done
wait "$qpid" && qrc=0 || qrc=$?
qpid=
total=$(elapsed)
[ -n "$boot_t" ] || { grep -q '^=== NESTED-\(BEGIN\|ERROR\)' "$log" && boot_t=$total; } || true
if [ "$verbose" = 1 ]; then sed -n "$((seen + 1)),\$p" "$log" | tr -d '\r' >&2; fi

clean=$(mktemp "${TMPDIR:-/tmp}/vmorch-l1-clean.XXXXXX")
tr -d '\r' < "$log" > "$clean"
err=$(sed -n 's/^=== NESTED-ERROR \(.*\) ===$/\1/p' "$clean" | head -1)
begin=$(sed -n 's/^=== NESTED-BEGIN uptime=\([0-9.]*\) ===$/\1/p' "$clean" | head -1)
endl=$(sed -n 's/^=== NESTED-END rc=\([0-9]*\) uptime=\([0-9.]*\) ===$/\1 \2/p' "$clean" | head -1)

if [ -n "$begin" ]; then
	sed -n '/^=== NESTED-BEGIN/,/^=== NESTED-END/{/^=== NESTED-/d;p}' "$clean"
fi
echo "run-l1: L1 reached the payload after ${boot_t:-?} s on the host (L1 uptime ${begin:-?} s); whole run ${total} s; console: $log" >&2
if [ -n "$err" ]; then
	echo "run-l1: L1 could not run the payload: $err" >&2
	sed -n '/^=== NESTED-ERROR/,$p' "$clean" | tail -20 >&2
	rm -f "$clean"
	exit 98
fi
if [ -z "$endl" ]; then
	why="qemu status $qrc"
	[ "$qrc" = 124 ] && why="timed out after $tmo s"
	[ -n "$stall_t" ] && why="an L1 vCPU stalled (RCU stall report at $stall_t s); stopped"
	echo "run-l1: L1 ended without finishing the payload ($why); console tail:" >&2
	tail -25 "$clean" >&2
	cat "$log.qemu" >&2
	rm -f "$clean" "$log.qemu"
	exit 97
fi
rm -f "$clean" "$log.qemu"
set -- $endl
echo "run-l1: payload ran $(echo "$2 $begin" | awk '{printf "%.1f", $1 - $2}') s (L1 clock), status $1" >&2
exit "$1"
