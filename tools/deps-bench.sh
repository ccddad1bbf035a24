#!/bin/sh
# make deps-bench: installs the Debian packages that only the benchmarks
# need (make bench), and only those that are missing.  The exercises never
# need them: gnuplot draws the charts; GLib, libuv, thpool (cthreadpool),
# concurrencykit (libck) and OpenMP (libgomp, with gcc) are what the
# reference pool and queue are measured against.
set -eu

packages="gnuplot-nox libglib2.0-dev libuv1-dev cthreadpool-dev libck-dev \
libgomp1 pkg-config gcc"

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
            grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "deps-bench: everything is installed:$(printf ' %s' $packages)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "deps-bench: missing:$missing" >&2
    echo "deps-bench: run this as root, or install sudo" >&2
    exit 1
fi

echo "deps-bench: installing:$missing"
# A fresh machine may have no package lists yet: update before installing.
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
echo "deps-bench: done"
