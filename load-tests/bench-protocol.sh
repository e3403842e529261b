#!/usr/bin/env bash
# bench-protocol.sh — SMTP protocol throughput: Sluice with the discard spool
# (`[spool] kind = "discard"`: accepts and drops, no disk) beside smtp-sink and Postfix, in the
# same run, alternating, so that their ratio means something on a shared machine.
#
#   case a  1 KiB messages, SESSIONS (50) parallel sessions, many messages per connection (smtp-source -d)
#   case b  1 KiB messages, SESSIONS (50) parallel sessions, one message per connection
#
# Each repetition runs every case against every target one after the other (the order rotates
# between repetitions); each run is bounded by MSGS_A / MSGS_B messages and MAXSECS seconds. Before
# each run the script waits (at most QUIET_WAIT s) for the machine to be QUIET_IDLE % idle, and
# after a Postfix run for Postfix's queue to drain, so no run pays for another's leftovers.
# Target: Sluice >= 80 % of smtp-sink's msgs/s (smtp-sink is Postfix's test server: one process,
# no queue, no logging: the protocol-only ceiling on this machine).
#
# Peers come from ../shared/peers (start-smtp-sink.sh, start-postfix.sh), with their state under
# $PEERS_RUN (default /tmp/sluice-bench/peers, private to these scripts). Without ../shared the
# Postfix peer is skipped, and smtp-sink is started directly from the unpacked Postfix package
# when it is there; the output says which peers ran.
#
# Needs: root (the peers), build/sluice, smtp-source (scripts/install-deps.sh test).
# Env: REPS=5 MSGS_A=100000 MSGS_B=20000 MAXSECS=20 SESSIONS=50 CASES="a b" PEERS="smtp-sink postfix"
#      SLUICE_PORT=24525 SINK_PORT=24529 POSTFIX_PORT=24526 LOG_LEVEL=info WORKERS=0
#      WORKERS_ALSO=  (e.g. 1: a second Sluice target "sluice-w1" with that many workers, on SLUICE2_PORT=24527)
#      QUIET_IDLE=85 QUIET_WAIT=120 DRAIN_SECS=90 OUT=<results dir> SLUICE_BIN=build/sluice
# Output: $OUT/runs.txt (machine line, one line per run), $OUT/summary.md; the summary on stdout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-5} MSGS_A=${MSGS_A:-100000} MSGS_B=${MSGS_B:-20000} MAXSECS=${MAXSECS:-20}
SESSIONS=${SESSIONS:-50} CASES=${CASES:-a b} PEERS=${PEERS-smtp-sink postfix}
SLUICE_PORT=${SLUICE_PORT:-24525} SINK_PORT=${SINK_PORT:-24529} POSTFIX_PORT=${POSTFIX_PORT:-24526}
LOG_LEVEL=${LOG_LEVEL:-info} WORKERS=${WORKERS:-0} WORKERS_ALSO=${WORKERS_ALSO:-} SLUICE2_PORT=${SLUICE2_PORT:-24527}
export MAXSECS SESSIONS

bench_init protocol

# --- targets: label, port, pid ---------------------------------------------------------------------
declare -A PORT_OF PID_OF
TARGETS=()
add_sluice() {  # add_sluice LABEL PORT WORKERS
  local label=$1 port=$2 workers=$3
  port_busy "$port" && die "port $port busy (set SLUICE_PORT / SLUICE2_PORT)"
  start_sluice "$OUT/$label" "workers = $workers
[log]
level = \"$LOG_LEVEL\"
[[listener]]
name = \"bench\"
address = \"127.0.0.1\"
port = $port
[metrics]
enabled = false
[spool]
kind = \"discard\""
  TARGETS+=("$label") PORT_OF[$label]=$port PID_OF[$label]=$LAST_PID
}
add_sluice sluice "$SLUICE_PORT" "$WORKERS"
[[ -n $WORKERS_ALSO ]] && add_sluice "sluice-w$WORKERS_ALSO" "$SLUICE2_PORT" "$WORKERS_ALSO"

for p in $PEERS; do
  case $p in
    smtp-sink) add_peer smtp-sink "$SINK_PORT" ;;
    postfix) add_peer postfix "$POSTFIX_PORT" ;;
    *) die "unknown peer $p (smtp-sink, postfix)" ;;
  esac
done

{
  echo "# bench-protocol.sh $(machine_info)"
  echo "# sluice=$SLUICE_BIN ($(source_version)) spool=discard log_level=$LOG_LEVEL workers=$WORKERS${WORKERS_ALSO:+ (+ sluice-w$WORKERS_ALSO: workers=$WORKERS_ALSO)}"
  echo "# targets: ${TARGETS[*]}  REPS=$REPS MSGS_A=$MSGS_A MSGS_B=$MSGS_B MAXSECS=$MAXSECS SESSIONS=$SESSIONS"
} | tee -a "$RUNS" >&2

run_matrix

ratios=()
[[ -n ${PORT_OF[smtp-sink]:-} ]] && ratios+=(--ratio sluice:smtp-sink:0.8)
[[ -n ${PORT_OF[smtp-sink]:-} && -n $WORKERS_ALSO ]] && ratios+=(--ratio "sluice-w$WORKERS_ALSO:smtp-sink:0.8")
[[ -n ${PORT_OF[postfix]:-} ]] && ratios+=(--ratio sluice:postfix)
python3 "$LT_DIR/summarize.py" "$RUNS" "${ratios[@]}" | tee "$OUT/summary.md"
log "raw runs: $RUNS"
