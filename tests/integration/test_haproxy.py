"""haproxy in TCP mode in front of a PROXY-protocol listener.

A private haproxy (config, stats socket and output in the test's directory,
`-db` in the foreground, stopped by its pid) relays to a Sluice listener with
proxy_protocol = true and writes a PROXY header first (`send-proxy-v2`, or
`send-proxy` for the v1 text form). Sluice must take the client from that
header only when the sender is in proxy_trusted, and close anything else
before its banner (../shared/specs/proxy-protocol.md section 1: no fallback).
haproxy's own health checks arrive as v2 LOCAL: the real socket addresses
stand, and the SMTP check must pass.
"""
import copy
import csv
import io
import os
import re
import shutil
import signal
import smtplib
import socket
import time

import pytest

from conftest import SLOW, Raw, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = pytest.mark.skipif(not os.access(HAPROXY, os.X_OK),
                                reason="haproxy is not installed (scripts/install-deps.sh test)")

CLIENT = "127.0.0.9"
BODY = "Subject: via haproxy\r\n\r\nhello through haproxy\r\n"


class Haproxy:
    def __init__(self, peers, d, backend_port, send_proxy="send-proxy-v2", check=""):
        d.mkdir()
        self.port = free_port()
        self.stats = d / "admin.sock"
        cfg = d / "haproxy.cfg"
        cfg.write_text(f"""
global
    stats socket {self.stats} mode 600 level admin

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend be

backend be
{"    option smtpchk HELO haproxy.test" if check else ""}
    server sluice 127.0.0.1:{backend_port} {send_proxy} {check}
""")
        self._start(peers, cfg, d)

    def _start(self, peers, cfg, d):
        """Runs haproxy on cfg and waits until it serves (also for test_scale_out.py)."""
        self.proc = peers([HAPROXY, "-f", cfg, "-db"], d / "haproxy.log")
        deadline = time.time() + 10 * SLOW
        while True:
            # The stats socket answers once every listener is bound; probing
            # the frontend instead would open a session on Sluice.
            try:
                self.show_stat()
                break
            except OSError:
                if not self.proc.alive() or time.time() > deadline:
                    raise AssertionError(f"haproxy did not start:\n{self.proc.log()}")
                time.sleep(0.05)

    def show_stat(self):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats))
            s.sendall(b"show stat\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        text = out.decode().lstrip("# ")
        return {(r["pxname"], r["svname"]): r for r in csv.DictReader(io.StringIO(text))}

    def server(self):
        return self.show_stat()[("be", "sluice")]


def proxied_gateway(sluice, trusted=("127.0.0.1",)):
    port = free_port()
    return sluice.start(listener=[{"name": "proxied", "address": "127.0.0.1", "port": port,
                                   "proxy_protocol": True, "proxy_trusted": list(trusted)}])


def send_via(port, source=CLIENT):
    with smtplib.SMTP(timeout=15 * SLOW, local_hostname="client.test", source_address=(source, 0)) as c:
        code, msg = c.connect("127.0.0.1", port)
        assert code == 220, msg
        client_port = c.sock.getsockname()[1]
        assert c.ehlo()[0] == 250
        assert c.mail("alice@client.test")[0] == 250
        assert c.rcpt("bob@example.test")[0] == 250
        code, msg = c.data(BODY)
        assert code == 250, msg
    return msg.decode().split("id=")[1], client_port


def check_proxied_message(gw, mid, client_port):
    env, data = gw.queued()[mid]
    assert env["client_addr"] == CLIENT
    assert env["client_port"] == client_port
    assert env["origin"] == "proxy"
    assert env["proxy_addr"] == "127.0.0.1"
    assert env["helo"] == "client.test"
    received = data.split(b"\r\n\tby ", 1)[0].decode()
    assert received == f"Received: from client.test ([{CLIENT}]:{client_port} via proxy [127.0.0.1])"
    assert data.endswith(BODY.encode())
    assert re.search(r"event=connect .*listener=proxied H=\[127\.0\.0\.9\]:\d+ origin=proxy proxy=127\.0\.0\.1", gw.log())


@pytest.mark.parametrize("send_proxy", ["send-proxy-v2", "send-proxy"])
def test_client_address_from_proxy_header(sluice, peers, tmp_path, send_proxy):
    gw = proxied_gateway(sluice)
    hap = Haproxy(peers, tmp_path / "haproxy", gw.port, send_proxy)
    mid, client_port = send_via(hap.port)
    check_proxied_message(gw, mid, client_port)
    assert "proxy_refused" not in gw.log()
    assert "level=error" not in gw.log()


def test_health_checks_are_local_and_harmless(sluice, peers, tmp_path):
    gw = proxied_gateway(sluice)
    hap = Haproxy(peers, tmp_path / "haproxy", gw.port, check="check inter 200 fall 1 rise 1")
    # Several checks: each a v2 LOCAL header, banner, HELO, QUIT.
    deadline = time.time() + 10 * SLOW
    while True:
        srv = hap.server()
        if srv["check_status"] == "L7OK" and gw.log().count("(haproxy.test) [127.0.0.1]") >= 3:
            break
        assert time.time() < deadline, (srv, gw.log()[-3000:], hap.proc.log())
        time.sleep(0.1)
    assert srv["status"] == "UP", srv
    log = gw.log()
    # LOCAL: the connection is the proxy's own; the socket addresses stand.
    assert re.search(r"event=connect .*listener=proxied H=\[127\.0\.0\.1\]:\d+ origin=direct", log)
    assert "proxy_refused" not in log
    # Real traffic goes on between checks.
    mid, client_port = send_via(hap.port)
    check_proxied_message(gw, mid, client_port)
    assert hap.server()["status"] == "UP"
    assert "level=error" not in gw.log()


def test_direct_clients_without_header_are_closed(sluice):
    gw = proxied_gateway(sluice)
    # A real SMTP client waits for a banner that never comes: the header
    # deadline (10 s) closes it. Started first so the other checks overlap it.
    waiting = Raw(gw.port, timeout=20)
    started = time.monotonic()

    # A client that talks first: not a header, closed at once, no banner.
    talker = Raw(gw.port)
    talker.send("EHLO direct.test\r\n")
    assert talker.closed(timeout=5)
    assert talker.buf == b""

    # Garbage that is neither v1 nor v2.
    junk = Raw(gw.port)
    junk.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64))
    assert junk.closed(timeout=5)
    assert junk.buf == b""

    # A v2 signature with an invalid version/command byte.
    bad_v2 = Raw(gw.port)
    bad_v2.send(b"\r\n\r\n\x00\r\nQUIT\n" + b"\x13\x11\x00\x0c" + bytes(12))
    assert bad_v2.closed(timeout=5)
    assert bad_v2.buf == b""

    # A v1 line that breaks the grammar (two spaces).
    bad_v1 = Raw(gw.port)
    bad_v1.send(b"PROXY TCP4  192.0.2.7 127.0.0.1 4000 25\r\nEHLO x\r\n")
    assert bad_v1.closed(timeout=5)
    assert bad_v1.buf == b""

    assert waiting.closed(timeout=15)
    took = time.monotonic() - started
    assert waiting.buf == b"", waiting.buf
    assert 8 <= took <= 13 * SLOW, took
    gw.wait_log("event=proxy_refused", count=5)
    log = gw.log()
    assert log.count("event=proxy_refused") == 5
    assert 'reason=timeout' in log
    assert "event=connect " not in log  # no session ever started
    assert gw.queued() == {}


