#!/usr/bin/env bash
# test-all.sh — every test Sluice has, in the order CI runs them:
#   1. release build + GoogleTest unit tests (ctest)
#   2. integration tests: the real binary against real clients (pytest)
#   3. ASan+UBSan build + the unit tests and integration tests again under it
#   4. clang/libFuzzer build + a short run of every fuzz target
# Prints one closing line "N passed, N failed" summing all stages.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0 failed=0 skipped=0
results=$(mktemp -d)

count_ctest() {  # "100% tests passed, 0 tests failed out of 57"
  local line; line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$1" | tail -n1)
  if [[ -z $line ]]; then failed=$((failed+1)); echo "stage $2: no ctest summary"; return; fi
  local total fail skip; total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line"); fail=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
  # Skipped tests (GTEST_SKIP) are listed as "(Skipped)": neither passed nor failed.
  skip=$(grep -cE '\(Skipped\)' "$1" || true)
  passed=$((passed+total-fail-skip)); failed=$((failed+fail)); skipped=$((skipped+skip))
}
count_pytest() {  # "==== 12 passed, 1 failed, 2 skipped in 3.1s ===="
  # -q prints "226 passed in 67.29s (0:01:07)"; without -q it is framed in "=".
  local line; line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' "$1" | tail -n1)
  if [[ -z $line ]]; then failed=$((failed+1)); echo "stage $2: no pytest summary"; return; fi
  local p f e
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+'); f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
  e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+')
  local k; k=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')
  passed=$((passed+${p:-0})); failed=$((failed+${f:-0}+${e:-0})); skipped=$((skipped+${k:-0}))
}

build() {  # build DIR [cmake flags...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null && cmake --build "$dir" -j "$JOBS"
}

echo "== 1. release build and unit tests"
if build build; then
  (cd build && ctest --output-on-failure -j "$JOBS") 2>&1 | tee "$results/unit.log"
  count_ctest "$results/unit.log" unit
else
  echo "release build FAILED"; failed=$((failed+1))
fi

echo "== 2. integration tests (real binary, real clients)"
if [[ -x build/sluice ]]; then
  SLUICE_BIN=$PWD/build/sluice /usr/bin/python3 -m pytest -q tests/integration 2>&1 | tee "$results/integration.log"
  count_pytest "$results/integration.log" integration
fi

if [[ ${SLUICE_SKIP_SANITIZE:-0} != 1 ]]; then
  echo "== 3. AddressSanitizer + UndefinedBehaviorSanitizer"
  if build build-asan -DSLUICE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug; then
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS") 2>&1 | tee "$results/asan-unit.log"
    count_ctest "$results/asan-unit.log" asan-unit
    SLUICE_BIN=$PWD/build-asan/sluice SLUICE_SANITIZED=1 /usr/bin/python3 -m pytest -q tests/integration 2>&1 | tee "$results/asan-integration.log"
    count_pytest "$results/asan-integration.log" asan-integration
  else
    echo "sanitizer build FAILED"; failed=$((failed+1))
  fi
fi

if [[ ${SLUICE_SKIP_FUZZ:-0} != 1 ]]; then
  echo "== 4. fuzz targets, ${FUZZ_SECONDS}s each"
  if CXX=clang++ build build-fuzz -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF; then
    # Each target is one process on one core: JOBS of them at a time, so
    # the stage takes FUZZ_SECONDS per JOBS targets, not per target, and
    # every target still runs its full FUZZ_SECONDS.
    fuzz_one() {  # fuzz_one TARGET: leaves $results/NAME.log and NAME.rc
      local f=$1 name corpus seeds
      name=$(basename "$f")
      corpus=$(mktemp -d)
      # Seeds (tests/fuzz/seeds/<target>/) give structured formats a start; read only.
      seeds=tests/fuzz/seeds/$name
      [[ -d $seeds ]] || seeds=
      "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "$corpus" ${seeds:+"$seeds"} >"$results/$name.log" 2>&1
      echo $? >"$results/$name.rc"
      rm -rf "$corpus"
    }
    targets=()
    for f in build-fuzz/*_fuzz; do [[ -x $f ]] && targets+=("$f"); done
    running=0
    for f in "${targets[@]}"; do
      if (( running >= JOBS )); then wait -n; running=$((running-1)); fi
      fuzz_one "$f" &
      running=$((running+1))
    done
    wait
    for f in "${targets[@]}"; do
      name=$(basename "$f")
      if [[ $(cat "$results/$name.rc" 2>/dev/null) == 0 ]]; then
        echo "fuzz $name: ok"; passed=$((passed+1))
      else
        echo "fuzz $name: FAILED"; tail -n 30 "$results/$name.log"; failed=$((failed+1))
      fi
    done
  else
    echo "fuzz build FAILED"; failed=$((failed+1))
  fi
fi

echo "(${skipped} skipped: counted neither as passed nor as failed; each says why in its stage's log)"
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
