"""The Received header we put on top of every message (RFC 5321 4.4): who
connected (their HELO, their address and port), who we are, the protocol
(RFC 3848), the queue id the client was given, and "for" only when there is
exactly one recipient (more would leak Bcc recipients)."""
import email.utils
import re
import time

from conftest import Raw, greet, split_received


def send(r, gw, rcpts, helo=None):
    r.expect("MAIL FROM:<a@sender.test>", 250)
    for rcpt in rcpts:
        r.expect(f"RCPT TO:<{rcpt}>", 250)
    r.expect("DATA", 354)
    code, lines = r.cmd("Subject: r\r\n\r\nbody\r\n.")
    assert code == 250, lines
    mid = lines[0].split("id=")[1]
    env, data = gw.queued()[mid]
    received, body = split_received(data)
    assert body == b"Subject: r\r\n\r\nbody\r\n"
    return mid, env, received


def test_received_after_ehlo_with_one_recipient(sluice):
    gw = sluice.start()
    r = greet(gw.port, helo="client.test")
    port = r.s.getsockname()[1]
    before = time.time()
    mid, env, received = send(r, gw, ["bob@example.test"])
    lines = received.split("\r\n")
    assert lines[0] == f"Received: from client.test ([127.0.0.1]:{port})"
    assert lines[1] == "\tby mx.sluice.test (Sluice) with ESMTP"
    assert lines[2] == f"\tid {mid}"
    assert lines[3] == "\tfor <bob@example.test>;"
    date = email.utils.parsedate_to_datetime(lines[4].strip())
    assert abs(date.timestamp() - before) < 60
    assert lines[5] == ""
    assert env["client_port"] == port and env["helo"] == "client.test" and env["protocol"] == "esmtp"


def test_received_with_several_recipients_has_no_for(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    mid, _, received = send(r, gw, ["bob@example.test", "carol@example.test"])
    assert "for <" not in received
    assert "bob@example.test" not in received and "carol" not in received
    assert f"\tid {mid};\r\n" in received


def test_received_after_helo_says_smtp(sluice):
    gw = sluice.start()
    r = greet(gw.port, helo=("HELO", "old.client.test"))
    port = r.s.getsockname()[1]
    _, env, received = send(r, gw, ["bob@example.test"])
    assert received.startswith(f"Received: from old.client.test ([127.0.0.1]:{port})\r\n"
                               "\tby mx.sluice.test (Sluice) with SMTP\r\n")
    assert env["protocol"] == "smtp"


def test_received_uses_the_latest_helo(sluice):
    gw = sluice.start()
    r = greet(gw.port, helo="first.test")
    r.expect("EHLO second.test", 250)
    _, env, received = send(r, gw, ["bob@example.test"])
    assert received.startswith("Received: from second.test (")
    assert env["helo"] == "second.test"


def test_each_message_gets_its_own_id(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    m1, _, rc1 = send(r, gw, ["bob@example.test"])
    m2, _, rc2 = send(r, gw, ["bob@example.test"])
    assert m1 != m2
    assert f"\tid {m1}\r\n" in rc1 and f"\tid {m2}\r\n" in rc2
    assert re.fullmatch(r"[0-9A-Za-z-]+", m1)


def test_received_from_another_source_address(sluice):
    gw = sluice.start()
    r = Raw(gw.port, source="127.0.0.5")
    r.read_reply()
    r.expect("EHLO five.test", 250)
    _, env, received = send(r, gw, ["bob@example.test"])
    assert received.startswith(f"Received: from five.test ([127.0.0.5]:{r.s.getsockname()[1]})\r\n")
    assert env["client_addr"] == "127.0.0.5"
