# rtsp-test-server: four fake H.264 IP cameras and an honest /health.
#
#   podman build --format docker -t rtsp-test-server .     (docker build works too)
#   docker run --rm -p 8554-8557:8554-8557 -p 8080:8080 rtsp-test-server
#
# Configuration is by environment variable, RTSP_TEST_SERVER_<FLAG>, e.g.
# RTSP_TEST_SERVER_PUBLIC_HOST, RTSP_TEST_SERVER_CONTROL_TOKEN (README.md,
# "Settings"). Arguments after the image name go to the server as flags.
#
# `--format docker` matters with podman/buildah: the OCI format drops
# HEALTHCHECK. Deployment (ECS, Kubernetes, Compose): docs/deployment.md.

# ---------------------------------------------------------------- build ----
FROM debian:bookworm-slim AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      meson ninja-build pkg-config gcc libc6-dev libyaml-dev \
      libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
      libgstrtspserver-1.0-dev libsoup-3.0-dev libjson-glib-dev \
      gstreamer1.0-plugins-bad \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what the build reads (.dockerignore keeps the rest out of the context).
COPY meson.build meson_options.txt ./
COPY src/ src/
COPY tools/ tools/
COPY tests/ tests/
COPY bench/ bench/
RUN meson setup /build --buildtype=release -Db_ndebug=if-release \
 && ninja -C /build rtsp-test-server rtsp-health-check \
 && install -D -s -m 0755 /build/rtsp-test-server /out/bin/rtsp-test-server \
 && install -D -s -m 0755 /build/rtsp-health-check /out/bin/rtsp-health-check \
 && mkdir -p /out/lib /out/plugins \
 && cp -a /usr/lib/*-linux-gnu/libgstrtspserver-1.0.so.0* /out/lib/ \
 && cp -a /usr/lib/*-linux-gnu/libgstcodecparsers-1.0.so.0* /out/lib/ \
 && cp -a /usr/lib/*-linux-gnu/gstreamer-1.0/libgstx265.so \
          /usr/lib/*-linux-gnu/gstreamer-1.0/libgstvoaacenc.so \
          /usr/lib/*-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so \
          /usr/lib/*-linux-gnu/gstreamer-1.0/libgstopenh264.so \
          /usr/lib/*-linux-gnu/gstreamer-1.0/libgstde265.so /out/plugins/

# -------------------------------------------------------------- runtime ----
FROM debian:bookworm-slim AS runtime

# Runtime libraries and the GStreamer plugins the cameras use: base
# (videotestsrc, videoconvert), good (rtph264pay, rtpbin, udp), ugly (x264enc),
# x (textoverlay, which needs a font). gstreamer1.0-tools (a few hundred KB)
# gives gst-inspect-1.0 to build the plugin registry below and gst-launch-1.0
# for debugging inside a running task (ECS Exec) and the Compose example client.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libglib2.0-0 libgstreamer1.0-0 libgstreamer-plugins-base1.0-0 \
      libsoup-3.0-0 libjson-glib-1.0-0 libyaml-0-2 libx265-199 libvo-aacenc0 \
      libopenh264-7 libde265-0 \
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
      gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-tools \
      fonts-dejavu-core fontconfig \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /out/bin/ /usr/local/bin/
# libgstrtspserver-1.0-0 is taken from the build stage, not installed as a
# package: the Debian package depends on gstreamer1.0-plugins-bad, which drags
# in GTK, Mesa/LLVM and every codec (~500 MB) while the server uses none of it.
# It is the same Debian build (same base, same mirror) the server was linked
# against; ldconfig below registers it.
COPY --from=build /out/lib/ /usr/local/lib/
# Likewise five plugins of gst-plugins-bad, with their own small libraries
# installed above: x265enc (H.265 cameras), voaacenc (AAC audio), the video
# parsers (h264parse, h265parse) that loop cameras send through, and the
# H.264 and H.265 decoders (openh264dec, libde265dec, 2 MB in all) that a
# file camera's snapshots are decoded with.
COPY --from=build /out/plugins/ /usr/local/lib/gstreamer-1.0/plugins/
ENV GST_PLUGIN_PATH=/usr/local/lib/gstreamer-1.0/plugins

# Caches built once here and read-only at run time, so the non-root user needs
# no writable cache directory and the server's start stays fast:
# - the GStreamer plugin registry (no scan of ~100 plugins at each start);
# - fontconfig's cache for textoverlay. It is rebuilt here, in a later layer
#   than the fonts, because layers keep whole-second mtimes and a cache made
#   during apt-get install (nanoseconds) would be stale at run time;
# - the default cameras' clips (--prepare-cache), so a container reads them
#   in milliseconds instead of encoding four clips (most of a second) at
#   each start. Cameras configured otherwise are encoded at start, as
#   without a cache (the server says it cannot store them: the file system
#   is read-only); point RTSP_TEST_SERVER_CLIP_CACHE at a writable volume to
#   keep theirs, or set it empty for no cache.
ENV GST_REGISTRY_1_0=/usr/local/lib/gstreamer-1.0/registry.bin \
    RTSP_TEST_SERVER_CLIP_CACHE=/var/cache/rtsp-test-server
RUN ldconfig \
 && mkdir -p /usr/local/lib/gstreamer-1.0 \
 && gst-inspect-1.0 x264enc x265enc voaacenc h264parse h265parse textoverlay \
      rtph264pay videotestsrc uridecodebin openh264dec libde265dec >/dev/null \
 && chmod 0644 "$GST_REGISTRY_1_0" \
 && fc-cache -f \
 && GST_REGISTRY_UPDATE=no rtsp-test-server --prepare-cache \
 && groupadd --system --gid 10001 rtsp \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin rtsp
# GSETTINGS_BACKEND=memory: libsoup's glib-networking would otherwise load
# dconf, which wants a writable home and logs an error per connection.
# G_SLICE=always-malloc: GLib 2.74's slab allocator keeps per thread what it
# once held (48 MiB more at 256 cameras), no faster here than malloc (GLib
# 2.76 uses malloc alone); it is set before main() can.
ENV GST_REGISTRY_UPDATE=no \
    GST_DEBUG_NO_COLOR=1 \
    GSETTINGS_BACKEND=memory \
    G_SLICE=always-malloc

# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

# RTSP, one camera per port (cam1..cam4), then the HTTP API (/health ...).
EXPOSE 8554 8555 8556 8557 8080

# The server is PID 1 unless the runtime adds an init (--init, ECS
# initProcessEnabled): it handles SIGTERM itself, turns /health to 503 at once
# and exits 0 once its connections are closed (tens of milliseconds), at the
# latest after its shutdown timeout (5 s by default).
STOPSIGNAL SIGTERM

# Exec form: no shell, no Python; rtsp-health-check is a libc-only program.
# GET /health: the server's own verdict, healthy while at least 3 of the 4
# cameras answer RTSP (one dead or faulted camera is not a reason to
# replace the other three; two are). A stuck process answers nothing and
# fails it too. If you move the HTTP port, override this.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
  CMD ["rtsp-health-check", "--url", "http://127.0.0.1:8080/health", "--timeout", "5"]

ENTRYPOINT ["rtsp-test-server"]
