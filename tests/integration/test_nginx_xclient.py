"""nginx's mail proxy in front of Sluice, telling it the client with XCLIENT.

A private nginx (its own prefix, config, pid file and error log in the test's
directory; one process, `master_process off`, stopped by its pid) listens for
SMTP with `smtp_auth none` and `xclient on`. Its auth_http request is answered
by a small HTTP server in this test, pointing it at Sluice. nginx then talks
to Sluice from 127.0.0.1 and sends (../shared/specs/xclient.md section 7)
`EHLO <server_name>`, `XCLIENT ADDR=<client> NAME=[UNAVAILABLE]`, the client's
EHLO, its MAIL and RCPT, and relays the rest.

Sluice must take the client from XCLIENT only when nginx is in
smtp.xclient_hosts: the envelope and the Received header then name the real
client and, apart from it, the proxy. Otherwise XCLIENT gets 550 and no mail
goes through under an identity nginx made up.
"""
import http.server
import os
import re
import shutil
import smtplib
import threading
from pathlib import Path

import pytest

from conftest import SLOW, free_port, wait_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAIL_MODULE = Path("/usr/lib/nginx/modules/ngx_mail_module.so")

pytestmark = pytest.mark.skipif(
    not (os.access(NGINX, os.X_OK) and MAIL_MODULE.exists()),
    reason="nginx with the mail module is not installed (nginx-light and libnginx-mod-mail, scripts/install-deps.sh test)")

BODY = "Subject: via nginx\r\n\r\nhello through the mail proxy\r\n"


class AuthServer:
    """nginx's auth_http endpoint: every client may pass, to Sluice."""

    def __init__(self, upstream_port):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Auth-Status", "OK")
                self.send_header("Auth-Server", "127.0.0.1")
                self.send_header("Auth-Port", str(upstream_port))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mail_proxy(tmp_path, peers):
    """start(upstream_port, listen="127.0.0.1") -> nginx's SMTP port."""
    auth_servers = []

    def start(upstream_port, listen="127.0.0.1"):
        auth = AuthServer(upstream_port)
        auth_servers.append(auth)
        d = tmp_path / f"nginx{len(auth_servers)}"
        d.mkdir()
        port = free_port()
        listen_at = f"[{listen}]:{port}" if ":" in listen else f"{listen}:{port}"
        conf = d / "nginx.conf"
        conf.write_text(f"""
load_module {MAIL_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
mail {{
    server_name mailproxy.test;
    auth_http 127.0.0.1:{auth.port}/auth;
    auth_http_timeout 5s;
    xclient on;
    proxy on;
    proxy_pass_error_message on;
    proxy_timeout 30s;
    server {{
        listen {listen_at};
        protocol smtp;
        smtp_auth none;
    }}
}}
""")
        nginx = peers([NGINX, "-p", d, "-c", conf, "-e", d / "error.log"], d / "stdout.log")
        wait_port(port, host=listen, peer=nginx)
        start.nginx_dir = d
        start.auth = auth
        return port

    yield start
    for a in auth_servers:
        a.close()


def send_through(port, host="127.0.0.1", source="127.0.0.5", messages=1):
    """Sends through nginx from `source`; returns the queue ids from the 250s."""
    ids = []
    with smtplib.SMTP(timeout=15 * SLOW, local_hostname="client-laptop.test", source_address=(source, 0)) as c:
        code, msg = c.connect(host, port)
        assert code == 220, msg
        assert c.ehlo()[0] == 250
        for i in range(messages):
            code, msg = c.mail("alice@client.test")
            assert code == 250, msg
            code, msg = c.rcpt("bob@example.test")
            assert code == 250, msg
            code, msg = c.data(BODY)
            assert code == 250, msg
            ids.append(msg.decode().split("id=")[1])
    return ids


