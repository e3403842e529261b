"""Protocol behaviour pinned by transcript files, Postfix-style.

Each tests/transcripts/*.txt is one SMTP session against a fresh gateway
(the default test config of conftest.py, plus the file's `config:` lines).

    # comment (also blank lines)
    config: limits.max_recipients = 3   table.key = value; the value is JSON
                                         when it parses as JSON, else a string
    C: MAIL FROM:<a@sender.test>         sent with CRLF appended; consecutive
                                         C: lines leave in one send() (pipelined)
    S: 250 2.1.0 *                       the next reply line must match: a glob
                                         where only * is special ([, ] and ? are
                                         literal), matching the whole line
    S: ...                               skip the rest of a multi-line reply, up
                                         to and including its last line
    S: <closed>                          the server closes the connection
    queued: 1                            at the end: messages in the spool

Pending C: lines are sent before each S: line is checked.
"""
import json
import re
from pathlib import Path

import pytest

from conftest import Raw

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "transcripts"


def parse_transcript(path):
    overrides, steps, queued = {}, [], None
    for no, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("config:"):
            key, _, value = line[len("config:"):].partition("=")
            table, _, name = key.strip().partition(".")
            assert table and name, f"{path.name}:{no}: config: needs table.key = value"
            try:
                v = json.loads(value.strip())
            except json.JSONDecodeError:
                v = value.strip()
            overrides.setdefault(table, {})[name] = v
        elif line.startswith("queued:"):
            queued = int(line[len("queued:"):])
        elif line.startswith("C: ") or line == "C:":
            steps.append(("C", line[3:], no))
        elif line.startswith("S: "):
            steps.append(("S", line[3:], no))
        else:
            raise AssertionError(f"{path.name}:{no}: cannot parse {line!r}")
    return overrides, steps, queued


def glob_match(pattern, text):
    rx = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(rx, text, re.DOTALL) is not None


class Session:
    def __init__(self, port, name):
        self.r = Raw(port)
        self.name = name
        self.pending = b""
        self.log = []  # what was exchanged, for failure messages

    def fail(self, no, msg):
        history = "\n".join(self.log[-30:])
        raise AssertionError(f"{self.name}:{no}: {msg}\n--- session so far ---\n{history}")

    def send_pending(self):
        if self.pending:
            self.r.send(self.pending)
            self.pending = b""

    def read_line(self, no):
        r = self.r
        while b"\r\n" not in r.buf:
            try:
                chunk = r.s.recv(65536)
            except OSError as e:
                self.fail(no, f"connection error while reading: {e}")
            if not chunk:
                self.fail(no, "connection closed by the server")
            r.buf += chunk
        line, r.buf = r.buf.split(b"\r\n", 1)
        text = line.decode(errors="replace")
        self.log.append("S: " + text)
        return text

    def expect(self, pattern, no):
        self.send_pending()
        if pattern == "<closed>":
            if not self.r.closed():
                self.fail(no, f"expected the connection to close; unread: {self.r.buf!r}")
            if self.r.buf:
                self.fail(no, f"expected nothing more before the close, got {self.r.buf!r}")
            self.log.append("S: <closed>")
            return
        if pattern == "...":
            while True:
                text = self.read_line(no)
                if len(text) < 4 or text[3] != "-":
                    return
        text = self.read_line(no)
        if not glob_match(pattern, text):
            self.fail(no, f"expected {pattern!r}, got {text!r}")


@pytest.mark.parametrize("path", sorted(TRANSCRIPTS.glob("*.txt")), ids=lambda p: p.stem)
def test_transcript(sluice, path):
    overrides, steps, queued = parse_transcript(path)
    gw = sluice.start(**overrides)
    s = Session(gw.port, path.name)
    try:
        for kind, text, no in steps:
            if kind == "C":
                s.pending += text.encode() + b"\r\n"
                s.log.append("C: " + text)
            else:
                s.expect(text, no)
        s.send_pending()
    finally:
        s.r.close()
    if queued is not None:
        assert len(gw.queued()) == queued, f"{path.name}: expected {queued} queued messages, got {gw.queued()!r}"


def test_glob_is_literal_except_star():
    assert glob_match("250 2.1.0 *", "250 2.1.0 Sender OK")
    assert glob_match("250-x [127.0.0.1]", "250-x [127.0.0.1]")
    assert not glob_match("250-x [127.0.0.1]", "250-x 1")
    assert not glob_match("250 2.1.0", "250 2.1.0 Sender OK")
    assert not glob_match("25? *", "250 OK")
