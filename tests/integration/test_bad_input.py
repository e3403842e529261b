"""Hostile or broken input: overlong command and text lines, NUL and 8-bit
bytes in commands, malformed addresses. Each gets its reply, the dialogue
stays in sync, and memory stays bounded whatever the client sends."""
import pytest

from conftest import SANITIZED, greet, memory_test_env, proc_status


def test_command_line_limit_counts_the_crlf(sluice):
    gw = sluice.start(limits={"command_line_max": 512})
    r = greet(gw.port)
    # RFC 5321 4.5.3.1.4: 512 octets including CRLF is the limit.
    at_limit = "NOOP " + "x" * (510 - 5)
    assert len(at_limit) + 2 == 512
    r.expect(at_limit, 250, "2.0.0")
    r.expect(at_limit + "y", 500, "5.5.2")
    r.expect("NOOP", 250, "2.0.0")


def test_default_limit_takes_a_rcpt_line_grown_by_dsn(sluice):
    # RFC 3461: NOTIFY and ORCPT may add 500 octets to RCPT's 512.
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test> RET=HDRS ENVID=e1", 250, "2.1.0")
    local = "b" * 64
    orcpt = "rfc822;" + "o" * 64 + "@" + ".".join(["d" * 60] * 6) + ".test"
    line = f"RCPT TO:<{local}@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT={orcpt}"
    assert 512 < len(line) + 2 <= 512 + 500
    r.expect(line, 250, "2.1.5")
    r.expect("NOOP " + "x" * 2100, 500, "5.5.2")  # the default has a bound


def test_configured_command_line_max(sluice):
    gw = sluice.start(limits={"command_line_max": 1024})
    r = greet(gw.port)
    r.expect("NOOP " + "x" * 1000, 250, "2.0.0")
    r.expect("NOOP " + "x" * 1100, 500, "5.5.2")


