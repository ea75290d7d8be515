#!/bin/sh
# Installs what building, running and testing rtsp-test-server needs on
# Debian 12, only where something is missing (fast when all is there).
# Every package and why: README.md, "Dependencies".
set -eu

BUILD="meson ninja-build pkg-config gcc libc6-dev
 libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
 libgstrtspserver-1.0-dev libsoup-3.0-dev libjson-glib-dev"
RUNTIME="gstreamer1.0-plugins-base gstreamer1.0-plugins-good
 gstreamer1.0-plugins-ugly gstreamer1.0-x"
TEST="ffmpeg gstreamer1.0-tools gstreamer1.0-libav gstreamer1.0-plugins-bad
 clang-format curl coreutils"

want="$BUILD $RUNTIME"
if [ "${1:-}" = "--test" ]; then
  want="$want $TEST"
fi

missing=""
for pkg in $want; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $pkg"
  fi
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages and not root; run as root:" >&2
    echo "  apt-get install -y --no-install-recommends$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >&2
else
  echo "install-deps: all packages present" >&2
fi
