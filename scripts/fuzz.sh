#!/bin/bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz/ and runs
# each for SECONDS (default 60), one per core at a time (FUZZ_JOBS): first
# every saved crash in fuzz/regressions/TARGET/ once, then fuzzing from the
# seeds in fuzz/corpus/TARGET/. Prints TAP, one result per target, with its
# executions; exits non-zero when a target crashed or a regression input
# fails again. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

seconds="${1:-60}"
shift $(($# > 0 ? 1 : 0))
case "$seconds" in
  '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac

build="build-fuzz"
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in fuzz/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
  done
fi

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is missing (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_lundef=false >&2 || exit 1
fi
ninja_targets=()
for t in "${targets[@]}"; do
  ninja_targets+=("fuzz/$t")
done
echo "fuzz: building ${targets[*]}" >&2
ninja -C "$build" "${ninja_targets[@]}" >&2 || {
  echo "fuzz: build failed" >&2
  exit 1
}

# A GLib critical is fatal in the targets themselves; these make every
# sanitizer report end the run with a stack and an artifact.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
unset LSAN_OPTIONS

logs="$build/fuzz-logs"
mkdir -p "$logs"
# One target: TAP line on stdout, details on stderr; non-zero when it
# crashed or a regression input fails again.
fuzz_one() {
  local n="$1" t="$2" exe log work artifacts regressions dict rc execs crash
  exe="$build/fuzz/$t"
  log="$logs/$t.log"
  work="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  : >"$log"

  # Every crash ever found, replayed before anything new is looked for.
  regressions=()
  if [ -d "fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do
      regressions+=("$f")
    done < <(find "fuzz/regressions/$t" -type f ! -name '*.md' -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    if ! timeout 300 "$exe" "${regressions[@]}" >>"$log" 2>&1; then
      echo "not ok $n - $t: a regression input fails again (log: $log)"
      tail -n 30 "$log" >&2
      return 1
    fi
  fi

  dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
  # New inputs go to the work corpus in the build dir; the seeds in the
  # repository are only read.
  timeout $((seconds + 120)) "$exe" -max_total_time="$seconds" \
    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts" "${dict[@]}" \
    "$work" "fuzz/corpus/$t" >>"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    echo "ok $n - $t: ${execs:-?} executions in $seconds s, no crash," \
      "${#regressions[@]} regression input(s) pass"
  else
    crash=$(find "$artifacts" -type f -printf '%T@ %f\n' | sort -n | tail -n 1 | cut -d' ' -f2)
    echo "not ok $n - $t: CRASHED (exit $rc) after ${execs:-?} executions;" \
      "input: $artifacts$crash; log: $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 >&2
    echo "fuzz: once fixed, keep the input: cp '$artifacts$crash'" \
      "fuzz/regressions/$t/" >&2
    return 1
  fi
}

# Targets run JOBS at a time (default: one per core); each result is
# printed in target order once all are done.
jobs="${FUZZ_JOBS:-$(nproc)}"
out="$build/fuzz-results"
rm -rf "$out"
mkdir -p "$out"
echo "1..${#targets[@]}"
n=0
for t in "${targets[@]}"; do
  n=$((n + 1))
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n
  done
  (
    fuzz_one "$n" "$t" >"$out/$n.tap" 2>"$out/$n.err"
    echo $? >"$out/$n.rc"
  ) &
done
wait
status=0
for n in $(seq 1 ${#targets[@]}); do
  cat "$out/$n.tap"
  cat "$out/$n.err" >&2
  [ "$(cat "$out/$n.rc")" = 0 ] || status=1
done
exit $status