def test_client_identity_comes_from_xclient(sluice, mail_proxy):
    gw = sluice.start(smtp={"xclient_hosts": ["127.0.0.1"]})
    port = mail_proxy(gw.port)
    ids = send_through(port, messages=2)

    q = gw.queued()
    assert sorted(q) == sorted(ids)
    for mid in ids:
        env, data = q[mid]
        assert env["client_addr"] == "127.0.0.5"
        assert env["origin"] == "xclient"
        assert env["proxy_addr"] == "127.0.0.1"
        assert env["client_name"] == ""       # nginx had no resolver: NAME=[UNAVAILABLE]
        assert env["helo"] == "client-laptop.test"  # the client's EHLO, replayed by nginx
        assert env["protocol"] == "esmtp"
        assert env["sender"] == "alice@client.test"
        assert [r["address"] for r in env["recipients"]] == ["bob@example.test"]
        # nginx sends no PORT: the port is unknown (0), not the proxy's own
        # source port, and Received shows none.
        assert env["client_port"] == 0
        received = data.split(b"\r\n\tby ", 1)[0]
        assert re.fullmatch(rb"Received: from client-laptop\.test \(\[127\.0\.0\.5\] via xclient \[127\.0\.0\.1\]\)",
                            received), received
        assert data.endswith(BODY.encode())
    # nginx asked its auth server about the real client.
    assert mail_proxy.auth.requests[0]["Client-IP"] == "127.0.0.5"
    log = gw.log()
    assert log.count("event=accepted ") == 2
    assert "origin=xclient proxy=127.0.0.1" in log
    assert "level=error" not in log


def test_xclient_with_ipv6_client(sluice, mail_proxy):
    gw = sluice.start(smtp={"xclient_hosts": ["127.0.0.1"]})
    port = mail_proxy(gw.port, listen="::1")
    [mid] = send_through(port, host="::1", source="::1")
    env, data = gw.queued()[mid]
    # nginx sends ADDR=IPV6:::1; the prefix is syntax, not part of the address.
    assert env["client_addr"] == "::1"
    assert env["origin"] == "xclient" and env["proxy_addr"] == "127.0.0.1"
    assert re.match(rb"Received: from client-laptop\.test \(\[::1\] via xclient \[127\.0\.0\.1\]\)\r\n", data), data[:200]


def test_xclient_refused_without_xclient_hosts(sluice, mail_proxy):
    gw = sluice.start()  # smtp.xclient_hosts defaults to []
    port = mail_proxy(gw.port)
    with smtplib.SMTP(timeout=15 * SLOW, local_hostname="client-laptop.test", source_address=("127.0.0.5", 0)) as c:
        code, _ = c.connect("127.0.0.1", port)
        assert code == 220
        assert c.ehlo()[0] == 250
        assert c.mail("alice@client.test")[0] == 250  # nginx keeps it until it has an upstream
        try:
            code, msg = c.rcpt("bob@example.test")
        except smtplib.SMTPServerDisconnected:
            code, msg = None, b"disconnected"
        # nginx passes Sluice's refusal on (proxy_pass_error_message on).
        assert code == 550, (code, msg)
        assert b"5.7.0" in msg
    gw.wait_log("event=disconnect")
    log = gw.log()
    assert "code=550 status=5.7.0" in log
    assert gw.queued() == {}
    assert "event=accepted" not in log
    assert "origin=xclient" not in log


def test_relay_permission_follows_the_xclient_identity(sluice, mail_proxy):
    # nginx itself (127.0.0.1) may relay; the client it speaks for may not.
    # XCLIENT re-evaluates permissions for the new identity, so the proxy's
    # trust does not pass to whoever is behind it.
    gw = sluice.start(smtp={"xclient_hosts": ["127.0.0.1"], "trusted_networks": ["127.0.0.1"]})
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as direct:
        direct.ehlo("nginx-host.test")
        assert direct.mail("a@src.test")[0] == 250
        assert direct.rcpt("someone@elsewhere.test")[0] == 250  # the config does allow 127.0.0.1
        direct.rset()

    port = mail_proxy(gw.port)
    with smtplib.SMTP(timeout=15 * SLOW, local_hostname="client-laptop.test", source_address=("127.0.0.5", 0)) as c:
        assert c.connect("127.0.0.1", port)[0] == 220
        assert c.ehlo()[0] == 250
        assert c.mail("alice@client.test")[0] == 250
        code, msg = c.rcpt("someone@elsewhere.test")
        assert code in (550, 554), (code, msg)
        assert b"5.7.1" in msg
        # Mail for our own domain still goes through, under the client's name.
        assert c.rcpt("bob@example.test")[0] == 250
        code, msg = c.data(BODY)
        assert code == 250, msg
    [(env, _)] = gw.queued().values()
    assert [r["address"] for r in env["recipients"]] == ["bob@example.test"]
    assert env["client_addr"] == "127.0.0.5" and env["origin"] == "xclient"
