"""Queuefile export against a real Exim 4.96 (Debian's exim4-daemon-light).

The pairs come from Sluice's writer (storage/queuefile.cpp): the unit-test
binary's QueuefileExport.* test writes them, with 16-character (4.96) ids,
when SLUICE_QUEUEFILE_OUT is set, together with each message as Sluice
stored it (<name>.eml, CRLF) and a manifest. Each pair is copied into a
private Exim's input/ directory (exim_peer.py), and Exim must list it with
the right sender, recipients and size, show our -H and -D unchanged, and
deliver the message byte for byte (plus its own Return-path:/Envelope-to:).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, wait_until
from exim_peer import EximPeer, exim_fixture

UNIT = os.environ.get("SLUICE_UNIT_TESTS", str(Path(BIN).parent / "sluice_unit_tests"))
SAMPLES = ["plain", "folded", "dsn", "8bitmime", "large"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    assert Path(UNIT).exists(), f"{UNIT} is missing: build the unit tests first"
    out = tmp_path_factory.mktemp("queuefile")
    env = dict(os.environ, SLUICE_QUEUEFILE_OUT=str(out))
    p = subprocess.run([UNIT, "--gtest_filter=QueuefileExport.*"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "[  PASSED  ] 1 test" in p.stdout, p.stdout + p.stderr
    manifest = {m["name"]: m for m in json.loads((out / "manifest.json").read_text())}
    assert sorted(manifest) == sorted(SAMPLES)
    return out, manifest


@pytest.fixture
def exim():
    yield from exim_fixture()


def stored_message(out, name):
    """The message as Sluice stored it, with Exim's LF line ends: (headers, body)."""
    raw = (out / f"{name}.eml").read_bytes().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    return head + b"\n", body


def header_records(h_file: bytes):
    """The (type, text) records after the blank line of a -H file; the
    lengths must consume the rest exactly."""
    rest = h_file.split(b"\n\n", 1)[1]
    records = []
    while rest:
        digits = len(rest) - len(rest.lstrip(b"0123456789"))
        n = int(rest[:digits])
        assert rest[digits + 1:digits + 2] == b" "
        records.append((rest[digits:digits + 1], rest[digits + 2:digits + 2 + n]))
        rest = rest[digits + 2 + n:]
    return records


def known_panics_only(exim):
    # Exim's own DSN child re-executes as Debian-exim and says so; anything
    # else (a spool format error) fails the test.
    lines = [l for l in exim.paniclog().splitlines() if l.strip() and "lost privilege for using -C" not in l]
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("name", SAMPLES)
def test_exim_lists_shows_and_delivers_our_pair(exported, exim, name):
    out, manifest = exported
    m = manifest[name]
    msg_id, pairs = m["id"], out / "pairs"
    exim.install_pair(pairs, msg_id)

    # -bp: one message, our id, sender, recipients, and the size Exim
    # computes from our header records and -D file (headers + 1 + body).
    [entry] = exim.queue()
    assert entry.id == msg_id
    assert entry.sender == m["sender"]
    assert sorted(entry.recipients) == sorted(m["recipients"])
    assert not entry.frozen
    head, body = stored_message(out, name)
    size = len(head) + 1 + len(body)
    if entry.size.isdigit():
        assert int(entry.size) == size
    else:  # "1012K": Exim rounds big sizes
        assert abs(entry.size_bytes() - size) / size < 0.01, (entry.size, size)

    # -Mvh / -Mvb: Exim reads back exactly what we wrote, and our header
    # records are the stored headers, LF-terminated, folding kept.
    h_file = (pairs / f"{msg_id}-H").read_bytes()
    d_file = (pairs / f"{msg_id}-D").read_bytes()
    assert exim.header_file(msg_id) == h_file
    assert exim.body_file(msg_id) == d_file
    assert b"".join(text for _, text in header_records(h_file)) == head
    assert d_file == f"{msg_id}-D\n".encode() + body

    # Delivery: the message arrives as stored, after Exim's two lines.
    exim.deliver(msg_id)
    assert exim.queue_count() == 0 or all(e.id != msg_id for e in exim.queue())
    delivered = exim.delivered(msg_id)
    assert delivered is not None, exim.mainlog()
    envelope_to = ",\n ".join(m["recipients"])
    expected = f"Return-path: <{m['sender']}>\nEnvelope-to: {envelope_to}\n".encode() + head + b"\n" + body
    assert delivered == expected
    log = exim.mainlog()
    for r in m["recipients"]:
        assert f"<{r}> R=to_file T=to_file" in log, log
    assert f"{msg_id} Completed" in log
    known_panics_only(exim)


def test_dsn_parameters_reach_exims_reports(exported, exim):
    """NOTIFY, ORCPT, ENVID and RET as Exim reads them from our -H: a success
    report for carol only (NOTIFY=SUCCESS,FAILURE; dave NEVER, erin DELAY),
    carrying her ORCPT and our ENVID, with headers only (RET=HDRS)."""
    out, manifest = exported
    msg_id = manifest["dsn"]["id"]
    exim.install_pair(out / "pairs", msg_id)
    exim.deliver(msg_id)
    def mailboxes():
        return [p.name for p in (exim.base / "mail").iterdir() if p.name != msg_id]

    if not [n for n in mailboxes() if not n.endswith(".lock")]:  # Exim may leave the report for a queue run
        exim.queue_run()
    # A delivery still writing holds "<mailbox>.lock" (Exim's appendfile lock): wait for it to finish.
    assert wait_until(lambda: mailboxes() and not any(n.endswith(".lock") for n in mailboxes()), timeout=15), \
        exim.mainlog()
    reports = mailboxes()
    assert len(reports) == 1, exim.mainlog()
    report = exim.delivered(reports[0]).decode()
    assert "Return-path: <>" in report
    assert "Original-Recipient: rfc822;carol+2Bx@example.net" in report
    assert "Final-Recipient: rfc822;carol@gw.example" in report
    assert "Original-Envelope-ID: abc+2Bdef" in report
    assert "dave@gw.example" not in report and "erin@gw.example" not in report
    assert "text/rfc822-headers" in report and "DSN body" not in report
    known_panics_only(exim)


def test_a_queue_run_delivers_every_pair(exported, exim):
    out, manifest = exported
    for m in manifest.values():
        exim.install_pair(out / "pairs", m["id"])
    assert exim.queue_count() == len(SAMPLES)
    exim.queue_run()
    for m in manifest.values():
        assert exim.delivered(m["id"]) is not None, (m["name"], exim.mainlog())
        assert f"{m['id']} Completed" in exim.mainlog()
    known_panics_only(exim)


def test_exim_496_refuses_23_character_ids(exported, exim):
    """Why exim_id_format exists: Exim 4.96 does not see a 4.97-style pair."""
    out, _ = exported
    msg_id = (out / "pairs497" / "id").read_text().strip()
    assert len(msg_id) == 23
    exim.install_pair(out / "pairs497", msg_id)
    assert exim.queue() == []
    p = exim.run("-Mvh", msg_id, check=False)
    assert p.returncode != 0 and "malformed message id" in p.stderr
