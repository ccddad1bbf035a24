#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's
# image: it installs what the kit needs (tools/deps.sh) and, on images whose
# python3 is older than 3.11 (Ubuntu 22.04 has 3.10), a newer Python.
set -eu
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source/kit"
sh tools/deps.sh
if ! python3 -c 'import tomllib' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3.11
fi
