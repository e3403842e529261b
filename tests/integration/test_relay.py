"""Relay control (verb_rcpt.cpp): mail is accepted for local and relay
domains, for anything only from smtp.trusted_networks, and address tricks
that make an open relay of a naive next hop are refused for everyone."""
import pytest

from conftest import greet

TRICKS = [
    "user%other.test@example.test",        # percent hack
    "@a.test:user@example.test",            # source route
    "@a.test,@b.test:user@example.test",
    "other.test!user@example.test",        # bang path
    "a!b@example.test",
    '"u@other.test"@example.test',          # quoted local part with an @
    '"u\\@other.test"@example.test',
    '"user%other.test"@example.test',
]


def session(gw):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    return r


def test_untrusted_client_cannot_relay(sluice):
    gw = sluice.start()  # trusted_networks = []
    r = session(gw)
    r.expect("RCPT TO:<someone@elsewhere.test>", 550, "5.7.1")
    r.expect("RCPT TO:<someone@sub.example.test>", 550, "5.7.1")  # no implicit subdomains
    r.expect("RCPT TO:<someone@example.test.evil.test>", 550, "5.7.1")
    r.expect("RCPT TO:<someone@[127.0.0.1]>", 550, "5.7.1")
    r.expect("DATA", 554, "5.5.1")


def test_local_domains_accepted(sluice):
    gw = sluice.start(smtp={"local_domains": ["example.test", "second.test"]})
    r = session(gw)
    for rcpt in ("bob@example.test", "bob@EXAMPLE.Test", "carol@second.test",
                 "dave@mx.sluice.test"):  # our hostname is always local
        r.expect(f"RCPT TO:<{rcpt}>", 250, "2.1.5")
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]] == [
        "bob@example.test", "bob@example.test", "carol@second.test", "dave@mx.sluice.test"]


def test_relay_domains_accepted(sluice):
    gw = sluice.start(smtp={"relay_domains": ["partner.test"]})
    r = session(gw)
    r.expect("RCPT TO:<x@partner.test>", 250, "2.1.5")
    r.expect("RCPT TO:<x@Partner.TEST>", 250, "2.1.5")
    r.expect("RCPT TO:<x@other.partner.test>", 550, "5.7.1")


def test_trusted_network_may_relay_anywhere(sluice):
    gw = sluice.start(smtp={"trusted_networks": ["127.0.0.0/8"]})
    r = session(gw)
    r.expect("RCPT TO:<someone@elsewhere.test>", 250, "2.1.5")
    r.expect("RCPT TO:<bob@example.test>", 250, "2.1.5")
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250


def test_trust_is_by_address(sluice):
    gw = sluice.start(smtp={"trusted_networks": ["127.0.0.2"]})
    r = greet(gw.port, source="127.0.0.2")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<someone@elsewhere.test>", 250, "2.1.5")
    r2 = session(gw)  # from 127.0.0.1
    r2.expect("RCPT TO:<someone@elsewhere.test>", 550, "5.7.1")


@pytest.mark.parametrize("trusted", [[], ["127.0.0.0/8"]], ids=["untrusted", "trusted"])
def test_routing_tricks_refused_even_for_local_domains(sluice, trusted):
    gw = sluice.start(smtp={"trusted_networks": trusted}, limits={"max_bad_commands": 100})
    r = session(gw)
    for rcpt in TRICKS:
        r.expect(f"RCPT TO:<{rcpt}>", 550, "5.7.1")
    r.expect("DATA", 554, "5.5.1")


def test_postmaster(sluice):
    # RFC 5321 4.5.1: <postmaster> without a domain is always accepted.
    gw = sluice.start()
    r = session(gw)
    r.expect("RCPT TO:<postmaster>", 250, "2.1.5")
    r.expect("RCPT TO:<Postmaster>", 250, "2.1.5")
    r.expect("RCPT TO:<postmaster@example.test>", 250, "2.1.5")
    r.expect("RCPT TO:<postmaster@elsewhere.test>", 550, "5.7.1")
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]][:2] == ["postmaster", "Postmaster"]


def test_relay_refusal_is_logged(sluice):
    gw = sluice.start()
    r = session(gw)
    r.expect("RCPT TO:<someone@elsewhere.test>", 550, "5.7.1")
    gw.wait_log("event=reject")
    line = [l for l in gw.log().splitlines() if "event=reject" in l][0]
    assert "code=550" in line and "status=5.7.1" in line, line
