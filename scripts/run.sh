#!/bin/sh
# The README's first command: install what is missing, build, and run the
# server with its four default cameras. Extra arguments go to the server,
# e.g. scripts/run.sh --bind 127.0.0.1
set -eu
cd "$(dirname "$0")/.."

sh scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >&2
fi
ninja -C build rtsp-test-server rtsp-health-check >&2
# GLib 2.74's slab allocator keeps per thread what it once held (48 MiB
# more at 256 cameras; see the Dockerfile): malloc alone, unless told
# otherwise.
G_SLICE=${G_SLICE:-always-malloc} exec ./build/rtsp-test-server "$@"
