"""`sluice queue`: the operator's view of the LMDB queue (gateway/queue_command.cpp),
against a running gateway (LMDB readers never block its writer) and after it
stopped; and the queue runner's routes and keep_done sweep as the tool shows
them (storage/queue_runner.cpp).

    list      like `exim -bp`: age, size, id, <sender>, then the recipients
              indented (D delivered, F failed)
    count / show ID / headers ID / body ID / delete ID / retry ID / flush
Exit status: 0 done, 1 no such message or no spool, 2 usage.
"""
import json
import re
import subprocess
import time

import pytest

from conftest import BIN, SLOW, Raw, wait_until


def queue(gw, *args, cwd=None, spool=None, timeout=30):
    """Runs `sluice queue --spool <gw's spool> ARGS` (bytes out)."""
    argv = [BIN, "queue"]
    if spool is not False:
        argv += ["--spool", str(spool or gw.spool)]
    argv += [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, cwd=cwd, timeout=timeout * SLOW)


def records(gw):
    """{id: record} from `list --json` (without the data)."""
    out = queue(gw, "list", "--json")
    assert out.returncode == 0, out.stderr
    return {r["id"]: r for r in map(json.loads, out.stdout.decode().splitlines())}


def send(gw, sender, rcpts, wire_data, params=""):
    """Sends one message with raw DATA bytes (already dot-stuffed, without the
    final dot) and returns its queue id."""
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO client.test")[0] == 250
    r.expect(f"MAIL FROM:<{sender}>{params}", 250)
    for rcpt in rcpts:
        r.expect(f"RCPT TO:<{rcpt}>", 250)
    r.expect("DATA", 354)
    r.send(wire_data + b".\r\n")
    code, lines = r.read_reply()
    assert code == 250, lines
    r.cmd("QUIT")
    r.close()
    return lines[-1].split("id=")[1].strip()


def routed(gw, mid):
    """Waits until the queue runner is done with mid for now: its record stops
    changing. (A recipient routed to relay is not written back at all, so
    for those there is nothing to wait for but this.)"""
    def settled():
        first = records(gw)[mid]
        time.sleep(0.3)
        return records(gw)[mid] == first and first["state"] != "delivering"
    assert wait_until(settled, timeout=10), records(gw)[mid]


def simple(n_lines=3):
    return b"Subject: test\r\nFrom: a@sender.test\r\n\r\n" + b"".join(b"line %d\r\n" % i for i in range(n_lines))


BP_HEAD = re.compile(r"^\s*(\d+[mhd])\s+(\S+) (\S+) <([^>]*)>(.*)$")


def bp_entries(text):
    """Parses `exim -bp`-shaped output: [(age, size, id, sender, rest, [(mark, rcpt)])]."""
    entries = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        m = BP_HEAD.match(lines[0])
        assert m, f"not a -bp head line: {lines[0]!r}"
        rcpts = []
        for line in lines[1:]:
            assert line.startswith("        ") and line[9] == " ", f"recipient line not indented: {line!r}"
            rcpts.append((line[8], line[10:]))
        entries.append((*m.groups(), rcpts))
    return entries


def test_list_count_show_running_and_stopped(sluice):
    gw = sluice.start()
    a = send(gw, "alice@sender.test", ["bob@example.test", "carol@example.test"], simple())
    b = send(gw, "", ["dave@example.test"], simple(400))  # null sender, ~3.5 KB
    wait_until(lambda: len(records(gw)) == 2)

    for phase in ("running", "stopped"):
        out = queue(gw, "list")
        assert out.returncode == 0, out.stderr
        entries = bp_entries(out.stdout.decode())
        assert [e[2] for e in entries] == sorted([a, b]) == [a, b], "oldest first"
        recs = records(gw)
        (age, size, mid, sender, rest, rcpts) = entries[0]
        assert (age, mid, sender, rest) == ("0m", a, "alice@sender.test", "")
        assert size == str(recs[a]["size"]), "sizes under 1 KiB are bytes, as Exim prints them"
        assert rcpts == [(" ", "bob@example.test"), (" ", "carol@example.test")]
        (age, size, mid, sender, rest, rcpts) = entries[1]
        assert sender == "" and rcpts == [(" ", "dave@example.test")]
        assert re.fullmatch(r"\d\.\dK", size), size
        assert abs(float(size[:-1]) * 1024 - recs[b]["size"]) < 103
        # Exim's column layout: age right-aligned in 3, size in 5.
        first_size = str(recs[a]["size"])
        assert out.stdout.decode().splitlines()[0] == f" 0m {first_size:>5} {a} <alice@sender.test>"

        out = queue(gw, "count")
        assert (out.returncode, out.stdout) == (0, b"2\n")

        out = queue(gw, "show", a)
        assert out.returncode == 0
        assert bp_entries(out.stdout.decode())[0][2] == a
        out = queue(gw, "show", a, "--json")
        rec = json.loads(out.stdout)
        assert rec["id"] == a and rec["state"] == "queued" and rec["body_place"] == "inline"
        assert [r["address"] for r in rec["recipients"]] == ["bob@example.test", "carol@example.test"]
        assert [r["state"] for r in rec["recipients"]] == ["pending", "pending"]
        if phase == "running":
            assert gw.stop() == 0


