#!/usr/bin/env python3
"""bench_filters.py — what the filter chain costs (issue 4's benchmark).

Sluice (LMDB spool, workers = 2) receives 4 KiB DKIM-signed messages from
sluice-loadgen (50 sessions, 10 messages per connection) twice per round:
filters off, then SPF + DKIM + DMARC on, against a real unbound on loopback
that publishes the sender's SPF record, DKIM key and DMARC policy (the
worker caches are warm after the first messages: the benchmark measures the
chain, not DNS). Rounds alternate the order; medians are reported.

Reported: throughput (acknowledged messages/s) of each, their ratio (the
issue's target: filters-on at least 0.5 of filters-off), DATA-end→250
latency p50/p99 from the load generator for both, and the filters' own time
per message from Sluice's sluice_filter_seconds histogram (mean, and the
bucket holding p50 and p99).

Usage: load-tests/bench_filters.py [--bin build/sluice] [--loadgen build/load-tests/loadgen/sluice-loadgen]
       [--rounds 3] [--secs 10] [--out FILE.md]
"""
import argparse
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from dns_server import Unbound, txt  # noqa: E402  (the tests' unbound helper)

import dkim  # noqa: E402  (Debian's python3-dkim)
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from bench_support import free_port  # noqa: E402


def signed_message(size, key_pem):
    head = ("From: Alice <alice@sender.test>\r\nTo: <rcpt0@example.test>\r\nSubject: filter benchmark\r\n"
            "Message-ID: <bench@sender.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n")
    body = ""
    while len(head) + len(body) < size - 600:  # the signature adds about 600 bytes
        body += "x" * 74 + "\r\n"
    msg = (head + body).encode()
    sig = dkim.sign(msg, b"bench", b"sender.test", key_pem, include_headers=[b"from", b"to", b"subject", b"date"])
    return sig + msg


def start_sluice(binary, d, port, mport, dns_port, filters_on):
    conf = Path(d) / f"sluice-{port}.toml"
    conf.write_text(
        f'workers = 2\n[log]\nlevel = "warn"\n[[listener]]\nname = "bench"\naddress = "127.0.0.1"\nport = {port}\n'
        f'[limits]\nmax_connections_per_ip = 1000\n[metrics]\nport = {mport}\n'
        f'[spool]\ndirectory = "{d}/spool-{port}"\nmap_size = "8G"\n'
        f'[smtp]\nhostname = "mx.bench.test"\nlocal_domains = ["example.test"]\ntrusted_networks = []\n'
        f'[dns]\nservers = ["127.0.0.1"]\nport = {dns_port}\n'
        f'[filters]\nenabled = {"true" if filters_on else "false"}\n')
    p = subprocess.Popen([binary, "run", "--config", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("sluice did not start")


def histogram(mport, name, label):
    text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10).read().decode()
    buckets = []
    for m in re.finditer(rf'^{name}_bucket\{{filter="{label}",le="([^"]+)"\}} (\S+)$', text, re.M):
        buckets.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), float(m.group(2))))
    s = re.search(rf'^{name}_sum\{{filter="{label}"\}} (\S+)$', text, re.M)
    c = re.search(rf'^{name}_count\{{filter="{label}"\}} (\S+)$', text, re.M)
    return buckets, float(s.group(1)) if s else 0.0, float(c.group(1)) if c else 0.0


def bucket_of(buckets, count, q):
    for le, n in sorted(buckets):
        if n >= q * count:
            return le
    return float("inf")


def run_load(loadgen, port, msg_file, secs):
    out = subprocess.run([loadgen, "--port", str(port), "--mode", "pipelining", "--connections", "50",
                          "--per-connection", "10", "--messages", "0", "--duration", str(secs),
                          "--message-file", msg_file, "--from", "alice@sender.test", "--rcpt-domain", "example.test",
                          "--helo", "client.sender.test"], capture_output=True, text=True, timeout=secs + 60)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "sluice"))
    ap.add_argument("--loadgen", default=str(ROOT / "build" / "load-tests" / "loadgen" / "sluice-loadgen"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=10)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--out")
    a = ap.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    pub = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    dns = Unbound(zones=["sender.test."], records=[
        txt("sender.test.", "v=spf1 ip4:127.0.0.0/8 -all"),
        txt("bench._domainkey.sender.test.", f"v=DKIM1; k=rsa; p={pub}"),
        txt("_dmarc.sender.test.", "v=DMARC1; p=reject")])
    rows = {"off": [], "on": []}
    filt = []
    with tempfile.TemporaryDirectory() as d:
        msg_file = Path(d) / "signed.eml"
        msg = signed_message(a.size, pem)
        msg_file.write_bytes(msg)
        try:
            for r in range(a.rounds):
                order = ("off", "on") if r % 2 == 0 else ("on", "off")
                for which in order:
                    port, mport = free_port(), free_port()
                    p = start_sluice(a.bin, d, port, mport, dns.port, which == "on")
                    try:
                        # Warm the worker caches (and check the chain really runs).
                        run_load(a.loadgen, port, str(msg_file), 1)
                        rep = run_load(a.loadgen, port, str(msg_file), a.secs)
                        rows[which].append((rep["messages_per_s"], rep))
                        if which == "on":
                            stats = {}
                            for f in ("spf", "dkim", "dmarc"):
                                b, s, c = histogram(mport, "sluice_filter_seconds", f)
                                stats[f] = (s / c * 1000 if c else 0, bucket_of(b, c, 0.5), bucket_of(b, c, 0.99), c)
                            filt.append(stats)
                        print(f"round {r} filters {which}: {rep['messages_per_s']:.0f} msg/s, errors {rep['errors_total']}",
                              flush=True)
                    finally:
                        p.terminate()
                        p.wait(timeout=30)
        finally:
            dns.stop()
    off = statistics.median(x for x, _ in rows["off"])
    on = statistics.median(x for x, _ in rows["on"])

    def lat(rep, key):
        return rep["latency_ms"]["data_end_to_250"][key]
    lines = [f"# Filters benchmark, {time.strftime('%Y-%m-%d %H:%M:%S')}, nproc={os.cpu_count()}, "
             f"loadavg={os.getloadavg()[0]:.2f}, {len(msg)}-byte DKIM-signed messages, 50 sessions, 10 per connection",
             "", "| filters | msg/s (median of rounds) | each round | DATA end → 250 p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for which, med in (("off", off), ("on: SPF + DKIM + DMARC", on)):
        key = "off" if which == "off" else "on"
        reps = rows[key]
        mid = sorted(reps, key=lambda x: x[0])[len(reps) // 2][1]
        lines.append(f"| {which} | {med:.0f} | {', '.join(f'{x:.0f}' for x, _ in reps)} | "
                     f"{lat(mid, 'p50')} | {lat(mid, 'p99')} |")
    lines += ["", f"**Ratio filters-on / filters-off: {on / off:.2f}** (target at least 0.50)", "",
              "| filter | mean ms per message | p50 bucket (s, le) | p99 bucket (s, le) | messages |", "|---|---|---|---|---|"]
    last = filt[-1] if filt else {}
    for f, (mean, p50, p99, c) in last.items():
        lines.append(f"| {f} | {mean:.3f} | {p50} | {p99} | {c:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    sys.exit(main())
