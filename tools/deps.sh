#!/bin/sh
# make deps: installs the Debian packages the kit needs, and only those
# that are missing (so a second run does nothing and needs no network).
set -eu

# The kit's packages; `deps.sh PACKAGE...` installs those instead
# (tools/deps-bench.sh does, for the benchmarks).
packages="make gcc binutils libc6-dev libcriterion-dev pkg-config valgrind python3 \
patch util-linux libtsan2 libasan8 libubsan1 gdb"
if [ "$#" -gt 0 ]; then
    packages="$*"
fi

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
            grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: everything is installed:$(printf ' %s' $packages)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "deps: missing:$missing" >&2
    echo "deps: run this as root, or install sudo" >&2
    exit 1
fi

echo "deps: installing:$missing"
# A fresh machine may have no package lists yet: update before installing.
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
echo "deps: done"
