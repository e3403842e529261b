"""Limits that protect the gateway: recipients per transaction, bad
commands per session, connections in all and per client IP."""
import smtplib
import socket

import pytest

from conftest import SLOW, Raw, greet, wait_until


def test_max_recipients(sluice):
    # RFC 5321 4.5.3.1.8: 452 for the extra ones, not a bad command, and the
    # message still goes to the ones accepted.
    gw = sluice.start(limits={"max_recipients": 3, "max_bad_commands": 0})
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    for i in range(3):
        r.expect(f"RCPT TO:<r{i}@example.test>", 250, "2.1.5")
    r.expect("RCPT TO:<r3@example.test>", 452, "4.5.3")
    r.expect("RCPT TO:<r4@example.test>", 452, "4.5.3")
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]] == [f"r{i}@example.test" for i in range(3)]
    # The limit is per transaction.
    r.expect("MAIL FROM:<a@sender.test>", 250)
    for i in range(3):
        r.expect(f"RCPT TO:<s{i}@example.test>", 250, "2.1.5")


def test_max_bad_commands(sluice):
    gw = sluice.start(limits={"max_bad_commands": 3})
    r = greet(gw.port)
    r.expect("FOO", 500, "5.5.1")                  # unknown
    r.expect("NOOP", 250)                           # good ones do not reset the count
    r.expect("RCPT TO:<bob@example.test>", 503, "5.5.1")  # bad sequence
    r.expect("MAIL FROM:bad", 501, "5.5.4")         # bad syntax
    code, lines = r.cmd("NOOP\x00")                 # the fourth
    assert code == 421 and lines[0].startswith("421 4.7.0 mx.sluice.test "), lines
    assert r.closed() and r.buf == b""
    gw.wait_log("event=disconnect")


def test_zero_bad_commands_allowed(sluice):
    gw = sluice.start(limits={"max_bad_commands": 0})
    r = greet(gw.port)
    r.expect("RCPT TO:<bob@example.test>", 421, "4.7.0")
    assert r.closed()


