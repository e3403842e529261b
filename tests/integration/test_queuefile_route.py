"""End to end: SMTP into Sluice, a [[route]] with action = "queuefile", the
Exim -H/-D pair in the route's directory, and a real Exim 4.96 that lists,
shows and delivers it (as MailScanner would hand it over: copy into Exim's
input/). Recipients on other domains stay queued for relay."""
import re
import signal
import smtplib
import time

import pytest

from conftest import SLOW, wait_until
from exim_peer import EximPeer, exim_fixture


@pytest.fixture
def exim():
    yield from exim_fixture()


def written(gw):
    """[(sluice id, exim id)] from the queuefile_written log lines."""
    return re.findall(r"event=queuefile_written id=(\S+) exim_id=(\S+)", gw.log())


def test_smtp_to_queuefile_to_exim(sluice, tmp_path, exim):
    outdir = tmp_path / "scanner-in"
    outdir.mkdir()
    gw = sluice.start(smtp={"local_domains": ["example.test", "scan.test"]},
                      route=[{"name": "scanner", "domains": ["scan.test"], "action": "queuefile",
                              "directory": str(outdir), "exim_id_format": "4.96"}])
    body = "First line\r\n.dot-stuffed line\r\n8bit: caf\xe9\r\n"
    msg = ("From: Alice <alice@src.test>\r\nTo: bob@scan.test\r\nSubject: through the scanner\r\n"
           "X-Folded: one\r\n\ttwo\r\n\r\n" + body)
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.ehlo()
        c.mail("alice@src.test", ["BODY=8BITMIME"])
        for r in ("bob@scan.test", "carol@scan.test", "dave@example.test"):
            c.rcpt(r)
        code, resp = c.data(msg.encode("latin-1"))
        assert code == 250, resp
    sid = re.search(rb"id=(\S+)", resp).group(1).decode()
    assert wait_until(lambda: written(gw), timeout=10), gw.log()[-2000:]
    [(logged_sid, exim_id)] = written(gw)
    assert logged_sid == sid and len(exim_id) == 16

    # The pair is there under Exim's 16-character id; nothing half-written.
    assert sorted(p.name for p in outdir.iterdir()) == [f"{exim_id}-D", f"{exim_id}-H"]
    exim.install_pair(outdir, exim_id)
    [entry] = exim.queue()
    assert entry.id == exim_id and entry.sender == "alice@src.test"
    assert sorted(entry.recipients) == ["bob@scan.test", "carol@scan.test"]  # not dave: he relays
    stored = gw.queued()[sid][1]
    assert abs(entry.size_bytes() - len(stored.replace(b"\r\n", b"\n"))) <= max(100, 0.06 * len(stored))

    # -Mvb is the body, LF line ends, dot-unstuffed, 8-bit intact.
    assert exim.body_file(exim_id).split(b"\n", 1)[1] == body.replace("\r\n", "\n").encode("latin-1")
    header_file = exim.header_file(exim_id)
    assert b"Subject: through the scanner" in header_file and b"X-Folded: one\n\ttwo" in header_file

    exim.deliver(exim_id)
    delivered = wait_until(lambda: exim.delivered(exim_id), timeout=10)
    assert delivered, exim.mainlog() + exim.paniclog()
    # Exim adds its own Return-path:/Envelope-to: and Received:; ours and the
    # client's headers follow unchanged.
    expected_headers = stored.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    assert expected_headers in delivered
    assert delivered.split(b"\n\n", 1)[1] == body.replace("\r\n", "\n").encode("latin-1")
    assert exim.paniclog() == ""

    # In Sluice's queue: the scanner's recipients delivered, dave waiting for relay.
    rec = gw.queued()[sid][0]
    states = {r["address"]: r["state"] for r in rec["recipients"]}
    assert states == {"bob@scan.test": "delivered", "carol@scan.test": "delivered", "dave@example.test": "pending"}
    assert rec["state"] == "queued"


