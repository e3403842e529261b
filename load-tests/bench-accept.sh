#!/usr/bin/env bash
# bench-accept.sh — accept workload, epoll versus io_uring: connections per second with one
# message per connection (smtp-source without -d: connect, banner, HELO, MAIL, RCPT, DATA, 1 KiB,
# QUIT, close), SESSIONS (50) in parallel, discard spool, against
#
#   sluice-epoll  build/sluice        (default build, Asio's epoll reactor)
#   sluice-uring  build-uring/sluice  (cmake -DSLUICE_IO_URING=ON: Asio's io_uring backend)
#   smtp-sink     reference, as in bench-protocol.sh (skipped with PEERS="")
#
# alternating in the same run (run_matrix in lib.sh), REPS repetitions. Before anything, a
# one-message check that the io_uring binary really uses io_uring (an io_uring file descriptor
# in /proc/PID/fd and no epoll one); if io_uring cannot be set up here (seccomp, kernel, sysctl
# kernel.io_uring_disabled) the binary fails to start and the script records its error.
#
# Build the second tree first (under the build lock):
#   flock /tmp/sluice-build.lock sh -c 'cmake -S . -B build-uring -G Ninja -DSLUICE_IO_URING=ON \
#       -DSLUICE_TESTS=OFF && cmake --build build-uring -j2 --target sluice'
# Env: REPS=5 MSGS_B=20000 MAXSECS=20 SESSIONS=50 PEERS="smtp-sink" URING_BIN=build-uring/sluice
#      EPOLL_PORT=24555 URING_PORT=24556 SINK_PORT=24529 LOG_LEVEL=info WORKERS=0 OUT=<results dir>
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-5} MSGS_B=${MSGS_B:-20000} MSGS_A=0 MAXSECS=${MAXSECS:-20} SESSIONS=${SESSIONS:-50}
CASES=b PEERS=${PEERS-smtp-sink} URING_BIN=${URING_BIN:-$ROOT/build-uring/sluice}
EPOLL_PORT=${EPOLL_PORT:-24555} URING_PORT=${URING_PORT:-24556} SINK_PORT=${SINK_PORT:-24529}
LOG_LEVEL=${LOG_LEVEL:-info} WORKERS=${WORKERS:-0}
export MAXSECS SESSIONS
bench_init accept
[[ -x $URING_BIN ]] || die "no io_uring build at $URING_BIN (see the header of this script)"

declare -A PORT_OF PID_OF
TARGETS=()
config_for() { printf 'workers = %s\n[log]\nlevel = "%s"\n[[listener]]\nname = "bench"\naddress = "127.0.0.1"\nport = %s\n[metrics]\nenabled = false\n[spool]\nkind = "discard"\n' "$WORKERS" "$LOG_LEVEL" "$1"; }

backend_of() {  # which kernel interface PID's event loops use, from its open file descriptors
  local fds; fds=$(ls -l "/proc/$1/fd" 2>/dev/null)
  echo "io_uring_fds=$(grep -c 'io_uring' <<<"$fds") epoll_fds=$(grep -c 'eventpoll' <<<"$fds")"
}

for t in sluice-epoll sluice-uring; do
  if [[ $t == sluice-epoll ]]; then bin=$SLUICE_BIN port=$EPOLL_PORT; else bin=$URING_BIN port=$URING_PORT; fi
  port_busy "$port" && die "port $port busy"
  start_sluice "$OUT/$t" "$(config_for "$port")" "$bin"
  TARGETS+=("$t") PORT_OF[$t]=$port PID_OF[$t]=$LAST_PID
  check=$(REP=0 MAXSECS=10 run_source "$t" "$port" "$LAST_PID" check 1024 1 1)
  echo "# $t: $bin ($(source_version "$bin")) $(backend_of "$LAST_PID") check: $check" | tee -a "$RUNS" >&2
done
[[ " $PEERS " == *" smtp-sink "* ]] && add_peer smtp-sink "$SINK_PORT"

{
  echo "# bench-accept.sh $(machine_info)"
  echo "# source $(source_version); targets: ${TARGETS[*]}  REPS=$REPS MSGS_B=$MSGS_B MAXSECS=$MAXSECS SESSIONS=$SESSIONS spool=discard log_level=$LOG_LEVEL workers=$WORKERS"
} | tee -a "$RUNS" >&2

run_matrix

ratios=(--ratio sluice-uring:sluice-epoll)
[[ -n ${PORT_OF[smtp-sink]:-} ]] && ratios+=(--ratio sluice-epoll:smtp-sink --ratio sluice-uring:smtp-sink)
python3 "$LT_DIR/summarize.py" "$RUNS" "${ratios[@]}" | tee "$OUT/summary.md"
log "raw runs: $RUNS"
