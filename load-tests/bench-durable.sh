#!/usr/bin/env bash
# bench-durable.sh — durable accept throughput: Sluice's LMDB group-commit spool (every 250 after
# an fsync'd LMDB commit) beside Postfix (queue file fsync'd by cleanup before the 250) and
# smtp-sink (no disk at all: the ceiling), in the same run, alternating. smtp-source cases:
#
#   a   1 KiB messages,  50 sessions, many messages per connection (smtp-source -d)
#   b   1 KiB messages, 500 sessions, many messages per connection
#   c  64 KiB messages,  50 sessions, many messages per connection
#   d  64 KiB messages, 500 sessions, many messages per connection
#   e   1 KiB messages,  50 sessions, one message per connection
#
# Targets: sluice (default: bodies up to 128 KiB inline in LMDB), sluice-files (spool.inline_max
# = 0: every body a file of its own, fdatasync'd, its directory fsync'd once per batch: the
# alternative placement, to justify the default), postfix, smtp-sink. After each Sluice run the
# script reads the spool's commit histograms from /metrics (messages per commit, commit seconds)
# and then restarts that Sluice on an empty spool (not timed), so every run starts alike.
#
# Needs: root (Postfix), build/sluice, smtp-source, curl-less HTTP via python3; Postfix and
# smtp-sink from ../shared/peers (without them: smtp-sink from the unpacked Postfix package only).
# Env: REPS=3 MSGS=20000 MSGS_BIG=4000 MAXSECS=15 CASES="a b c d e" PEERS="postfix smtp-sink"
#      BASE_PORT=24540 LOG_LEVEL=info OUT=<results dir>
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-3} MSGS=${MSGS:-20000} MSGS_BIG=${MSGS_BIG:-4000} MAXSECS=${MAXSECS:-15}
CASES=${CASES:-a b c d e} PEERS=${PEERS-postfix smtp-sink} BASE_PORT=${BASE_PORT:-24540}
LOG_LEVEL=${LOG_LEVEL:-info}
export MAXSECS
bench_init durable

declare -A PORT_OF PID_OF DIR_OF CONF_OF MPORT_OF
TARGETS=()

sluice_config() {  # sluice_config PORT METRICS_PORT DIR INLINE_MAX
  printf '[log]\nlevel = "%s"\n[[listener]]\nname = "bench"\naddress = "127.0.0.1"\nport = %s\n' "$LOG_LEVEL" "$1"
  printf '[limits]\nmax_connections_per_ip = 1000\n[metrics]\nport = %s\n' "$2"
  printf '[spool]\ndirectory = "%s/spool"\nmap_size = "32G"\ninline_max = %s\n' "$3" "$4"
}

add_sluice() {  # add_sluice LABEL PORT METRICS_PORT INLINE_MAX
  local label=$1 port=$2 mport=$3 dir=$OUT/$1
  port_busy "$port" && die "port $port busy (set BASE_PORT)"
  rm -rf "$dir/spool"
  CONF_OF[$label]=$(sluice_config "$port" "$mport" "$dir" "$4")
  start_sluice "$dir" "${CONF_OF[$label]}"
  TARGETS+=("$label") PORT_OF[$label]=$port PID_OF[$label]=$LAST_PID DIR_OF[$label]=$dir MPORT_OF[$label]=$mport
}

add_sluice sluice $BASE_PORT $((BASE_PORT + 100)) 131072
add_sluice sluice-files $((BASE_PORT + 1)) $((BASE_PORT + 101)) 0
for p in $PEERS; do
  case $p in
    postfix) add_peer postfix $((BASE_PORT + 2)) ;;
    smtp-sink) add_peer smtp-sink $((BASE_PORT + 3)) ;;
    *) die "unknown peer $p (postfix, smtp-sink)" ;;
  esac
done

# The commit histograms of the run just finished, then a fresh spool for the next one.
after_run() {
  local t=$1 dir=${DIR_OF[$1]:-}
  [[ -n $dir ]] || return 0
  python3 "$LT_DIR/commit_stats.py" "127.0.0.1:${MPORT_OF[$t]}" "target=$t case=$CASE rep=$REP" >>"$OUT/commits.txt"
  stop_pid "${PID_OF[$t]}"
  rm -rf "$dir/spool"
  start_sluice "$dir" "${CONF_OF[$t]}"
  PID_OF[$t]=$LAST_PID
}

fs_of() { df -PT "$1" | awk 'NR==2{print $2" on "$1" ("$7")"}'; }
{
  echo "# bench-durable.sh $(machine_info)"
  echo "# sluice=$SLUICE_BIN ($(source_version)) spool=lmdb log_level=$LOG_LEVEL"
  echo "# spool file system: sluice $(fs_of "$OUT"); postfix $(fs_of "$PEERS_RUN")"
  echo "# targets: ${TARGETS[*]}  REPS=$REPS MSGS=$MSGS MSGS_BIG=$MSGS_BIG MAXSECS=$MAXSECS CASES=$CASES"
} | tee -a "$RUNS" >&2

for ((rep = 1; rep <= REPS; rep++)); do
  export REP=$rep
  for c in $CASES; do
    n=${#TARGETS[@]}
    for ((i = 0; i < n; i++)); do
      t=${TARGETS[$(( (i + rep - 1) % n ))]}
      idle=$(wait_quiet)
      case $c in
        a) CASE=a_1k_s50_reuse;      line=$(SESSIONS=50 run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" $CASE 1024 "$MSGS" 0) ;;
        b) CASE=b_1k_s500_reuse;     line=$(SESSIONS=500 run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" $CASE 1024 "$MSGS" 0) ;;
        c) CASE=c_64k_s50_reuse;     line=$(SESSIONS=50 run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" $CASE 65536 "$MSGS_BIG" 0) ;;
        d) CASE=d_64k_s500_reuse;    line=$(SESSIONS=500 run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" $CASE 65536 "$MSGS_BIG" 0) ;;
        e) CASE=e_1k_s50_conn_per_msg; line=$(SESSIONS=50 run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" $CASE 1024 "$MSGS" 1) ;;
        *) die "unknown case $c" ;;
      esac
      echo "$line idle_before_pct=$idle" | tee -a "$RUNS" >&2
      [[ $t == postfix ]] && peer_drain postfix
      after_run "$t"
      sleep 1
    done
  done
done

ratios=(--ratio sluice:sluice-files)
[[ -n ${PORT_OF[postfix]:-} ]] && ratios+=(--ratio sluice:postfix:5)
[[ -n ${PORT_OF[smtp-sink]:-} ]] && ratios+=(--ratio sluice:smtp-sink:0.5)
python3 "$LT_DIR/summarize.py" "$RUNS" "${ratios[@]}" | tee "$OUT/summary.md"
echo | tee -a "$OUT/summary.md"
python3 "$LT_DIR/commit_stats.py" --summarize "$OUT/commits.txt" | tee -a "$OUT/summary.md"
log "raw runs: $RUNS; commit histograms: $OUT/commits.txt"
