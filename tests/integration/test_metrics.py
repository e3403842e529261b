"""The metrics and health endpoints (docs/metrics.md): GET /metrics after real
SMTP traffic, checked by hand, by promtool and by a real Prometheus server
scraping it; /healthz and /readyz across a SIGTERM drain; the endpoint's own
limits and start-up errors.

promtool and prometheus come from Debian's `prometheus` package
(scripts/install-deps.sh test).
"""
import http.client
import json
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import SLOW, Raw, free_port, wait_port, wait_until
from test_pipeconnect import connect_early

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def http_get(port, path, method="GET", timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        c.close()


def scrape(gw):
    status, headers, body = http_get(gw.metrics_port, "/metrics")
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    return body


def parse(text):
    """{(name, frozenset(labels.items())): value}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"unparsable sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} not in scrape: {sorted(k for k in samples if k[0] == name)}"
    return samples[key]


def send(port, n, rcpt="user@example.test", body="Subject: m\r\n\r\nhello\r\n"):
    with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW) as c:
        for _ in range(n):
            c.sendmail("sender@src.test", [rcpt], body)


def need(program):
    path = shutil.which(program)
    assert path, f"{program} is missing: install Debian's prometheus package (scripts/install-deps.sh test)"
    return path


def test_scrape_counts_what_happened(sluice):
    gw = sluice.start()
    send(gw.port, 3)                   # one session, three messages
    with smtplib.SMTP("127.0.0.1", gw.port) as c:   # a refused recipient: relay denied
        c.ehlo("relay.test")
        c.mail("a@src.test")
        code, _ = c.rcpt("someone@elsewhere.test")
        assert code == 550 or code // 100 == 5, code
    s = parse(scrape(gw))
    assert value(s, "sluice_messages_total", outcome="accepted", reason="ok") == 3
    assert value(s, "sluice_messages_total", outcome="rejected", reason="size") == 0
    assert value(s, "sluice_smtp_replies_total", command="mail", **{"class": "2xx"}) == 4
    assert value(s, "sluice_smtp_replies_total", command="rcpt", **{"class": "2xx"}) == 3
    assert value(s, "sluice_smtp_replies_total", command="rcpt", **{"class": "5xx"}) == 1
    assert value(s, "sluice_smtp_replies_total", command="data", **{"class": "3xx"}) == 3
    assert value(s, "sluice_connections_accepted_total", listener="smtp") == 2
    assert value(s, "sluice_received_bytes_total") > 3 * len("Subject: m\r\n\r\nhello\r\n")
    assert value(s, "sluice_pipeconnect_advertised_total") == 2
    # Counters only go up; the open gauge comes back to zero once both are gone.
    assert wait_until(lambda: value(parse(scrape(gw)), "sluice_connections_open", listener="smtp") == 0)
    # Process metrics from /proc.
    assert value(s, "process_resident_memory_bytes") > 1e6
    assert value(s, "process_open_fds") >= 5
    assert value(s, "process_max_fds") >= value(s, "process_open_fds")
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 120
    assert value(s, "process_cpu_seconds_total") >= 0
    # The spool hooks are declared even before the spool fills them.
    text = scrape(gw)
    for family in ("sluice_spool_commit_seconds", "sluice_spool_messages_per_commit",
                   "sluice_spool_commit_failures_total", "sluice_queue_messages"):
        assert f"# TYPE {family} " in text


def test_sessions_rejected_by_reason(sluice):
    gw = sluice.start(limits={"max_connections_per_ip": 1})
    first = Raw(gw.port)
    assert first.read_reply()[0] == 220
    second = Raw(gw.port)
    code, lines = second.read_reply()
    assert code == 421, lines
    s = parse(scrape(gw))
    assert value(s, "sluice_sessions_rejected_total", reason="per_ip_limit") == 1
    assert value(s, "sluice_sessions_rejected_total", reason="connection_limit") == 0
    assert value(s, "sluice_connections_open", listener="smtp") == 1
    # Early talker: a synchronization error.
    first.close()
    assert wait_until(lambda: value(parse(scrape(gw)), "sluice_connections_open", listener="smtp") == 0)
    gw2 = sluice.start(smtp={"pipeconnect_hosts": []})
    early = connect_early(gw2, "EHLO early.test\r\n")   # sent while the gateway is stopped
    assert early.read_reply()[0] == 554
    assert value(parse(scrape(gw2)), "sluice_sessions_rejected_total", reason="sync_error") == 1


def test_promtool_finds_nothing_to_say(sluice):
    promtool = need("promtool")
    gw = sluice.start()
    send(gw.port, 2)
    text = scrape(gw)
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", (r.stdout, r.stderr)


def test_filter_and_dns_series_exist_before_their_first_event(sluice):
    # Filters on, but nothing judged yet: every series is there at 0, and
    # promtool is content with them (the filters' own tests send the traffic).
    promtool = need("promtool")
    gw = sluice.start(filters={"enabled": True}, dns={"servers": ["127.0.0.1"], "port": free_port()})
    samples = parse(scrape(gw))
    for filt, word in (("spf", "softfail"), ("dkim", "none"), ("dmarc", "quarantine")):
        assert value(samples, "sluice_filter_results_total", filter=filt, result=word) == 0
        assert value(samples, "sluice_filter_failures_total", filter=filt, reason="timeout") == 0
        assert value(samples, "sluice_filter_seconds_count", filter=filt) == 0
    assert value(samples, "sluice_dns_queries_total", type="MX", status="servfail") == 0
    assert value(samples, "sluice_dns_cache_lookups_total", result="hit") == 0
    r = subprocess.run([promtool, "check", "metrics"], input=scrape(gw), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", (r.stdout, r.stderr)


def prometheus_query(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as r:
        data = json.load(r)
    assert data["status"] == "success", data
    return data["data"]["result"]


def test_real_prometheus_scrapes_us(sluice, peers, tmp_path):
    prometheus = need("prometheus")
    gw = sluice.start()
    prom_port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["127.0.0.1:{gw.metrics_port}"]
""")
    prom = peers([prometheus, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{prom_port}"], tmp_path / "prometheus.log")
    wait_port(prom_port, timeout=30, peer=prom)

    def up():
        try:
            r = prometheus_query(prom_port, 'up{job="sluice"}')
        except OSError:
            return False
        return bool(r) and r[0]["value"][1] == "1"
    assert wait_until(up, timeout=30 * SLOW, interval=0.25), prom.log()[-3000:]

    n = 5
    send(gw.port, n)

    def accepted():
        r = prometheus_query(prom_port, 'sluice_messages_total{job="sluice",outcome="accepted"}')
        return r and float(r[0]["value"][1]) == n
    assert wait_until(accepted, timeout=20 * SLOW, interval=0.25), prometheus_query(prom_port, "sluice_messages_total")
    r = prometheus_query(prom_port, 'sluice_smtp_replies_total{command="rcpt",class="2xx"}')
    assert float(r[0]["value"][1]) == n
    r = prometheus_query(prom_port, 'sluice_connections_accepted_total{listener="smtp"}')
    assert float(r[0]["value"][1]) == 1
    # Histograms arrive as buckets PromQL can use.
    r = prometheus_query(prom_port, 'count(sluice_spool_commit_seconds_bucket)')
    assert float(r[0]["value"][1]) == 17
    r = prometheus_query(prom_port, 'process_resident_memory_bytes{job="sluice"}')
    assert float(r[0]["value"][1]) > 1e6


def test_readyz_says_no_during_drain_healthz_stays_ok(sluice):
    gw = sluice.start(timeouts={"drain": 30})
    assert http_get(gw.metrics_port, "/readyz")[0] == 200
    assert http_get(gw.metrics_port, "/healthz")[:1] == (200,)
    assert http_get(gw.metrics_port, "/healthz")[2] == "ok\n"
    # A transaction in flight keeps the drain (and the process) going.
    busy = Raw(gw.port)
    assert busy.read_reply()[0] == 220
    assert busy.cmd("EHLO drain.test")[0] == 250
    assert busy.cmd("MAIL FROM:<a@src.test>")[0] == 250
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")
    status, _, body = http_get(gw.metrics_port, "/readyz")
    assert (status, body) == (503, "draining\n")
    status, _, body = http_get(gw.metrics_port, "/healthz")
    assert (status, body) == (200, "ok\n")
    assert gw.proc.poll() is None
    busy.cmd("QUIT")
    gw.proc.wait(timeout=10 * SLOW)
    assert gw.proc.returncode == 0


def test_endpoint_limits_and_errors(sluice):
    gw = sluice.start()
    port = gw.metrics_port
    assert http_get(port, "/nope")[0] == 404
    assert http_get(port, "/metrics", method="POST")[0] == 405
    status, headers, body = http_get(port, "/metrics", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000
    assert http_get(port, "/metrics?debug=1")[0] == 200
    # Headers past the limit: closed without an answer, the server goes on.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        assert not data.startswith(b"HTTP/1.1 200")
    # A silent client is dropped after the I/O timeout (10 s), not kept forever;
    # meanwhile others are served.
    idle = socket.create_connection(("127.0.0.1", port), timeout=15)
    assert http_get(port, "/healthz")[0] == 200
    t0 = time.monotonic()
    assert idle.recv(100) == b""
    assert 8 < time.monotonic() - t0 < 14 * SLOW
    idle.close()


def test_metrics_port_taken_is_a_startup_error(sluice):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        gw = sluice.start(wait=False, metrics={"port": taken})
        assert gw.proc.wait(timeout=15 * SLOW) != 0
        assert f"metrics endpoint 127.0.0.1:{taken}" in gw.log(), gw.log()


def test_metrics_can_be_disabled(sluice):
    gw = sluice.start(metrics={"enabled": False, "port": free_port()})
    gw.wait_log("event=metrics_disabled")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", gw.metrics_port), timeout=2).close()


def test_xclient_and_proxy_sessions_are_counted(sluice):
    gw = sluice.start(smtp={"xclient_hosts": ["127.0.0.1", "192.0.2.0/24"]},
                      listener=[{"name": "smtp", "address": "127.0.0.1", "port": free_port()},
                                {"name": "behind-proxy", "address": "127.0.0.1", "port": free_port(),
                                 "proxy_protocol": True, "proxy_trusted": ["127.0.0.1"]}])
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO front.test")[0] == 250
    assert r.cmd("XCLIENT ADDR=192.0.2.7 NAME=client.test")[0] == 220
    assert r.cmd("EHLO front.test")[0] == 250
    assert r.cmd("XCLIENT ADDR=192.0.2.8")[0] == 220   # the same session: counted once
    r.close()
    p = Raw(gw.ports["behind-proxy"])
    p.send(b"PROXY TCP4 192.0.2.9 192.0.2.1 40000 25\r\n")
    assert p.read_reply()[0] == 220
    p.close()
    s = parse(scrape(gw))
    assert value(s, "sluice_xclient_sessions_total") == 1
    assert value(s, "sluice_proxy_sessions_total") == 1
    assert value(s, "sluice_connections_accepted_total", listener="behind-proxy") == 1
    assert value(s, "sluice_sessions_rejected_total", reason="xclient_refused") == 0

    plain = sluice.start()   # no xclient_hosts: XCLIENT is refused
    r = Raw(plain.port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO front.test")[0] == 250
    assert r.cmd("XCLIENT ADDR=192.0.2.7")[0] == 550
    r.close()
    s = parse(scrape(plain))
    assert value(s, "sluice_sessions_rejected_total", reason="xclient_refused") == 1
    assert value(s, "sluice_smtp_replies_total", command="xclient", **{"class": "5xx"}) == 1


def test_sighup_does_not_move_the_endpoint(sluice):
    gw = sluice.start()
    old = gw.metrics_port
    tables = dict(gw.tables)
    tables["metrics"] = {"address": "127.0.0.1", "port": free_port()}
    tables["limits"] = {"max_recipients": 7}
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    assert "event=metrics_change_needs_restart" in gw.log()
    assert http_get(old, "/healthz")[0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", tables["metrics"]["port"]), timeout=2).close()