def test_overlong_line_in_a_pipeline_gets_one_reply_and_keeps_sync(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.send("MAIL FROM:<a@sender.test>\r\nRCPT TO:<" + "x" * 100000 + "@example.test>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n")
    got = [(c, l[0][:9]) for c, l in r.replies(4)]
    assert got == [(250, "250 2.1.0"), (500, "500 5.5.2"), (250, "250 2.1.5"), (354, "354 End d")]
    r.send("Subject: after a long line\r\n\r\n.\r\n")
    assert r.read_reply()[0] == 250
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test"]


def test_ten_megabyte_line_without_lf(sluice):
    # Postfix's rule: an overlong line is skipped up to its LF and answered
    # once; nothing of it is kept, however long it is.
    gw = sluice.start(env=memory_test_env())
    r = greet(gw.port)
    r.expect("NOOP", 250)
    before = proc_status(gw.proc.pid)["VmHWM"]
    piece = b"A" * (1024 * 1024)
    for _ in range(10):
        r.send(piece)
    r.send(b"\r\nNOOP\r\n")
    (c1, l1), (c2, l2) = r.replies(2)  # replies come after the server read it all
    assert l1[0].startswith("500 5.5.2 "), l1
    assert l2 == ["250 2.0.0 OK"], l2
    grown = proc_status(gw.proc.pid)["VmHWM"] - before
    assert grown < 4 * 1024, f"VmHWM grew by {grown} kB"
    assert r.cmd("QUIT")[0] == 221


@pytest.mark.parametrize("line", [
    b"NOOP\x00",
    b"NO\x00OP",
    b"EHLO cl\x00ient.test",
    b"MAIL FROM:<a\x00b@sender.test>",
    b"\x00",
])
def test_nul_in_a_command(sluice, line):
    gw = sluice.start()
    r = greet(gw.port)
    r.send(line + b"\r\n")
    code, lines = r.read_reply()
    assert code == 500 and lines[0].startswith("500 5.5.2 "), lines
    r.expect("NOOP", 250, "2.0.0")


@pytest.mark.parametrize("line", [
    "NOOP caf\u00e9".encode(),
    "EHLO h\u00e9llo.test".encode(),
    b"\xff\xfe\xfd",
    "VRFY j\u00f6ran".encode(),
    "QUIT \u00e9".encode(),
])
def test_non_ascii_in_a_command(sluice, line):
    gw = sluice.start()
    r = greet(gw.port)
    r.send(line + b"\r\n")
    code, lines = r.read_reply()
    assert code == 500 and lines[0].startswith("500 5.5.2 "), lines
    r.expect("NOOP", 250, "2.0.0")


def test_tolerated_spellings(sluice):
    # What real clients send and we accept: a bare LF as the command line
    # end, a space after "FROM:"/"TO:", trailing spaces.
    gw = sluice.start()
    r = greet(gw.port)
    r.send(b"NOOP\n")
    assert r.read_reply() == (250, ["250 2.0.0 OK"])
    r.expect("MAIL FROM: <a@sender.test>  ", 250, "2.1.0")
    r.expect("RCPT TO: <bob@example.test>", 250, "2.1.5")


BAD_MAILBOXES = [
    "a@@sender.test", "a..b@sender.test", ".a@sender.test", "a.@sender.test", "a@sender..test",
    "a@-sender.test", "a@sender-.test", "a@sender.test.", "a@[300.1.1.1]", "a@[IPv6:zz::1]",
    "a@[tag:foo]", "a b@sender.test", "a@", "@sender.test", "a", "a@sen der.test",
    "\"unterminated@sender.test", "x" * 65 + "@sender.test", "a@" + "l" * 64 + ".test",
    "a@" + ".".join(["abcdefgh"] * 30) + ".test", "a@b.test,c@d.test",
    "a@sender.test",  # sent without its ">": the path is unterminated (see below)
]


def test_malformed_sender_addresses(sluice):
    gw = sluice.start(limits={"max_bad_commands": 1000})
    r = greet(gw.port)
    for mb in BAD_MAILBOXES:
        closing = "" if mb == "a@sender.test" else ">"
        r.expect(f"MAIL FROM:<{mb}{closing}", 501, "5.1.7")
    # Not a path at all (address.hpp: 5.5.4, the framing).
    for arg in ("a@sender.test", "a@sender.test>", "<a@sender.test>junk", ""):
        r.expect(f"MAIL FROM:{arg}", 501, "5.5.4")
    r.expect("MAIL FROM:<a@sender.test>", 250)


def test_malformed_recipient_addresses(sluice):
    gw = sluice.start(limits={"max_bad_commands": 1000})
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    for mb in BAD_MAILBOXES + ["", "a@[IPv6:1::2::3]"]:
        closing = "" if mb == "a@sender.test" else ">"
        r.expect(f"RCPT TO:<{mb}{closing}", 501, "5.1.3")
    for arg in ("bob@example.test", "bob@example.test>", "<bob@example.test>junk", ""):
        r.expect(f"RCPT TO:{arg}", 501, "5.5.4")
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test"]


def test_address_literals_are_accepted_as_syntax(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@[192.0.2.1]>", 250, "2.1.0")
    r.expect("RSET", 250)
    r.expect("MAIL FROM:<a@[IPv6:2001:db8::1]>", 250, "2.1.0")
    # Syntax is fine; the literal is not one of our domains.
    r.expect("RCPT TO:<bob@[192.0.2.1]>", 550, "5.7.1")


def data_session(gw, body):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.send(body + b".\r\n")
    return r, r.read_reply()


def test_text_line_at_the_limit_is_accepted(sluice):
    gw = sluice.start()
    line = b"x" * 998 + b"\r\n"  # RFC 5321 4.5.3.1.6: 1000 with the CRLF
    # A stuffed dot does not count: 1001 octets on the wire, 1000 in the message.
    stuffed = b".." + b"y" * 997 + b"\r\n"
    r, (code, lines) = data_session(gw, b"Subject: long\r\n\r\n" + line + stuffed)
    assert code == 250, lines
    (env, data), = gw.queued().values()
    assert data.endswith(line + b"." + b"y" * 997 + b"\r\n")


def test_text_line_over_the_limit_is_refused(sluice):
    gw = sluice.start()
    r, (code, lines) = data_session(gw, b"Subject: long\r\n\r\n" + b"x" * 999 + b"\r\nmore\r\n")
    assert code == 500 and lines[0].startswith("500 5.5.2 "), lines
    assert gw.queued() == {}
    # In step afterwards: a new transaction works.
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    assert r.cmd("short\r\n.")[0] == 250
    assert len(gw.queued()) == 1


def test_very_long_text_line_is_refused_and_bounded(sluice):
    gw = sluice.start(env=memory_test_env())
    before = proc_status(gw.proc.pid)["VmHWM"]
    r, (code, lines) = data_session(gw, b"Subject: long\r\n\r\n" + b"z" * (8 * 1024 * 1024) + b"\r\n")
    assert code == 500 and lines[0].startswith("500 5.5.2 "), lines
    assert gw.queued() == {}
    # 8 MB went through; well under that stayed. (Sanitizer builds keep more
    # in their allocator's caches: a looser bound there.)
    assert proc_status(gw.proc.pid)["VmHWM"] - before < (8 if SANITIZED else 4) * 1024


def test_configured_text_line_max(sluice):
    gw = sluice.start(limits={"text_line_max": 4096})
    r, (code, lines) = data_session(gw, b"x" * 4094 + b"\r\n")
    assert code == 250, lines
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.send(b"x" * 4095 + b"\r\n.\r\n")
    code, lines = r.read_reply()
    assert code == 500 and lines[0].startswith("500 5.5.2 "), lines
    assert len(gw.queued()) == 1
