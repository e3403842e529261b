# lib.sh — helpers shared by the load-test scripts. Source it; do not run it.
#
# What it gives a script:
#   - where things are: the sluice binary, Postfix's smtp-source/smtp-sink, the peer scripts of
#     ../shared/peers (optional: without them the peers are skipped and the scripts say so);
#   - starting and stopping exactly the processes the script started (by pid, never by name);
#   - measuring: the machine (nproc, CPU model, kernel, memory), CPU time of a process tree,
#     RSS/PSS of a process, machine-wide busy time (to see other people's load during a run).
#
# Limits and safety: every target is on 127.0.0.0/8; every client run is bounded by a message
# count and MAXSECS; peers run from private state under $PEERS_RUN so they never collide with
# peers someone else started from the default /tmp/peers.
# shellcheck shell=bash

LT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LT_DIR/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
SHARED_PEERS=${SHARED_PEERS:-$ROOT/../shared/peers}
export PEERS_RUN=${PEERS_RUN:-/tmp/sluice-bench/peers}
BENCH_TMP=${BENCH_TMP:-/tmp/sluice-bench}
CLK_TCK=$(getconf CLK_TCK)

die() { echo "ERROR: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- the machine --------------------------------------------------------------------------------

machine_info() {  # one line: what docs/benchmarks.md reports for every figure
  local cpu mem
  cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ) nproc=$(nproc) cpu=\"$cpu\" kernel=$(uname -r) mem=\"$mem\" loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
}

load1() { cut -d' ' -f1 /proc/loadavg; }

machine_busy_ticks() {  # all CPUs, busy = total - idle - iowait
  awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6; exit}' /proc/stat
}

