#!/bin/sh
# make-rootfs.sh - an ext4 image for a Linux guest's `rootfs:` (see "Your
# own test in the VM" in doc/scenario.md): the given programs, each with the
# shared libraries and loader `ldd` names, at the paths this machine has
# them; the contents of DIR if given; and the empty /proc, /sys, /dev, /tmp
# the agent mounts inside.  No root needed (mkfs.ext4 -d, from e2fsprogs).
#
#   scripts/make-rootfs.sh [-d DIR] IMAGE PROGRAM...
#
# Example: scripts/make-rootfs.sh fio.raw /usr/bin/fio
# For a whole distribution, debootstrap into a directory and use -d.
set -eu
die() {
	echo "make-rootfs: $*" >&2
	exit 1
}
dir=
while getopts d: o; do
	case $o in
	d) dir=$OPTARG ;;
	*) die "usage: make-rootfs.sh [-d DIR] IMAGE PROGRAM..." ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || die "usage: make-rootfs.sh [-d DIR] IMAGE PROGRAM..."
image=$1
shift
command -v mkfs.ext4 >/dev/null || die "no mkfs.ext4 (Debian: e2fsprogs)"
[ -z "$dir" ] || [ -d "$dir" ] || die "$dir: not a directory"

stage=$(mktemp -d "${TMPDIR:-/tmp}/make-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
[ -z "$dir" ] || cp -a "$dir/." "$stage/"
for prog; do
	[ -f "$prog" ] || die "$prog: no such file"
	# A static program has no libraries: ldd says so and prints no path.
	for f in "$prog" $(ldd "$prog" 2>/dev/null | sed -n \
		's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f"
	done
done
mkdir -p "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/etc"
chmod 1777 "$stage/tmp"
kb=$(du -sk "$stage" | cut -f1)
rm -f "$image"
mkfs.ext4 -q -F -d "$stage" "$image" "$((kb + kb / 4 + 4096))k" >/dev/null ||
	die "mkfs.ext4 could not make $image"
