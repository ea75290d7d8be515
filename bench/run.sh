#!/bin/bash
# Benchmarks of issue 6: rtsp-test-server against the baseline (bench/baseline.c,
# the hand-made gst-rtsp-server with four live x264 cameras), on loopback, A/B
# interleaved, bounded in time (about 5 minutes on a 2-core machine; --quick
# about 2).
#
# Usage: bench/run.sh [--quick|--smoke] [--build DIR] [--server PATH]
#                     [--server-arg ARG]... [--out DIR]
#   --smoke            tiny sizes, every part on a server of its own, all at
#                      once instead of in turn, about 8 s: the test suite's run of the
#                      harness, so that it cannot rot; its figures mean nothing
#                      (bench-report --check then asserts what does not
#                      depend on speed: every reader got every frame, nothing
#                      leaked, nobody hung)
#   --build DIR        an existing Meson build directory to take every binary
#                      from (default: build-bench, set up here as a release)
#   --server PATH      the rtsp-test-server binary to measure (default: the
#                      release build made here, build-bench/rtsp-test-server)
#   --server-arg ARG   an extra flag for it (repeat), e.g. a source option
#   --out DIR          results directory (default bench/results/DATE)
# OURS_CAMS (environment): the camera counts the cameras-per-core step may
# use, e.g. OURS_CAMS="8 16" for live cameras, whose encoders could not keep
# up with 256 (the largest CAM_STEPS of them the server accepts are used).
# Prints the table; writes DIR/results.json, results.csv, table.md, *.png
# and the raw output of every run under DIR/raw/.
#
# Everything listens on 127.0.0.1 on free ports; every process runs under
# timeout(1) and is stopped by its own PID.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
SMOKE=0
BUILD=build-bench
SERVER=""
SERVER_ARGS=()
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --smoke) SMOKE=1 ;;
    --build) BUILD=$2; shift ;;
    --server) SERVER=$2; shift ;;
    --server-arg) SERVER_ARGS+=("$2"); shift ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: bench/run.sh [--quick|--smoke] [--build DIR] [--server PATH] [--server-arg ARG]... [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

sh scripts/install-deps.sh --bench || exit 1

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release >/dev/null || exit 1
fi
timeout 900 ninja -C "$BUILD" rtsp-test-server rtsp-health-check bench/baseline bench/rtsp-bench-client bench/bench-report >/dev/null || {
  echo "bench: build failed" >&2
  exit 1
}
BUILD=$(realpath "$BUILD")
SERVER=${SERVER:-$BUILD/rtsp-test-server}
SERVER=$(realpath "$SERVER")
BASELINE=$BUILD/bench/baseline
CLIENT=$BUILD/bench/rtsp-bench-client
CHECK=$BUILD/rtsp-health-check
REPORT=$BUILD/bench/bench-report

CHURN_ARGS=()
if [ "$SMOKE" = 1 ]; then
  ROUNDS=1
  STARTUPS=2
  FF=3
  WINDOW=1
  READERS="4 40"
  CHURN=40
  CHURN_ARGS=(--warmup 10 --settle 3) # past the sender's 2 s hold of a reset client
  HC=5
  WRK_S=1
  IDLE_S=0.5
  CAM_STEPS=1
  BASE_CAMS="4"
  OURS_CAMS="8"
  WRK_READERS=10    # readers while wrk runs
  WRK_WAIT=1        # seconds for them to start
  SIGTERM_WAIT=0.5  # seconds four readers play before SIGTERM
  QUICK=smoke
elif [ "$QUICK" = 1 ]; then
  ROUNDS=1          # A/B rounds of the four-camera block
  STARTUPS=6        # start-up runs per server
  FF=8              # first-frame runs per transport, server and round
  WINDOW=3          # seconds each readers run counts packets
  READERS="4 100 400"
  CHURN=300
  HC=20             # rtsp-health-check runs
  WRK_S=3
  IDLE_S=2
  CAM_STEPS=2
  BASE_CAMS="8 16"
else
  ROUNDS=2
  STARTUPS=15
  FF=15
  WINDOW=6
  READERS="4 100 200 400"
  CHURN=2000
  HC=40
  WRK_S=5
  IDLE_S=4
  CAM_STEPS=4
  BASE_CAMS="8 16 24 32"
fi
WRK_READERS=${WRK_READERS:-100}
WRK_WAIT=${WRK_WAIT:-3}
SIGTERM_WAIT=${SIGTERM_WAIT:-2.5}
# The most cameras the server accepts (RTS_MAX_CAMERAS in src/config.h):
# asked of the binary itself, so a rebuilt limit is measured as it is. By
# --check-config: --version answers whatever else the line says, so the
# probe took 1000 and the steps above 256 were tried and failed to start.
ours_max_cams() {
  local n list
  for n in 1000 500 400 300 256 200 128 100 64 32 16 8 4; do
    list=$(printf '0%.0s,' $(seq "$n"))
    if timeout 5 "$SERVER" --rtsp-ports "${list%,}" --check-config >/dev/null 2>&1; then
      echo "$n"
      return
    fi
  done
  echo 4
}

# By default a new folder named for the day: a second run that day gets
# 2026-12-06b, then c..., never overwriting results already kept.
if [ -z "$OUT" ]; then
  OUT=bench/results/$(date -u +%Y-%m-%d)
  for suffix in "" b c d e f g h i j k l m n o p q r s t u v w x y z; do
    [ -e "$OUT$suffix" ] || { OUT=$OUT$suffix; break; }
  done
fi
mkdir -p "$OUT/raw"
OUT=$(realpath "$OUT")
RAW=$OUT/raw
rm -f "$RAW"/*
LOG=$RAW/servers.log
: >"$LOG"
: >"$RAW/events.txt"
KIND=""
SPID=""
LAST_STEP=""

T_START=$SECONDS
note() { printf '[%4ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cores=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "gstreamer=$(pkg-config --modversion gstreamer-1.0)"
  echo "server=$SERVER ${SERVER_ARGS[*]}"
  echo "server_commit=$(git rev-parse --short HEAD 2>/dev/null)"
  echo "quick=$QUICK"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RAW/machine.txt"

# N free TCP ports on loopback (the kernel picks them; closed again at once).
free_ports() {
  timeout 10 "$CLIENT" free-ports -n "$1"
}

urls() {
  local p out=""
  for p in "$@"; do out="$out rtsp://127.0.0.1:$p/stream"; done
  echo "$out"
}

# start_server ours|base N: starts it with N cameras on fresh ports; sets
# SPID (the server's own PID), WPID (its timeout wrapper), HTTP, PORTS, URLS.
# A server that exits at once had a port taken between free_ports and its
# bind (a client's connection, or another part of a --smoke run, got it):
# it is started again on other ports, up to three times.
start_server() {
  local kind=$1 n=$2 ports attempt
  KIND=$kind
  for attempt in 1 2 3; do
    read -r -a ports <<<"$(free_ports $((n + 1)))"
    HTTP=${ports[0]}
    PORTS=("${ports[@]:1}")
    URLS=$(urls "${PORTS[@]}")
    if [ "$kind" = ours ]; then
      local list
      list=$(IFS=,; echo "${PORTS[*]}")
      timeout 900 "$SERVER" --bind 127.0.0.1 --http-port "$HTTP" \
        --rtsp-ports "$list" "${SERVER_ARGS[@]}" 2>>"$LOG" &
    else
      timeout 900 "$BASELINE" --bind 127.0.0.1 "${PORTS[@]}" 2>>"$LOG" &
    fi
    WPID=$!
    SPID=""
    for _ in $(seq 200); do
      SPID=$(cat /proc/$WPID/task/$WPID/children 2>/dev/null | awk '{print $1}')
      [ -n "$SPID" ] && break
      sleep 0.01
    done
    # Ready, within 20 s: ours when /health/ready (every port answers, every
    # camera streams); the baseline when every port answers OPTIONS (it
    # builds a camera's pipeline on the first DESCRIBE).
    local end=$((SECONDS + 20))
    list=$(IFS=,; echo "${PORTS[*]}")
    while [ $SECONDS -lt $end ] && kill -0 "$WPID" 2>/dev/null; do
      if [ "$kind" = ours ]; then
        "$CHECK" --url "http://127.0.0.1:$HTTP/health/ready" --timeout 1 >/dev/null 2>&1 && return 0
      else
        "$CHECK" --rtsp-ports "$list" --timeout 1 >/dev/null 2>&1 && return 0
      fi
      sleep 0.05
    done
    kill -0 "$WPID" 2>/dev/null && break
    wait "$WPID" 2>/dev/null
    note "$kind exited at start (status $?; a port taken meanwhile?): again on other ports"
    SPID=""
  done
  note "$kind did not get ready"
  return 1
}

# Stops it by its PID; one that ignores SIGTERM for 10 s is hung: its
# threads' stacks are kept (raw/hang-*.txt), then it is killed.
stop_server() {
  local what=${1:-stop}
  [ -n "${SPID:-}" ] || return 0
  kill -TERM "$SPID" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SPID" 2>/dev/null; then
    note "$KIND (PID $SPID) did not exit 10 s after SIGTERM ($what): hung; stacks in raw/"
    echo "$KIND $what: no exit 10 s after SIGTERM" >>"$RAW/events.txt"
    command -v gdb >/dev/null &&
      timeout 60 gdb -p "$SPID" -batch -ex "thread apply all bt 16" \
        >"$RAW/hang-$KIND-$what.txt" 2>/dev/null
    kill -KILL "$SPID" 2>/dev/null
  fi
  wait "$WPID" 2>/dev/null
  SPID=""
}

# Whether the running server still answers: RTSP OPTIONS on every port,
# and ours also /health/live. A dead or hung one is recorded, its stacks kept,
# and a fresh one started, so that one hang does not void the whole run.
alive_or_restart() {
  local step=$1 list
  list=$(IFS=,; echo "${PORTS[*]}")
  if "$CHECK" --rtsp-ports "$list" --timeout 3 >/dev/null 2>&1 &&
    { [ "$KIND" = base ] ||
      "$CHECK" --url "http://127.0.0.1:$HTTP/health/live" --timeout 3 >/dev/null 2>&1; }; then
    return 0
  fi
  if ! kill -0 "$SPID" 2>/dev/null; then
    wait "$WPID" 2>/dev/null
    local rc=$?
    note "$KIND died during '$LAST_STEP' (exit status $rc): restarting it"
    echo "$KIND died during $LAST_STEP (exit status $rc; its log: raw/servers.log)" >>"$RAW/events.txt"
    SPID=""
    start_server "$KIND" "${#PORTS[@]}"
    return
  fi
  note "$KIND does not answer before '$step': restarting it"
  echo "$KIND stopped answering RTSP or /health/live during $LAST_STEP" >>"$RAW/events.txt"
  command -v gdb >/dev/null && kill -0 "$SPID" 2>/dev/null &&
    timeout 60 gdb -p "$SPID" -batch -ex "thread apply all bt 16" \
      >"$RAW/hang-$KIND-after-$LAST_STEP.txt" 2>/dev/null
  stop_server "$step"
  start_server "$KIND" "${#PORTS[@]}"
}

# Every client run is bounded: by its own timeouts first, by timeout(1) last.
client() {
  local limit=$1
  shift
  timeout "$limit" "$CLIENT" "$@"
}

# rtsp-health-check's wall time, bash's fork and exec included (an
# orchestrator pays them too), in ms, one a line.
# Three failures in a row end it: the server is not answering, and each
# failure would cost the check's whole timeout.
time_check() {
  local out=$1 i t0 t1 fails=0
  shift
  for i in $(seq "$HC"); do
    t0=${EPOCHREALTIME/./}
    if "$CHECK" "$@" >/dev/null 2>&1; then
      fails=0
    else
      fails=$((fails + 1))
      echo "$KIND: rtsp-health-check $* failed" >>"$RAW/events.txt"
      [ $fails -ge 3 ] && return 1
    fi
    t1=${EPOCHREALTIME/./}
    echo "$(((t1 - t0)))" | awk '{printf "%.3f\n", $1 / 1000}' >>"$out"
  done
}

# CPU share of one core the server used over SECONDS (utime+stime ticks).
cpu_share() {
  local secs=$1 a b
  a=$(awk '{print $14 + $15}' /proc/"$SPID"/stat 2>/dev/null) || return
  sleep "$secs"
  b=$(awk '{print $14 + $15}' /proc/"$SPID"/stat 2>/dev/null) || return
  awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN {printf "%.2f\n", (b - a) / hz / s * 100}'
}

# --- 1. start-up, A/B interleaved run by run -------------------------------
# Ours is timed twice, separately: to /health 200 (its target), and to
# DESCRIBE 200 on all four ports, the only probe the baseline allows.
note "start-up: $STARTUPS runs each"
for i in $(seq "$STARTUPS"); do
  read -r -a p <<<"$(free_ports 5)"
  client 30 startup -n 1 --health "http://127.0.0.1:${p[0]}/health" \
    -- "$SERVER" --bind 127.0.0.1 --http-port "${p[0]}" \
    --rtsp-ports "${p[1]},${p[2]},${p[3]},${p[4]}" "${SERVER_ARGS[@]}" >>"$RAW/startup-ours.jsonl"
  read -r -a p <<<"$(free_ports 4)"
  client 30 startup -n 1 \
    $(for q in "${p[@]}"; do echo "--describe rtsp://127.0.0.1:$q/stream"; done) \
    -- "$BASELINE" --bind 127.0.0.1 "${p[@]}" >>"$RAW/startup-base.jsonl"
  read -r -a p <<<"$(free_ports 5)"
  client 30 startup -n 1 \
    $(for q in "${p[@]:1}"; do echo "--describe rtsp://127.0.0.1:$q/stream"; done) \
    -- "$SERVER" --bind 127.0.0.1 --http-port "${p[0]}" \
    --rtsp-ports "${p[1]},${p[2]},${p[3]},${p[4]}" "${SERVER_ARGS[@]}" >>"$RAW/startup-ours-describe.jsonl"
done

# --- 2. four cameras: first frame, readers, /health, checks; A/B rounds ----
# block KIND ROUND [PART...]: one server, the parts in this order (default
# all): play (idle CPU, first frames, readers), health (rtsp-health-check,
# wrk; the baseline has only the RTSP check), churn (the last round only),
# sigterm (SIGTERM to exit with four readers playing). Without sigterm the
# server is simply stopped.
block() {
  local kind=$1 r=$2 n parts=" ${*:3} "
  [ "$parts" = "  " ] && parts=" play health churn sigterm "
  note "$kind, round $r${3:+ (${*:3})}"
  start_server "$kind" 4 || { stop_server start; return; }
  LAST_STEP=start
  if [[ $parts == *" play "* ]]; then
    # Idle: ours keeps its cameras running; the baseline starts a camera's
    # pipeline on its first DESCRIBE (and here nobody asked yet).
    cpu_share "$IDLE_S" >>"$RAW/idle-cpu-$kind.txt"
    for t in tcp udp; do
      alive_or_restart "ff-$t" || return
      client $((FF * 6 + 10)) first-frame -n "$FF" -t $t $URLS >"$RAW/ff-$t-$kind-r$r.json"
      LAST_STEP=ff-$t
    done
    for n in $READERS; do
      alive_or_restart "readers-$n" || return
      client $((WINDOW + 60)) readers -n "$n" -d "$WINDOW" --pid "$SPID" $URLS >"$RAW/readers-$n-$kind-r$r.json"
      LAST_STEP=readers-$n
    done
  fi
  if [[ $parts == *" health "* ]]; then
    if [ "$kind" = ours ]; then
      alive_or_restart "health-check" || return
      time_check "$RAW/hc-http-ours.txt" --url "http://127.0.0.1:$HTTP/health"
      LAST_STEP=health-check
      # /health under 100 readers (smoke: 10): paced to about 1,000 req/s for latency,
      # then as fast as 16 connections go for throughput.
      alive_or_restart "wrk" || return
      # Their window opens 1 s after they play, and so closes after wrk's.
      client $((2 * WRK_S + 60)) readers -n "$WRK_READERS" -d $((2 * WRK_S + WRK_WAIT)) $URLS >"$RAW/wrk-readers-ours-r$r.json" &
      local rp=$!
      sleep "$WRK_WAIT"
      timeout 60 wrk -t1 -c4 -d"${WRK_S}s" --latency -s bench/wrk-paced.lua \
        "http://127.0.0.1:$HTTP/health" >"$RAW/wrk-paced-ours-r$r.txt" 2>&1
      timeout 60 wrk -t1 -c16 -d"${WRK_S}s" --latency \
        "http://127.0.0.1:$HTTP/health" >"$RAW/wrk-max-ours-r$r.txt" 2>&1
      wait $rp
      LAST_STEP=wrk
    fi
    alive_or_restart "health-check-rtsp" || return
    local list
    list=$(IFS=,; echo "${PORTS[*]}")
    time_check "$RAW/hc-rtsp-$kind.txt" --rtsp-ports "$list"
    LAST_STEP=health-check-rtsp
  fi
  if [[ $parts == *" churn "* ]] && [ "$r" = "$ROUNDS" ]; then
    alive_or_restart "churn" || return
    note "$kind: $CHURN churn cycles"
    client $((CHURN / 5 + 60)) churn -n "$CHURN" "${CHURN_ARGS[@]}" --pid "$SPID" $URLS >"$RAW/churn-$kind.json"
    LAST_STEP=churn
  fi
  if [[ $parts != *" sigterm "* ]]; then
    alive_or_restart "stop" || return
    stop_server "round-$r"
    return
  fi
  # The end of the round: SIGTERM to exit, four readers playing.
  alive_or_restart "sigterm" || return
  client 60 readers -n 4 -d 30 $URLS >/dev/null 2>&1 &
  local rp=$! t0 t1
  sleep "$SIGTERM_WAIT"
  t0=${EPOCHREALTIME/./}
  stop_server "sigterm-round-$r"
  t1=${EPOCHREALTIME/./}
  echo "$(((t1 - t0)))" | awk '{printf "%.3f\n", $1 / 1000}' >>"$RAW/sigterm-$kind.txt"
  kill "$rp" 2>/dev/null
  wait "$rp" 2>/dev/null
}
# --- 3. cameras on one core -------------------------------------------------
# Each camera has one TCP reader. Not pinned to one core: other engineers'
# jobs share the cores, and a pinned server would measure their load. The
# report takes CPU per camera-at-full-frame-rate, 100 % over that is the
# cameras one core sustains; each step also says whether every reader got
# every frame at the full rate.
MAXC=$(ours_max_cams)
echo "$MAXC" >"$RAW/ours-max-cameras.txt"
# Our steps: the largest CAM_STEPS of these the server accepts.
read -r -a ours_steps <<<"$(for k in ${OURS_CAMS:-4 8 12 16 32 64 100 200 256 300 400}; do
  [ "$k" -le "$MAXC" ] && echo "$k"; done | tail -n "$CAM_STEPS" | xargs)"
set -- $BASE_CAMS
base_steps=("$@")
cams_step() {
  local kind=$1 k=$2
  note "$kind: $k cameras, one reader each"
  start_server "$kind" "$k" || { stop_server "cams-$k"; return; }
  client $((WINDOW + 60)) readers -n "$k" -d "$WINDOW" --pid "$SPID" $URLS >"$RAW/cams-$k-$kind.json"
  stop_server "cams-$k"
}
# Step by step, ours then the baseline at each.
cams_steps() {
  for i in "${!ours_steps[@]}"; do
    for kind in ours base; do
      if [ $kind = ours ]; then k=${ours_steps[$i]}; else k=${base_steps[$i]:-}; fi
      [ -n "$k" ] || continue
      if [ $kind = ours ] && [ "$k" -gt "$MAXC" ]; then continue; fi
      cams_step "$kind" "$k"
    done
  done
}

if [ "$SMOKE" = 1 ]; then
  # Figures that mean nothing need no machine to themselves: every part on
  # a server of its own, all at once, each in its own subshell (its own
  # SPID, PORTS...). The churn alone takes about 5 s (a reset client is
  # held 2 s: src/sender.c, HOLD).
  for kind in ours base; do
    block $kind 1 play sigterm &
    block $kind 1 health &
    block $kind 1 churn &
  done
  cams_steps &
  wait
else
  # ABBA: neither server always goes first on a warming machine.
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then block ours "$r"; block base "$r"; else block base "$r"; block ours "$r"; fi
  done
  cams_steps
fi

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/machine.txt"
echo "seconds=$((SECONDS - T_START))" >>"$RAW/machine.txt"
note "done; report"
"$REPORT" "$OUT"
