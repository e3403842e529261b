#!/usr/bin/env python3
"""bench_tls_handshakes.py — TLS handshake cost of Sluice on one worker.

For RSA-2048 and ECDSA P-256 certificates, TLS 1.2 and 1.3, full and resumed
(session tickets), it runs CLIENTS threads that each connect to an
implicit-TLS listener, handshake, read the 220 banner and close, for SECS
seconds, against `sluice run` with workers = 1. It reports handshakes per
second (wall) and, what matters for sizing, handshakes per CPU-second of the
server process (utime + stime from /proc/PID/stat), i.e. per core.
The client is Python's ssl (OpenSSL) in threads, or with --client loadgen
sluice-loadgen's handshake mode (C++, wolfSSL, one thread, --clients
connections in flight at once: many clients, little client CPU). On a small
machine either competes with the server for CPU, which is why the
per-CPU-second figure is the one to compare.

With --peer nginx the same cases run, interleaved, against nginx's mail
proxy with implicit TLS on OpenSSL (one process, `master_process off`,
session tickets on, the same certificates; it answers the banner and QUIT
itself), so both servers' resumed-to-full ratios come from one run. nginx
with the mail module: scripts/install-deps.sh test installs it. With --peer
sluice-wolfssl a second Sluice runs beside the first with
tls.rsa_signing = tls.ecdsa_signing = "wolfssl", so what libcrypto's
signatures save is measured in one run. --peer may be given more than once.

Usage: load-tests/bench_tls_handshakes.py [--bin build/sluice] [--secs 5] [--clients 8]
           [--client python|loadgen] [--loadgen build/load-tests/loadgen/sluice-loadgen]
           [--workers 1] [--peer nginx|sluice-wolfssl ...] [--out FILE]
"""
import json
import argparse
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_support import free_port, sluice_toml

ROOT = Path(__file__).resolve().parent.parent


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def make_certs(d):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem",
       "-days", "2", "-subj", "/CN=bench CA")
    for kind, newkey in (("rsa", ["-newkey", "rsa:2048"]),
                         ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        sh("openssl", "req", *newkey, "-nodes", "-keyout", f"{d}/{kind}.key", "-out", f"{d}/{kind}.csr",
           "-subj", "/CN=bench.test")
        Path(f"{d}/ext").write_text("subjectAltName=DNS:bench.test\n")
        sh("openssl", "x509", "-req", "-in", f"{d}/{kind}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
           "-CAcreateserial", "-out", f"{d}/{kind}.pem", "-days", "2", "-extfile", f"{d}/ext")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_case(port, ca, version, resumed, secs, clients, pid):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = (ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3)
    counts = [0] * clients
    reused = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + secs

    def one(session):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="bench.test", session=session) as s:
                s.recv(512)  # the banner; for TLS 1.3 this also brings the ticket
                return s.session, s.session_reused

    def worker(i):
        session = None
        if resumed:
            session, _ = one(None)
        while time.monotonic() < stop:
            try:
                new_session, was_reused = one(session if resumed else None)
                counts[i] += 1
                reused[i] += was_reused
                if resumed and new_session is not None:
                    session = new_session
            except (OSError, ssl.SSLError):
                errors[i] += 1

    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
    n = sum(counts)
    return {"handshakes": n, "reused": sum(reused), "errors": sum(errors), "wall_s": wall, "server_cpu_s": cpu,
            "per_s": n / wall, "per_cpu_s": n / cpu if cpu else 0.0}


def run_case_loadgen(loadgen, port, version, resumed, secs, clients, pid):
    argv = [loadgen, "--port", str(port), "--mode", "handshake", "--tls", "--tls-version", version,
            "--connections", str(clients), "--messages", "0", "--duration", str(secs), "--timeout", "10"]
    if resumed:
        argv.append("--resume")
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    cpu = cpu_seconds(pid) - cpu0
    r = json.loads(out.stdout)
    n, wall = r["tls"]["handshakes"], r["elapsed_s"]
    return {"handshakes": n, "reused": r["tls"]["resumed"], "errors": r["errors_total"], "wall_s": wall,
            "server_cpu_s": cpu, "per_s": n / wall if wall else 0.0, "per_cpu_s": n / cpu if cpu else 0.0}


