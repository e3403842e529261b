#!/usr/bin/env bash
# bench-pipeconnect-netem.sh — what PIPECONNECT saves where round trips cost something: Sluice in
# one network namespace, sluice-loadgen in another, joined by a veth pair with 25 ms of delay each
# way (50 ms round trip). One message per connection, one connection at a time; the transaction
# time (connect -> 250 after the data) with PIPECONNECT (EHLO + MAIL/RCPT/DATA before the banner)
# and without it (a PIPELINING client that waits for the banner and the EHLO reply). The saving
# divided by the round trip is compared with the 1.5 round trips of /work/shared/specs/pipeconnect.md.
#
# Delay: `tc qdisc ... netem delay` on both veth ends when the kernel has sch_netem. Without it the
# script says so and puts load-tests/delay_proxy.py (user space, DELAY_MS each way) in the client's
# namespace instead, and labels the result "user-space delay proxy". In proxy mode the client's TCP
# handshake is local (no round trip in connect), which both modes share.
#
# Needs: root, iproute2 (ip netns, ip link, tc), build/sluice, build/load-tests/loadgen/sluice-loadgen.
# Env: DELAY_MS=25 MSGS=40 REPS=3 NET=10.231.7 (a /24 used for the veth pair) OUT=<results dir>
#      SLUICE_BIN=build/sluice LOADGEN=build/load-tests/loadgen/sluice-loadgen
# Output: $OUT/runs.txt (one line per run, the JSON reports beside it), a markdown summary on stdout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DELAY_MS=${DELAY_MS:-25} MSGS=${MSGS:-40} REPS=${REPS:-3} NET=${NET:-10.231.7}
LOADGEN=${LOADGEN:-$ROOT/build/load-tests/loadgen/sluice-loadgen}
OUT=${OUT:-$BENCH_TMP/results/pipeconnect-netem-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RUNS=$OUT/runs.txt
NS_S=sluice-pc-srv-$$ NS_C=sluice-pc-cli-$$ VETH_S=pcs$$ VETH_C=pcc$$
SRV=$NET.1 CLI=$NET.2 PORT=2525 PROXY_PORT=2526

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"
[[ -x $LOADGEN ]] || die "no $LOADGEN (cmake --build build --target sluice-loadgen)"
[[ -x $SLUICE_BIN ]] || die "no $SLUICE_BIN"

cleanup() {
  local p
  for p in "${STARTED_PIDS[@]}"; do stop_pid "$p"; done
  ip netns del "$NS_S" 2>/dev/null
  ip netns del "$NS_C" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS_S" || die "ip netns add failed (iproute2, root, a kernel with network namespaces)"
ip netns add "$NS_C" || die "ip netns add failed"
ip link add "$VETH_S" type veth peer name "$VETH_C" || die "ip link add type veth failed"
ip link set "$VETH_S" netns "$NS_S" && ip link set "$VETH_C" netns "$NS_C" || die "moving the veth ends failed"
ip -n "$NS_S" addr add "$SRV/24" dev "$VETH_S" && ip -n "$NS_C" addr add "$CLI/24" dev "$VETH_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$VETH_S" up && ip -n "$NS_C" link set "$VETH_C" up

DELAY_KIND=netem
if ip netns exec "$NS_S" tc qdisc add dev "$VETH_S" root netem delay "${DELAY_MS}ms" 2>"$OUT/netem.err" &&
   ip netns exec "$NS_C" tc qdisc add dev "$VETH_C" root netem delay "${DELAY_MS}ms" 2>>"$OUT/netem.err"; then
  log "netem: ${DELAY_MS} ms on each veth end"
else
  DELAY_KIND=user-space-delay-proxy
  log "tc netem unavailable ($(tr '\n' ' ' <"$OUT/netem.err")): using load-tests/delay_proxy.py, ${DELAY_MS} ms each way"
fi

# Sluice in the server namespace; the client's namespace address may pipeline early and relay.
mkdir -p "$OUT/sluice"
cat >"$OUT/sluice/sluice.toml" <<TOML
workers = 1
[log]
level = "info"
[[listener]]
name = "netem"
address = "$SRV"
port = $PORT
[smtp]
pipeconnect_hosts = ["$CLI/32"]
trusted_networks = ["$CLI/32"]
[metrics]
enabled = false
[spool]
kind = "discard"
TOML
( cd "$OUT/sluice" && exec ip netns exec "$NS_S" "$SLUICE_BIN" run --config "$OUT/sluice/sluice.toml" >>sluice.log 2>&1 ) &
STARTED_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do grep -q 'event=started' "$OUT/sluice/sluice.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'event=started' "$OUT/sluice/sluice.log" || { tail -5 "$OUT/sluice/sluice.log" >&2; die "sluice did not start"; }

TARGET=(--host "$SRV" --port "$PORT")
if [[ $DELAY_KIND != netem ]]; then
  ( exec ip netns exec "$NS_C" python3 "$LT_DIR/delay_proxy.py" "127.0.0.1:$PROXY_PORT" "$SRV:$PORT" \
      --delay-ms "$DELAY_MS" >"$OUT/proxy.log" 2>&1 ) &
  STARTED_PIDS+=("$!")
  for ((i = 0; i < 50; i++)); do grep -q listening "$OUT/proxy.log" 2>/dev/null && break; sleep 0.1; done
  TARGET=(--host 127.0.0.1 --port "$PROXY_PORT")
fi

# One run: MSGS messages, one per connection, one connection at a time.
run_mode() {  # run_mode MODE REP
  local json=$OUT/$1-$2.json
  ip netns exec "$NS_C" "$LOADGEN" "${TARGET[@]}" --mode "$1" --connections 1 --per-connection 1 \
    --messages "$MSGS" --duration 600 --output "$json" || die "loadgen failed"
  python3 - "$json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); l = d["latency_ms"]
print(f"mode={sys.argv[2]} rep={sys.argv[3]} acked={d['messages_acknowledged']} errors={d['errors_total']} "
      f"early={d['pipeconnect']['early_sessions']} tx_p50={l['transaction']['p50']:.1f} "
      f"tx_mean={l['transaction']['mean']:.1f} tx_p90={l['transaction']['p90']:.1f} "
      f"banner_p50={l['connect_to_banner']['p50']:.1f}")
PY
}

{
  echo "# bench-pipeconnect-netem.sh $(machine_info)"
  echo "# sluice=$SLUICE_BIN ($(source_version)) delay=$DELAY_KIND ${DELAY_MS}ms each way; MSGS=$MSGS REPS=$REPS"
} | tee -a "$RUNS" >&2
if [[ $DELAY_KIND == netem ]]; then
  ip netns exec "$NS_C" ping -c 5 -i 0.2 "$SRV" | tail -1 | sed 's/^/# ping: /' | tee -a "$RUNS" >&2
fi
for ((rep = 1; rep <= REPS; rep++)); do
  for mode in pipelining pipeconnect; do run_mode "$mode" "$rep" | tee -a "$RUNS" >&2; done
done

python3 - "$RUNS" "$DELAY_MS" "$DELAY_KIND" <<'PY'
import re, statistics, sys
runs, delay, kind = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = [dict(kv.split("=", 1) for kv in l.split()) for l in open(runs) if l.startswith("mode=")]
def med(mode, key):
    return statistics.median(float(r[key]) for r in rows if r["mode"] == mode)
rtt = 2 * delay
without, with_ = med("pipelining", "tx_p50"), med("pipeconnect", "tx_p50")
saving = without - with_
# The round trip as the client saw it: connect -> banner is one round trip through the proxy (its
# accept is local), two with netem (the TCP handshake, then the banner).
measured = med("pipelining", "banner_p50") / (2 if kind == "netem" else 1)
print(f"| delay | round trip (nominal / measured) | without PIPECONNECT (p50) | with PIPECONNECT (p50) | saving "
      f"| saving / RTT (nominal / measured) | spec |")
print(f"|---|---|---|---|---|---|---|")
print(f"| {kind}, {delay:g} ms each way | {rtt:g} / {measured:.1f} ms | {without:.1f} ms | {with_:.1f} ms "
      f"| {saving:.1f} ms | **{saving / rtt:.2f}** / **{saving / measured:.2f}** "
      f"| 1.5 ({100 * (saving / rtt - 1.5) / 1.5:+.0f} % / {100 * (saving / measured - 1.5) / 1.5:+.0f} %) |")
early = [int(r["early"]) for r in rows if r["mode"] == "pipeconnect"]
errs = sum(int(r["errors"]) for r in rows)
print(f"\nmedians of {len(early)} repetitions of {rows[0]['acked']} messages each; early sessions per "
      f"pipeconnect run: {early}; errors: {errs}")
PY
log "raw runs: $RUNS"
