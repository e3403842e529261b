"""SIZE (RFC 1870) and limits.max_message_size: the declared size is checked
at MAIL, the real size while the data streams in (DATA and BDAT); a message
over the limit gets 552 5.3.4, nothing is spooled and the session goes on."""
from conftest import greet, spool_tmp_files, split_received, wait_until

LIMIT = 10000


def body_of(n):
    """A message of exactly n bytes as the client means it (CRLF lines)."""
    head = b"Subject: size\r\n\r\n"
    line = b"a" * 76 + b"\r\n"
    out = head + line * ((n - 2 - len(head)) // len(line))
    out += b"b" * (n - len(out) - 2) + b"\r\n"
    assert len(out) == n
    return out


def gateway(sluice):
    return sluice.start(limits={"max_message_size": LIMIT})


def ready(gw, mail="MAIL FROM:<a@sender.test>"):
    r = greet(gw.port)
    r.expect(mail, 250, "2.1.0")
    r.expect("RCPT TO:<bob@example.test>", 250, "2.1.5")
    return r


def send_data(r, body):
    r.expect("DATA", 354)
    r.send(body + b".\r\n")
    return r.read_reply()


def assert_552(code, lines):
    assert code == 552 and lines[0].startswith("552 5.3.4 "), lines


def test_size_is_advertised(sluice):
    gw = gateway(sluice)
    r = greet(gw.port)
    code, lines = r.cmd("EHLO client.test")
    assert f"250-SIZE {LIMIT}" in lines


def test_mail_size_over_the_limit(sluice):
    gw = gateway(sluice)
    r = greet(gw.port)
    r.expect(f"MAIL FROM:<a@sender.test> SIZE={LIMIT + 1}", 552, "5.3.4")
    # Not a transaction: a new MAIL is not "nested".
    r.expect(f"MAIL FROM:<a@sender.test> SIZE={LIMIT}", 250, "2.1.0")


def test_mail_size_beyond_64_bits_and_bad_syntax(sluice):
    gw = gateway(sluice)
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test> SIZE=99999999999999999999", 552, "5.3.4")
    r.expect("MAIL FROM:<a@sender.test> SIZE=999999999999999999999", 501, "5.5.4")
    r.expect("MAIL FROM:<a@sender.test> SIZE=12k", 501, "5.5.4")
    r.expect("MAIL FROM:<a@sender.test> SIZE", 501, "5.5.4")


def test_data_exactly_at_the_limit_is_accepted(sluice):
    gw = gateway(sluice)
    r = ready(gw)
    code, lines = send_data(r, body_of(LIMIT))
    assert code == 250, lines
    (env, data), = gw.queued().values()
    assert split_received(data)[1] == body_of(LIMIT)


def test_data_one_byte_over_is_refused(sluice):
    gw = gateway(sluice)
    r = ready(gw)
    assert_552(*send_data(r, body_of(LIMIT + 1)))
    # In sync, transaction over, session goes on.
    r.expect("RCPT TO:<bob@example.test>", 503, "5.5.1")
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    assert send_data(r, body_of(100))[0] == 250
    assert len(gw.queued()) == 1


def test_data_streaming_far_over_the_limit_spools_nothing(sluice):
    gw = gateway(sluice)
    # The declared size fits; the data does not.
    r = ready(gw, mail="MAIL FROM:<a@sender.test> SIZE=5000")
    assert_552(*send_data(r, body_of(2 * 1024 * 1024)))
    r.expect("NOOP", 250, "2.0.0")
    assert gw.queued() == {}
    assert wait_until(lambda: spool_tmp_files(gw) == []), spool_tmp_files(gw)


def test_bdat_exactly_at_the_limit_is_accepted(sluice):
    gw = gateway(sluice)
    r = ready(gw)
    r.send(f"BDAT {LIMIT} LAST\r\n".encode() + body_of(LIMIT))
    code, lines = r.read_reply()
    assert code == 250, lines
    assert len(gw.queued()) == 1


def test_bdat_over_the_limit_spools_nothing(sluice):
    gw = gateway(sluice)
    r = ready(gw)
    chunk = body_of(LIMIT // 2 + 1)
    r.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
    assert r.read_reply()[0] == 250
    r.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
    assert_552(*r.read_reply())
    # RFC 3030 2: the transaction has failed; further chunks are refused but read.
    r.send(b"BDAT 6 LAST\r\nQUIT\r\n")
    code, lines = r.read_reply()
    assert code == 503 and lines[0].startswith("503 5.5.1 "), lines
    r.expect("RSET", 250)
    assert gw.queued() == {}
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@example.test>", 250)
    r.send(b"BDAT 5 LAST\r\nsmall")
    assert r.read_reply()[0] == 250
    (env, data), = gw.queued().values()
    assert split_received(data)[1] == b"small"


def test_bdat_large_single_chunk_over_the_limit(sluice):
    gw = gateway(sluice)
    r = ready(gw)
    chunk = b"x" * (3 * 1024 * 1024)
    r.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk + b"NOOP\r\n")
    assert_552(*r.read_reply())
    code, lines = r.read_reply()  # the NOOP after the chunk: in sync
    assert lines == ["250 2.0.0 OK"], lines
    assert gw.queued() == {}
    assert wait_until(lambda: spool_tmp_files(gw) == []), spool_tmp_files(gw)