def test_unwritable_directory_defers_then_delivers_after_retry(sluice, tmp_path):
    outdir = tmp_path / "missing"
    gw = sluice.start(queue={"retry_first": "1s"},
                      route=[{"name": "scanner", "action": "queuefile", "directory": str(outdir)}])
    # Said at start, before any mail defers (docs/configuration.md, [[route]] directory).
    assert re.search(r'event=export_directory_unusable route=scanner directory=\S*missing problem="does not exist"',
                     gw.log()), gw.log()[-2000:]
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["b@example.test"], "Subject: later\r\n\r\nbody\r\n")
    assert wait_until(lambda: "event=deferred" in gw.log(), timeout=10)
    [(mid, (rec, _))] = gw.queued().items()
    assert rec["state"] == "deferred" and "No such file or directory" in rec["recipients"][0]["error"]
    outdir.mkdir()
    # retry_first = 1s: the runner's once-a-second check picks it up.
    assert wait_until(lambda: gw.queued()[mid][0]["state"] == "done", timeout=15), gw.log()[-2000:]
    assert len([p for p in outdir.iterdir() if p.name.endswith("-H")]) == 1
    assert "event=completed" in gw.log()


def test_route_domains_from_an_lmdb_lookup(sluice, tmp_path):
    from test_lmdb_lookups import build
    table = tmp_path / "discard-domains.mdb"
    build(table, {"discard.test": "yes"})
    gw = sluice.start(smtp={"local_domains": ["example.test", "discard.test"]},
                      route=[{"name": "bin", "domains": [f"lmdb;{table}"], "action": "discard"}])
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["x@discard.test", "y@example.test"], "Subject: split\r\n\r\nbody\r\n")
    assert wait_until(lambda: "event=discarded" in gw.log(), timeout=10)
    [(rec, _)] = gw.queued().values()
    states = {r["address"]: (r["state"], r.get("route", "")) for r in rec["recipients"]}
    assert states == {"x@discard.test": ("delivered", "bin"), "y@example.test": ("pending", "")}
    assert rec["state"] == "queued"
    # The lookup file gone: the route cannot be evaluated, so the recipient defers.
    table.unlink()
    time.sleep(1.5)  # lookups.recheck_interval (1 s): until then the open copy still answers
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["z@discard.test"], "Subject: later\r\n\r\nbody\r\n")
    assert wait_until(lambda: any(r[0]["state"] == "deferred" for r in gw.queued().values()), timeout=10), gw.log()[-2000:]


def test_reload_names_an_unusable_quarantine_directory(sluice, tmp_path):
    gw = sluice.start()
    assert "export_directory_unusable" not in gw.log()
    tables = dict(gw.tables)
    tables["policy"] = [{"name": "spam", "phase": "data", "quarantine": str(tmp_path / "nowhere")}]
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    gw.wait_log("event=export_directory_unusable")
    assert re.search(r'event=export_directory_unusable policy=spam directory=\S*nowhere problem="does not exist"',
                     gw.log()), gw.log()[-2000:]


def test_temporary_files_of_an_interrupted_export_are_removed(sluice, tmp_path):
    # A crash between writing a pair's temporary files and renaming them
    # used to leave them in the directory for good. The first export into
    # the directory after the start removes them: only our exact names.
    outdir = tmp_path / "scanner-in"
    outdir.mkdir()
    stale = [".1r31eq-000000003D7-0W7E-D.tmp", ".1r31eq-000000003D7-0W7E-H.tmp", ".1r31eq-00003D-0W-D.tmp"]
    others = ["1r31eq-000000003D7-0W7E-D", "1r31eq-000000003D7-0W7E-H", ".1r31eq-000000003D7-0W7E-D.tmp.keep",
              ".scanner-D.tmp", "hdr.4321"]
    for name in stale + others:
        (outdir / name).write_bytes(b"left behind")
    gw = sluice.start(smtp={"local_domains": ["example.test", "scan.test"]},
                      route=[{"name": "scanner", "domains": ["scan.test"], "action": "queuefile",
                              "directory": str(outdir)}])
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["b@scan.test"], "Subject: after a crash\r\n\r\nbody\r\n")
    assert wait_until(lambda: written(gw), timeout=10), gw.log()[-2000:]
    [(_, exim_id)] = written(gw)
    assert sorted(p.name for p in outdir.iterdir()) == sorted(others + [f"{exim_id}-D", f"{exim_id}-H"])
    assert gw.log().count("event=queuefile_temp_removed") == 3
