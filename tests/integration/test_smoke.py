"""The basics with a real client (Python smtplib): a message goes in, the
250 carries its queue id, and the spool has it, byte for byte, under our
Received header."""
import smtplib

from conftest import Raw


def test_smtplib_message_is_spooled(sluice):
    gw = sluice.start()
    body = "Subject: hi\r\n\r\nline one\r\n.dot line\r\n"
    with smtplib.SMTP("127.0.0.1", gw.port) as c:
        code, _ = c.ehlo("client.test")
        assert code == 250
        c.mail("a@sender.test")
        c.rcpt("bob@example.test")
        code, msg = c.data(body)
        assert code == 250, msg
    mid = msg.decode().split("id=")[1]
    q = gw.queued()
    assert list(q) == [mid]
    env, data = q[mid]
    assert env["sender"] == "a@sender.test"
    assert [r["address"] for r in env["recipients"]] == ["bob@example.test"]
    assert data.startswith(b"Received: from client.test ([127.0.0.1]:")
    assert data.endswith(body.encode())


def test_greeting_and_ehlo_keywords(sluice):
    gw = sluice.start()
    r = Raw(gw.port)
    code, lines = r.read_reply()
    assert code == 220 and lines[0].startswith("220 mx.sluice.test")
    code, lines = r.cmd("EHLO c.test")
    kws = [l[4:] for l in lines[1:]]
    for k in ("PIPELINING", "PIPECONNECT", "CHUNKING", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES", "8BITMIME"):
        assert k in kws
    assert any(k.startswith("SIZE ") for k in kws)
    assert not any(k.startswith("XCLIENT") for k in kws)
    assert r.cmd("QUIT")[0] == 221
