#!/usr/bin/env python3
"""idle_tls_sessions.py — memory per idle TLS session: Sluice (workers = 1)
with a STARTTLS listener; N clients do EHLO, STARTTLS, EHLO and then hold
the session. Reports the server's RSS before and with the N sessions held,
and the difference per session, for plain and TLS sessions in the same run.

Usage: load-tests/idle_tls_sessions.py [--bin build/sluice] [--sessions 1000]
"""
import argparse
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import free_port, sluice_toml

ROOT = Path(__file__).resolve().parent.parent


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def read_reply(f):
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line


def hold(port, ctx, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO idle.test\r\n")
    read_reply(f)
    if not tls:
        return s
    s.sendall(b"STARTTLS\r\n")
    read_reply(f)
    t = ctx.wrap_socket(s, server_hostname="bench.test")
    t.sendall(b"EHLO idle.test\r\n")
    t.recv(4096)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "sluice"))
    ap.add_argument("--sessions", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem", "-days", "2", "-subj", "/CN=bench.test",
                        "-addext", "subjectAltName=DNS:bench.test"], check=True, capture_output=True)
        port = free_port()
        Path(f"{d}/s.toml").write_text(sluice_toml(
            port, workers=1, log_level="warn", name="idle", listener='tls = "starttls"',
            tables=f'[spool]\nkind = "discard"\n[limits]\nmax_connections_per_ip = 100000\n'
                   f'[[tls.certificate]]\ncert = "{d}/c.pem"\nkey = "{d}/k.pem"\n'))
        proc = subprocess.Popen([a.bin, "run", "--config", f"{d}/s.toml"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, cwd=d)
        ctx = ssl.create_default_context(cafile=f"{d}/c.pem")
        try:
            time.sleep(1)
            print(f"| sessions | kind | RSS before (KiB) | RSS held (KiB) | per session (KiB) |\n|---|---|---|---|---|")
            for tls in (False, True):
                before = rss_kib(proc.pid)
                held = [hold(port, ctx, tls) for _ in range(a.sessions)]
                time.sleep(1)
                after = rss_kib(proc.pid)
                print(f"| {a.sessions} | {'STARTTLS' if tls else 'plain'} | {before} | {after} | "
                      f"{(after - before) / a.sessions:.1f} |", flush=True)
                for s in held:
                    s.close()
                time.sleep(1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
