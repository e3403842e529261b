"""PIPELINING (RFC 2920): commands sent in groups get their replies in
order, one per command, and a deep pipeline neither loses nor reorders
replies nor makes the gateway buffer without bound."""
import threading

from conftest import Raw, greet, memory_test_env, proc_status, split_received


def test_whole_transaction_in_one_send(sluice):
    gw = sluice.start()
    r = Raw(gw.port)
    assert r.read_reply()[0] == 220
    r.send("EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.test>\r\n"
           "RCPT TO:<carol@example.test>\r\nDATA\r\n")
    (c1, ehlo), (c2, mail), (c3, r1), (c4, r2), (c5, data) = r.replies(5)
    assert c1 == 250 and ehlo[0].startswith("250-mx.sluice.test Hello client.test") and "250-PIPELINING" in ehlo
    assert (c2, mail[0][:9]) == (250, "250 2.1.0")
    assert (c3, r1[0][:9]) == (250, "250 2.1.5")
    assert (c4, r2[0][:9]) == (250, "250 2.1.5")
    assert c5 == 354
    # Message, end of data and QUIT in one send too.
    r.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    (c6, ok), (c7, _) = r.replies(2)
    assert c6 == 250 and ok[0].startswith("250 2.0.0 OK id=")
    assert c7 == 221
    assert r.closed()
    mid = ok[0].split("id=")[1]
    q = gw.queued()
    assert list(q) == [mid]
    env, data = q[mid]
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test", "carol@example.test"]
    assert split_received(data)[1] == b"Subject: pipelined\r\n\r\nbody\r\n"


def test_errors_inside_a_pipeline_keep_their_place(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.send("MAIL FROM:<a@sender.test>\r\nRCPT TO:<x@elsewhere.test>\r\nFOO\r\n"
           "RCPT TO:<bob@example.test>\r\nMAIL FROM:<b@sender.test>\r\nRCPT TO:<>\r\nNOOP\r\nRSET\r\n"
           "RCPT TO:<bob@example.test>\r\n")
    got = [(c, l[-1][:9]) for c, l in r.replies(9)]
    assert got == [(250, "250 2.1.0"), (550, "550 5.7.1"), (500, "500 5.5.1"), (250, "250 2.1.5"),
                   (503, "503 5.5.1"), (501, "501 5.1.3"), (250, "250 2.0.0"), (250, "250 2.0.0"),
                   (503, "503 5.5.1")]


def test_several_transactions_in_one_send(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    group = ""
    for i in range(5):
        group += f"MAIL FROM:<s{i}@sender.test>\r\nRCPT TO:<r{i}@example.test>\r\nDATA\r\n"
        group += f"Subject: {i}\r\n\r\nmessage {i}\r\n.\r\n"
    r.send(group + "QUIT\r\n")
    ids = []
    for i in range(5):
        codes = [c for c, _ in r.replies(3)]
        assert codes == [250, 250, 354], (i, codes)
        code, lines = r.read_reply()
        assert code == 250 and lines[0].startswith("250 2.0.0 OK id="), lines
        ids.append(lines[0].split("id=")[1])
    assert r.read_reply()[0] == 221
    q = gw.queued()
    assert sorted(q) == sorted(ids) and len(set(ids)) == 5
    for i, mid in enumerate(ids):
        env, data = q[mid]
        assert env["sender"] == f"s{i}@sender.test"
        assert split_received(data)[1] == f"Subject: {i}\r\n\r\nmessage {i}\r\n".encode()


def test_deep_pipeline_all_replies_in_order_and_bounded(sluice):
    # 20000 commands (~300 KB, several times limits.max_pipelined_bytes) in
    # one go, read concurrently so neither side blocks the other: every reply
    # arrives, in order, and the gateway's memory does not follow the input.
    # (NOOP and VRFY are junk commands: their limit is lifted for this.)
    gw = sluice.start(env=memory_test_env(), limits={"max_junk_commands": 100000})
    r = greet(gw.port)
    before = proc_status(gw.proc.pid)["VmHWM"]
    n = 20000
    cmds = []
    for i in range(n):
        cmds.append(f"NOOP {i}\r\n" if i % 3 else f"VRFY user{i}\r\n")
    sender = threading.Thread(target=r.send, args=("".join(cmds),))
    sender.start()
    for i in range(n):
        code, lines = r.read_reply()
        assert code == (250 if i % 3 else 252), (i, lines)
    sender.join()
    assert r.cmd("QUIT")[0] == 221
    assert proc_status(gw.proc.pid)["VmHWM"] - before < 8 * 1024