def test_json_list_is_one_record_a_line(sluice):
    gw = sluice.start()
    ids = [send(gw, f"s{i}@sender.test", ["bob@example.test"], simple()) for i in range(3)]
    out = queue(gw, "list", "--json")
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 3
    recs = [json.loads(l) for l in lines]
    assert [r["id"] for r in recs] == ids
    assert all("data_b64" not in r for r in recs)
    assert [r["sender"] for r in recs] == ["s0@sender.test", "s1@sender.test", "s2@sender.test"]
    for r in recs:
        assert {"state", "body_place", "next_retry", "updated_at", "attempts", "received_at", "size"} <= set(r)


def stuff(lines):
    """(the body as stored, the same lines dot-stuffed for DATA) (RFC 5321 4.5.2)."""
    body = b"".join(l + b"\r\n" for l in lines)
    wire = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
    return body, wire


def test_headers_and_body_are_byte_exact(sluice):
    gw = sluice.start(spool={"inline_max": "4K"})
    header = b"Subject: dots and bytes\r\nX-8bit: caf\xc3\xa9 \xff\xfe\r\n"
    lines = [b".leading dot", b"..two dots", b".", b" . ", b"8-bit \x80\x81\xfe\xff", b"", b"end"]
    small_body, small_wire = stuff(lines)
    big_body, big_wire = stuff(lines + [b".%05d a padding line that takes the body past inline_max" % i
                                        for i in range(200)])
    small = send(gw, "a@sender.test", ["bob@example.test"], header + b"\r\n" + small_wire, " BODY=8BITMIME")
    big = send(gw, "a@sender.test", ["bob@example.test"], header + b"\r\n" + big_wire, " BODY=8BITMIME")
    recs = records(gw)
    assert recs[small]["body_place"] == "inline" and recs[big]["body_place"] == "file"
    for mid, want_body in ((small, small_body), (big, big_body)):
        stored = gw.queued()[mid][1]
        h = queue(gw, "headers", mid)
        assert h.returncode == 0, h.stderr
        assert h.stdout.startswith(b"Received: from client.test"), h.stdout[:80]
        assert h.stdout.endswith(header), "the header block ends with the last header line, no blank line"
        assert not h.stdout.endswith(b"\r\n\r\n")
        b = queue(gw, "body", mid)
        assert b.returncode == 0, b.stderr
        assert b.stdout == want_body
        assert h.stdout + b"\r\n" + b.stdout == stored
    gw.stop()
    assert queue(gw, "body", big).stdout == big_body
    assert queue(gw, "body", small).stdout == small_body


def test_delete_removes_record_and_body_file(sluice):
    gw = sluice.start(spool={"inline_max": "4K"})
    keep = send(gw, "a@sender.test", ["bob@example.test"], simple())
    big = send(gw, "a@sender.test", ["bob@example.test"], simple(3000))
    small = send(gw, "a@sender.test", ["bob@example.test"], simple())
    body_file = gw.spool / "bodies" / big
    assert body_file.exists()
    out = queue(gw, "delete", big)
    assert (out.returncode, out.stdout) == (0, b"delete: 1 message\n"), out.stderr
    assert not body_file.exists()
    assert big not in records(gw)
    assert big.encode() not in queue(gw, "list").stdout
    # Again: no such message.
    out = queue(gw, "delete", big)
    assert out.returncode == 1 and big.encode() in out.stderr
    # After the gateway stopped, an inline one.
    gw.stop()
    assert queue(gw, "delete", small).returncode == 0
    assert list(records(gw)) == [keep]
    assert queue(gw, "count").stdout == b"1\n"
    assert list((gw.spool / "bodies").iterdir()) == []


