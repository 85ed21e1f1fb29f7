#!/bin/sh
# autogen.sh - generate ./configure from configure.ac (needs autoconf,
# automake and pkg-config: apt-get install autoconf automake pkg-config).
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
exec autoreconf -fi
