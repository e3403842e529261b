"""TLS handshakes reach /metrics: full and resumed by version, and
plaintext discarded behind STARTTLS (the metrics issue's TLS families)."""
import smtplib

from conftest import SLOW, Raw
from test_metrics import parse, scrape, value
from test_tls import pki, start_tls_gateway  # noqa: F401  (pki is a fixture)


def starttls_session(gw, pki, context, session=None):
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=10 * SLOW) as c:
        c.ehlo()
        c._host = "mx.sluice.test"
        c.starttls(context=context)
        c.ehlo()
        return c.sock.session


def test_handshakes_by_version_and_kind(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    s = parse(scrape(gw))
    before = value(s, "sluice_tls_handshakes_total", version="1.3", kind="full")
    ctx = pki.client_context()
    starttls_session(gw, pki, ctx)
    starttls_session(gw, pki, ctx)
    s = parse(scrape(gw))
    assert value(s, "sluice_tls_handshakes_total", version="1.3", kind="full") - before == 2
    assert value(s, "sluice_tls_handshake_failures_total", reason="timeout") == 0


def test_garbage_hello_counts_a_failure(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    r = Raw(gw.port)
    r.read_reply()
    r.cmd("EHLO c.test")
    assert r.cmd("STARTTLS")[0] == 220
    r.send(b"\x16\x03\x01\x00\x05hello-not-tls" * 4)
    assert r.closed()
    s = parse(scrape(gw))
    assert value(s, "sluice_tls_handshake_failures_total", reason="error") >= 1
