#!/bin/bash
# valgrind memcheck of a short integration scenario: the release server
# (build-valgrind/) on free ports under memcheck, each camera played over
# TCP and UDP by ffmpeg, every HTTP endpoint and the control API hit once,
# then SIGTERM. Passes when memcheck reports no invalid access and no
# definite leak and the server exits 0. Prints TAP (one result); the
# memcheck log stays in build-valgrind/valgrind.log.
# Usage: scripts/valgrind.sh [CAMERAS]   (default 4)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

cameras="${1:-4}"
build="build-valgrind"
log="$build/valgrind.log"
out="$build/valgrind-server.log"
# A clip cache of its own, empty: the clips are encoded and written under
# memcheck as on a first start, and the user's cache is left alone.
clips=$(mktemp -d "${TMPDIR:-/tmp}/rts-valgrind-clips.XXXXXX")
trap 'rm -rf "$clips"' EXIT
token=valgrind-token

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: not installed (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release >&2 || exit 1
fi
ninja -C "$build" rtsp-test-server >&2 || exit 1

ports=$(printf '0,%.0s' $(seq "$cameras"))
ports=${ports%,}
t0=$SECONDS

# GLib's slice allocator would hide leaks and use-after-free behind its own
# caches; gc-friendly clears pointers so "still reachable" is not
# mistaken for "definitely lost" and the other way round. Small pictures:
# x264 under memcheck is slow, and the server gives its cameras 10 s to
# produce their first packet.
start_server() {
  G_SLICE=always-malloc G_DEBUG=gc-friendly GST_DEBUG=0 \
    timeout 600 valgrind --tool=memcheck --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=99 --num-callers=40 \
    --suppressions=tests/valgrind.supp --log-file="$log" \
    "$build/rtsp-test-server" --bind 127.0.0.1 --rtsp-ports "$ports" \
    --http-port 0 --control-token "$token" --width 160 --height 120 \
    --fps 10 --probe-timeout 10 --stall-threshold 20 --shutdown-timeout 20 \
    --clip-cache "$clips" >"$out" 2>&1 &
  pid=$!
}

# PID is timeout's, which hands SIGTERM on to valgrind and the server.
stop_server() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

fail() {
  echo "not ok 1 - valgrind memcheck: $*"
  tail -n 20 "$out" >&2
  stop_server
  exit 1
}

# Start-up under memcheck takes seconds, not milliseconds. Prints the HTTP
# port; fails when the server exits first.
wait_http_port() {
  local port
  for _ in $(seq 240); do
    port=$(sed -n 's/.*http api listening on port \([0-9]*\).*/\1/p' "$out")
    [ -n "$port" ] && echo "$port" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

echo "1..1"
start_server
if ! http=$(wait_http_port); then
  # On a loaded machine memcheck can miss the cameras' 10 s start: a
  # timing failure, not a memory one. One loud retry.
  if grep -q 'produced video within' "$out"; then
    echo "valgrind: RETRY: $(grep 'produced video within' "$out")" >&2
    stop_server
    start_server
    http=$(wait_http_port) || fail "the server did not start (twice)"
  else
    fail "the server did not start"
  fi
fi
base="http://127.0.0.1:$http"
for _ in $(seq 240); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/health")" = 200 ] && break
  sleep 0.5
done
echo "valgrind: server healthy after $((SECONDS - t0)) s" >&2

mapfile -t rtsp < <(sed -n 's/.*camera cam[0-9]* ready on port \([0-9]*\).*/\1/p' "$out")
[ "${#rtsp[@]}" -eq "$cameras" ] || fail "found ${#rtsp[@]} of $cameras RTSP ports in the log"

play() {
  timeout 60 ffmpeg -nostdin -v error -rtsp_transport "$2" \
    -i "rtsp://127.0.0.1:$1/stream" -frames:v 15 -f null - >&2
}
played=0
tcp_played=0
for port in "${rtsp[@]}"; do
  for transport in tcp udp; do
    # The known UDP no-packets miss (README, Known issues): one loud retry.
    if play "$port" "$transport" || {
      echo "valgrind: RETRY ffmpeg over $transport from port $port" >&2
      play "$port" "$transport"
    }; then
      played=$((played + 1))
      if [ "$transport" = tcp ]; then tcp_played=$((tcp_played + 1)); fi
    else
      echo "valgrind: ffmpeg over $transport from port $port failed twice" >&2
    fi
  done
done

hits=0
get() {
  curl -s -o /dev/null --max-time 10 "$@" && hits=$((hits + 1))
}
for path in /health /health/live /health/ready "/health/${rtsp[0]}" /health/1 \
  /metrics /rtsp-urls / /nope; do
  get "$base$path"
done
get -H 'Accept: application/json' "$base/"
get -X POST "$base/health"
auth="Authorization: Bearer $token"
get -X POST -H "$auth" --data '{"type":"stall","seconds":5}' "$base/control/cameras/cam1/faults"
get -X DELETE -H "$auth" "$base/control/cameras/cam1/faults"
get -X POST -H "$auth" --data '{"type":"disconnect","mode":"rst"}' "$base/control/cameras/cam1/faults"
get -X POST -H "$auth" --data '{"type":"nope"}' "$base/control/cameras/cam1/faults"
get -X POST -H 'Authorization: Bearer wrong' "$base/control/cameras/cam1/faults"

kill -TERM "$pid"
wait "$pid"
rc=$?
# timeout's status is valgrind's, which is the server's unless memcheck
# found errors (99).

errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
summary="$played of $((cameras * 2)) plays (TCP and UDP), $hits HTTP requests,"
summary="$summary ${errors:-?} memcheck errors, ${definite:-0} bytes definitely lost,"
summary="$summary exit $rc, $((SECONDS - t0)) s"
# The verdict is memcheck's, and every camera playing over TCP. A UDP play
# that misses twice under valgrind's slowness on a loaded machine is said
# loudly but does not fail the step (README, Known issues: a UDP reader on a
# starved machine can get no packets); it still costs no memcheck error.
if [ "$played" -lt $((cameras * 2)) ]; then
  echo "valgrind: KNOWN ISSUE: $((cameras * 2 - played)) UDP play(s) missed twice" >&2
fi
if [ "$rc" -eq 0 ] && [ "${errors:-1}" -eq 0 ] && [ "$tcp_played" -eq "$cameras" ] &&
  [ "$played" -gt "$cameras" ]; then
  echo "ok 1 - valgrind memcheck: $summary"
  exit 0
fi
echo "not ok 1 - valgrind memcheck: $summary (log: $log)"
grep -E -A 30 'Invalid|definitely lost in' "$log" | head -n 80 >&2
exit 1
