#!/bin/bash
# Core figures of rtsp-test-server, measured on loopback (bounded in time):
#   1. start to the first /health 200 (all four cameras answering RTSP), median of N runs
#   2. /health latency: median and p99 under wrk (1 connection), and throughput
#   3. CPU of the four default cameras with no reader, and with one TCP reader each
# Usage: bench/core.sh [BUILD_DIR] (default: build-release, built here)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build-release}
RUNS=${RUNS:-20}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release >/dev/null
fi
ninja -C "$BUILD" rtsp-test-server rtsp-health-check >/dev/null
SERVER=$BUILD/rtsp-test-server
CHECK=$BUILD/rtsp-health-check
HTTP=18480
PORTS=18454,18455,18456,18457
ARGS=(--bind 127.0.0.1 --http-port $HTTP --rtsp-ports $PORTS)

# bash 5: the clock without forking date(1).
now_ns() { echo "${EPOCHREALTIME/./}000"; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# 1. Start to /health 200. rtsp-health-check answers in about a millisecond,
# so polling it back to back resolves the moment to about that.
samples=()
for _ in $(seq "$RUNS"); do
  t0=${EPOCHREALTIME/./}000
  "$SERVER" "${ARGS[@]}" 2>/dev/null &
  pid=$!
  until "$CHECK" --url "http://127.0.0.1:$HTTP/health" --timeout 1 >/dev/null 2>&1; do
    if [ $(( $(now_ns) - t0 )) -gt 5000000000 ]; then echo "not healthy in 5 s" >&2; kill $pid; exit 1; fi
  done
  t1=${EPOCHREALTIME/./}000
  samples+=($(( (t1 - t0) / 1000 )))
  kill -TERM $pid; wait $pid || true
done
printf 'start to /health 200: median %.1f ms over %d runs (min %.1f, max %.1f)\n' \
  "$(printf '%s\n' "${samples[@]}" | median | awk '{print $1/1000}')" "$RUNS" \
  "$(printf '%s\n' "${samples[@]}" | sort -n | head -1 | awk '{print $1/1000}')" \
  "$(printf '%s\n' "${samples[@]}" | sort -n | tail -1 | awk '{print $1/1000}')"

"$SERVER" "${ARGS[@]}" 2>/dev/null &
pid=$!
until "$CHECK" --url "http://127.0.0.1:$HTTP/health" --timeout 1 >/dev/null 2>&1; do sleep 0.01; done

# 2. /health latency.
if command -v wrk >/dev/null; then
  wrk -t1 -c1 -d5s --latency "http://127.0.0.1:$HTTP/health" > /tmp/wrk.$$ 2>&1
  awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Requests\/sec/ {rps=$2} END {printf "/health latency (wrk, 1 connection, 5 s): median %s, p99 %s, %s req/s\n", p50, p99, rps}' /tmp/wrk.$$
  rm -f /tmp/wrk.$$
else
  echo "/health latency: wrk not installed (apt-get install wrk)"
fi
hc=()
for _ in $(seq 50); do
  t0=${EPOCHREALTIME/./}; "$CHECK" --url "http://127.0.0.1:$HTTP/health" >/dev/null; t1=${EPOCHREALTIME/./}
  hc+=($(( t1 - t0 )))
done
printf 'rtsp-health-check run time, healthy server: median %.2f ms over 50 runs\n' \
  "$(printf '%s\n' "${hc[@]}" | median | awk '{print $1/1000}')"

# 3. CPU: utime+stime ticks over a window, as a share of one core.
cpu_share() {
  local secs=$1 t0 t1 hz
  hz=$(getconf CLK_TCK)
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  sleep "$secs"
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.1f %%", (b-a)/hz/s*100}'
}
echo "CPU, four cameras, no reader (10 s): $(cpu_share 10) of one core; RSS $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$pid/status)"
readers=()
for p in ${PORTS//,/ }; do
  timeout 30 ffmpeg -nostdin -v error -rtsp_transport tcp -i "rtsp://127.0.0.1:$p/stream" -f null - &
  readers+=($!)
done
sleep 3
echo "CPU, four cameras, one TCP reader each (10 s): $(cpu_share 10) of one core; RSS $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$pid/status)"
t0=${EPOCHREALTIME/./}; kill -TERM $pid; wait $pid || true; t1=${EPOCHREALTIME/./}
echo "SIGTERM to exit with four readers connected: $(( (t1 - t0) / 1000 )) ms"
kill "${readers[@]}" 2>/dev/null || true
wait "${readers[@]}" 2>/dev/null || true