def test_bad_commands_in_a_pipeline_stop_at_the_limit(sluice):
    # Whatever follows the command that hit the limit is not executed.
    gw = sluice.start(limits={"max_bad_commands": 1})
    r = greet(gw.port)
    r.send("FOO\r\nBAR\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    (c1, _), (c2, l2) = r.replies(2)
    assert (c1, c2) == (500, 421), l2
    assert r.closed() and r.buf == b""


def test_refused_bdat_counts_as_a_bad_command(sluice):
    # A refused BDAT's chunk is still read, but the refusal counts: a client
    # cannot repeat it for ever.
    gw = sluice.start(limits={"max_bad_commands": 2})
    r = greet(gw.port)
    r.send("BDAT 4\r\nabcdBDAT 4\r\nabcd")
    (c1, _), (c2, _) = r.replies(2)
    assert (c1, c2) == (503, 503)
    r.send("BDAT 4\r\nabcd")
    code, lines = r.read_reply()
    assert code == 421 and lines[0].startswith("421 4.7.0 "), lines
    assert r.closed()


@pytest.mark.parametrize("verb", ["DATA", "BDAT"])
def test_junk_commands_past_their_limit_count_as_bad(sluice, verb):
    # NOOP, RSET, VRFY, EXPN, HELP: answered, but past max_junk_commands since
    # the last message each one counts as a bad command; an accepted message,
    # by DATA or by BDAT, starts the count again.
    gw = sluice.start(limits={"max_junk_commands": 3, "max_bad_commands": 1})
    r = greet(gw.port)
    for cmd, code in (("NOOP", 250), ("RSET", 250), ("HELP", 214)):
        r.expect(cmd, code)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    message = "Subject: between idling\r\n\r\nbody\r\n"
    if verb == "DATA":
        r.expect("DATA", 354)
        assert r.cmd(message + ".")[0] == 250
    else:
        r.send(f"BDAT {len(message)} LAST\r\n{message}")
        assert r.read_reply()[0] == 250
    for _ in range(3):
        r.expect("NOOP", 250, "2.0.0")
    r.expect("VRFY bob", 252, "2.5.0")          # past the limit: answered, counted
    code, lines = r.cmd("NOOP")                   # and one more bad command than allowed
    assert code == 421 and lines[0].startswith("421 4.7.0 mx.sluice.test "), lines
    assert r.closed() and r.buf == b""
    assert len(gw.queued()) == 1
    gw.wait_log("event=junk_commands")
    assert "limit=3" in next(line for line in gw.log().splitlines() if "event=junk_commands" in line)


def test_a_refused_message_does_not_restart_the_junk_count(sluice):
    # Only an accepted message does: a sender whose messages are all refused
    # (here: over the size limit, 552 after the data) still meets the limit.
    gw = sluice.start(limits={"max_junk_commands": 2, "max_bad_commands": 0, "max_message_size": 100})
    r = greet(gw.port)
    r.expect("NOOP", 250)
    r.expect("NOOP", 250)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.expect("Subject: too big\r\n\r\n" + "x" * 200 + "\r\n.", 552, "5.3.4")
    code, lines = r.cmd("NOOP")
    assert code == 421 and lines[0].startswith("421 4.7.0 "), lines
    assert len(gw.queued()) == 0


def test_a_client_idling_between_its_messages_never_meets_the_junk_limit(sluice):
    # Python's smtplib, RSET and NOOP before every message: two junk commands
    # a message against a limit of two, over five messages on one session.
    gw = sluice.start(limits={"max_junk_commands": 2, "max_bad_commands": 0})
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as client:
        client.ehlo("idler.test")
        for i in range(5):
            assert client.rset()[0] == 250
            assert client.noop()[0] == 250
            client.sendmail("a@sender.test", ["bob@example.test"], f"Subject: {i}\r\n\r\nbody\r\n")
        assert client.noop()[0] == 250
    assert len(gw.queued()) == 5


def refused_before_banner(r):
    code, lines = r.read_reply()
    assert code == 421 and lines[0].startswith("421 4.7.0 mx.sluice.test "), lines
    assert r.closed() and r.buf == b""


def test_max_connections(sluice):
    gw = sluice.start(limits={"max_connections": 2})
    a, b = Raw(gw.port), Raw(gw.port)
    assert a.read_reply()[0] == 220 and b.read_reply()[0] == 220
    c = Raw(gw.port)
    refused_before_banner(c)
    gw.wait_log("reason=max_connections")
    # A place given back is a place for the next client.
    a.cmd("QUIT")
    a.close()

    def admitted():
        r = Raw(gw.port)
        code, _ = r.read_reply()
        r.close()
        return code == 220
    assert wait_until(admitted)
    assert b.cmd("NOOP")[0] == 250


def test_max_connections_per_ip(sluice):
    gw = sluice.start(limits={"max_connections_per_ip": 1})
    a = Raw(gw.port)
    assert a.read_reply()[0] == 220
    refused_before_banner(Raw(gw.port))
    gw.wait_log("reason=max_connections_per_ip")
    # Another address is another client.
    other = Raw(gw.port, source="127.0.0.2")
    code, lines = other.read_reply()
    assert code == 220, lines
    assert other.cmd("EHLO other.test")[1][0].endswith("[127.0.0.2]")
    refused_before_banner(Raw(gw.port, source="127.0.0.2"))
    third = Raw(gw.port, source="127.0.0.3")
    assert third.read_reply()[0] == 220
    # Closing gives the address its place back.
    a.cmd("QUIT")
    a.close()

    def admitted():
        r = Raw(gw.port)
        code, _ = r.read_reply()
        r.close()
        return code == 220
    assert wait_until(admitted)


def test_refused_client_sending_early_is_still_refused(sluice):
    # A refused client's input is never read as commands.
    gw = sluice.start(limits={"max_connections": 1})
    a = Raw(gw.port)
    assert a.read_reply()[0] == 220
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5 * SLOW)
    s.sendall(b"EHLO x\r\nMAIL FROM:<a@sender.test>\r\n")
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"421 4.7.0 ") and data.count(b"\r\n") == 1, data
    s.close()