def deferring_route(tmp_path):
    # The queuefile exporter cannot write there (and, until the exporter is
    # wired in, the gateway defers every queuefile route anyway).
    return [{"name": "exim", "action": "queuefile", "directory": str(tmp_path / "missing" / "input")}]


def test_retry_and_flush_make_deferred_messages_due(sluice, tmp_path):
    gw = sluice.start(route=deferring_route(tmp_path), queue={"retry_first": "1h", "retry_max": "4h"})
    a = send(gw, "a@sender.test", ["bob@example.test"], simple())
    b = send(gw, "a@sender.test", ["carol@example.test"], simple())
    assert wait_until(lambda: all(r["state"] == "deferred" for r in records(gw).values()) and len(records(gw)) == 2)
    now = time.time()
    rec = records(gw)[a]
    assert rec["attempts"] == 1
    assert now + 3600 - 30 <= rec["next_retry"] <= now + 3600 + 5
    assert rec["recipients"][0]["state"] == "deferred" and rec["recipients"][0]["route"] == "exim"
    assert rec["recipients"][0]["error"]
    head = bp_entries(queue(gw, "list").stdout.decode())[0]
    assert head[2] == a and re.fullmatch(r" \*\*\* deferred, retry in \d+s \*\*\*", head[4]), head

    out = queue(gw, "retry", a)
    assert (out.returncode, out.stdout) == (0, b"retry: 1 message\n"), out.stderr
    # The runner looks at the retry index every second: a is tried again,
    # fails again, and waits twice as long; b is untouched.
    assert wait_until(lambda: records(gw)[a]["attempts"] == 2, timeout=10), records(gw)[a]
    rec = records(gw)[a]
    assert rec["state"] == "deferred" and rec["next_retry"] >= time.time() + 7200 - 60
    assert records(gw)[b]["attempts"] == 1

    out = queue(gw, "flush")
    assert (out.returncode, out.stdout) == (0, b"flush: 2 messages\n"), out.stderr
    assert wait_until(lambda: [r["attempts"] for r in records(gw).values()] == [3, 2], timeout=10), records(gw)

    # Stopped: retry still edits the queue, and the next start honours it.
    gw.stop()
    assert queue(gw, "retry", b).returncode == 0
    assert records(gw)[b]["next_retry"] <= time.time()
    gw.start()
    assert wait_until(lambda: records(gw)[b]["attempts"] == 3, timeout=10), records(gw)[b]


def test_retry_of_a_message_that_is_not_deferred_changes_nothing(sluice):
    gw = sluice.start()
    a = send(gw, "a@sender.test", ["bob@example.test"], simple())
    routed(gw, a)
    before = records(gw)[a]
    out = queue(gw, "retry", a)
    assert out.returncode == 0, out.stderr
    # Says that nothing changed, and why, rather than "1 message".
    state = before["state"]
    assert out.stdout.decode() == f"retry: 0 messages ({a} is {state}, not deferred)\n"
    assert records(gw)[a] == before


def test_exit_codes(sluice, tmp_path):
    gw = sluice.start()
    send(gw, "a@sender.test", ["bob@example.test"], simple())
    for cmd in ("show", "headers", "body", "retry", "delete"):
        out = queue(gw, cmd, "1zzzzz-00000000000-0000")
        assert out.returncode == 1, (cmd, out)
        assert b"no message 1zzzzz-00000000000-0000" in out.stderr, (cmd, out.stderr)
    for bad in ([], ["frobnicate"], ["show"], ["list", "extra"], ["count", "x"], ["show", "a", "b"],
                ["--bogus", "list"], ["flush", "x"]):
        out = queue(gw, *bad)
        assert out.returncode == 2, (bad, out)
        assert b"usage: sluice queue" in out.stderr
    missing = tmp_path / "no-such-spool"
    out = queue(gw, "list", spool=missing)
    assert out.returncode == 1
    assert str(missing).encode() in out.stderr
    assert not missing.exists(), "looking at a queue creates nothing"
    for cmd in (["retry", "x"], ["delete", "x"], ["flush"]):
        out = queue(gw, *cmd, spool=missing)
        assert out.returncode == 1, (cmd, out)
        assert str(missing).encode() in out.stderr
        assert not missing.exists(), f"{cmd[0]} on a missing spool must not create one"


