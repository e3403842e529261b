#!/usr/bin/env python3
"""bench_starttls_postfix.py — messages per second over STARTTLS, Sluice beside
Postfix with TLS, in the same run.

The case the TLS issue names: one message per connection, 50 sessions at once,
each connection EHLO, STARTTLS, EHLO, MAIL/RCPT/DATA (pipelined where the
server offers PIPELINING, as both do), 1 KiB, QUIT. Both servers pay for
durability: Sluice with its LMDB spool (group-committed fsync before the 250,
then a discard route), Postfix with its queue (fsync before the 250, then the
discard transport). Both use the same certificate (RSA-2048, ECDSA P-256, or
"dual": both for one name, each server choosing by what the client takes,
which with this client is ECDSA); "full" runs make every
connection a full handshake, "resumed" runs offer the previous session
(tickets) as a returning sender would. The client is sluice-loadgen (wolfSSL,
OpenSSL's key-share order), one process for both targets.

Rounds alternate between the targets (sluice, postfix, sluice, ...) and the
median of REPS rounds is reported with the ratio; Postfix's queue is drained
between rounds. Server CPU is the whole process tree's (Postfix is many
processes); client CPU is sluice-loadgen's, which shares the machine.

Needs root (Postfix), ../shared/peers (start-postfix.sh unpacks Debian's
postfix into /opt/peers), build/sluice and sluice-loadgen.
Usage: load-tests/bench_starttls_postfix.py [--secs 10] [--reps 3] [--certs rsa,ec,dual]
           [--sessions 50] [--out FILE]
Env: SHARED_PEERS, PEERS_RUN (default /tmp/sluice-starttls/peers), PEERS_OPT.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import (LOADGEN, SHARED_PEERS, SLUICE_BIN, durable_discard_spool, free_port, sluice_toml, tree_cpu_s,
                           wait_banner)

PEERS_RUN = Path(os.environ.get("PEERS_RUN", "/tmp/sluice-starttls/peers"))
PEERS_OPT = Path(os.environ.get("PEERS_OPT", "/opt/peers"))


def sh(*argv, **kw):
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True, **kw)


def make_certs(d, kind):
    """[(cert, key)]: one RSA-2048 or ECDSA P-256, or "dual" both for the same name
    (each server then serves ECDSA to clients that take it)."""
    return [make_cert(d, k) for k in ("rsa", "ec")] if kind == "dual" else [make_cert(d, kind)]


def make_cert(d, kind):
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    sh("openssl", "req", "-x509", *newkey, "-nodes", "-days", "2", "-subj", "/CN=bench.test",
       "-addext", "subjectAltName=DNS:bench.test", "-keyout", f"{d}/{kind}.key", "-out", f"{d}/{kind}.pem")
    for f in (f"{d}/{kind}.key", f"{d}/{kind}.pem"):
        os.chmod(f, 0o644)  # Postfix's smtpd reads them (as root, before it drops privileges)
    return f"{d}/{kind}.pem", f"{d}/{kind}.key"


class Postfix:
    def __init__(self, port, pairs):
        self.port, self.run = port, PEERS_RUN / "postfix"
        env = dict(os.environ, PEERS_RUN=str(PEERS_RUN), PEERS_OPT=str(PEERS_OPT))
        sh(SHARED_PEERS / "start-postfix.sh", port, env=env)
        self.pid = int((self.run / "pid").read_text())
        opt = PEERS_OPT / "postfix"
        self.env = dict(os.environ, LD_LIBRARY_PATH=str(opt / "usr/lib/postfix"))
        postconf = [opt / "usr/sbin/postconf", "-c", self.run / "etc"]
        # TLS on the smtpd side; tlsmgr (not in the peer script's master.cf)
        # seeds the PRNG and keeps the ticket keys.
        chain = ",".join(f"{key},{cert}" for cert, key in pairs)
        sh(*postconf, "-e", "smtpd_tls_security_level=may", f"smtpd_tls_chain_files={chain}",
           "smtpd_tls_loglevel=0",
           env=self.env)
        sh(*postconf, "-M", "tlsmgr/unix=tlsmgr unix - - n 1000? 1 tlsmgr", env=self.env)
        sh(opt / "usr/sbin/postfix", "-c", self.run / "etc", "reload", env=self.env)
        time.sleep(2)

    def drain(self, budget=120):
        dirs = [self.run / "spool" / d for d in ("incoming", "active", "deferred", "maildrop")]
        end = time.monotonic() + budget
        while time.monotonic() < end:
            if not any(f.is_file() for d in dirs for f in d.rglob("*")):
                return True
            time.sleep(0.5)
        return False

    def stop(self):
        subprocess.run([SHARED_PEERS / "stop-postfix.sh"], env=dict(os.environ, PEERS_RUN=str(PEERS_RUN)),
                       capture_output=True)


class Sluice:
    def __init__(self, port, pairs, d):
        self.port, self.dir = port, Path(d) / "sluice"
        self.dir.mkdir()
        certs = "".join(f'[[tls.certificate]]\ncert = "{cert}"\nkey = "{key}"\nnames = ["bench.test"]\n'
                        for cert, key in pairs)
        (self.dir / "sluice.toml").write_text(sluice_toml(
            port, listener='tls = "starttls"',
            tables="[limits]\nmax_connections_per_ip = 10000\n[filters]\nenabled = false\n" +
                   durable_discard_spool(self.dir / "spool") + "[tls]\nmax_handshakes_per_worker = 1000\n" + certs))
        self.log = open(self.dir / "sluice.log", "ab")
        self.proc = subprocess.Popen([SLUICE_BIN, "run", "--config", self.dir / "sluice.toml"], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        if not wait_banner(port):
            raise SystemExit(f"sluice did not start:\n{(self.dir / 'sluice.log').read_text()[-2000:]}")

    def drain(self, budget=0):
        return True

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def loadgen(port, secs, sessions, resume, messages=0):
    argv = [LOADGEN, "--port", port, "--mode", "pipelining", "--starttls", "--connections", sessions,
            "--per-connection", 1, "--size", 1024, "--messages", messages, "--duration", secs, "--timeout", 10,
            "--rcpt-domain", "example.org"]
    if resume:
        argv.append("--resume")
    return json.loads(sh(*argv, timeout=secs + 120).stdout)


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(target, secs, sessions, resume):
    target.drain()
    cpu0, client0 = tree_cpu_s(target.pid), children_cpu_s()
    r = loadgen(target.port, secs, sessions, resume)
    cpu, client_cpu = tree_cpu_s(target.pid) - cpu0, children_cpu_s() - client0
    return {"msgs_per_s": r["messages_per_s"], "acked": r["messages_acknowledged"], "errors": r["errors_total"],
            "error_kinds": r["errors"], "handshakes": r["tls"]["handshakes"], "resumed": r["tls"]["resumed"],
            "server_cpu_s": cpu, "client_cpu_s": client_cpu, "p50_ms": r["latency_ms"]["transaction"]["p50"],
            "p99_ms": r["latency_ms"]["transaction"]["p99"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--certs", default="rsa,ec,dual")
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("Postfix needs root")
    for need in (SLUICE_BIN, LOADGEN, SHARED_PEERS / "start-postfix.sh"):
        if not Path(need).exists():
            raise SystemExit(f"missing {need}")
    load = os.getloadavg()[0]
    lines = [f"# STARTTLS, 1 KiB, one message per connection, {a.sessions} sessions, {a.secs:g} s per round, "
             f"median of {a.reps}; {time.strftime('%Y-%m-%d %H:%M:%S')}, nproc={os.cpu_count()}, "
             f"loadavg before={load:.2f}",
             "| certificate | handshakes | Sluice msg/s | Postfix msg/s | ratio | Sluice p50 / p99 ms | "
             "Postfix p50 / p99 ms | server CPU-ms per msg (Sluice / Postfix) | client CPU-ms per msg (S / P) | "
             "resumed (S / P) | errors (S / P) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    raw = []
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        for kind in a.certs.split(","):
            pairs = make_certs(d, kind)
            shutil.rmtree(Path(d) / "sluice", ignore_errors=True)
            sluice = Sluice(free_port(), pairs, d)
            postfix = None
            try:
                postfix = Postfix(free_port(), pairs)
                # Both really do STARTTLS: one message each, before measuring.
                for t in (sluice, postfix):
                    check = loadgen(t.port, 10, 1, False, messages=1)
                    if check["tls"]["handshakes"] != 1 or check["messages_acknowledged"] != 1:
                        raise SystemExit(f"no STARTTLS message through port {t.port}: {check}")
                for resume in (False, True):
                    runs = {"sluice": [], "postfix": []}
                    for _ in range(a.reps):
                        for name, t in (("sluice", sluice), ("postfix", postfix)):
                            m = measure(t, a.secs, a.sessions, resume)
                            runs[name].append(m)
                            raw.append({"cert": kind, "resume": resume, "target": name, **m})
                            print(f"  {kind} {'resumed' if resume else 'full'} {name}: {m}", file=sys.stderr,
                                  flush=True)
                    med = {n: {k: statistics.median(r[k] for r in rs) for k in
                               ("msgs_per_s", "p50_ms", "p99_ms", "server_cpu_s", "client_cpu_s", "acked", "resumed", "handshakes",
                                "errors")} for n, rs in runs.items()}
                    s, p = med["sluice"], med["postfix"]
                    cpu_ms = [1000 * m["server_cpu_s"] / m["acked"] if m["acked"] else 0 for m in (s, p)]
                    client_ms = [1000 * m["client_cpu_s"] / m["acked"] if m["acked"] else 0 for m in (s, p)]
                    cert_name = {"rsa": "RSA-2048", "ec": "ECDSA P-256", "dual": "RSA-2048 + ECDSA P-256"}[kind]
                    line = (f"| {cert_name} | "
                            f"{'resumed' if resume else 'full'} | {s['msgs_per_s']:,.0f} | {p['msgs_per_s']:,.0f} | "
                            f"**{s['msgs_per_s'] / p['msgs_per_s']:.2f}** | {s['p50_ms']:.1f} / {s['p99_ms']:.1f} | "
                            f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} | {cpu_ms[0]:.2f} / {cpu_ms[1]:.2f} | "
                            f"{client_ms[0]:.2f} / {client_ms[1]:.2f} | "
                            f"{s['resumed']:.0f}/{s['handshakes']:.0f} / {p['resumed']:.0f}/{p['handshakes']:.0f} | "
                            f"{s['errors']:.0f} / {p['errors']:.0f} |")
                    lines.append(line)
                    print(line, flush=True)
            finally:
                sluice.stop()
                if postfix:
                    postfix.stop()
    lines.append(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")
        Path(a.out).with_suffix(".jsonl").write_text("".join(json.dumps(r) + "\n" for r in raw))


if __name__ == "__main__":
    sys.exit(main())
