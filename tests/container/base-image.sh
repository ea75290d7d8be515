#!/bin/bash
# Makes the Dockerfile's base image, debian:bookworm-slim, available to podman
# on a machine with no image registry: builds it from Debian's own packages
# with debootstrap and imports it under the name the Dockerfile uses
# (docker.io/library/debian:bookworm-slim). Does nothing when podman already
# has that image (pulled from a registry, or imported by an earlier run).
#
# The root file system is trimmed the way Debian's official -slim images are
# (no docs, man pages or locales; dpkg excludes them from later installs too;
# apt keeps no .deb cache), so image sizes measured on top of it are close to
# what the real base gives. apt sources: the host's Debian sources.
#
# Usage: tests/container/base-image.sh        (as root; needs podman, debootstrap)
# Env:   CONTAINERS_CONF as for every podman command of these tests.
set -euo pipefail

IMAGE=docker.io/library/debian:bookworm-slim
SUITE=bookworm

say() { echo "base-image: $*" >&2; }

# Several test runs may start at once: one imports, the others wait for it.
exec 9>"${TMPDIR:-/tmp}/rtsp-test-server-base-image.lock"
flock -w 600 9

if podman image exists "$IMAGE"; then
  say "$IMAGE present"
  exit 0
fi

# The mirror the host's apt uses (its deb822 file, else sources.list).
sources=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sources=/etc/apt/sources.list.d/debian.sources
  mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
elif [ -f /etc/apt/sources.list ]; then
  sources=/etc/apt/sources.list
  mirror=$(awk '$1 == "deb" {print $2; exit}' "$sources")
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d "${TMPDIR:-/tmp}/rts-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

say "debootstrap --variant=minbase $SUITE from $mirror (about a minute)"
start=$SECONDS
if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  say "debootstrap failed"
  exit 1
fi

# Slim it as Debian's -slim images are.
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/groff/* \
  "$rootfs"/usr/share/lintian/* "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/var/lib/apt/lists/*

# The host's Debian sources (updates and security included), comments out.
if [ -n "$sources" ]; then
  rm -f "$rootfs/etc/apt/sources.list"
  grep -v '^[[:space:]]*#' "$sources" >"$rootfs/etc/apt/sources.list.d/$(basename "$sources")"
fi

tar -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
say "imported $IMAGE in $((SECONDS - start)) s ($(podman image inspect -f '{{.Size}}' "$IMAGE") bytes)"