def test_config_and_spool_options_find_the_same_queue(sluice):
    gw = sluice.start()
    mid = send(gw, "a@sender.test", ["bob@example.test"], simple())
    routed(gw, mid)
    by_spool = queue(gw, "list", "--json")
    # The config names the spool relative to the gateway's working directory.
    by_config = queue(gw, "--config", gw.config_path, "list", "--json", spool=False, cwd=gw.dir)
    assert by_config.returncode == 0, by_config.stderr
    assert by_config.stdout == by_spool.stdout
    assert json.loads(by_config.stdout)["id"] == mid
    out = queue(gw, "-c", gw.config_path, "count", spool=False, cwd=gw.dir)
    assert out.stdout == b"1\n"
    bad = gw.dir / "bad.toml"
    bad.write_text("[spool]\nnonsense = 1\n")
    out = queue(gw, "--config", bad, "list", spool=False)
    assert out.returncode == 1 and b"nonsense" in out.stderr


def test_discard_route_marks_done_and_routes_by_domain(sluice):
    gw = sluice.start(smtp={"local_domains": ["example.test", "discard.test"]},
                      route=[{"name": "blackhole", "domains": ["discard.test"], "action": "discard"}])
    mixed = send(gw, "a@sender.test", ["gone@discard.test", "kept@example.test"], simple())
    all_gone = send(gw, "a@sender.test", ["x@discard.test", "y@discard.test"], simple())
    assert wait_until(lambda: records(gw)[all_gone]["state"] == "done")
    assert wait_until(lambda: records(gw)[mixed]["recipients"][0]["state"] == "delivered")
    rec = records(gw)[mixed]
    assert rec["state"] == "queued", "the other recipient still waits for relay"
    assert [(r["state"], r.get("route", "")) for r in rec["recipients"]] == [("delivered", "blackhole"), ("pending", "")]
    entries = {e[2]: e for e in bp_entries(queue(gw, "list").stdout.decode())}
    assert entries[mixed][4] == ""
    assert entries[mixed][5] == [("D", "gone@discard.test"), (" ", "kept@example.test")]
    assert entries[all_gone][4] == " *** done ***"
    assert entries[all_gone][5] == [("D", "x@discard.test"), ("D", "y@discard.test")]
    # A finished message has no body left; its record stays for keep_done (1h).
    out = queue(gw, "body", all_gone)
    assert out.returncode == 1 and b"gone" in out.stderr
    assert queue(gw, "body", mixed).stdout == b"line 0\r\nline 1\r\nline 2\r\n"
    gw.wait_log(f"id={all_gone}")
    assert "event=discarded" in gw.log() and "event=completed" in gw.log()


def test_done_records_are_purged_after_keep_done(sluice):
    gw = sluice.start(smtp={"local_domains": ["example.test", "discard.test"]},
                      route=[{"name": "blackhole", "domains": ["discard.test"], "action": "discard"}],
                      queue={"keep_done": "1s"})
    kept = send(gw, "a@sender.test", ["kept@example.test"], simple())
    gone = send(gw, "a@sender.test", ["x@discard.test"], simple())
    started = time.time()
    # The sweep runs every min(keep_done, 60 s): a 1 s keep_done is honoured
    # within a few seconds, not after a minute.
    assert wait_until(lambda: gone not in records(gw), timeout=8), records(gw).get(gone)
    assert time.time() - started < 8 * SLOW
    assert list(records(gw)) == [kept], "unfinished messages are never purged"
    gw.wait_log("event=queue_purged")
    assert f"id={gone}" in [f for line in gw.log().splitlines() if "queue_purged" in line for f in line.split()]


