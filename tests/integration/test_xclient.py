"""XCLIENT over a raw socket (/work/shared/specs/xclient.md): only hosts in
smtp.xclient_hosts may use it; it answers with a fresh 220 greeting, needs a
new EHLO, and the identity it sets is what envelope, Received, logs and
policy use, while the proxy's own address stays visible. Permissions are
evaluated again for the new identity, so XCLIENT cannot widen its own
access."""
import pytest

from conftest import Raw, greet, split_received

ALLOWED = {"xclient_hosts": ["127.0.0.1"]}


def keywords(lines):
    return [l[4:] for l in lines[1:]]


def xclient_line(lines):
    found = [k for k in keywords(lines) if k.startswith("XCLIENT")]
    return found[0] if found else None


def deliver(r, gw, rcpt="bob@example.test"):
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect(f"RCPT TO:<{rcpt}>", 250)
    r.expect("DATA", 354)
    code, lines = r.cmd("Subject: x\r\n\r\nbody\r\n.")
    assert code == 250, lines
    mid = lines[0].split("id=")[1]
    env, data = gw.queued()[mid]
    return mid, env, split_received(data)[0]


def test_not_offered_and_refused_without_xclient_hosts(sluice):
    gw = sluice.start()  # smtp.xclient_hosts = [] by default
    r = Raw(gw.port)
    r.read_reply()
    code, lines = r.cmd("EHLO proxy.test")
    assert xclient_line(lines) is None
    r.expect("XCLIENT ADDR=192.0.2.7 NAME=client.example", 550, "5.7.0")
    # Nothing changed: still greeted, still ourselves.
    _, env, received = deliver(r, gw)
    assert (env["client_addr"], env["origin"], env["proxy_addr"], env["login"]) == ("127.0.0.1", "", "", "")
    assert "via xclient" not in received


def test_refused_for_a_peer_outside_xclient_hosts(sluice):
    gw = sluice.start(smtp={"xclient_hosts": ["192.0.2.0/24", "::1"]})
    r = Raw(gw.port)
    r.read_reply()
    code, lines = r.cmd("EHLO proxy.test")
    assert xclient_line(lines) is None
    r.expect("XCLIENT ADDR=192.0.2.7", 550, "5.7.0")


