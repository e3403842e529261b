"""Disk full (storage issue): with the spool on a small tmpfs that fills up,
clients get 452 4.3.1 and a log line says why; nothing committed is harmed;
acceptance resumes by itself once space is back (no restart)."""
import os
import smtplib
import subprocess

import pytest

from conftest import SLOW, split_received


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
