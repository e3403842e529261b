"""Client certificates for trusted relays (docs/tls.md, "Client
certificates"): with tls.client_ca_file every TLS session is asked for a
certificate, never made to show one; a certificate that verifies against
that CA (and whose name is listed) lets the client relay, like
smtp.trusted_networks. Real clients: Python's ssl (smtplib) and openssl
s_client with -cert/-key; certificates made by the test."""
import smtplib
import ssl

import pytest

from tls_support import Pki, s_client, tls_tables


@pytest.fixture
def pkis(tmp_path):
    ours, other = Pki(tmp_path / "ours"), Pki(tmp_path / "other")
    return ours, other


def start(sluice, pkis, names=()):
    ours, other = pkis
    cert, key = ours.leaf("mx.sluice.test")
    tables = tls_tables([(cert, key, None, {})],
                        tls={"client_ca_file": str(ours.ca), "client_cert_relay_names": list(names)})
    return sluice.start(**tables)  # trusted_networks = [] (the fixture's default)


def relay_attempt(gw, pki, client=None):
    """MAIL + RCPT to a domain that is not ours, over STARTTLS with an optional client certificate."""
    ctx = pki.client_context()
    ctx.check_hostname = False  # smtplib names the server 127.0.0.1; the chain is still checked
    if client:
        ctx.load_cert_chain(*client)
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="relay.client.test") as c:
        c.starttls(context=ctx)
        c.ehlo()
        c.mail("a@example.test")
        return c.rcpt("someone@elsewhere.example")


def test_a_verified_certificate_may_relay(sluice, pkis):
    ours, _ = pkis
    gw = start(sluice, pkis)
    assert relay_attempt(gw, ours, client=ours.leaf("relay1.client.test"))[0] == 250
    assert "client_cert=verified" in gw.log() and "CN=relay1.client.test" in gw.log()


def test_no_certificate_and_a_foreign_one_may_not(sluice, pkis):
    ours, other = pkis
    gw = start(sluice, pkis)
    # Asked, not required: a client without a certificate still gets TLS and may send to our domains.
    assert relay_attempt(gw, ours)[0] == 550
    plain = ours.client_context()
    plain.check_hostname = False
    with smtplib.SMTP("127.0.0.1", gw.port) as c:
        c.starttls(context=plain)
        c.ehlo()
        c.mail("a@elsewhere.example")
        assert c.rcpt("bob@example.test")[0] == 250
    # A certificate from another CA verifies against nothing we trust.
    assert relay_attempt(gw, ours, client=other.leaf("relay1.client.test"))[0] == 550
    assert "client_cert=unverified" in gw.log()


def test_only_listed_names_may_relay(sluice, pkis):
    ours, _ = pkis
    gw = start(sluice, pkis, names=["relay1.client.test"])
    assert relay_attempt(gw, ours, client=ours.leaf("relay1.client.test"))[0] == 250
    assert relay_attempt(gw, ours, client=ours.leaf("relay2.client.test"))[0] == 550


def test_openssl_s_client_with_a_certificate_and_the_received_header(sluice, pkis):
    ours, _ = pkis
    gw = start(sluice, pkis)
    cert, key = ours.leaf("relay1.client.test")
    out = s_client(gw.port, "-cert", str(cert), "-key", str(key), "-CAfile", str(ours.ca),
                   data=b"EHLO relay.client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<x@elsewhere.example>\r\n"
                        b"DATA\r\nSubject: t\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    assert "250 2.1.5" in out, out[-1500:]
    (env, data), = gw.queued().values()
    assert b"verified CN=relay1.client.test" in data.split(b"\r\n\r\n")[0], data[:600]
