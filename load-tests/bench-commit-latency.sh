#!/usr/bin/env bash
# bench-commit-latency.sh — DATA-end → 250 latency of the durable spool (storage issue): Sluice
# (LMDB group commit: the 250 waits for the fsync'd commit) beside smtp-sink (no disk: the 250
# comes at once) and Postfix (cleanup fsyncs its queue file) in the same run, alternating, with
# sluice-loadgen (the time from the last byte of the data to the 250, per message) at SESSIONS
# concurrent connections, many messages per connection, SIZE-byte messages, DURATION s a run.
# The messages-per-commit distribution comes from Sluice's own /metrics (commit_stats.py).
# Env: REPS=3 SESSIONS=50 SIZE=1024 DURATION=10 PEERS="smtp-sink postfix" BASE_PORT=24580 OUT=<dir>
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPS=${REPS:-3} SESSIONS=${SESSIONS:-50} SIZE=${SIZE:-1024} DURATION=${DURATION:-10}
PEERS=${PEERS-smtp-sink postfix} BASE_PORT=${BASE_PORT:-24580}
LOADGEN=${LOADGEN:-$LT_DIR/../build/load-tests/loadgen/sluice-loadgen}
[[ -x $LOADGEN ]] || die "no sluice-loadgen at $LOADGEN (build it: cmake --build build)"
bench_init commit-latency

declare -A PORT_OF PID_OF
TARGETS=()
dir=$OUT/sluice
start_sluice "$dir" "[[listener]]
name = \"bench\"
address = \"127.0.0.1\"
port = $BASE_PORT
[limits]
max_connections_per_ip = 1000
[metrics]
port = $((BASE_PORT + 100))
[spool]
directory = \"$dir/spool\"
map_size = \"32G\""
TARGETS+=(sluice) PORT_OF[sluice]=$BASE_PORT PID_OF[sluice]=$LAST_PID
i=1
for p in $PEERS; do add_peer "$p" $((BASE_PORT + i)); i=$((i + 1)); done

echo "# bench-commit-latency.sh $(machine_info)" | tee -a "$RUNS" >&2
echo "# sluice=$SLUICE_BIN ($(source_version)) SESSIONS=$SESSIONS SIZE=$SIZE DURATION=$DURATION REPS=$REPS targets=${TARGETS[*]}" | tee -a "$RUNS" >&2
for ((rep = 1; rep <= REPS; rep++)); do
  n=${#TARGETS[@]}
  for ((k = 0; k < n; k++)); do
    t=${TARGETS[$(( (k + rep - 1) % n ))]}
    idle=$(wait_quiet)
    "$LOADGEN" --port "${PORT_OF[$t]}" --mode pipelining --connections "$SESSIONS" --messages 0 \
      --duration "$DURATION" --size "$SIZE" --per-connection 1000000 --output "$OUT/$t-$rep.json" >/dev/null 2>&1
    python3 - "$OUT/$t-$rep.json" "$t" "$rep" "$idle" <<'PY' | tee -a "$RUNS" >&2
import json, sys
r = json.load(open(sys.argv[1])); d = r["latency_ms"]["data_end_to_250"]
print(f"target={sys.argv[2]} rep={sys.argv[3]} msgs={r['messages_acknowledged']} msg_per_s={r['messages_per_s']:.1f} "
      f"data_end_250_p50_ms={d['p50']:.2f} p90_ms={d['p90']:.2f} p99_ms={d['p99']:.2f} max_ms={d['max']:.2f} "
      f"errors={r['errors_total']} idle_before_pct={sys.argv[4]}")
PY
    [[ $t == sluice ]] && python3 "$LT_DIR/commit_stats.py" "127.0.0.1:$((BASE_PORT + 100))" "target=sluice rep=$rep" | tee -a "$RUNS" >&2
    [[ $t == postfix ]] && peer_drain postfix
    sleep 1
  done
done
python3 - "$RUNS" <<'PY' | tee "$OUT/summary.md"
import statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    kv = dict(t.split("=", 1) for t in line.split() if "=" in t)
    if "data_end_250_p50_ms" in kv:
        rows[kv["target"]].append(kv)
print("| target | runs | msg/s (median) | DATA end → 250 p50 ms | p90 ms | p99 ms |")
print("|---|---|---|---|---|---|")
for t, rs in rows.items():
    med = lambda k: statistics.median(float(r[k]) for r in rs)
    print(f"| {t} | {len(rs)} | {med('msg_per_s'):,.0f} | {med('data_end_250_p50_ms'):.2f} | {med('p90_ms'):.2f} | {med('p99_ms'):.2f} |")
PY
