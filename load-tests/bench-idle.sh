#!/usr/bin/env bash
# bench-idle.sh — memory per idle session: N (10,000) SMTP sessions held open after EHLO against
# Sluice and, in the same run, smtp-sink (one-process event loop: the reference for "an idle
# connection costs almost nothing"). For each target:
#
#   RSS_before  the server alone, started fresh, after IDLE_SETTLE seconds
#   RSS_with    while the N sessions are held (after HOLD_SECS)
#   per session (RSS_with - RSS_before) / sessions that got their EHLO reply
#
# RSS, PSS and anonymous memory come from /proc/PID/smaps_rollup of the server process (Sluice is
# one process with worker threads; smtp-sink is one process). Kernel socket buffers are not in
# any process's RSS, for either server. Target: < 16 KiB per idle session for Sluice.
#
# The client (idle_clients.py) runs in CLIENT_PROCS processes and spreads its connections over
# SRC_COUNT source addresses in 127.0.0.0/8, so ephemeral ports and Sluice's per-IP limit
# (max_connections_per_ip = 100) never bind; Sluice's max_connections is raised to 20000.
# Limits are raised in this script only (ulimit -n up to the hard limit).
#
# Env: N=10000 REPS=1 CLIENT_PROCS=2 SRC_COUNT=250 HOLD_SECS=5 IDLE_SETTLE=2 PEERS="smtp-sink"
#      SLUICE_PORT=24545 SINK_PORT=24549 LOG_LEVEL=info OUT=<results dir>
# Output: $OUT/runs.txt (one line per target and repetition), the summary on stdout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${N:-10000} REPS=${REPS:-1} CLIENT_PROCS=${CLIENT_PROCS:-2} SRC_COUNT=${SRC_COUNT:-250}
HOLD_SECS=${HOLD_SECS:-5} IDLE_SETTLE=${IDLE_SETTLE:-2} PEERS=${PEERS-smtp-sink}
SLUICE_PORT=${SLUICE_PORT:-24545} SINK_PORT=${SINK_PORT:-24549} LOG_LEVEL=${LOG_LEVEL:-info}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( N / SRC_COUNT < 100 )) || die "N/SRC_COUNT must stay under Sluice's 100 connections per IP"
(( N / CLIENT_PROCS + 100 < $(ulimit -Hn) )) || die "raise CLIENT_PROCS: N/CLIENT_PROCS must fit the open-files limit $(ulimit -Hn)"
bench_init idle
declare -A PORT_OF PID_OF
TARGETS=()

{
  echo "# bench-idle.sh $(machine_info)"
  echo "# sluice=$SLUICE_BIN ($(source_version)) N=$N CLIENT_PROCS=$CLIENT_PROCS SRC_COUNT=$SRC_COUNT HOLD_SECS=$HOLD_SECS log_level=$LOG_LEVEL peers=${PEERS:-none}"
} | tee -a "$RUNS" >&2

established() { ss -Htn state established "( sport = :$1 )" | wc -l; }

# measure LABEL PORT PID : one held-sessions measurement against a freshly started server
measure() {
  local label=$1 port=$2 pid=$3 before with i ready fin
  local stop=$OUT/stop.$label cout=$OUT/client.$label.out
  sleep "$IDLE_SETTLE"
  before=$(mem_kib "$pid")
  rm -f "$stop" "$cout"
  python3 "$LT_DIR/idle_clients.py" "127.0.0.1:$port" "$N" --procs "$CLIENT_PROCS" --src-count "$SRC_COUNT" \
    --stop-file "$stop" --max-hold 180 >"$cout" 2>&1 &
  local cpid=$!
  for ((i = 0; i < 1200; i++)); do grep -q '^ready' "$cout" && break; pid_alive "$cpid" || break; sleep 0.1; done
  ready=$(grep '^ready' "$cout") || { cat "$cout" >&2; stop_pid "$cpid"; die "client did not get ready for $label"; }
  sleep "$HOLD_SECS"
  with=$(mem_kib "$pid")
  local est; est=$(established "$port")
  touch "$stop"
  wait "$cpid"
  fin=$(grep '^done' "$cout")
  local after; sleep 1; after=$(mem_kib "$pid")
  awk -v l="$label" -v rep="$REP" -v b="$before" -v w="$with" -v a="$after" -v r="$ready" -v d="$fin" -v e="$est" 'BEGIN{
    split(b, B, /[ =]/); split(w, W, /[ =]/); split(a, A, /[ =]/)
    match(r, /ehlo_ok=[0-9]+/); ok=substr(r, RSTART+8, RLENGTH-8)+0
    per=(ok ? (W[2]-B[2])/ok : 0); perp=(ok ? (W[4]-B[4])/ok : 0); pera=(ok ? (W[6]-B[6])/ok : 0)
    sub(/^ready /, "", r); sub(/^done /, "", d)
    printf "target=%s rep=%s rss_before_kib=%d rss_with_kib=%d rss_after_close_kib=%d pss_before_kib=%d pss_with_kib=%d anon_before_kib=%d anon_with_kib=%d server_established=%d per_session_rss_kib=%.2f per_session_pss_kib=%.2f per_session_anon_kib=%.2f %s %s\n",
      l, rep, B[2], W[2], A[2], B[4], W[4], B[6], W[6], e, per, perp, pera, r, d
  }' | tee -a "$RUNS"
}

for ((rep = 1; rep <= REPS; rep++)); do
  export REP=$rep
  # Sluice, fresh
  start_sluice "$OUT/sluice-$rep" "[log]
level = \"$LOG_LEVEL\"
[[listener]]
name = \"bench\"
address = \"127.0.0.1\"
port = $SLUICE_PORT
[limits]
max_connections = 20000
[metrics]
enabled = false
[spool]
kind = \"discard\""
  spid=$LAST_PID
  measure sluice "$SLUICE_PORT" "$spid"
  stop_pid "$spid"
  # smtp-sink, fresh
  if [[ " $PEERS " == *" smtp-sink "* ]]; then
    add_peer smtp-sink "$SINK_PORT"
    measure smtp-sink "$SINK_PORT" "${PEER_PIDS[smtp-sink]}"
    cleanup_all
  fi
  sleep 2
done

echo
echo "| target | rep | sessions with EHLO | RSS before KiB | RSS with KiB | per session RSS KiB | per session PSS KiB | per session anon KiB | target < 16 KiB |"
echo "|---|---|---|---|---|---|---|---|---|"
awk '/^target=/{ for (i=1;i<=NF;i++){ split($i, kv, "="); v[kv[1]]=kv[2] }
  t = (v["target"]=="sluice") ? (v["per_session_rss_kib"] < 16 ? "met" : "NOT met") : ""
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", v["target"], v["rep"], v["ehlo_ok"], v["rss_before_kib"], v["rss_with_kib"], v["per_session_rss_kib"], v["per_session_pss_kib"], v["per_session_anon_kib"], t }' "$RUNS"
log "raw: $RUNS"