def test_header_from_untrusted_peer_is_refused(sluice, peers, tmp_path):
    gw = proxied_gateway(sluice, trusted=["192.0.2.1"])
    hap = Haproxy(peers, tmp_path / "haproxy", gw.port)
    c = Raw(hap.port, source=CLIENT)
    # haproxy relays Sluice's close: no banner, just the end.
    assert c.closed(timeout=5)
    assert c.buf == b""
    gw.wait_log("event=proxy_refused")
    log = gw.log()
    assert re.search(r'event=proxy_refused .*peer=127\.0\.0\.1 reason="source not trusted"', log), log
    assert "event=connect " not in log
    assert CLIENT not in log  # the header was never read, so never believed
    # A well-formed header sent directly from the untrusted host changes nothing.
    d = Raw(gw.port)
    d.send(f"PROXY TCP4 {CLIENT} 127.0.0.1 4000 25\r\n")
    assert d.closed(timeout=5) and d.buf == b""
    gw.wait_log("event=proxy_refused", count=2)
    assert gw.queued() == {}


def test_reload_that_drops_the_proxy_from_proxy_trusted(sluice, peers, tmp_path):
    # Trust in a proxy is withdrawn by a reload for every new connection.
    gw = proxied_gateway(sluice)
    hap = Haproxy(peers, tmp_path / "haproxy", gw.port)
    mid, client_port = send_via(hap.port)
    check_proxied_message(gw, mid, client_port)

    tables = copy.deepcopy(gw.tables)
    tables["listener"][0]["proxy_trusted"] = ["192.0.2.1"]
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    c = Raw(hap.port, source=CLIENT)
    assert c.closed(timeout=5) and c.buf == b""
    gw.wait_log('reason="source not trusted"')
    assert len(gw.queued()) == 1
