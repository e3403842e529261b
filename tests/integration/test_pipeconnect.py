"""Early pipelining, PIPECONNECT (/work/shared/specs/pipeconnect.md, Exim's
server behaviour): a client allowed by smtp.pipeconnect_hosts may send EHLO
and a MAIL/RCPT/DATA group before the banner; the banner still comes first
and every reply follows in order. From any other host, input before the
banner is an SMTP synchronization error: 554 5.5.0 and close.

To make "before the banner" certain, the gateway is stopped (SIGSTOP) while
the client connects and sends: the kernel completes the handshake and queues
the bytes, and the gateway finds them waiting when it accepts."""
import contextlib
import signal
import socket
import time
from pathlib import Path

from conftest import SLOW, Raw, free_port, split_received, wait_until

EARLY = ("EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.test>\r\n"
         "DATA\r\n")


def all_threads_stopped(pid):
    states = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
        except (FileNotFoundError, IndexError):
            continue
    return bool(states) and all(s in ("T", "t") for s in states)


@contextlib.contextmanager
def gateway_stopped(gw):
    # kill() only queues SIGSTOP: wait until every thread has really stopped.
    gw.signal(signal.SIGSTOP)
    try:
        assert wait_until(lambda: all_threads_stopped(gw.proc.pid)), "gateway did not stop"
        yield
        time.sleep(0.05)  # let loopback deliver what was sent into the socket
    finally:
        gw.signal(signal.SIGCONT)


def connect_early(gw, data, port=None):
    """Connects and sends `data` while the gateway cannot have written its banner."""
    with gateway_stopped(gw):
        r = Raw(port or gw.port)
        r.send(data)
    return r


def keywords(lines):
    return [l[4:] for l in lines[1:]]


def test_early_transaction_from_allowed_host(sluice):
    gw = sluice.start()
    r = connect_early(gw, EARLY)
    # Banner, EHLO reply, 250, 250 and 354 leave in one write: the first
    # read already holds the banner and the whole EHLO reply.
    first = r.s.recv(65536)
    assert first.startswith(b"220 mx.sluice.test ESMTP Sluice\r\n250-mx.sluice.test Hello client.test"), first
    assert b"\r\n250 HELP\r\n" in first, first
    r.buf = first
    (c1, banner), (c2, ehlo), (c3, mail), (c4, rcpt), (c5, _) = r.replies(5)
    assert c1 == 220 and banner == ["220 mx.sluice.test ESMTP Sluice"]
    assert c2 == 250 and "PIPECONNECT" in keywords(ehlo)
    assert keywords(ehlo).index("PIPECONNECT") == keywords(ehlo).index("PIPELINING") + 1
    assert (c3, mail[0][:9], c4, rcpt[0][:9], c5) == (250, "250 2.1.0", 250, "250 2.1.5", 354)
    r.send("Subject: early\r\n\r\nbody\r\n.\r\n")
    code, lines = r.read_reply()
    assert code == 250 and lines[0].startswith("250 2.0.0 OK id="), lines
    mid = lines[0].split("id=")[1]
    assert r.cmd("QUIT")[0] == 221
    env, data = gw.queued()[mid]
    assert split_received(data)[1] == b"Subject: early\r\n\r\nbody\r\n"
    gw.wait_log(f"event=accepted id={mid}")
    accepted = [l for l in gw.log().splitlines() if f"event=accepted id={mid}" in l][0]
    assert " L=* " in accepted, accepted
    gw.wait_log("event=disconnect")
    assert [l for l in gw.log().splitlines() if "event=disconnect" in l][0].endswith(" L=*")


def test_advertised_but_unused_is_logged_as_dot(sluice):
    gw = sluice.start()
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    for line, code in (("EHLO client.test", 250), ("MAIL FROM:<a@sender.test>", 250),
                       ("RCPT TO:<bob@example.test>", 250), ("DATA", 354)):
        assert r.cmd(line)[0] == code
    code, lines = r.cmd("Subject: late\r\n\r\nbody\r\n.")
    assert code == 250
    mid = lines[0].split("id=")[1]
    gw.wait_log(f"event=accepted id={mid}")
    accepted = [l for l in gw.log().splitlines() if f"event=accepted id={mid}" in l][0]
    assert " L=. " in accepted, accepted


