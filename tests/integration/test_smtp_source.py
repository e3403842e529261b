"""Load from a real peer: Postfix's smtp-source, many parallel sessions.

smtp-source exits non-zero on any reply it did not expect (a refused
recipient, a 4xx after DATA, a dropped connection), so its exit status says
every message was acknowledged; the spool then must hold exactly those
messages, each once, with the right envelope. Measured on the 2-core test
machine with the fsyncing file spool: 10,000 messages over 50 kept-open
sessions take 8 to 19 s (depending on what else runs), 2,000 one per
connection 2 to 4 s.
"""
import collections
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SLOW, spool_tmp_files

PEERS = Path(os.environ.get("SLUICE_PEERS_OPT", "/opt/sluice-peers")) / "postfix"
SMTP_SOURCE = PEERS / "usr/sbin/smtp-source"
LIBDIR = PEERS / "usr/lib/postfix"

pytestmark = pytest.mark.skipif(not os.access(SMTP_SOURCE, os.X_OK),
                                reason=f"Postfix smtp-source not unpacked at {SMTP_SOURCE} (scripts/install-deps.sh test)")

SENDER = "a@src.test"
RCPT = "b@example.test"


def run_smtp_source(port, *args, timeout):
    env = dict(os.environ, LD_LIBRARY_PATH=str(LIBDIR))
    cmd = [str(SMTP_SOURCE), *args, "-l", "1024", "-f", SENDER, "-t", RCPT, f"127.0.0.1:{port}"]
    started = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        out, _ = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out.decode(errors="replace"), time.monotonic() - started


def check_spool(gw, expected):
    queued = gw.queued()
    # Every committed message has its record and its data, nothing else.
    assert all(data is not None for _, data in queued.values())
    assert spool_tmp_files(gw) == []

    assert len(queued) == expected
    message_ids = collections.Counter()
    for mid, (env, data) in queued.items():
        assert env["id"] == mid
        assert env["sender"] == SENDER
        assert [r["address"] for r in env["recipients"]] == [RCPT]
        assert env["protocol"] == "smtp"  # smtp-source says HELO
        assert env["client_addr"] == "127.0.0.1" and env["origin"] == ""
        assert env["size"] == len(data)
        assert data.startswith(b"Received: from ")
        assert f"\tid {mid}\r\n".encode() in data
        # smtp-source numbers each message in its Message-Id: the same one
        # twice means a message was stored twice.
        m = re.search(rb"^Message-Id: (<[^>]+>)\r$", data, re.M)
        assert m, data[:400]
        message_ids[m.group(1)] += 1
    twice = [k for k, n in message_ids.items() if n > 1]
    assert not twice, f"{len(twice)} messages stored more than once, e.g. {twice[:3]}"
    assert len(message_ids) == expected


def check_log(gw, accepted, connections):
    log = gw.log()
    bad = [l for l in log.splitlines() if "level=error" in l or "level=warn" in l]
    assert not bad, "\n".join(bad[:20])
    assert log.count("event=accepted ") == accepted
    assert len(re.findall(r"event=disconnect .*reason=quit", log)) == connections


def test_10000_messages_over_50_parallel_sessions(sluice):
    gw = sluice.start(log={"level": "info"})
    rc, out, took = run_smtp_source(gw.port, "-s", "50", "-m", "10000", "-d", timeout=90 * SLOW)
    assert rc == 0, out
    print(f"smtp-source: 10000 messages, 50 sessions, {took:.1f} s")
    check_spool(gw, 10000)
    check_log(gw, accepted=10000, connections=50)
    assert gw.stop() == 0


def test_one_message_per_connection(sluice):
    gw = sluice.start(log={"level": "info"})
    rc, out, took = run_smtp_source(gw.port, "-s", "50", "-m", "2000", timeout=60 * SLOW)
    assert rc == 0, out
    print(f"smtp-source: 2000 connections, 50 in parallel, {took:.1f} s")
    check_spool(gw, 2000)
    check_log(gw, accepted=2000, connections=2000)
    assert gw.stop() == 0
