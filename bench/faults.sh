#!/bin/bash
# Fault injection timings, measured on loopback with the server's defaults
# (probe interval 2 s, probe timeout 2 s, stall threshold 2 s): for each
# fault, the time from the control request to the health flip, and from
# clearing it to recovery. Polls back to back with curl (a few ms each), so
# figures resolve to about that. Bounded: every wait gives up after 10 s.
# Usage: bench/faults.sh [BUILD_DIR] (default: build-release, built here)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build-release}
RUNS=${RUNS:-5}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release >/dev/null
fi
ninja -C "$BUILD" rtsp-test-server >/dev/null
HTTP=18481
PORTS=18464,18465,18466,18467
CAM1=18464
TOKEN=bench-token
BASE="http://127.0.0.1:$HTTP"

"$BUILD/rtsp-test-server" --bind 127.0.0.1 --http-port $HTTP \
  --rtsp-ports $PORTS --control-token $TOKEN 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT

us() { echo "${EPOCHREALTIME/./}"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$BASE$1"; }
control() {
  curl -s -o /dev/null -w '%{http_code}' -X "$1" \
    -H "Authorization: Bearer $TOKEN" ${2:+-d "$2"} \
    "$BASE/control/cameras/cam1/faults"
}
# Microseconds until PATH answers WANT, counted from T0; 10 s at most.
until_code() {
  local path=$1 want=$2 t0=$3
  while [ "$(code "$path")" != "$want" ]; do
    if [ $(($(us) - t0)) -gt 10000000 ]; then echo "timeout"; return; fi
  done
  echo $(($(us) - t0))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf (u == "timeout" ? "timeout" : "%.0f ms"), u / 1000}'; }

until_code /health/ready 200 "$(us)" >/dev/null

echo "| fault | endpoint that flips | injection to flip (median of $RUNS) | clear to recovery (median of $RUNS) |"
echo "|---|---|---|---|"
# fault body | endpoint
while IFS='|' read -r body endpoint; do
  flips=() backs=()
  for _ in $(seq "$RUNS"); do
    t0=$(us)
    [ "$(control POST "$body")" = 200 ] || { echo "inject $body failed" >&2; exit 1; }
    flips+=("$(until_code "$endpoint" 503 "$t0")")
    t0=$(us)
    [ "$(control DELETE)" = 200 ] || { echo "clear failed" >&2; exit 1; }
    backs+=("$(until_code "$endpoint" 200 "$t0")")
    until_code /health/ready 200 "$(us)" >/dev/null
  done
  f=$(printf '%s\n' "${flips[@]}" | median)
  b=$(printf '%s\n' "${backs[@]}" | median)
  printf '| `%s` | `%s` | %s | %s |\n' "$body" "$endpoint" "$(ms "$f")" "$(ms "$b")"
done <<EOF
{"type":"close-port"}|/health/$CAM1
{"type":"hang-port"}|/health/$CAM1
{"type":"reject","status":503}|/health/$CAM1
{"type":"reject","status":401}|/health/$CAM1
{"type":"stall"}|/health/ready
{"type":"slow","ms":3000}|/health/$CAM1
EOF
echo
echo "refuse-udp changes no health endpoint (the port answers RTSP and serves TCP); disconnect is an action, not a state."