NGINX = Path("/usr/sbin/nginx")
NGINX_MAIL_MODULE = Path("/usr/lib/nginx/modules/ngx_mail_module.so")


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_sluice(a, d, kind, signer="libcrypto"):
    port = free_port()
    config = f"{d}/s-{kind}-{signer}.toml"
    Path(config).write_text(sluice_toml(
        port, workers=a.workers, log_level="warn", listener='tls = "implicit"',
        tables=f'[spool]\nkind = "discard"\n[limits]\nmax_connections_per_ip = 10000\n'
               f'[tls]\nmax_handshakes_per_worker = 1000\nrsa_signing = "{signer}"\necdsa_signing = "{signer}"\n'
               f'[[tls.certificate]]\ncert = "{d}/{kind}.pem"\nkey = "{d}/{kind}.key"\n'))
    proc = subprocess.Popen([a.bin, "run", "--config", config], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, cwd=d)
    return port, proc


def start_nginx(d, kind):
    """nginx's SMTP proxy as a TLS peer: it sends its own 220 and answers QUIT,
    so auth_http is never asked (it points at a closed port on purpose)."""
    port = free_port()
    Path(f"{d}/nginx-{kind}.conf").write_text(f"""load_module {NGINX_MAIL_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx-{kind}.pid;
error_log {d}/nginx-{kind}.err warn;
events {{ worker_connections 4096; }}
mail {{
  server_name bench.test;
  auth_http 127.0.0.1:9/auth;
  ssl_certificate {d}/{kind}.pem;
  ssl_certificate_key {d}/{kind}.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_tickets on;
  server {{
    listen 127.0.0.1:{port} ssl;
    protocol smtp;
    smtp_auth none;
  }}
}}
""")
    proc = subprocess.Popen([str(NGINX), "-p", d, "-c", f"{d}/nginx-{kind}.conf"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, cwd=d)
    return port, proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "sluice"))
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--client", choices=("python", "loadgen"), default="python")
    ap.add_argument("--loadgen", default=str(ROOT / "build" / "load-tests" / "loadgen" / "sluice-loadgen"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--peer", choices=("nginx", "sluice-wolfssl"), action="append", default=[],
                    help="also measure this TLS server in the same run")
    ap.add_argument("--out")
    a = ap.parse_args()
    if "nginx" in a.peer and not (NGINX.exists() and NGINX_MAIL_MODULE.exists()):
        sys.exit("--peer nginx needs nginx and its mail module (scripts/install-deps.sh test)")
    who = (f"{a.clients} client threads (Python ssl)" if a.client == "python"
           else f"sluice-loadgen with {a.clients} connections in flight")
    peer = "".join(f", peer nginx {nginx_version()} (OpenSSL), one process" if p == "nginx" else
                   ", peer sluice-wolfssl (wolfSSL signs)" for p in a.peer)
    lines = [f"# TLS handshakes, sluice workers={a.workers}{peer}, {who}, {a.secs}s per case, "
             f"{time.strftime('%Y-%m-%d %H:%M:%S')}, nproc={os.cpu_count()}, loadavg={os.getloadavg()[0]:.2f}",
             "| server | certificate | TLS | handshake | handshakes | reused | errors | per s (wall) "
             "| per server CPU-second | resumed / full |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as d:
        make_certs(d)
        for kind in ("rsa", "ec"):
            servers = [("sluice", *start_sluice(a, d, kind))]
            try:
                for p in a.peer:
                    servers.append((p, *(start_nginx(d, kind) if p == "nginx" else
                                         start_sluice(a, d, kind, signer="wolfssl"))))
                for _, port, _ in servers:
                    wait_port(port)
                for version in ("1.2", "1.3"):
                    full = {}
                    # Server by server within each case, so both see the same machine.
                    for resumed in (False, True):
                        for name, port, proc in servers:
                            if a.client == "python":
                                r = run_case(port, f"{d}/ca.pem", version, resumed, a.secs, a.clients, proc.pid)
                            else:
                                r = run_case_loadgen(a.loadgen, port, version, resumed, a.secs, a.clients, proc.pid)
                            ratio = ""
                            if not resumed:
                                full[name] = r["per_cpu_s"]
                            elif full.get(name):
                                ratio = f"{r['per_cpu_s'] / full[name]:.2f}"
                            line = (f"| {name} | {'RSA-2048' if kind == 'rsa' else 'ECDSA P-256'} | {version} | "
                                    f"{'resumed' if resumed else 'full'} | {r['handshakes']} | {r['reused']} | "
                                    f"{r['errors']} | {r['per_s']:.0f} | {r['per_cpu_s']:.0f} | {ratio} |")
                            lines.append(line)
                            print(line, flush=True)
            finally:
                for _, _, proc in servers:
                    proc.terminate()
                for _, _, proc in servers:
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


def nginx_version():
    out = subprocess.run([str(NGINX), "-v"], capture_output=True, text=True)
    return (out.stderr or out.stdout).strip().rsplit("/", 1)[-1]


if __name__ == "__main__":
    sys.exit(main())