def test_not_advertised_to_others_and_no_mark(sluice):
    gw = sluice.start(smtp={"pipeconnect_hosts": ["192.0.2.0/24"]})
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    code, lines = r.cmd("EHLO client.test")
    assert code == 250 and "PIPELINING" in keywords(lines)
    assert "PIPECONNECT" not in keywords(lines) and "X_PIPE_CONNECT" not in keywords(lines)
    r.cmd("MAIL FROM:<a@sender.test>")
    r.cmd("RCPT TO:<bob@example.test>")
    assert r.cmd("DATA")[0] == 354
    code, lines = r.cmd(".")
    assert code == 250
    mid = lines[0].split("id=")[1]
    gw.wait_log(f"event=accepted id={mid}")
    accepted = [l for l in gw.log().splitlines() if f"event=accepted id={mid}" in l][0]
    assert " L=* " not in accepted and " L=. " not in accepted, accepted


def test_early_talker_from_host_not_allowed_gets_554(sluice):
    gw = sluice.start(smtp={"pipeconnect_hosts": ["192.0.2.0/24"]})
    r = connect_early(gw, EARLY)
    code, lines = r.read_reply()
    assert code == 554 and lines[0].startswith("554 5.5.0 "), lines
    assert r.closed()
    # No banner, no reply to any of the early commands, nothing spooled.
    assert r.buf == b""
    gw.wait_log("event=sync_error")
    assert gw.queued() == {}


def test_early_talker_refused_when_pipelining_is_off(sluice):
    # PIPECONNECT only exists together with PIPELINING.
    gw = sluice.start(smtp={"pipelining": False})
    r = connect_early(gw, "EHLO client.test\r\n")
    code, lines = r.read_reply()
    assert code == 554 and lines[0].startswith("554 5.5.0 "), lines
    assert r.closed()
    r2 = Raw(gw.port)
    assert r2.read_reply()[0] == 220
    code, lines = r2.cmd("EHLO client.test")
    assert "PIPELINING" not in keywords(lines) and "PIPECONNECT" not in keywords(lines)


def test_old_exim_keyword(sluice):
    gw = sluice.start(smtp={"pipeconnect_keyword": "X_PIPE_CONNECT"})
    r = connect_early(gw, "EHLO client.test\r\n")
    assert r.read_reply()[0] == 220
    code, lines = r.read_reply()
    assert code == 250
    kws = keywords(lines)
    assert "X_PIPE_CONNECT" in kws and "PIPECONNECT" not in kws
    assert kws.index("X_PIPE_CONNECT") == kws.index("PIPELINING") + 1
    assert r.cmd("QUIT")[0] == 221


def test_early_ehlo_alone_then_normal_dialogue(sluice):
    gw = sluice.start()
    r = connect_early(gw, "EHLO client.test\r\n")
    assert r.read_reply()[0] == 220
    assert r.read_reply()[0] == 250
    # From here on the session is an ordinary one.
    assert r.cmd("MAIL FROM:<a@sender.test>")[0] == 250
    assert r.cmd("RCPT TO:<bob@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    assert r.cmd(".")[0] == 250
    assert len(gw.queued()) == 1
    # Early input is a per-connection fact: a later, normal client is not marked.
    r2 = Raw(gw.port)
    assert r2.read_reply()[0] == 220
    assert r2.cmd("QUIT")[0] == 221


def test_socket_stays_usable_when_stopped_briefly(sluice):
    # Guard for the SIGSTOP technique itself: a stopped gateway still gets
    # the connection established by the kernel.
    gw = sluice.start()
    with gateway_stopped(gw):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=5 * SLOW)
    s.settimeout(5 * SLOW)
    assert s.recv(100).startswith(b"220 ")
    s.close()


def test_commands_behind_a_proxy_header_are_answered_at_once(sluice):
    # A load balancer that sends the PROXY header in the same segment as what
    # the client already sent: the commands are read with the header, so
    # nothing is left in the socket. They are early (the client has not seen
    # the banner) and answered with it, without waiting for more input.
    port = free_port()
    gw = sluice.start(listener=[{"name": "proxied", "address": "127.0.0.1", "port": port,
                                 "proxy_protocol": True, "proxy_trusted": ["127.0.0.1"]}])
    for early in ("EHLO client.test\r\n", EARLY):
        r = Raw(port, timeout=5)
        r.send(f"PROXY TCP4 192.0.2.9 127.0.0.1 1111 25\r\n{early}")
        first = r.s.recv(65536)  # times out (and fails) if the replies are held back
        assert first.startswith(b"220 mx.sluice.test ESMTP Sluice\r\n250-mx.sluice.test Hello client.test"), first
        r.buf = first
        expected = [220, 250] if early != EARLY else [220, 250, 250, 250, 354]
        assert [code for code, _ in r.replies(len(expected))] == expected
        if early == EARLY:
            r.send("Subject: proxied early\r\n\r\nbody\r\n.\r\n")
            assert r.read_reply()[0] == 250
        assert r.cmd("QUIT")[0] == 221
    gw.wait_log("event=disconnect", count=2)
    assert gw.log().count("event=accepted") == 1
