#!/bin/sh
# setup-linux-fio.sh - what scenarios/linux-fio.yaml needs beside it, in
# DIR (default: scenarios/linux of the source tree): vmlinuz and modules,
# links into Debian's cloud kernel as scripts/fetch-test-kernel.sh unpacks
# it, and fio.raw, a rootfs image holding this machine's fio with its
# libraries (scripts/make-rootfs.sh; Debian: apt-get install fio).
#
#   scripts/setup-linux-fio.sh [DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../scenarios/linux}
fio=$(command -v fio) || { echo "setup-linux-fio: no fio (apt-get install fio)" >&2; exit 1; }
kdir=$("$here/fetch-test-kernel.sh")
mkdir -p "$dir"
set -- "$kdir"/boot/vmlinuz-*
[ -f "$1" ] || { echo "setup-linux-fio: no kernel in $kdir" >&2; exit 1; }
ln -sf "$1" "$dir/vmlinuz"
ln -sfn "$kdir/lib/modules/${1##*/vmlinuz-}" "$dir/modules"
"$here/make-rootfs.sh" "$dir/fio.raw" "$fio"
echo "$dir: vmlinuz, modules, fio.raw"
