#!/bin/sh
# fetch-test-kernel.sh - Debian's cloud kernel for the Linux-guest tests,
# unpacked into a cache and never installed as this machine's kernel:
#   apt-get download linux-image-<version>-cloud-amd64 ; dpkg-deb -x
# Prints the directory that holds boot/vmlinuz-* and lib/modules/*.
#
#   scripts/fetch-test-kernel.sh [CACHE_DIR]   (default: $VMORCH_CACHE or
#                                               ~/.cache/vmorch)/kernel
set -eu
cache=${1:-${VMORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmorch}/kernel}
mkdir -p "$cache"

# The metapackage names the current image package; resolve it once.
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(apt-cache depends linux-image-cloud-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
fi
[ -n "$pkg" ] || { echo "fetch-test-kernel: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }

dir=$cache/$pkg
# Tests run in parallel (make -j): one fetches, the others wait for it.
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) ||
		{ rm -rf "$tmp"; echo "fetch-test-kernel: apt-get download $pkg failed" >&2; exit 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/*.deb "$dir"
	rm -rf "$tmp"
	touch "$dir/.complete"
fi
echo "$dir"
