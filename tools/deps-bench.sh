#!/bin/sh
# make deps-bench: installs the Debian packages that only the benchmarks
# need (make bench), and only those that are missing.  The exercises never
# need them: gnuplot draws the charts; GLib, libuv, thpool (cthreadpool),
# concurrencykit (libck) and OpenMP (libgomp, with gcc) are what the
# reference pool and queue are measured against.
exec sh "$(dirname "$0")/deps.sh" gnuplot-nox libglib2.0-dev libuv1-dev \
    cthreadpool-dev libck-dev libgomp1 pkg-config gcc
