#!/usr/bin/env bash
# bench-build.sh — build times of the release tree, without ccache:
#   clean     rm -rf BT && cmake -S . -B BT -G Ninja && cmake --build BT -j JOBS   (configure timed apart)
#   one file  touch protocol/verb_rcpt.cpp && cmake --build BT -j JOBS   (recompile + archive + relinks)
# Targets: clean < 10 min, one file < 60 s.
#
# Everything runs under the project's build lock (flock /tmp/sluice-build.lock): never two builds
# at once on this machine; the time spent waiting for the lock is reported, not counted. CPU time
# of the build (user+sys of cmake and all the compilers) and the machine's other busy time during
# the build are reported too, since the machine is shared.
# Env: BT=/tmp/bt JOBS=2 TOUCH=protocol/verb_rcpt.cpp
set -uo pipefail
. "$(dirname "$0")/lib.sh"
BT=${BT:-/tmp/bt} JOBS=${JOBS:-2} TOUCH=${TOUCH:-protocol/verb_rcpt.cpp}
export CCACHE_DISABLE=1
cd "$ROOT" || exit 1
[[ -f $TOUCH ]] || die "no $TOUCH"

# timed LABEL CMD... : run CMD, print wall, CPU of CMD and its children, others' CPU meanwhile
timed() {
  local label=$1; shift
  local b0 b1 t0 t1 tf rc; tf=$(mktemp)
  b0=$(machine_busy_ticks); t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$tf" "$@" >"$BT.$label.log" 2>&1; rc=$?
  t1=$(date +%s.%N); b1=$(machine_busy_ticks)
  awk -v l="$label" -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v rc="$rc" -v ld="$(load1)" \
    'END{ c=$1+$2; o=(b1-b0)/hz-c; if (o<0) o=0
          printf "step=%s wall_s=%.1f build_cpu_s=%.1f other_cpu_s=%.1f load1_after=%s rc=%s\n", l, t1-t0, c, o, ld, rc }' "$tf"
  rm -f "$tf"
  return "$rc"
}

build_all() {
  echo "# bench-build.sh $(machine_info) source=$(source_version) BT=$BT JOBS=$JOBS CCACHE_DISABLE=1 $(c++ --version | head -n1)"
  rm -rf "$BT"
  timed configure cmake -S . -B "$BT" -G Ninja || { tail "$BT.configure.log"; return 1; }
  grep -E '^CMAKE_BUILD_TYPE|^SLUICE_' "$BT/CMakeCache.txt" | tr '\n' ' '; echo
  timed clean_build cmake --build "$BT" -j "$JOBS" || { tail "$BT.clean_build.log"; return 1; }
  echo "# clean build: $(grep -c 'Building CXX' "$BT.clean_build.log") compilations, $(grep -c 'Linking' "$BT.clean_build.log") links"
  touch "$TOUCH"
  timed one_file cmake --build "$BT" -j "$JOBS" || { tail "$BT.one_file.log"; return 1; }
  echo "# one-file rebuild after touch $TOUCH: $(grep -E '^\[[0-9]+/[0-9]+\]' "$BT.one_file.log" | sed 's/^\[[0-9]*\/[0-9]*\] //' | tr '\n' ';')"
}

T_ASKED=$(date +%s)
export -f build_all timed machine_info machine_busy_ticks load1 source_version
export BT JOBS TOUCH ROOT CLK_TCK T_ASKED
flock /tmp/sluice-build.lock bash -c 'echo "# waited $(( $(date +%s) - T_ASKED ))s for the build lock"; build_all'