def test_full_xclient_session(sluice):
    gw = sluice.start(smtp=ALLOWED)
    r = Raw(gw.port)
    r.read_reply()
    code, lines = r.cmd("EHLO proxy.test")
    kw = xclient_line(lines)
    assert kw is not None and kw.startswith("XCLIENT ")
    assert {"ADDR", "NAME", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"} <= set(kw.split()[1:])

    code, lines = r.cmd("XCLIENT ADDR=192.0.2.7 NAME=client.example LOGIN=user")
    assert (code, lines) == (220, ["220 mx.sluice.test ESMTP Sluice"])
    # Back to the state after the banner: EHLO first.
    r.expect("MAIL FROM:<a@sender.test>", 503, "5.5.1")
    code, lines = r.cmd("EHLO laptop.example")
    assert code == 250 and lines[0] == "250-mx.sluice.test Hello laptop.example [192.0.2.7]"
    assert xclient_line(lines) is None  # 192.0.2.7 may not use XCLIENT
    mid, env, received = deliver(r, gw)
    assert env["client_addr"] == "192.0.2.7"
    assert env["client_name"] == "client.example"
    assert env["origin"] == "xclient"
    assert env["proxy_addr"] == "127.0.0.1"
    assert env["login"] == "user"
    assert env["helo"] == "laptop.example"
    assert env["protocol"] == "esmtpa"
    # No PORT given: the port is unknown, never the proxy's own source port.
    assert env["client_port"] == 0
    assert received.startswith("Received: from laptop.example (client.example [192.0.2.7] via xclient [127.0.0.1])\r\n")
    assert "\tby mx.sluice.test (Sluice) with ESMTPA\r\n" in received
    assert "[127.0.0.1]:" not in received  # the proxy is named only as the proxy

    # Permission re-evaluated for 192.0.2.7: no second XCLIENT.
    r.expect("XCLIENT ADDR=127.0.0.1", 550, "5.7.0")

    gw.wait_log(f"event=accepted id={mid}")
    line = [l for l in gw.log().splitlines() if f"event=accepted id={mid}" in l][0]
    assert "origin=xclient" in line and "proxy=127.0.0.1" in line and "[192.0.2.7]" in line, line


def test_second_xclient_allowed_while_the_identity_stays_allowed(sluice):
    gw = sluice.start(smtp={"xclient_hosts": ["127.0.0.0/8"]})
    r = greet(gw.port, helo="proxy.test")
    assert r.cmd("XCLIENT ADDR=127.0.0.9 PORT=4000")[0] == 220
    assert r.cmd("XCLIENT ADDR=192.0.2.8 PORT=4001 HELO=given.example")[0] == 220
    assert r.cmd("XCLIENT ADDR=127.0.0.1")[0] == 550
    r.expect("EHLO given.example", 250)
    _, env, _ = deliver(r, gw)
    assert (env["client_addr"], env["client_port"]) == ("192.0.2.8", 4001)


def test_first_xclient_needs_addr(sluice):
    gw = sluice.start(smtp=ALLOWED)
    r = greet(gw.port, helo="proxy.test")
    r.expect("XCLIENT NAME=client.example LOGIN=user", 501, "5.5.4")
    # Nothing applied: still greeted as ourselves.
    _, env, _ = deliver(r, gw)
    assert env["client_addr"] == "127.0.0.1" and env["origin"] == "" and env["login"] == ""


def test_require_port(sluice):
    gw = sluice.start(smtp={**ALLOWED, "xclient_require_port": True})
    r = greet(gw.port, helo="proxy.test")
    r.expect("XCLIENT ADDR=192.0.2.7", 501, "5.5.4")
    assert r.cmd("XCLIENT ADDR=192.0.2.7 PORT=40123")[0] == 220
    r.expect("EHLO laptop.example", 250)
    _, env, received = deliver(r, gw)
    assert (env["client_addr"], env["client_port"]) == ("192.0.2.7", 40123)
    assert "[192.0.2.7]:40123 via xclient [127.0.0.1]" in received


def test_xclient_inside_a_transaction(sluice):
    gw = sluice.start(smtp=ALLOWED)
    r = greet(gw.port, helo="proxy.test")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("XCLIENT ADDR=192.0.2.7", 503, "5.5.1")
    # The transaction is untouched.
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    (env, _), = gw.queued().values()
    assert env["client_addr"] == "127.0.0.1"


def test_ipv6_addr(sluice):
    gw = sluice.start(smtp=ALLOWED)
    r = greet(gw.port, helo="proxy.test")
    assert r.cmd("XCLIENT ADDR=IPV6:2001:DB8::7 NAME=[UNAVAILABLE]")[0] == 220
    code, lines = r.cmd("EHLO v6.example")
    assert lines[0] == "250-mx.sluice.test Hello v6.example [2001:db8::7]"
    _, env, received = deliver(r, gw)
    assert env["client_addr"] == "2001:db8::7"  # no prefix, no brackets, canonical
    assert env["client_name"] == ""
    assert "2001:db8::7" in received and "via xclient [127.0.0.1]" in received


def test_relay_trust_follows_the_new_identity(sluice):
    # Trusted as the proxy, but the real client is outside trusted_networks.
    gw = sluice.start(smtp={**ALLOWED, "trusted_networks": ["127.0.0.0/8"]})
    r = greet(gw.port, helo="proxy.test")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<x@elsewhere.test>", 250)
    r.expect("RSET", 250)
    assert r.cmd("XCLIENT ADDR=192.0.2.7")[0] == 220
    r.expect("EHLO laptop.example", 250)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<x@elsewhere.test>", 550, "5.7.1")


def test_pipelined_like_nginx(sluice):
    gw = sluice.start(smtp=ALLOWED)
    r = Raw(gw.port)
    r.read_reply()
    r.send("EHLO proxy.test\r\nXCLIENT ADDR=192.0.2.7 LOGIN=a+20b NAME=[TEMPUNAVAIL]\r\n"
           "EHLO laptop.example\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    codes = [c for c, _ in r.replies(6)]
    assert codes == [250, 220, 250, 250, 250, 354]
    code, lines = r.cmd(".")
    assert code == 250
    env, _ = gw.queued()[lines[0].split("id=")[1]]
    assert (env["client_addr"], env["login"], env["client_name"]) == ("192.0.2.7", "a b", "")


@pytest.mark.parametrize("args", [
    "", "ADDR", "ADDR=", "FOO=bar ADDR=192.0.2.7", "ADDR=999.1.1.1", "ADDR=192.0.2.7 PORT=123456",
    "ADDR=192.0.2.7 PROTO=FOO", "ADDR=192.0.2.7 ADDR=192.0.2.8", "ADDR=192.0.2.7 HELO=" + "h" * 256,
    "ADDR=2001:db8::1",  # IPv6 needs its IPV6: prefix
])
def test_bad_xclient_syntax(sluice, args):
    gw = sluice.start(smtp=ALLOWED)
    r = greet(gw.port, helo="proxy.test")
    r.expect(("XCLIENT " + args).rstrip(), 501, "5.5.4")
    # Nothing half-applied; a good one still works.
    assert r.cmd("XCLIENT ADDR=192.0.2.7")[0] == 220
