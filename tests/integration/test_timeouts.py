"""Timeouts (RFC 5321 4.5.3.2, made short in the config): each waiting state
has its own, and running out of one is "421 4.4.2" and a closed connection,
with nothing half-received left in the spool. The write timeout, which RFC
5321 does not have, bounds a reply the client does not read."""
import threading
import time

from conftest import SLOW, Raw, greet


def wait_421(r, low, high):
    """Reads the 421 4.4.2 and checks it came between low and high seconds from now."""
    t0 = time.monotonic()
    code, lines = r.read_reply()
    elapsed = time.monotonic() - t0
    assert code == 421 and lines[0].startswith("421 4.4.2 mx.sluice.test "), lines
    assert low <= elapsed <= high * SLOW, elapsed
    assert r.closed()
    return lines


def in_data(gw):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    return r


def disconnect_reason(gw):
    gw.wait_log("event=disconnect")
    line = [l for l in gw.log().splitlines() if "event=disconnect" in l][0]
    return line.split("reason=")[1].split(" L=")[0].strip('"')


def test_command_timeout(sluice):
    gw = sluice.start(timeouts={"command": 1})
    r = greet(gw.port)
    wait_421(r, 0.8, 3)
    assert disconnect_reason(gw) == "timeout"


def test_command_timeout_inside_a_transaction_spools_nothing(sluice):
    gw = sluice.start(timeouts={"command": 1})
    r = in_data(gw)
    wait_421(r, 0.8, 3)
    assert gw.queued() == {}


def test_greeting_timeout(sluice):
    gw = sluice.start(timeouts={"greeting": 1, "command": 30})
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    wait_421(r, 0.8, 3)


def test_greeting_timeout_does_not_apply_after_ehlo(sluice):
    gw = sluice.start(timeouts={"greeting": 1, "command": 30})
    r = greet(gw.port)
    time.sleep(1.6)
    r.expect("NOOP", 250, "2.0.0")


def test_data_block_timeout(sluice):
    gw = sluice.start(timeouts={"data_init": 30, "data_block": 1, "command": 30})
    r = in_data(gw)
    r.expect("DATA", 354)
    r.send("Subject: stalled\r\n\r\npart of a body")
    wait_421(r, 0.8, 3)
    assert gw.queued() == {}
    assert disconnect_reason(gw) == "timeout in DATA"


def test_data_init_timeout(sluice):
    gw = sluice.start(timeouts={"data_init": 1, "data_block": 30, "command": 30})
    r = in_data(gw)
    r.expect("DATA", 354)
    wait_421(r, 0.8, 3)
    assert gw.queued() == {}


def test_bdat_chunk_timeout(sluice):
    gw = sluice.start(timeouts={"data_block": 1, "command": 30})
    r = in_data(gw)
    r.send("BDAT 100 LAST\r\nonly ten b")
    wait_421(r, 0.8, 3)
    assert gw.queued() == {}


def test_max_session_cuts_an_idle_client(sluice):
    # A hard cap on the connection's life: an idle client does not get the
    # whole command timeout on top of it.
    gw = sluice.start(timeouts={"max_session": 2, "command": 30})
    t0 = time.monotonic()
    r = greet(gw.port)
    lines = wait_421(r, 0, 4)
    assert time.monotonic() - t0 >= 1.8
    assert "Session too long" in lines[0]
    assert disconnect_reason(gw) == "max session time"


def test_max_session_cuts_a_busy_client(sluice):
    gw = sluice.start(timeouts={"max_session": 2, "command": 30})
    t0 = time.monotonic()
    r = greet(gw.port)
    replies = []
    while True:
        time.sleep(0.25)
        r.send("NOOP\r\n")
        code, lines = r.read_reply()
        replies.append(code)
        if code != 250:
            break
        assert time.monotonic() - t0 < 4 * SLOW, "never cut"
    assert code == 421 and lines[0].startswith("421 4.4.2 "), lines
    assert time.monotonic() - t0 >= 1.8
    assert r.closed()


def test_max_session_cuts_a_slow_data_transfer(sluice):
    gw = sluice.start(timeouts={"max_session": 2, "command": 30, "data_block": 30})
    t0 = time.monotonic()
    r = in_data(gw)
    r.expect("DATA", 354)
    code = None
    while time.monotonic() - t0 < 5 * SLOW:
        try:
            r.send("a line of a slow message\r\n")
        except OSError:
            break
        r.s.settimeout(0.25)
        try:
            chunk = r.s.recv(4096)
        except TimeoutError:
            continue
        r.buf += chunk
        break
    r.s.settimeout(5 * SLOW)
    code, lines = r.read_reply()
    assert code == 421 and lines[0].startswith("421 4.4.2 "), lines
    assert time.monotonic() - t0 >= 1.8
    assert gw.queued() == {}


def flood(sock, data):
    """Sends `data` from a thread of its own, which alone uses `sock`; ends
    quietly when the server closes the connection under it."""
    def send():
        try:
            sock.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=send, daemon=True)
    t.start()
    return t


def test_write_timeout_closes_a_client_that_stops_reading(sluice):
    # The replies to this many NOOPs (some 8 MB) are far more than the
    # client's 4 KiB window and the server's send buffer take, and the client
    # never reads them: the server's write waits, and is given up after
    # timeouts.write, not the default minute.
    gw = sluice.start(timeouts={"write": 2}, limits={"max_junk_commands": 10_000_000})
    r = Raw(gw.port, rcvbuf=4096)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO stalled-reader.test")[0] == 250
    t0 = time.monotonic()
    flood(r.s, b"NOOP\r\n" * 600_000)
    assert disconnect_reason(gw) == "write timeout"
    assert time.monotonic() - t0 >= 2
    # The gateway goes on serving.
    assert greet(gw.port).cmd("QUIT")[0] == 221
