"""Process-level behaviour: SIGTERM drain, SIGHUP reload, spool recovery.

Drain (gateway.cpp): the listeners close at once; a session with no
transaction gets 421 4.3.2; a transaction in progress may finish until
timeouts.drain, after which it gets 421 4.3.2 too and its half-written
message is thrown away; then the process exits 0.
Reload (docs/configuration.md, "Reload: SIGHUP"): a good file takes effect
for new sessions only, listeners are opened and closed to match, a bad file
is refused whole and the old config stays.
"""
import copy
import re
import signal
import smtplib
import socket
import threading
import time

from conftest import SLOW, Gateway, Raw, free_port, spool_tmp_files, wait_until


def begin_data(port, rcpts=1):
    """A session that is inside DATA (354 received)."""
    r = Raw(port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO drain.test")[0] == 250
    assert r.cmd("MAIL FROM:<a@src.test>")[0] == 250
    for i in range(rcpts):
        assert r.cmd(f"RCPT TO:<r{i}@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    return r


def greeted(port):
    r = Raw(port)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO idle.test")[0] == 250
    return r


def connect_refused(port, within=3):
    """True once connecting to port is refused (the listener has closed)."""
    deadline = time.time() + within * SLOW
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except ConnectionRefusedError:
            return True
        s.close()
        time.sleep(0.05)
    return False


def accepts(port):
    r = Raw(port)
    code, lines = r.read_reply()
    r.cmd("QUIT")
    r.close()
    return code == 220


def wait_exit(gw, timeout):
    gw.proc.wait(timeout=timeout * SLOW)
    return gw.proc.returncode


def accepted_then_closed_by_the_drain(r, gw):
    """The 250 for the message just sent, then the drain's 421 4.3.2 and the
    connection closed, the process gone with status 0 and one message
    queued."""
    code, lines = r.read_reply()
    assert code == 250, lines
    code, lines = r.read_reply()
    assert code == 421 and lines[0].startswith("421 4.3.2 "), lines
    assert r.closed()
    assert wait_exit(gw, 10) == 0
    assert len(gw.queued()) == 1


def test_sigterm_drain_lets_a_transaction_finish(sluice):
    gw = sluice.start(timeouts={"drain": 30})
    busy = begin_data(gw.port)
    first_half = "Subject: drain\r\n\r\n" + "first half\r\n" * 100
    busy.send(first_half)
    idle = greeted(gw.port)
    time.sleep(0.2)  # both sessions are now waiting for input

    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")

    # No transaction: told at once, then closed.
    code, lines = idle.read_reply()
    assert code == 421 and lines[0].startswith("421 4.3.2 "), lines
    assert time.monotonic() - t0 < 2 * SLOW
    assert idle.closed()

    # Nobody new gets in.
    assert connect_refused(gw.port)
    assert gw.proc.poll() is None  # still waiting for the busy session

    # The transaction in progress finishes normally.
    second_half = "second half\r\n" * 100
    busy.send(second_half + ".\r\n")
    code, lines = busy.read_reply()
    assert code == 250, lines
    mid = lines[0].split("id=")[1]
    # Its transaction over, the session is closed too.
    code, lines = busy.read_reply()
    assert code == 421 and lines[0].startswith("421 4.3.2 "), lines
    assert busy.closed()

    assert wait_exit(gw, 10) == 0
    q = gw.queued()
    assert list(q) == [mid]
    assert q[mid][1].endswith((first_half + second_half).encode())
    assert spool_tmp_files(gw) == []
    log = gw.log()
    assert "event=stopped accepted=1 " in log
    assert "level=error" not in log


def test_sigterm_drain_deadline_abandons_stalled_transactions(sluice):
    gw = sluice.start(timeouts={"drain": 1})
    stalled = begin_data(gw.port)
    # More than spool.inline_max (128 KiB), so part of it is on disk in bodies/.
    stalled.send("Subject: stalled\r\n\r\n" + ("x" * 998 + "\r\n") * 300)
    assert wait_until(lambda: spool_tmp_files(gw), timeout=10), "nothing written to spool/bodies"
    # A transaction that has recipients but never reaches DATA.
    envelope_only = Raw(gw.port)
    assert envelope_only.read_reply()[0] == 220
    assert envelope_only.cmd("EHLO slow.test")[0] == 250
    assert envelope_only.cmd("MAIL FROM:<a@src.test>")[0] == 250
    assert envelope_only.cmd("RCPT TO:<b@example.test>")[0] == 250

    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    for r in (stalled, envelope_only):
        code, lines = r.read_reply()
        waited = time.monotonic() - t0
        assert code == 421 and lines[0].startswith("421 4.3.2 "), lines
        assert 0.8 <= waited <= 5 * SLOW, waited  # at the deadline, not before
        assert r.closed()

    assert wait_exit(gw, 10) == 0
    assert gw.queued() == {}
    assert list((gw.spool / "bodies").iterdir()) == []  # the half-written file is gone
    log = gw.log()
    assert "event=drain_deadline open=2" in log
    assert "reason=shutdown" in log
    assert "event=stopped accepted=0 " in log


def reload(gw, tables, count):
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded", count=count)


def rcpt_limit_seen(port, n):
    """Sends n+1 recipients; returns how many got 250 before a 452 4.5.3."""
    r = greeted(port)
    assert r.cmd("MAIL FROM:<a@src.test>")[0] == 250
    ok = 0
    for i in range(n + 1):
        code, lines = r.cmd(f"RCPT TO:<r{i}@example.test>")
        if code != 250:
            assert code == 452 and lines[0].startswith("452 4.5.3"), lines
            break
        ok += 1
    r.cmd("QUIT")
    r.close()
    return ok


def test_sighup_new_limits_for_new_sessions_only(sluice):
    gw = sluice.start(limits={"max_recipients": 5})
    before = greeted(gw.port)

    tables = copy.deepcopy(gw.tables)
    tables["limits"]["max_recipients"] = 2
    reload(gw, tables, count=1)

    assert rcpt_limit_seen(gw.port, 5) == 2

    # The session opened before the reload keeps its config: 5, and a message.
    assert before.cmd("MAIL FROM:<a@src.test>")[0] == 250
    for i in range(5):
        assert before.cmd(f"RCPT TO:<r{i}@example.test>")[0] == 250
    code, lines = before.cmd("RCPT TO:<r5@example.test>")
    assert code == 452, lines
    assert before.cmd("DATA")[0] == 354
    code, lines = before.cmd("Subject: old limits\r\n\r\nbody\r\n.")
    assert code == 250, lines
    mid = lines[0].split("id=")[1]
    env, _ = gw.queued()[mid]
    assert len(env["recipients"]) == 5
    assert before.cmd("QUIT")[0] == 221


def test_sighup_opens_and_closes_listeners(sluice):
    gw = sluice.start()
    second = free_port()
    tables = copy.deepcopy(gw.tables)
    tables["listener"].append({"name": "second", "address": "127.0.0.1", "port": second})
    reload(gw, tables, count=1)
    assert accepts(second)
    assert accepts(gw.port)

    # A session on the listener that is about to go keeps working.
    on_second = greeted(second)
    tables = copy.deepcopy(tables)
    tables["listener"] = tables["listener"][:1]
    reload(gw, tables, count=2)
    gw.wait_log("event=listener_closed listener=second@127.0.0.1:" + str(second))
    assert connect_refused(second)
    assert accepts(gw.port)

    assert on_second.cmd("MAIL FROM:<a@src.test>")[0] == 250
    assert on_second.cmd("RCPT TO:<b@example.test>")[0] == 250
    assert on_second.cmd("DATA")[0] == 354
    code, lines = on_second.cmd("Subject: x\r\n\r\nbody\r\n.")
    assert code == 250, lines
    assert on_second.cmd("QUIT")[0] == 221
    assert len(gw.queued()) == 1
    assert "level=error" not in gw.log()


def line_of(text, needle):
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in config")


def test_sighup_with_bad_config_keeps_the_old_one(sluice):
    gw = sluice.start(limits={"max_recipients": 2})
    good = copy.deepcopy(gw.tables)

    bad = copy.deepcopy(good)
    bad["limits"] = {"max_recipent": 9, "max_recipients": 9}
    bad["smtp"]["trusted_networks"] = ["10.0.0.0/33"]
    gw.rewrite_config(bad)
    text = gw.config_path.read_text()
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reload_refused", count=2)
    log = gw.log()
    path = str(gw.config_path)
    assert re.search(rf'event=reload_refused problem="{re.escape(path)}:{line_of(text, "max_recipent =")}:\d+: '
                     r'unknown key \\x22max_recipent\\x22 in \[limits\]', log), log
    assert re.search(rf'event=reload_refused problem="{re.escape(path)}:{line_of(text, "trusted_networks")}:\d+: '
                     r'smtp\.trusted_networks\[0\]', log), log
    assert "event=reloaded" not in log
    assert rcpt_limit_seen(gw.port, 9) == 2  # the old limit

    # A listener that cannot bind refuses the whole reload too.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        bad = copy.deepcopy(good)
        bad["limits"]["max_recipients"] = 9
        bad["listener"].append({"name": "taken", "address": "127.0.0.1", "port": busy_port})
        gw.rewrite_config(bad)
        gw.signal(signal.SIGHUP)
        gw.wait_log("event=reload_refused", count=3)
        assert re.search(rf'event=reload_refused problem="listener taken on 127\.0\.0\.1:{busy_port}: ', gw.log())
        assert rcpt_limit_seen(gw.port, 9) == 2

    # And a good file afterwards is taken.
    fixed = copy.deepcopy(good)
    fixed["limits"]["max_recipients"] = 3
    reload(gw, fixed, count=1)
    assert rcpt_limit_seen(gw.port, 9) == 3
    assert gw.proc.poll() is None


def test_spool_recovery_at_start(sluice):
    gw = sluice.start()
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["b@example.test"], "Subject: keep me\r\n\r\nbody\r\n")
    # With no routes the runner writes nothing back (the recipient waits for
    # relay), so the record as committed is the record to compare with.
    kept = gw.queued()
    assert len(kept) == 1
    assert gw.stop() == 0

    # What a crash can leave: body files of messages still being received
    # (no record names them; the record's transaction is the commit point),
    # and a record caught "delivering".
    bodies = gw.spool / "bodies"
    (bodies / "1xDead0-000000000000-0000").write_bytes(b"Received: half\r\n")
    (bodies / "1xDead1-000000000000-0000").write_bytes(b"Subject: half received\r\n\r\n")

    gw.start(wait=False)
    gw.wait_log("event=started", count=2)
    recovered = [l for l in gw.log().splitlines() if "event=spool_recovered" in l]
    assert len(recovered) == 2
    assert "queued=1 removed_orphan_bodies=2 requeued=0" in recovered[1], recovered[1]
    assert list(bodies.iterdir()) == []
    assert gw.queued() == kept

    # And the gateway works on top of the recovered spool.
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
        c.sendmail("a@src.test", ["b@example.test"], "Subject: after\r\n\r\nbody\r\n")
    assert len(gw.queued()) == 2
    assert gw.stop() == 0


def test_sigterm_drain_no_new_transaction_after_the_current_one(sluice):
    # A pipelining client may send its next MAIL right behind the final dot
    # (RFC 2920 3.1). Draining lets the transaction in progress finish; it
    # must not let a new one start, even one already waiting in the buffer.
    gw = sluice.start(timeouts={"drain": 30})
    busy = begin_data(gw.port)
    busy.send("Subject: first\r\n\r\nbody\r\n")
    time.sleep(0.2)
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")
    busy.send(".\r\nMAIL FROM:<a@src.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    accepted_then_closed_by_the_drain(busy, gw)


def test_sigterm_drain_finishes_a_reply_the_client_is_slow_to_read(sluice):
    # The drain wakes whatever a connection waits for on its socket, a write
    # included. Replies the client has not taken yet are still written
    # whole and its transaction may finish: the session must not end as a
    # lost connection with its replies cut off (were the cut reply the 250
    # after DATA, the client would send the message again).
    gw = sluice.start(timeouts={"drain": 60 * SLOW}, limits={"max_junk_commands": 1_000_000})
    r = Raw(gw.port, rcvbuf=4096)
    assert r.read_reply()[0] == 220
    assert r.cmd("EHLO slow-reader.test")[0] == 250
    assert r.cmd("MAIL FROM:<a@src.test>")[0] == 250
    assert r.cmd("RCPT TO:<b@example.test>")[0] == 250
    code, lines = r.cmd("NOOP")
    assert code == 250 and len(lines) == 1
    reply = (lines[0] + "\r\n").encode()
    # Their replies (some 4 MB) are more than the client's small receive
    # buffer and the server's send buffer take: the server waits to write.
    n = 300_000
    sender = threading.Thread(target=r.send, args=(b"NOOP\r\n" * n,), daemon=True)
    sender.start()
    time.sleep(1.0 * SLOW)
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")
    time.sleep(0.3)

    want = len(reply) * n
    got = bytearray(r.buf)
    r.buf = b""
    while len(got) < want:
        chunk = r.s.recv(1 << 16)
        assert chunk, f"closed after {len(got)} of {want} bytes of replies"
        got += chunk
    assert bytes(got[:want]) == reply * n
    r.buf = bytes(got[want:])
    sender.join(timeout=10 * SLOW)
    assert not sender.is_alive()

    assert r.cmd("DATA")[0] == 354
    r.send("Subject: slow reader\r\n\r\nbody\r\n.\r\n")
    accepted_then_closed_by_the_drain(r, gw)
    assert 'reason="lost connection' not in gw.log()


def test_sigterm_does_not_wait_for_a_proxy_header(sluice):
    # A connection still owing its PROXY header (up to 10 s) has nothing to
    # finish: it must not hold the drain up.
    port = free_port()
    gw = sluice.start(listener=[{"name": "proxied", "address": "127.0.0.1", "port": port,
                                 "proxy_protocol": True, "proxy_trusted": ["127.0.0.1"]}])
    silent = Raw(port)
    time.sleep(0.2)
    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    assert wait_exit(gw, 5) == 0
    assert time.monotonic() - t0 < 3 * SLOW
    assert silent.closed() and silent.buf == b""


def test_sighup_refuses_a_listener_on_another_gateways_port(sluice):
    # The other holder here is a Sluice too, whose SO_REUSEPORT sockets the
    # kernel would let us join: the reload must be refused all the same.
    other = sluice.start()
    gw = sluice.start(limits={"max_recipients": 2})
    tables = copy.deepcopy(gw.tables)
    tables["limits"]["max_recipients"] = 9
    tables["listener"].append({"name": "stolen", "address": "127.0.0.1", "port": other.port})
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reload_refused")
    assert re.search(rf'event=reload_refused problem="listener stolen on 127\.0\.0\.1:{other.port}: ', gw.log())
    assert rcpt_limit_seen(gw.port, 9) == 2
    # Every connection to the other gateway's port still reaches it.
    for _ in range(8):
        assert accepts(other.port)
    assert other.log().count("event=connect ") == 8
    assert gw.log().count("event=connect ") == 1  # rcpt_limit_seen's own session


def unstarted(sluice, name):
    """A gateway with the default test config, not started yet."""
    gw = Gateway(sluice.tmp / name, sluice.config())
    sluice.all.append(gw)  # stopped by the fixture whatever happens
    return gw


def signal_while_starting(gw, sig):
    """Starts gw and sends sig as soon as the log shows the process object
    exists ("event=dns", logged before listeners, spool and workers are
    opened). Returns whether "event=started" was already logged just before
    the signal went, i.e. whether it surely missed the start-up it is meant
    to hit."""
    gw.start(wait=False)
    deadline = time.time() + 15 * SLOW
    while "event=dns" not in gw.log():
        assert gw.proc.poll() is None, gw.log()[-3000:]
        assert time.time() < deadline, gw.log()[-3000:]
        time.sleep(0.0002)
    too_late = "event=started" in gw.log()
    gw.signal(sig)
    return too_late


def test_sighup_during_start_up_is_a_reload_once_running(sluice):
    # Before: the handler was installed after "started", so a SIGHUP in that
    # gap (a config map updated as the pod starts) ended the process.
    for attempt in range(5):
        gw = unstarted(sluice, f"hup{attempt}")
        too_late = signal_while_starting(gw, signal.SIGHUP)
        gw.wait_log("event=reloaded")
        assert gw.proc.poll() is None
        assert accepts(gw.port)
        log = gw.log()
        assert log.index("event=started") < log.index("event=reloaded")
        gw.stop()
        if not too_late:
            return
    raise AssertionError("in 5 tries the SIGHUP never came before 'started': the start-up gap was not tested")


def test_sigterm_during_start_up_drains_once_running(sluice):
    gw = unstarted(sluice, "term")
    signal_while_starting(gw, signal.SIGTERM)
    assert wait_exit(gw, 10) == 0, gw.log()[-3000:]
    log = gw.log()
    assert "event=draining" in log and "event=stopped" in log
