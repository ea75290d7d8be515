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
exec ./build/rtsp-test-server "$@"
