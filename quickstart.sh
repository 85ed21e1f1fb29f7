#!/bin/sh
# quickstart.sh - from a fresh Debian 12 checkout to the main job:
# install the missing Debian packages, build, then run the main job.
set -eu
cd "$(dirname "$0")"

pkgs=$(grep -v '^#' .ci/packages | tr '\n' ' ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "quickstart: installing:$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
fi

[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j"$(nproc)"

# The main job: the smoke scenario on the built-in guest, stored in ./vmorch.db.
exec ./orchestrator/vmorch run scenarios/smoke.yaml
