"""MAIL/RCPT parameters that must survive into the envelope: DSN (RFC 3461
RET, ENVID, NOTIFY, ORCPT), BODY (RFC 6152, RFC 3030) and SMTPUTF8 (RFC 6531),
and the replies for bad ones."""
import pytest

from conftest import greet, split_received

NEVER, SUCCESS, FAILURE, DELAY = 1, 2, 4, 8


def deliver(r, gw, mail, rcpts, body=b"Subject: p\r\n\r\nbody\r\n"):
    r.expect(mail, 250, "2.1.0")
    for rcpt in rcpts:
        r.expect(rcpt, 250, "2.1.5")
    r.expect("DATA", 354)
    r.send(body + b".\r\n")
    code, lines = r.read_reply()
    assert code == 250, lines
    return gw.queued()[lines[0].split("id=")[1]]


def test_dsn_parameters_are_kept_in_the_envelope(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    env, _ = deliver(r, gw, "MAIL FROM:<a@sender.test> RET=HDRS ENVID=QQ314159+2Bx+3Dy",
                     ["RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY ORCPT=RFC822;bob+40example.test",
                      "RCPT TO:<carol@example.test> NOTIFY=NEVER",
                      "RCPT TO:<dave@example.test> notify=failure orcpt=rfc822;Dave@Example.test",
                      "RCPT TO:<erin@example.test>"])
    assert env["ret"] == "HDRS"
    assert env["envid"] == "QQ314159+x=y"  # xtext decoded
    rc = {x["address"]: (x["notify"], x["orcpt"]) for x in env["recipients"]}
    assert rc == {
        "bob@example.test": (SUCCESS | DELAY, "rfc822;bob@example.test"),
        "carol@example.test": (NEVER, ""),
        "dave@example.test": (FAILURE, "rfc822;Dave@Example.test"),
        "erin@example.test": (0, ""),
    }


def test_ret_full_and_body_8bitmime(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    env, data = deliver(r, gw, "MAIL FROM:<a@sender.test> RET=FULL BODY=8BITMIME",
                        ["RCPT TO:<bob@example.test>"], body="Subject: caf\u00e9\r\n\r\n\u00e9t\u00e9\r\n".encode())
    assert (env["ret"], env["envid"], env["body"]) == ("FULL", "", "8BITMIME")
    assert split_received(data)[1] == "Subject: caf\u00e9\r\n\r\n\u00e9t\u00e9\r\n".encode()


@pytest.mark.parametrize("params,code,enh", [
    ("RET=SOME", 501, "5.5.4"),
    ("RET", 501, "5.5.4"),
    ("RET=FULL RET=HDRS", 501, "5.5.4"),
    ("ENVID=a+ZZ", 501, "5.5.4"),          # not xtext
    ("ENVID=a+0Db", 501, "5.5.4"),         # decodes to a CR
    ("ENVID=" + "x" * 101, 501, "5.5.4"),  # RFC 3461 4.4: at most 100
    ("ENVID=", 501, "5.5.4"),
    ("BODY=9BIT", 501, "5.5.4"),
    ("SMTPUTF8=yes", 501, "5.5.4"),
    ("FOO=bar", 555, "5.5.4"),
    ("NOTIFY=SUCCESS", 555, "5.5.4"),      # a RCPT parameter on MAIL
])
def test_bad_mail_parameters(sluice, params, code, enh):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect(f"MAIL FROM:<a@sender.test> {params}", code, enh)
    # Refused as a whole: no transaction started.
    r.expect("RCPT TO:<bob@example.test>", 503, "5.5.1")


@pytest.mark.parametrize("params,code,enh", [
    ("NOTIFY=NEVER,SUCCESS", 501, "5.5.4"),
    ("NOTIFY=SOMETIMES", 501, "5.5.4"),
    ("NOTIFY=", 501, "5.5.4"),
    ("NOTIFY=SUCCESS,", 501, "5.5.4"),
    ("ORCPT=rfc822", 501, "5.5.4"),
    ("ORCPT=;bob@example.test", 501, "5.5.4"),
    ("ORCPT=rfc822;", 501, "5.5.4"),
    ("ORCPT=rfc822;a+00b", 501, "5.5.4"),
    ("NOTIFY=FAILURE NOTIFY=DELAY", 501, "5.5.4"),
    ("RET=FULL", 555, "5.5.4"),            # a MAIL parameter on RCPT
    ("XYZ", 555, "5.5.4"),
])
def test_bad_rcpt_parameters(sluice, params, code, enh):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect(f"RCPT TO:<bob@example.test> {params}", code, enh)
    # The recipient was not added.
    r.expect("DATA", 554, "5.5.1")


def test_dsn_parameters_unknown_when_dsn_is_off(sluice):
    gw = sluice.start(smtp={"dsn": False})
    r = greet(gw.port)
    code, lines = r.cmd("EHLO client.test")
    assert "250-DSN" not in lines
    r.expect("MAIL FROM:<a@sender.test> RET=FULL", 555, "5.5.4")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test> NOTIFY=NEVER", 555, "5.5.4")


SENDER = "j\u00f6ran@ex\u00e4mple.test"
RCPT = "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@example.test"


def test_smtputf8_addresses_accepted(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    env, data = deliver(r, gw, f"MAIL FROM:<{SENDER}> SMTPUTF8", [f"RCPT TO:<{RCPT}>"],
                        body=f"From: <{SENDER}>\r\nSubject: \u00fcnic\u00f6de\r\n\r\nhi\r\n".encode())
    assert env["sender"] == SENDER
    assert [x["address"] for x in env["recipients"]] == [RCPT]
    assert env["smtputf8"] is True
    assert env["protocol"] == "utf8esmtp"
    received, body = split_received(data)
    assert " with UTF8SMTP\r\n" in received, received
    assert f"for <{RCPT}>" in received
    assert body == f"From: <{SENDER}>\r\nSubject: \u00fcnic\u00f6de\r\n\r\nhi\r\n".encode()


def test_smtputf8_flag_with_ascii_addresses(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    env, _ = deliver(r, gw, "MAIL FROM:<a@sender.test> SMTPUTF8", ["RCPT TO:<bob@example.test>"])
    assert env["smtputf8"] is True and env["protocol"] == "utf8esmtp"


def test_utf8_sender_without_smtputf8(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect(f"MAIL FROM:<{SENDER}>", 550, "5.6.7")
    r.expect("RCPT TO:<bob@example.test>", 503, "5.5.1")


def test_utf8_recipient_without_smtputf8(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect(f"RCPT TO:<{RCPT}>", 553, "5.6.7")
    r.expect("DATA", 554, "5.5.1")


def test_utf8_address_after_helo(sluice):
    # No EHLO, no extensions: neither the parameter nor UTF-8 addresses.
    gw = sluice.start()
    r = greet(gw.port, helo=("HELO", "client.test"))
    r.expect("MAIL FROM:<a@sender.test> SMTPUTF8", 555, "5.5.4")
    # The address is judged first: it cannot be had here, with or without the parameter.
    r.expect(f"MAIL FROM:<{SENDER}> SMTPUTF8", 550, "5.6.7")
    r.expect(f"MAIL FROM:<{SENDER}>", 550, "5.6.7")


def test_smtputf8_off(sluice):
    gw = sluice.start(smtp={"smtputf8": False})
    r = greet(gw.port)
    code, lines = r.cmd("EHLO client.test")
    assert "250-SMTPUTF8" not in lines
    r.expect("MAIL FROM:<a@sender.test> SMTPUTF8", 555, "5.5.4")
    r.expect(f"MAIL FROM:<{SENDER}> SMTPUTF8", 550, "5.6.7")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect(f"RCPT TO:<{RCPT}>", 553, "5.6.7")


def test_malformed_utf8_in_address(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.send(b"MAIL FROM:<j\xc3@sender.test> SMTPUTF8\r\n")
    code, lines = r.read_reply()
    assert code == 501 and lines[0].startswith("501 5.1.7 "), lines
    r.expect("MAIL FROM:<a@sender.test> SMTPUTF8", 250)
    r.send(b"RCPT TO:<\xed\xa0\x80@example.test>\r\n")  # a UTF-16 surrogate
    code, lines = r.read_reply()
    assert code == 501 and lines[0].startswith("501 5.1.3 "), lines
