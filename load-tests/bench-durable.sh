#!/usr/bin/env bash
# bench-durable.sh — durable throughput: Sluice with the file spool (`[spool] kind = "file"`: each
# message written and fdatasync'd, its envelope too, both renamed into queue/, the directory
# fsync'd, all before the 250) beside Postfix (queue file fsync'd by cleanup before the 250), in
# the same run, alternating. Same smtp-source cases as bench-protocol.sh:
#
#   case a  1 KiB messages, SESSIONS (50) parallel sessions, many messages per connection (smtp-source -d)
#   case b  1 KiB messages, SESSIONS (50) parallel sessions, one message per connection
#
# Both spools are on the same file system (under $BENCH_TMP, default /tmp/sluice-bench; the
# summary names it). Sluice does not deliver yet, so after each of its runs the script empties
# its queue/ (not timed); Postfix delivers to its discard transport and the script waits for its
# queue to drain before the next run. SLUICE_IO_THREADS_ALSO="16" adds a second Sluice target
# with that many spool I/O threads (the default is 2), to show what the fsync concurrency costs.
#
# Needs: root (Postfix), build/sluice, smtp-source; Postfix from ../shared/peers (without it only
# Sluice runs, and the output says so).
# Env: REPS=5 MSGS_A=20000 MSGS_B=10000 MAXSECS=20 SESSIONS=50 CASES="a b" PEERS="postfix"
#      SLUICE_PORT=24535 SLUICE2_PORT=24536 POSTFIX_PORT=24526 IO_THREADS=2 SLUICE_IO_THREADS_ALSO=
#      LOG_LEVEL=info QUIET_IDLE=85 QUIET_WAIT=120 DRAIN_SECS=90 OUT=<results dir>
# Output: $OUT/runs.txt and $OUT/summary.md; the summary on stdout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-5} MSGS_A=${MSGS_A:-20000} MSGS_B=${MSGS_B:-10000} MAXSECS=${MAXSECS:-20}
SESSIONS=${SESSIONS:-50} CASES=${CASES:-a b} PEERS=${PEERS-postfix}
SLUICE_PORT=${SLUICE_PORT:-24535} SLUICE2_PORT=${SLUICE2_PORT:-24536} POSTFIX_PORT=${POSTFIX_PORT:-24526}
IO_THREADS=${IO_THREADS:-2} SLUICE_IO_THREADS_ALSO=${SLUICE_IO_THREADS_ALSO:-} LOG_LEVEL=${LOG_LEVEL:-info}
export MAXSECS SESSIONS
bench_init durable

declare -A PORT_OF PID_OF SPOOL_OF
TARGETS=()

add_sluice() {  # add_sluice LABEL PORT IO_THREADS
  local label=$1 port=$2 io=$3 dir=$OUT/$1
  port_busy "$port" && die "port $port busy (set SLUICE_PORT / SLUICE2_PORT)"
  rm -rf "$dir/spool"
  start_sluice "$dir" "[log]
level = \"$LOG_LEVEL\"
[[listener]]
name = \"bench\"
address = \"127.0.0.1\"
port = $port
[spool]
kind = \"file\"
directory = \"$dir/spool\"
io_threads = $io"
  TARGETS+=("$label") PORT_OF[$label]=$port PID_OF[$label]=$LAST_PID SPOOL_OF[$label]=$dir/spool
}

add_sluice sluice "$SLUICE_PORT" "$IO_THREADS"
[[ -n $SLUICE_IO_THREADS_ALSO ]] && add_sluice "sluice-io$SLUICE_IO_THREADS_ALSO" "$SLUICE2_PORT" "$SLUICE_IO_THREADS_ALSO"
for p in $PEERS; do
  [[ $p == postfix ]] || die "unknown peer $p (postfix)"
  add_peer postfix "$POSTFIX_PORT"
done

# Sluice keeps what it accepted (no delivery yet): empty queue/ so every run starts alike.
after_run() {
  local dir=${SPOOL_OF[$1]:-}
  [[ -n $dir ]] || return 0
  find "$dir/queue" -type f -delete
}

fs_of() { df -PT "$1" | awk 'NR==2{print $2" on "$1" ("$7")"}'; }
{
  echo "# bench-durable.sh $(machine_info)"
  echo "# sluice=$SLUICE_BIN ($(source_version)) spool=file io_threads=$IO_THREADS${SLUICE_IO_THREADS_ALSO:+ (+ io_threads=$SLUICE_IO_THREADS_ALSO)} log_level=$LOG_LEVEL"
  echo "# spool file system: sluice $(fs_of "$OUT"); postfix $(fs_of "$PEERS_RUN")"
  echo "# targets: ${TARGETS[*]}  REPS=$REPS MSGS_A=$MSGS_A MSGS_B=$MSGS_B MAXSECS=$MAXSECS SESSIONS=$SESSIONS"
} | tee -a "$RUNS" >&2

run_matrix

ratios=()
if [[ -n ${PORT_OF[postfix]:-} ]]; then
  ratios+=(--ratio sluice:postfix)
  [[ -n $SLUICE_IO_THREADS_ALSO ]] && ratios+=(--ratio "sluice-io$SLUICE_IO_THREADS_ALSO:postfix")
fi
python3 "$LT_DIR/summarize.py" "$RUNS" "${ratios[@]}" | tee "$OUT/summary.md"
log "raw runs: $RUNS"
