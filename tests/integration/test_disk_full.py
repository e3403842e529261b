"""Disk full (storage issue): with the spool on a small tmpfs that fills up,
clients get 452 4.3.1 and a log line says why; nothing committed is harmed;
acceptance resumes by itself once space is back (no restart)."""
import os
import smtplib
import subprocess

import pytest

from conftest import SLOW, split_received, wait_until


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path):
    """Writes a filler file until the file system is full; returns its path."""
    filler = path / "filler"
    with open(filler, "wb") as f:
        block = b"\0" * 65536
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
    # Also take the last partial blocks.
    try:
        with open(filler, "ab") as f:
            while True:
                f.write(b"\0" * 512)
                f.flush()
    except OSError:
        pass
    return filler


def send(port, subject, size):
    msg = f"Subject: {subject}\r\n\r\n" + ("z" * 78 + "\r\n") * (size // 80)
    with smtplib.SMTP("127.0.0.1", port, timeout=30 * SLOW) as c:
        c.ehlo()
        c.mail("a@src.test")
        c.rcpt("b@example.test")
        code, resp = c.data(msg)
    return code, resp.decode(), msg.encode()


def test_full_disk_gives_452_and_recovers_by_itself(sluice, small_fs):
    gw = sluice.start(spool={"directory": str(small_fs / "spool"), "map_size": "64M"})
    code, resp, before = send(gw.port, "before", 2000)
    assert code == 250, resp
    filler = fill(small_fs)

    # Small (inline in LMDB) and large (a body file of its own) both refused.
    for subject, size in (("small", 2000), ("large", 400_000)):
        code, resp, _ = send(gw.port, subject, size)
        assert code == 452 and resp.startswith("4.3.1"), (subject, code, resp)
    log = gw.log()
    assert "event=spool_commit_failed" in log and "No space left on device" in log, log[-2000:]

    # Space comes back: accepted again, same process.
    os.unlink(filler)
    for subject, size in (("after-small", 2000), ("after-large", 400_000)):
        code, resp, _ = send(gw.port, subject, size)
        assert code == 250, (subject, code, resp)
    assert gw.proc.poll() is None

    queued = gw.queued()
    subjects = sorted(split_received(d)[1].split(b"\r\n", 1)[0].decode() for _, d in queued.values())
    assert subjects == ["Subject: after-large", "Subject: after-small", "Subject: before"], subjects
    first = [d for _, d in queued.values() if b"Subject: before" in d][0]
    assert split_received(first)[1] == before


def test_map_full_gives_452(sluice, tmp_path):
    # The LMDB map (not the disk) is what fills: same answer, same recovery
    # story (the queue drains or the operator raises map_size).
    gw = sluice.start(spool={"directory": str(tmp_path / "spool"), "map_size": "1M", "inline_max": "200K"})
    codes = []
    for i in range(12):
        code, resp, _ = send(gw.port, f"m{i}", 150_000)
        codes.append(code)
        if code != 250:
            assert code == 452 and resp.startswith("4.3.1"), (code, resp)
    assert 250 in codes and 452 in codes, codes
    assert "event=spool_commit_failed" in gw.log()
    assert gw.proc.poll() is None


def test_full_map_still_drains(sluice, tmp_path):
    # New mail is refused (452 4.3.1) while the 1 MiB map is above its
    # high-water mark, which leaves room for what makes room: queuefile
    # deliveries still commit their outcome (dropping their bodies) and the
    # sweep purges them; then new mail is accepted again, same process.
    # Before, new mail filled the map to the last page and every state
    # change failed with MDB_MAP_FULL, so nothing could ever leave.
    outdir = tmp_path / "scanner-in"  # made later: until then the scanner's mail is deferred
    gw = sluice.start(smtp={"local_domains": ["example.test", "scan.test"]},
                      spool={"directory": "spool", "map_size": "1M", "inline_max": "200K"},
                      queue={"retry_first": "1s", "retry_max": "2s", "keep_done": "1s"},
                      route=[{"name": "scanner", "domains": ["scan.test"], "action": "queuefile",
                              "directory": str(outdir)}])

    def logged(event, mid):
        return any(f"event={event} " in line and f" id={mid} " in line + " " for line in gw.log().splitlines())

    # Each with 100 recipients: a record of some 20 KB, whose every state
    # change needs more pages than a full map has free.
    scanned = []
    for i in range(3):
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=30 * SLOW) as c:
            c.ehlo()
            c.mail("a@src.test")
            for n in range(100):
                c.rcpt(f"recipient-{n:03d}-of-a-message-for-the-scanner-{i}@scan.test")
            code, resp = c.data("Subject: scan\r\n\r\n" + ("s" * 78 + "\r\n") * 1500)
        assert code == 250, resp
        scanned.append(resp.decode().split("id=")[1].strip())
    assert wait_until(lambda: all(logged("deferred", m) for m in scanned), timeout=10), gw.log()[-3000:]

    # Mail for relay (it waits in the queue) until the map takes no more,
    # ever smaller, so the map is as full as new mail can make it.
    refused = 0
    for size in (150_000, 20_000, 2_000, 300):
        for _ in range(40):
            try:
                with smtplib.SMTP("127.0.0.1", gw.port, timeout=30 * SLOW) as c:
                    c.sendmail("a@src.test", ["b@example.test"], "Subject: fill\r\n\r\n" + ("z" * 78 + "\r\n") * (size // 80))
            except smtplib.SMTPDataError as e:
                assert e.smtp_code == 452 and e.smtp_error.startswith(b"4.3.1"), e
                refused += 1
                break
    assert refused == 4, gw.log()[-2000:]

    # The scanner's directory appears: its three messages are delivered,
    # their outcome recorded, and after keep_done they are purged.
    outdir.mkdir()
    assert wait_until(lambda: all(logged("completed", m) for m in scanned), timeout=30), \
        gw.log()[-3000:]
    assert len([p for p in outdir.iterdir() if p.name.endswith("-H")]) == 3
    assert wait_until(lambda: all(logged("queue_purged", m) for m in scanned), timeout=30), \
        gw.log()[-3000:]
    assert not set(scanned) & set(gw.queued())

    # New mail again, without a restart.
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=30 * SLOW) as c:
        c.sendmail("a@src.test", ["b@example.test"], "Subject: after\r\n\r\n" + ("z" * 78 + "\r\n") * 1500)
    assert gw.proc.poll() is None
