#!/usr/bin/env bash
# bench-big-messages.sh — memory while receiving ten 50 MB messages at once (storage issue):
# Sluice (LMDB spool: bodies past inline_max stream into bodies/<id>, the session holds at most
# ~256 KiB) beside smtp-sink (which keeps nothing) in the same run. big_clients.py opens CLIENTS
# connections and sends one SIZE-byte message on each, all at once; meanwhile the script samples
# the server's RSS (process tree, /proc) every 50 ms. Reports RSS before, peak during, and after.
# Env: REPS=3 CLIENTS=10 SIZE=50000000 SLUICE_PORT=24560 SINK_PORT=24561 OUT=<results dir>
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-3} CLIENTS=${CLIENTS:-10} SIZE=${SIZE:-50000000}
SLUICE_PORT=${SLUICE_PORT:-24560} SINK_PORT=${SINK_PORT:-24561}
bench_init big-messages

declare -A PORT_OF PID_OF
TARGETS=()
dir=$OUT/sluice
start_sluice "$dir" "[[listener]]
name = \"bench\"
address = \"127.0.0.1\"
port = $SLUICE_PORT
[limits]
max_message_size = \"60M\"
[metrics]
enabled = false
[spool]
directory = \"$dir/spool\"
map_size = \"32G\""
TARGETS+=(sluice) PORT_OF[sluice]=$SLUICE_PORT PID_OF[sluice]=$LAST_PID
add_peer smtp-sink "$SINK_PORT"

echo "# bench-big-messages.sh $(machine_info)" | tee -a "$RUNS" >&2
echo "# sluice=$SLUICE_BIN ($(source_version)) CLIENTS=$CLIENTS SIZE=$SIZE REPS=$REPS" | tee -a "$RUNS" >&2
for ((rep = 1; rep <= REPS; rep++)); do
  for t in "${TARGETS[@]}"; do
    pid=${PID_OF[$t]}
    before=$(tree_rss_kib "$pid")
    python3 "$LT_DIR/big_clients.py" "127.0.0.1:${PORT_OF[$t]}" --clients "$CLIENTS" --size "$SIZE" >"$OUT/clients.out" &
    cpid=$!
    peak=$before
    while kill -0 "$cpid" 2>/dev/null; do
      r=$(tree_rss_kib "$pid"); (( r > peak )) && peak=$r
      sleep 0.05
    done
    wait "$cpid"
    after=$(tree_rss_kib "$pid")
    echo "target=$t rep=$rep rss_before_kib=$before rss_peak_kib=$peak rss_after_kib=$after $(cat "$OUT/clients.out")" | tee -a "$RUNS" >&2
    [[ $t == sluice ]] && rm -rf "$dir/spool/bodies/"* 2>/dev/null  # keep the disk from filling; records stay
  done
done
awk '/^target=/{split($0,a," "); for(i in a){split(a[i],kv,"="); v[kv[1]]=kv[2]}
     d=v["rss_peak_kib"]-v["rss_before_kib"]; printf "| %s | %s | %.1f | %.1f | %.1f | %s/%s |\n", v["target"], v["rep"], v["rss_before_kib"]/1024, v["rss_peak_kib"]/1024, d/1024, v["ok"], v["clients"]}' "$RUNS" \
  | { echo "| target | rep | RSS before MiB | RSS peak MiB | peak - before MiB | 250s |"; echo "|---|---|---|---|---|---|"; cat; } | tee "$OUT/summary.md"
