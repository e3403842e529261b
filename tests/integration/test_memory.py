"""Memory stays bounded by design, not by message size: a 50 MB message,
through DATA or one BDAT chunk, is streamed to the spool and raises the
gateway's peak resident memory (VmHWM) by far less than its size, and it
arrives intact."""
import base64
import hashlib
import os

from conftest import greet, memory_test_env, proc_status, split_received

SIZE = 50 * 1000 * 1000  # under the default limits.max_message_size (50 MiB)
MAX_GROWTH_KB = 16 * 1024


def text_message(size):
    """(what the client sends after DATA, what must be stored): CRLF lines
    of base64 text with some lines that need dot-stuffing."""
    lines = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n").split(b"\r\n")
    stored, wire = [b"Subject: big\r\n\r\n"], [b"Subject: big\r\n\r\n"]
    total = len(stored[0])
    for i, line in enumerate(lines):
        if i % 5000 == 0:
            line = b"." + line[:40]  # a line starting with a dot
        stored.append(line + b"\r\n")
        wire.append((b"." if line.startswith(b".") else b"") + line + b"\r\n")
        total += len(line) + 2
        if total >= size:
            break
    return b"".join(wire), b"".join(stored)


def ready(gw):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    return r


def check_stored(gw, lines, expected):
    assert lines[0].startswith("250 2.0.0 OK id="), lines
    env, data = gw.queued()[lines[0].split("id=")[1]]
    body = split_received(data)[1]
    assert len(body) == len(expected)
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert env["size"] == len(data)


def test_50mb_through_data(sluice):
    gw = sluice.start(env=memory_test_env())
    wire, stored = text_message(SIZE)
    assert len(stored) >= SIZE
    r = ready(gw)
    before = proc_status(gw.proc.pid)["VmHWM"]
    r.expect("DATA", 354)
    r.send(wire + b".\r\n")
    code, lines = r.read_reply()
    assert code == 250, lines
    grown = proc_status(gw.proc.pid)["VmHWM"] - before
    check_stored(gw, lines, stored)
    assert grown < MAX_GROWTH_KB, f"VmHWM grew by {grown} kB for a {len(stored)} byte message"


def test_50mb_through_one_bdat_chunk(sluice):
    gw = sluice.start(env=memory_test_env())
    chunk = os.urandom(SIZE)
    r = ready(gw)
    before = proc_status(gw.proc.pid)["VmHWM"]
    r.send(f"BDAT {len(chunk)} LAST\r\n".encode())
    r.send(chunk)
    code, lines = r.read_reply()
    assert code == 250, lines
    grown = proc_status(gw.proc.pid)["VmHWM"] - before
    check_stored(gw, lines, chunk)
    assert grown < MAX_GROWTH_KB, f"VmHWM grew by {grown} kB for a {len(chunk)} byte message"
