#!/usr/bin/env python3
"""idle_clients.py HOST:PORT N : hold N idle SMTP sessions (banner read, EHLO answered, then
silence) against a server on loopback, for bench-idle.sh.

The client is split over --procs worker processes (the open-files limit is per process), and the
connections are spread over --src-count source addresses from --src-base upwards in 127.0.0.0/8,
so neither ephemeral ports nor a per-IP connection limit run out.

Protocol with the caller, on stdout:
  ready n=... connected=... ehlo_ok=... errors=... open_secs=...     once every session is up
then it holds them until the file --stop-file exists (or --max-hold seconds pass), checks how many
the server still keeps open, tries one complete mail transaction on a fresh connection, and prints
  done held_open=... fresh_txn=...
before closing everything. Bounded: --connect-secs for opening, --max-hold for holding.
"""
import argparse
import asyncio
import ipaddress
import json
import os
import resource
import smtplib
import subprocess
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, need)), hard))


async def read_reply(reader, timeout):
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError("eof")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


async def open_one(host, port, src, sem, deadline, held, st):
    async with sem:
        left = deadline - time.monotonic()
        if left <= 0:
            st["not_tried"] += 1
            return
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=(src, 0)), left)
        except (OSError, asyncio.TimeoutError) as e:
            st["connect_error"] += 1
            st["last_error"] = type(e).__name__ + ":" + str(e).replace(" ", "_")[:60]
            return
        st["connected"] += 1
        held.append(writer)
        try:
            if await read_reply(reader, max(0.1, deadline - time.monotonic())) != 220:
                st["banner_not_220"] += 1
                return
            writer.write(b"EHLO idle.example\r\n")
            await writer.drain()
            if await read_reply(reader, max(0.1, deadline - time.monotonic())) == 250:
                st["ehlo_ok"] += 1
            else:
                st["ehlo_not_250"] += 1
        except asyncio.TimeoutError:
            st["no_reply_in_time"] += 1
        except (OSError, ConnectionError, ValueError):
            st["closed_by_server"] += 1


async def worker_main(a):
    """one worker process: open a.n sessions, report, wait for commands on stdin"""
    raise_nofile(a.n + 64)
    host, port = a.target.rsplit(":", 1)
    base = ipaddress.IPv4Address(a.src_base)
    st = dict.fromkeys(["connected", "ehlo_ok", "banner_not_220", "ehlo_not_250", "no_reply_in_time",
                        "closed_by_server", "connect_error", "not_tried"], 0)
    st["last_error"] = ""
    held = []
    sem = asyncio.Semaphore(a.parallel)
    deadline = time.monotonic() + a.connect_secs
    # connection i of this worker uses source address (offset + i) mod src_count
    srcs = [str(base + ((a.offset + i) % a.src_count)) for i in range(a.n)]
    await asyncio.gather(*(open_one(host, int(port), s, sem, deadline, held, st) for s in srcs))
    print(json.dumps(st), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        cmd = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if cmd == "check":
            alive = sum(1 for w in held if w.transport is not None and not w.transport.is_closing())
            print(json.dumps({"alive": alive}), flush=True)
        else:  # "close" or EOF
            for w in held:
                w.close()
            return


def fresh_transaction(host, port):
    t0 = time.monotonic()
    try:
        with smtplib.SMTP(host, port, timeout=10) as c:
            c.ehlo("fresh.example")
            c.sendmail("a@example.com", ["b@example.org"], "Subject: idle probe\r\n\r\nhello\r\n")
        return f"ok_{time.monotonic() - t0:.3f}s"
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        return "fail:" + type(e).__name__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("n", type=int)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--src-base", default="127.100.0.1")
    ap.add_argument("--src-count", type=int, default=250)
    ap.add_argument("--parallel", type=int, default=200, help="connects in flight per process")
    ap.add_argument("--connect-secs", type=float, default=60)
    ap.add_argument("--stop-file")
    ap.add_argument("--max-hold", type=float, default=120)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    if not ipaddress.ip_address(host).is_loopback or not ipaddress.ip_address(a.src_base).is_loopback:
        sys.exit("only loopback (127.0.0.0/8) targets and sources are allowed")
    if a.worker:
        asyncio.run(worker_main(a))
        return

    t0 = time.monotonic()
    per = [a.n // a.procs + (1 if i < a.n % a.procs else 0) for i in range(a.procs)]
    workers, offset = [], 0
    for k in per:
        cmd = [sys.executable, os.path.abspath(__file__), a.target, str(k), "--worker", "--offset", str(offset),
               "--src-base", a.src_base, "--src-count", str(a.src_count), "--parallel", str(a.parallel),
               "--connect-secs", str(a.connect_secs)]
        workers.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        offset += k
    total = {}
    for w in workers:
        line = w.stdout.readline()
        st = json.loads(line) if line else {"worker_failed": 1}
        for k, v in st.items():
            if isinstance(v, int):
                total[k] = total.get(k, 0) + v
            elif v:
                total[k] = v
    errors = sum(v for k, v in total.items() if k not in ("connected", "ehlo_ok") and isinstance(v, int))
    extra = " ".join(f"{k}={v}" for k, v in total.items() if k not in ("connected", "ehlo_ok") and v)
    print(f"ready n={a.n} procs={a.procs} src_count={a.src_count} connected={total.get('connected', 0)} "
          f"ehlo_ok={total.get('ehlo_ok', 0)} errors={errors} open_secs={time.monotonic() - t0:.1f} {extra}",
          flush=True)

    end = time.monotonic() + a.max_hold
    while time.monotonic() < end and not (a.stop_file and os.path.exists(a.stop_file)):
        time.sleep(0.2)
    alive = 0
    for w in workers:
        try:
            w.stdin.write("check\n")
            w.stdin.flush()
            alive += json.loads(w.stdout.readline()).get("alive", 0)
        except (OSError, ValueError):
            pass
    fresh = fresh_transaction(host, int(port))
    print(f"done held_open={alive} fresh_txn_while_held={fresh}", flush=True)
    for w in workers:
        try:
            w.stdin.write("close\n")
            w.stdin.close()
        except OSError:
            pass
    for w in workers:
        try:
            w.wait(30)
        except subprocess.TimeoutExpired:
            w.kill()


if __name__ == "__main__":
    main()
