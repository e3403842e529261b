"""swaks, the SMTP test tool operators reach for, against the gateway:
ESMTP with PIPELINING, plain SMTP (HELO), dot-stuffing of a data file, and a
relay refusal as swaks reports it. (swaks 20201014 has no BDAT/CHUNKING
support, so BDAT is covered by test_bdat.py with a raw client.)"""
import shutil
import subprocess

import pytest

from conftest import SLOW, split_received

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
pytestmark = pytest.mark.skipif(not shutil.which("swaks"), reason="swaks not installed")


def swaks(gw, *args):
    p = subprocess.run([SWAKS, "--server", "127.0.0.1", "--port", str(gw.port), "--from", "a@sender.test",
                        "--timeout", str(10 * SLOW), *args],
                       capture_output=True, text=True, timeout=60 * SLOW)
    return p.returncode, p.stdout + p.stderr


def only_message(gw):
    q = gw.queued()
    assert len(q) == 1, q
    return next(iter(q.items()))


def test_swaks_pipelined(sluice):
    gw = sluice.start()
    rc, out = swaks(gw, "--to", "bob@example.test,carol@example.test", "--helo", "swaks.test", "--pipeline",
                    "--header", "Subject: swaks pipelined", "--body", "line one\n.dot line\nend")
    assert rc == 0, out
    # swaks sent the group without waiting, then read the replies.
    assert (" -> MAIL FROM:<a@sender.test>\n -> RCPT TO:<bob@example.test>\n"
            " -> RCPT TO:<carol@example.test>\n -> DATA\n<-  250 2.1.0") in out, out
    mid, (env, data) = only_message(gw)
    assert f"250 2.0.0 OK id={mid}" in out
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test", "carol@example.test"]
    assert (env["helo"], env["protocol"]) == ("swaks.test", "esmtp")
    received, body = split_received(data)
    assert "with ESMTP\r\n" in received and "for <" not in received
    assert b"Subject: swaks pipelined\r\n" in body
    assert b"\r\n\r\nline one\r\n.dot line\r\nend\r\n" in body  # swaks sent "..dot line"


def test_swaks_plain_smtp(sluice):
    gw = sluice.start()
    rc, out = swaks(gw, "--to", "bob@example.test", "--protocol", "SMTP", "--helo", "old.test")
    assert rc == 0, out
    assert " -> HELO old.test" in out
    mid, (env, data) = only_message(gw)
    assert env["protocol"] == "smtp"
    received, _ = split_received(data)
    assert received.startswith("Received: from old.test ([127.0.0.1]:")
    assert "with SMTP\r\n" in received and "\tfor <bob@example.test>;" in received


def test_swaks_data_file_is_stored_exactly(sluice, tmp_path):
    gw = sluice.start()
    msg = (b"From: a@sender.test\r\nTo: bob@example.test\r\nSubject: file\r\n\r\n"
           b".\r\n..\r\n.leading dot\r\nnormal\r\n")
    f = tmp_path / "msg.eml"
    f.write_bytes(msg)
    rc, out = swaks(gw, "--to", "bob@example.test", "--pipeline", "--data", f"@{f}")
    assert rc == 0, out
    _, (env, data) = only_message(gw)
    body = split_received(data)[1]
    assert body == msg + b"\r\n"  # swaks always puts "\r\n.\r\n" after the data, hence one more CRLF


def test_swaks_sees_the_relay_refusal(sluice):
    gw = sluice.start()
    rc, out = swaks(gw, "--to", "someone@elsewhere.test", "--pipeline")
    assert rc == 24, out  # swaks: "error in RCPT"
    assert "<** 550 5.7.1 Relay access denied" in out
    assert gw.queued() == {}


def test_swaks_quit_after_rcpt_spools_nothing(sluice):
    gw = sluice.start()
    rc, out = swaks(gw, "--to", "bob@example.test", "--quit-after", "RCPT")
    assert rc == 0, out
    assert "<-  221 2.0.0" in out
    assert gw.queued() == {}