# idle_pct SECS : share of the machine's CPU that was idle over SECS (others' load before a run)
idle_pct() {
  local a b t0 t1
  read -r a t0 < <(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print $5+$6, t; exit}' /proc/stat)
  sleep "${1:-1}"
  read -r b t1 < <(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print $5+$6, t; exit}' /proc/stat)
  echo $(( (b - a) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
}

# wait_quiet : before a measurement, wait (at most QUIET_WAIT seconds) until at least QUIET_IDLE %
# of the machine is idle over 2 s. Other engineers share this machine; we measure in the gaps.
wait_quiet() {
  local want=${QUIET_IDLE:-85} budget=${QUIET_WAIT:-120} start=$SECONDS p
  while :; do
    p=$(idle_pct 2)
    (( p >= want )) && { echo "$p"; return 0; }
    (( SECONDS - start >= budget )) && { log "machine still busy (${p}% idle) after ${budget}s; measuring anyway"; echo "$p"; return 0; }
  done
}

# ---- processes ----------------------------------------------------------------------------------

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

tree_pids() {  # tree_pids PID : PID and all its descendants
  ps -e -o pid=,ppid= | awk -v r="$1" '
    { par[$1]=$2 }
    END { keep[r]=1; do { n=0; for (p in par) if (!(p in keep) && (par[p] in keep)) { keep[p]=1; n++ } } while (n)
          for (k in keep) print k }'
}

# tree_cpu_ticks PID : utime+stime (+ reaped children) summed over the tree, in clock ticks
tree_cpu_ticks() {
  local p s sum=0
  for p in $(tree_pids "$1"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    sum=$(( sum + ${12} + ${13} + ${14} + ${15} ))
  done
  echo "$sum"
}

# mem_kib PID : "rss_kib=.. pss_kib=.. anon_kib=.." of one process (all its threads)
mem_kib() {
  awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Anonymous:/{a=$2} END{printf "rss_kib=%d pss_kib=%d anon_kib=%d", r, p, a}' \
    "/proc/$1/smaps_rollup" 2>/dev/null
}

tree_rss_kib() {  # sum of VmRSS over PID's tree
  local p v sum=0
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null); sum=$(( sum + ${v:-0} ))
  done
  echo "$sum"
}

# stop_pid PID : SIGTERM, wait up to 20 s, then SIGKILL that pid only
stop_pid() {
  local pid=$1 i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
  log "pid $pid still alive after 20 s, SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q . ; }

wait_banner() {  # wait_banner PORT [SECS] : until 127.0.0.1:PORT greets with 220
  local port=$1 end=$(( SECONDS + ${2:-20} )) line
  while (( SECONDS < end )); do
    if { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
      line=""; IFS= read -r -t 5 line <&9 || true
      printf 'QUIT\r\n' >&9 2>/dev/null || true
      exec 9>&- 9<&-
      [[ $line == 220* ]] && return 0
    fi
    sleep 0.2
  done
  return 1
}

# source_version [BIN] : commit checked out (+dirty with local changes), and BIN's (default
# $SLUICE_BIN) hash and date, since a binary can be older or newer than the checkout
source_version() {
  local bin=${1:-${SLUICE_BIN:-}}
  printf '%s' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- . 2>/dev/null || echo '+dirty')"
  [[ -f $bin ]] && printf ' binary_sha256=%s binary_mtime=%s' "$(sha256sum "$bin" | cut -c1-12)" "$(date -r "$bin" +%Y-%m-%dT%H:%M)"
  echo
}

# ---- Sluice -------------------------------------------------------------------------------------

STARTED_PIDS=()

# start_sluice DIR CONFIG_TEXT [BIN] : writes DIR/sluice.toml, starts BIN in DIR, logs to
# DIR/sluice.log, waits for event=started; sets LAST_PID (call it directly, not in $(...)).
start_sluice() {
  local dir=$1 text=$2 bin=${3:-$SLUICE_BIN} pid i
  [[ -x $bin ]] || die "no sluice binary at $bin (build it: flock /tmp/sluice-build.lock cmake --build build -j2)"
  mkdir -p "$dir"
  printf '%s\n' "$text" > "$dir/sluice.toml"
  "$bin" check-config --config "$dir/sluice.toml" >/dev/null || die "bad config $dir/sluice.toml"
  ( cd "$dir" && exec "$bin" run --config "$dir/sluice.toml" >>"$dir/sluice.log" 2>&1 ) &
  pid=$!
  STARTED_PIDS+=("$pid")
  for ((i = 0; i < 150; i++)); do
    grep -q 'event=started' "$dir/sluice.log" 2>/dev/null && { LAST_PID=$pid; return 0; }
    pid_alive "$pid" || break
    sleep 0.1
  done
  tail -5 "$dir/sluice.log" >&2
  die "sluice in $dir did not start"
}

# ---- Postfix test tools and peers ---------------------------------------------------------------

bench_init() {  # bench_init KIND : results dir $OUT and $RUNS, clean-up traps, Postfix's tools
  OUT=${OUT:-$BENCH_TMP/results/$1-$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$OUT"
  RUNS=$OUT/runs.txt
  trap cleanup_all EXIT       # traps set here hold for the whole script
  trap 'exit 130' INT TERM
  find_postfix_tools
}

find_postfix_tools() {  # sets SMTP_SOURCE, SMTP_SINK and exports LD_LIBRARY_PATH
  local d
  for d in ${POSTFIX_TOOLS:-} /opt/sluice-peers/postfix /opt/peers/postfix; do
    if [[ -x $d/usr/sbin/smtp-source ]]; then
      SMTP_SOURCE=$d/usr/sbin/smtp-source SMTP_SINK=$d/usr/sbin/smtp-sink
      export LD_LIBRARY_PATH=$d/usr/lib/postfix${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      return 0
    fi
  done
  die "smtp-source not found: run scripts/install-deps.sh test (it unpacks Postfix into /opt/sluice-peers)"
}

have_shared_peers() { [[ -x $SHARED_PEERS/start-postfix.sh && -x $SHARED_PEERS/start-smtp-sink.sh ]]; }

declare -A PEER_PIDS=()   # name -> pid of the peer's root process (for CPU/memory)
PEERS_STARTED=()

# start_peer NAME PORT : via ../shared/peers/start-NAME.sh, with private state under $PEERS_RUN
start_peer() {
  local name=$1 port=$2
  port_busy "$port" && die "port $port is busy (choose another: see the script's env knobs)"
  seed_shared_deb_cache
  "$SHARED_PEERS/start-$name.sh" "$port" || die "start-$name.sh $port failed"
  PEERS_STARTED+=("$name")
  PEER_PIDS[$name]=$(cat "$PEERS_RUN/$name/pid")
}

# The shared scripts' deb_extract looks for a cached .deb with `ls | head` under `set -e -o
# pipefail`, so on a machine where its cache is empty it exits before downloading anything. The
# Postfix package install-deps.sh already downloaded is put in that cache first.
seed_shared_deb_cache() {
  local cache=${PEERS_OPT:-/opt/peers}/debs deb
  mkdir -p "$cache"
  for deb in "${SLUICE_PEERS_OPT:-/opt/sluice-peers}"/postfix/debs/postfix_*.deb; do
    [[ -f $deb && ! -f $cache/$(basename "$deb") ]] && cp "$deb" "$cache/"
  done
  return 0
}

# start_sink_direct PORT : smtp-sink without ../shared (same flags as start-smtp-sink.sh)
start_sink_direct() {
  local port=$1 dir=$BENCH_TMP/sink-direct pid
  port_busy "$port" && die "port $port is busy"
  mkdir -p "$dir"
  setsid "$SMTP_SINK" -u nobody -m 15000 "127.0.0.1:$port" 1024 >"$dir/sink.log" 2>&1 </dev/null &
  pid=$!
  STARTED_PIDS+=("$pid")
  wait_banner "$port" 20 || die "smtp-sink did not answer on 127.0.0.1:$port"
  PEER_PIDS[smtp-sink]=$pid
}

# add_peer NAME PORT : start a peer and add it to TARGETS/PORT_OF/PID_OF. From ../shared/peers when
# it is there; without it, smtp-sink directly from the unpacked Postfix package, and any other peer
# is skipped (with a note in $RUNS).
add_peer() {
  local name=$1 port=$2
  if have_shared_peers; then
    start_peer "$name" "$port"
  elif [[ $name == smtp-sink ]]; then
    log "no $SHARED_PEERS: starting smtp-sink directly"
    start_sink_direct "$port"
  else
    log "no $SHARED_PEERS: peer $name skipped"
    echo "# peer $name skipped: $SHARED_PEERS not found" >>"$RUNS"
    return 0
  fi
  TARGETS+=("$name")
  PORT_OF[$name]=$port
  PID_OF[$name]=${PEER_PIDS[$name]}
}

peer_spool_count() {  # files in a peer's queue (0 for smtp-sink)
  local f=$PEERS_RUN/$1/spooldir
  [[ -s $f ]] || { echo 0; return; }
  # shellcheck disable=SC2046
  find $(cat "$f") -type f 2>/dev/null | wc -l
}

peer_drain() {  # wait (at most DRAIN_SECS) until the peer's queue is empty
  local name=$1 i
  for ((i = 0; i < ${DRAIN_SECS:-90} * 2; i++)); do
    (( $(peer_spool_count "$name") == 0 )) && return 0
    sleep 0.5
  done
  log "$name: queue not empty after ${DRAIN_SECS:-90}s ($(peer_spool_count "$name") files)"
}

cleanup_all() {
  local p n
  for p in "${STARTED_PIDS[@]}"; do stop_pid "$p"; done
  for n in "${PEERS_STARTED[@]}"; do "$SHARED_PEERS/stop-$n.sh" >/dev/null 2>&1 || true; done
  STARTED_PIDS=() PEERS_STARTED=()
}

# ---- one smtp-source run ------------------------------------------------------------------------

# run_source LABEL PORT SERVER_PID CASE SIZE MSGS DISCONNECT(0|1)
# One bounded smtp-source run; prints one key=value line. server_cpu_s is the CPU time the
# server's process tree used during the run, client_cpu_s smtp-source's, other_cpu_s the rest of
# the machine's busy time in the same window (other people's work, kernel threads): a run with a
# large other_cpu_s was disturbed.
run_source() {
  local label=$1 port=$2 spid=$3 case=$4 size=$5 msgs=$6 disc=$7
  local flags=(-c -l "$size" -m "$msgs" -s "${SESSIONS:-50}") out tfile rc n t0 t1 c0 c1 b0 b1 ucpu
  (( disc )) || flags+=(-d)
  out=$(mktemp) tfile=$(mktemp)
  c0=$(tree_cpu_ticks "$spid"); b0=$(machine_busy_ticks); t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$tfile" timeout -s TERM "${MAXSECS:-30}" \
    "$SMTP_SOURCE" "${flags[@]}" -f a@example.com -t b@example.org "127.0.0.1:$port" >"$out" 2>&1
  rc=$?
  t1=$(date +%s.%N); b1=$(machine_busy_ticks); c1=$(tree_cpu_ticks "$spid")
  n=$(tr '\r' '\n' <"$out" | grep -E '^[0-9]+$' | tail -n1)
  ucpu=$(awk 'END{print $1+$2}' "$tfile")
  local err=""
  if (( rc != 0 && rc != 124 )); then err=$(tr '\r' '\n' <"$out" | grep -vE '^[0-9]*$' | tail -n1 | tr ' ' '_'); fi
  awk -v l="$label" -v c="$case" -v n="${n:-0}" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
      -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v u="$ucpu" -v rc="$rc" -v err="$err" -v ld="$(load1)" -v rep="${REP:-1}" 'BEGIN{
    s=t1-t0; sc=(c1-c0)/hz; mb=(b1-b0)/hz; o=mb-sc-u; if (o<0) o=0
    printf "target=%s case=%s rep=%s msgs=%d secs=%.2f msg_per_s=%.1f server_cpu_s=%.2f server_cpu_us_per_msg=%.0f client_cpu_s=%.2f other_cpu_s=%.2f load1=%s rc=%s%s\n",
      l, c, rep, n, s, n/s, sc, (n ? sc*1e6/n : 0), u, o, ld, rc, (err != "" ? " error=" err : "")
  }'
  rm -f "$out" "$tfile"
}

# ---- the alternating run matrix -----------------------------------------------------------------

# run_matrix : REPS repetitions; in each, every case of CASES against every target of TARGETS, one
# after the other (the order rotates between repetitions so no target always runs first after a
# pause). Needs TARGETS (array), PORT_OF and PID_OF (associative arrays), RUNS (file), MSGS_A,
# MSGS_B. Calls after_run TARGET after each run if the script defines it (Postfix's queue drains).
run_matrix() {
  local rep c i t n=${#TARGETS[@]} idle line
  for ((rep = 1; rep <= REPS; rep++)); do
    export REP=$rep
    for c in $CASES; do
      for ((i = 0; i < n; i++)); do
        t=${TARGETS[$(( (i + rep - 1) % n ))]}
        idle=$(wait_quiet)
        case $c in
          a) line=$(run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" "a_1k_s${SESSIONS}_reuse" 1024 "$MSGS_A" 0) ;;
          b) line=$(run_source "$t" "${PORT_OF[$t]}" "${PID_OF[$t]}" "b_1k_s${SESSIONS}_conn_per_msg" 1024 "$MSGS_B" 1) ;;
          *) die "unknown case $c" ;;
        esac
        echo "$line idle_before_pct=$idle" | tee -a "$RUNS" >&2
        [[ $t == postfix ]] && peer_drain postfix
        declare -F after_run >/dev/null && after_run "$t"
        sleep 1
      done
    done
  done
}
