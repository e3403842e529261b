"""BDAT / CHUNKING (RFC 3030): length-delimited message data, stored byte for
byte (no dot-stuffing, no line-ending rules), and chunks always read, even
when refused, so the dialogue stays in sync."""
import os

from conftest import Raw, greet, spool_tmp_files, split_received, wait_until


def start_tx(r, rcpts=("bob@example.test",), mail="MAIL FROM:<a@sender.test>"):
    r.expect(mail, 250, "2.1.0")
    for rcpt in rcpts:
        r.expect(f"RCPT TO:<{rcpt}>", 250, "2.1.5")


def bdat(r, chunk, last=False):
    r.send(f"BDAT {len(chunk)}{' LAST' if last else ''}\r\n".encode() + chunk)
    return r.read_reply()


def accepted_id(code, lines):
    assert code == 250 and lines[0].startswith("250 2.0.0 OK id="), lines
    return lines[0].split("id=")[1]


def stored(gw, mid):
    env, data = gw.queued()[mid]
    assert env["size"] == len(data), (env["size"], len(data))
    return env, split_received(data)[1]


def test_single_chunk_last(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    msg = b"Subject: bdat\r\n\r\nhello\r\n"
    mid = accepted_id(*bdat(r, msg, last=True))
    env, body = stored(gw, mid)
    assert body == msg
    assert env["protocol"] == "esmtp"
    assert r.cmd("QUIT")[0] == 221


def test_several_chunks_then_last(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r, rcpts=("bob@example.test", "carol@example.test"))
    parts = [b"Subject: chunks\r\n", b"\r\n", b"part one, ", b"part two\r\n" * 100]
    for p in parts:
        code, lines = bdat(r, p)
        assert code == 250 and lines[0] == f"250 2.0.0 {len(p)} octets received", lines
    mid = accepted_id(*bdat(r, b"the end\r\n", last=True))
    env, body = stored(gw, mid)
    assert body == b"".join(parts) + b"the end\r\n"
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test", "carol@example.test"]


def test_bdat_zero_last_ends_the_message(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    assert bdat(r, b"Subject: z\r\n\r\nbody\r\n")[0] == 250
    mid = accepted_id(*bdat(r, b"", last=True))
    assert stored(gw, mid)[1] == b"Subject: z\r\n\r\nbody\r\n"


def test_bdat_zero_last_alone_is_an_empty_message(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    mid = accepted_id(*bdat(r, b"", last=True))
    assert stored(gw, mid)[1] == b""


def test_binary_content_is_stored_verbatim(sluice):
    # What would end or be rewritten in DATA is plain content in BDAT: the
    # end marker, dot-stuffed lines, bare LF and CR, NUL and 8-bit bytes.
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r, mail="MAIL FROM:<a@sender.test> BODY=BINARYMIME")
    chunk1 = b"Subject: bin\r\n\r\nline\r\n.\r\nMAIL FROM:<evil@sender.test>\r\n..two dots\r\n"
    chunk2 = b"bare\nlf and bare\rcr\x00nul\xff\xfe" + bytes(range(256)) + b"\r\n.\r\n"
    assert bdat(r, chunk1)[0] == 250
    mid = accepted_id(*bdat(r, chunk2, last=True))
    env, body = stored(gw, mid)
    assert body == chunk1 + chunk2
    assert env["body"] == "BINARYMIME"
    assert env["recipients"][0]["address"] == "bob@example.test"
    assert len(gw.queued()) == 1


def test_large_chunk_spanning_many_reads(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    chunk = os.urandom(3 * 1024 * 1024)
    mid = accepted_id(*bdat(r, chunk, last=True))
    assert stored(gw, mid)[1] == chunk


def test_pipelined_bdat_group(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.send(b"MAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.test>\r\n"
           b"BDAT 7\r\nSubjectBDAT 9\r\n: piped\r\nBDAT 6 LAST\r\n\r\nbodyNOOP\r\n")
    (c1, _), (c2, _), (c3, l3), (c4, l4), (c5, l5), (c6, l6) = r.replies(6)
    assert (c1, c2) == (250, 250)
    assert l3 == ["250 2.0.0 7 octets received"] and l4 == ["250 2.0.0 9 octets received"]
    mid = accepted_id(c5, l5)
    assert l6 == ["250 2.0.0 OK"]
    assert stored(gw, mid)[1] == b"Subject: piped\r\n\r\nbody"


def test_bdat_without_mail_is_refused_and_its_chunk_consumed(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    # The chunk looks like commands; they must never run.
    code, lines = bdat(r, b"QUIT\r\nQUIT\r\n")
    assert code == 503 and lines[0].startswith("503 5.5.1 "), lines
    r.expect("NOOP", 250, "2.0.0")
    start_tx(r)
    mid = accepted_id(*bdat(r, b"ok\r\n", last=True))
    assert stored(gw, mid)[1] == b"ok\r\n"
    assert len(gw.queued()) == 1


def test_bdat_without_rcpt_is_refused_and_later_chunks_too(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    code, lines = bdat(r, b"RSET\r\n")
    assert code == 554 and lines[0].startswith("554 5.5.1 "), lines
    r.expect("RCPT TO:<bob@example.test>", 250, "2.1.5")
    # RFC 3030 2: after a failed chunk the transaction is over.
    code, lines = bdat(r, b"x", last=True)
    assert code == 503 and lines[0].startswith("503 5.5.1 "), lines
    r.expect("RSET", 250)
    start_tx(r)
    mid = accepted_id(*bdat(r, b"fresh", last=True))
    assert stored(gw, mid)[1] == b"fresh"
    assert len(gw.queued()) == 1


def test_data_and_rcpt_after_bdat_are_refused(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    assert bdat(r, b"first ")[0] == 250
    r.expect("DATA", 503, "5.5.1")
    r.expect("RCPT TO:<carol@example.test>", 503, "5.5.1")
    mid = accepted_id(*bdat(r, b"second", last=True))
    env, body = stored(gw, mid)
    assert body == b"first second"
    assert [x["address"] for x in env["recipients"]] == ["bob@example.test"]


def test_binarymime_needs_bdat(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r, mail="MAIL FROM:<a@sender.test> BODY=BINARYMIME")
    r.expect("DATA", 503, "5.5.1")


def test_rset_drops_a_half_sent_bdat_message(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    # Big enough for the spool to have started a file in tmp/.
    assert bdat(r, b"half a message\r\n" * 20000)[0] == 250
    r.expect("RSET", 250, "2.0.0")
    r.expect("QUIT", 221)
    assert r.closed()
    assert gw.queued() == {}
    gw.wait_log("event=disconnect")
    assert wait_until(lambda: spool_tmp_files(gw) == []), spool_tmp_files(gw)


def test_bdat_then_data_on_the_same_connection(sluice):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    m1 = accepted_id(*bdat(r, b"by bdat\r\n", last=True))
    start_tx(r)
    r.expect("DATA", 354)
    m2 = accepted_id(*r.cmd("by data\r\n."))
    assert stored(gw, m1)[1] == b"by bdat\r\n"
    assert stored(gw, m2)[1] == b"by data\r\n"


def check_syntax_error_closes(sluice, line):
    gw = sluice.start()
    r = greet(gw.port)
    start_tx(r)
    r.send(line + "\r\nNOOP\r\n")
    code, lines = r.read_reply()
    assert code == 501 and lines[0].startswith("501 5.5.4 "), (line, lines)
    assert r.closed()
    assert r.buf == b"", r.buf  # nothing after the 501: NOOP was never read as a command
    assert gw.queued() == {}


def test_bdat_size_not_a_number_closes(sluice):
    check_syntax_error_closes(sluice, "BDAT abc")


def test_bdat_without_size_closes(sluice):
    check_syntax_error_closes(sluice, "BDAT")


def test_bdat_negative_size_closes(sluice):
    check_syntax_error_closes(sluice, "BDAT -5 LAST")


def test_bdat_bad_last_keyword_closes(sluice):
    check_syntax_error_closes(sluice, "BDAT 5 LATER")


def test_bdat_size_too_big_for_64_bits_closes(sluice):
    check_syntax_error_closes(sluice, "BDAT 99999999999999999999999")


def test_bdat_not_offered_when_chunking_is_off(sluice):
    gw = sluice.start(smtp={"chunking": False})
    r = Raw(gw.port)
    r.read_reply()
    code, lines = r.cmd("EHLO client.test")
    assert "250-CHUNKING" not in lines
    start_tx(r)
    r.send("BDAT 4 LAST\r\nabcd")
    code, lines = r.read_reply()
    assert code == 502 and lines[0].startswith("502 5.5.1 "), lines
    assert r.closed()
    assert gw.queued() == {}
