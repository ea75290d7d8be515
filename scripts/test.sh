#!/bin/bash
# The README's second command: install what is missing, build, and run the
# whole test suite: style check, the suite in a normal build, then the suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer. Ends with one
# line "N passed, N failed" that CI reads; the exit status is the verdict.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
status=0

# Counts one meson run's results from its JSON log.
count() {
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return
  passed=$((passed + $(grep -c '"result": "OK"' "$log")))
  skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log")))
  failed=$((failed + $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")))
}

# Each step's heading; the previous step's time goes to stderr first
# ("took N s"), so CI's log shows where the minutes go.
step_t0=""
step() {
  [ -n "$step_t0" ] && echo "took $((SECONDS - step_t0)) s" >&2
  step_t0=$SECONDS
  [ $# -gt 0 ] && echo "=== $*" >&2
}

step "dependencies: scripts/install-deps.sh --test"
if ! sh scripts/install-deps.sh --test; then
  echo "dependencies: scripts/install-deps.sh --test failed: nothing was built or tested" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

step "style: clang-format"
if clang-format --dry-run --Werror src/*.c src/*.h tools/*.c tools/*.h tests/*.c tests/*.h fuzz/*.c fuzz/*.h bench/*.c; then
  passed=$((passed + 1))
else
  echo "style: run 'clang-format -i src/*.[ch] tools/*.[ch] tests/*.[ch] fuzz/*.[ch] bench/*.c'" >&2
  failed=$((failed + 1))
  status=1
fi

step "build and test: debugoptimized, warnings as errors"
{ [ -f build-test/build.ninja ] || meson setup build-test >&2; } &&
  ninja -C build-test >&2 || { echo "build failed" >&2; failed=$((failed + 1)); status=1; }
if [ -f build-test/rtsp-test-server ]; then
  meson test -C build-test --print-errorlogs --num-processes 2 || status=1
  count build-test
fi

step "build and test: ASan + UBSan"
# Full stacks for every allocation: Debian's GLib has no frame pointers, so
# the fast unwinder stopped at g_malloc, and a leak of ours could not be
# told from GLib's own (tests/lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:fast_unwind_on_malloc=0:malloc_context_size=30"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
{ [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >&2; } &&
  ninja -C build-asan >&2 || { echo "sanitizer build failed" >&2; failed=$((failed + 1)); status=1; }
if [ -f build-asan/rtsp-test-server ]; then
  meson test -C build-asan --print-errorlogs --num-processes 2 || status=1
  count build-asan
fi

# ---------------------------------------------------------------------------
# Deployment: the container image (podman), the CDK app, the manifests.
# Each step's TAP results join the totals; a step that dies without a failing
# result counts as one failure.

# Counts a flat TAP log (tests/container/test_image.sh).
count_tap() {
  local log="$1" p f s
  s=$(grep -c -E '^ok [0-9]+ .*# SKIP' "$log")
  p=$(($(grep -c -E '^ok [0-9]+' "$log") - s))
  f=$(grep -c -E '^not ok [0-9]+' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  step_failed=$f
}

# Counts node --test's closing summary (# pass N, # fail N, ...).
count_node() {
  local log="$1" p f c s
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  s=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${c:-0}))
  skipped=$((skipped + ${s:-0}))
  step_failed=$((${f:-0} + ${c:-0}))
}

# step_result NAME EXIT-STATUS, after count_tap/count_node set step_failed.
step_result() {
  if [ "$2" -ne 0 ]; then
    status=1
    if [ "$step_failed" -eq 0 ]; then
      echo "$1: exited $2 with no failing test counted: counted as one failure" >&2
      failed=$((failed + 1))
    fi
  fi
}

mkdir -p build-test
# No AWS account, no credentials, no metadata service, no telemetry: the CDK
# app must synthesize offline.
cdk_env() {
  env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true "$@"
}

# Every regression input once, then each libFuzzer target for 30 s, one per
# core at a time (about 2 minutes with the clang build): one result per
# target.
step "fuzz: libFuzzer targets, 30 s each (scripts/fuzz.sh)"
timeout 900 bash scripts/fuzz.sh 30 >build-test/fuzz.tap
rc=$?
cat build-test/fuzz.tap
count_tap build-test/fuzz.tap
step_result "fuzz" "$rc"

# The benchmark harness at tiny sizes, so that it cannot rot: every step of
# bench/run.sh against both servers (about 20 s, side by side), then what a run must show
# on any machine (every reader got every frame, nothing leaked, nobody
# hung); never a speed. The figures of a smoke run mean nothing.
step "bench: smoke run of the harness (bench/run.sh --smoke)"
rm -rf build-test/bench-smoke
timeout 600 bash bench/run.sh --smoke --build build-test --out build-test/bench-smoke \
  >build-test/bench-smoke.log 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  build-test/bench/bench-report --check build-test/bench-smoke >build-test/bench-smoke.tap
  rc=$?
else
  tail -n 30 build-test/bench-smoke.log >&2
  echo "not ok 1 - bench/run.sh --smoke exited $rc (log: build-test/bench-smoke.log)" >build-test/bench-smoke.tap
fi
cat build-test/bench-smoke.tap
count_tap build-test/bench-smoke.tap
step_result "bench smoke" "$rc"

# The release server under valgrind memcheck: four cameras played over TCP
# and UDP, every endpoint, SIGTERM (about 1 minute; up to 2 when loaded).
step "valgrind: memcheck of a short integration scenario (scripts/valgrind.sh)"
timeout 600 bash scripts/valgrind.sh >build-test/valgrind.tap 2> >(tee build-test/valgrind.err >&2)
rc=$?
cat build-test/valgrind.tap
count_tap build-test/valgrind.tap
step_result "valgrind" "$rc"

# The CDK app and the manifests (about 2 minutes, mostly node) run in the
# background while the container test, which mostly waits (its health
# checks, the image's 60 s start period), has the machine; their results are
# printed and counted after it, in the same order as ever.
infra_dir=build-test/infra
rm -rf "$infra_dir"
mkdir -p "$infra_dir"
run_infra() {
  if ! (cd infra && timeout 600 npm ci --no-audit --no-fund) >"$infra_dir/npm-ci.log" 2>&1; then
    echo 1 >"$infra_dir/npm-ci.rc"
    return
  fi
  echo 0 >"$infra_dir/npm-ci.rc"
  (cd infra && cdk_env timeout 600 npm test) >build-test/infra-test.tap 2>&1
  echo $? >"$infra_dir/infra-test.rc"
  for profile in test production; do
    out="build-test/cdk.out-$profile"
    rm -rf "$out"
    if (cd infra && cdk_env timeout 300 npx cdk synth --quiet --no-notices \
      -c profile="$profile" -o "../$out") >>"$infra_dir/cdk-synth.log" 2>&1 &&
      [ "$(grep -o '"AWS::ElasticLoadBalancingV2::Listener"' "$out/RtspTestServer.template.json" | wc -l)" -eq 5 ]; then
      echo "ok - cdk synth -c profile=$profile"
    else
      echo "not ok - cdk synth -c profile=$profile"
    fi
  done >"$infra_dir/cdk-synth.tap"
  (cd infra && RTS_SERVER="$PWD/../build-test/rtsp-test-server" \
    RTS_HEALTH_CHECK="$PWD/../build-test/rtsp-health-check" timeout 300 npm run test:deploy) \
    >build-test/manifests-test.tap 2>&1
  echo $? >"$infra_dir/manifests-test.rc"
}
run_infra &
infra_pid=$!

step "container image: build and run with podman (tests/container/test_image.sh)"
rm -f build-test/container-timings.txt
RTS_TIMINGS="$PWD/build-test/container-timings.txt" \
  timeout 1800 bash tests/container/test_image.sh >build-test/container-test.tap
rc=$?
cat build-test/container-test.tap
if grep -q '# SKIP' build-test/container-test.tap; then
  echo "!!! container tests were SKIPPED: podman cannot run here (see above)" >&2
fi
count_tap build-test/container-test.tap
step_result "container test" "$rc"

step "infra: npm ci, CDK app tests (infra/test/stack.test.ts), in the background since the container step"
wait "$infra_pid"
if [ "$(cat "$infra_dir/npm-ci.rc" 2>/dev/null)" = 0 ]; then
  rc=$(cat "$infra_dir/infra-test.rc" 2>/dev/null || echo 1)
  grep -E '^ *(not )?ok |^# (tests|pass|fail|cancelled|skipped)' build-test/infra-test.tap
  [ "$rc" -eq 0 ] || cat build-test/infra-test.tap >&2
  count_node build-test/infra-test.tap
  step_result "infra tests" "$rc"

  step "infra: npx cdk synth, offline, both profiles"
  cat "$infra_dir/cdk-synth.tap"
  p=$(grep -c '^ok ' "$infra_dir/cdk-synth.tap")
  f=$((2 - p))
  passed=$((passed + p))
  if [ "$f" -gt 0 ]; then
    cat "$infra_dir/cdk-synth.log" >&2
    failed=$((failed + f))
    status=1
  fi

  step "deploy manifests: Kubernetes and Compose (infra/test/deploy-manifests.test.ts)"
  rc=$(cat "$infra_dir/manifests-test.rc" 2>/dev/null || echo 1)
  grep -E '^ *(not )?ok |^# (tests|pass|fail|cancelled|skipped)' build-test/manifests-test.tap
  [ "$rc" -eq 0 ] || cat build-test/manifests-test.tap >&2
  count_node build-test/manifests-test.tap
  step_result "manifest tests" "$rc"
else
  cat "$infra_dir/npm-ci.log" >&2
  echo "infra: npm ci failed: CDK and manifest tests not run" >&2
  failed=$((failed + 1))
  status=1
fi

step
# A test that retried a step known to miss now and then (README, Known
# issues) said so in its log: counted here, so that a retry is never silent.
retries=$(cat build-test/meson-logs/testlog.txt build-asan/meson-logs/testlog.txt build-test/valgrind.err 2>/dev/null | grep -c 'RETRY')
echo "retries of known flaky steps: ${retries} (grep RETRY build-*/meson-logs/testlog.txt build-test/valgrind.err)"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
