"""SMTP smuggling (SEC Consult, December 2023): a message whose data holds a
fake end of data ("<LF>.<LF>" and every other mix of bare CR or LF around a
dot) followed by a whole second transaction. Only CRLF "." CRLF ends DATA
here, so the hidden transaction is never executed:

- smtp.bare_line_ending = "reject" (default): one 550 5.5.2 after the real
  end, nothing spooled, no second message;
- "normalize": exactly one message, the smuggled text inside it as content
  with every bare CR/LF made CRLF; still no second message.
"""
import pytest

from conftest import greet, split_received

# Every combination of line endings around the dot but the real one: the
# published variants ("\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r",
# "\n.\r") and the rest of the family.
VARIANTS = [a + "." + b for a in ("\n", "\r", "\r\n") for b in ("\n", "\r", "\r\n") if (a, b) != ("\r\n", "\r\n")]

SMUGGLED = ("MAIL FROM:<admin@bank.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
            "From: admin@bank.test\r\nSubject: smuggled\r\n\r\nsend money\r\n")


def smuggle(gw, variant):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.send("Subject: innocent\r\n\r\nhello" + variant + SMUGGLED + ".\r\n")
    code, lines = r.read_reply()
    # A marker command: its reply must be the very next one (no replies for
    # smuggled MAIL/RCPT/DATA in between).
    r.send("NOOP smuggling-check\r\n")
    nxt = r.read_reply()
    return r, (code, lines), nxt


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: repr(v).strip("'"))
def test_reject_mode(sluice, variant):
    gw = sluice.start()
    r, (code, lines), nxt = smuggle(gw, variant)
    assert code == 550 and lines[0].startswith("550 5.5.2 "), lines
    assert nxt == (250, ["250 2.0.0 OK"]), nxt
    assert r.cmd("QUIT")[0] == 221
    assert r.closed() and r.buf == b""
    assert gw.queued() == {}
    assert "victim@example.test" not in gw.log()


def normalized(variant):
    # The bare endings become CRLF. A dot that followed a real CRLF is
    # dot-stuffing and goes; one after a bare ending is plain content.
    return "\r\n" + ("" if variant.startswith("\r\n") else ".") + "\r\n"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: repr(v).strip("'"))
def test_normalize_mode(sluice, variant):
    gw = sluice.start(smtp={"bare_line_ending": "normalize"})
    r, (code, lines), nxt = smuggle(gw, variant)
    assert code == 250 and lines[0].startswith("250 2.0.0 OK id="), lines
    assert nxt == (250, ["250 2.0.0 OK"]), nxt
    q = gw.queued()
    assert list(q) == [lines[0].split("id=")[1]]
    env, data = next(iter(q.values()))
    assert env["sender"] == "a@sender.test"
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test"]
    body = split_received(data)[1]
    assert body == ("Subject: innocent\r\n\r\nhello" + normalized(variant) + SMUGGLED).encode()
    assert body.count(b"\n") == body.count(b"\r\n") and body.count(b"\r") == body.count(b"\r\n")


def test_bare_lf_alone_is_refused_in_reject_mode(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.send("Subject: unix\n\nbody\n.\r\n")  # "\n.\r\n" is content: not the end yet
    r.send(".\r\n")
    code, lines = r.read_reply()
    assert code == 550 and lines[0].startswith("550 5.5.2 "), lines
    r.expect("NOOP", 250)
    assert gw.queued() == {}


def test_split_end_marker_across_sends(sluice):
    # The real end marker, one byte per TCP segment, still ends the data.
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.expect("DATA", 354)
    r.send("Subject: slow\r\n\r\nbody")
    for b in ("\r", "\n", ".", "\r", "\n"):
        r.send(b)
    code, lines = r.read_reply()
    assert code == 250, lines
    (env, data), = gw.queued().values()
    assert split_received(data)[1] == b"Subject: slow\r\n\r\nbody\r\n"
