#!/bin/bash
# The README's second command: install what is missing, build, and run the
# whole test suite: style check, the suite in a normal build, then the suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer. Ends with one
# line "N passed, N failed" that CI reads; the exit status is the verdict.
set -uo pipefail
cd "$(dirname "$0")/.."

sh scripts/install-deps.sh --test || exit 1

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

step() {
  echo "=== $*" >&2
}

step "style: clang-format"
if clang-format --dry-run --Werror src/*.c src/*.h tools/*.c tests/*.c tests/*.h; then
  passed=$((passed + 1))
else
  echo "style: run 'clang-format -i src/*.[ch] tools/*.c tests/*.[ch]'" >&2
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
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
{ [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >&2; } &&
  ninja -C build-asan >&2 || { echo "sanitizer build failed" >&2; failed=$((failed + 1)); status=1; }
if [ -f build-asan/rtsp-test-server ]; then
  meson test -C build-asan --print-errorlogs --num-processes 2 || status=1
  count build-asan
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