def test_reader_slot_of_a_killed_queue_tool_is_freed(sluice):
    # `sluice queue list | head` dies of SIGPIPE inside its LMDB read
    # transaction; its reader slot would pin every page freed after it and
    # the database would grow until the map is full. The runner's sweep
    # (every min(keep_done, 60 s)) clears such slots.
    gw = sluice.start(queue={"keep_done": "1s"})
    send(gw, "a@sender.test", ["bob@example.test"], simple(30000))  # ~300 KB: more than a pipe holds
    p = subprocess.Popen([BIN, "queue", "--spool", str(gw.spool), "list", "--json", "--data"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        # It blocks writing to the pipe we do not read, inside its read transaction.
        time.sleep(0.5 * SLOW)
        assert p.poll() is None, "the reader finished before it could be killed"
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
    gw.wait_log("event=stale_readers", timeout=10)
    assert "cleared 1 LMDB reader slot" in gw.log()


def send_sized(gw, size, rcpts=("bob@example.test",)):
    """One message of about `size` bytes: (code, last reply line)."""
    data = b"Subject: filler\r\n\r\n" + b"".join(b"%077d\r\n" % i for i in range(size // 79))
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO client.test")[0] == 250
    r.expect("MAIL FROM:<a@sender.test>", 250)
    for rcpt in rcpts:
        r.expect(f"RCPT TO:<{rcpt}>", 250)
    r.expect("DATA", 354)
    r.send(data + b".\r\n")
    code, lines = r.read_reply()
    r.cmd("QUIT")
    r.close()
    return code, lines[-1]


def test_a_flush_on_a_full_map_keeps_to_the_gateways_map(sluice, tmp_path):
    # The tool used to open the queue with the default 4 GiB map: a write
    # on a full 1 MiB map that needed more pages than were free grew
    # data.mdb past the gateway's map, and from then on every gateway
    # transaction failed with MDB_MAP_RESIZED (451 after DATA) until a
    # restart. It now takes the map size the gateway recorded.
    gw = sluice.start(smtp={"local_domains": ["example.test", "defer.test"]},
                      spool={"map_size": "1M", "inline_max": "200K"},
                      route=[{**deferring_route(tmp_path)[0], "domains": ["defer.test"]}],
                      queue={"retry_first": "1h", "retry_max": "4h"})
    # Three deferred messages of 100 recipients: records of some 20 KB,
    # which `flush` rewrites in one transaction.
    for i in range(3):
        rcpts = [f"recipient-{n:03d}-of-deferred-message-{i}@defer.test" for n in range(100)]
        assert send_sized(gw, 2_000, rcpts)[0] == 250
    assert wait_until(lambda: [r["state"] for r in records(gw).values()] == ["deferred"] * 3)
    # Then mail for relay in ever smaller sizes, until the map is full to
    # its last pages.
    for size in (150_000, 20_000, 2_000, 300):
        for _ in range(40):
            code, text = send_sized(gw, size, ["bob@example.test"])
            if code != 250:
                assert code == 452 and "4.3.1" in text, (code, text)
                break
        assert code == 452, size
    # The flush fits in the room the gateway keeps free for state changes
    # (storage/map_headroom.hpp), inside the gateway's map.
    out = queue(gw, "flush")
    assert (out.returncode, out.stdout) == (0, b"flush: 3 messages\n"), out.stderr
    # Within the gateway's map: the gateway would adopt a larger one without
    # a word (QueueStore::begin), so the file's size is what tells.
    assert (gw.spool / "queue" / "data.mdb").stat().st_size <= 1 << 20
    # And the gateway goes on: the runner takes the flushed messages through
    # their (still failing) route again (a state change that finds no room
    # is tried again a second later), and deleting some relay mail makes
    # room for new mail, no restart.
    assert wait_until(lambda: [r["attempts"] for r in records(gw).values() if r["recipients"][0]["address"].startswith("recipient-")] == [2] * 3), records(gw)
    relay = [m for m, r in records(gw).items() if r["recipients"][0]["address"] == "bob@example.test"]
    for mid in relay[:2]:
        out = queue(gw, "delete", mid)
        assert out.returncode == 0, out.stderr
    assert wait_until(lambda: send_sized(gw, 20_000)[0] == 250, timeout=5), gw.log()[-2000:]
    assert (gw.spool / "queue" / "data.mdb").stat().st_size <= 1 << 20
