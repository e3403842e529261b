"""TLS against real clients: STARTTLS (RFC 3207) and implicit TLS (RFC 8314)
with openssl s_client, gnutls-cli, swaks and Python's ssl/smtplib; TLS 1.2
and 1.3; RSA and ECDSA certificates chosen by SNI; the STARTTLS
plaintext-injection class (CVE-2011-0411); bad input (garbage instead of a
ClientHello, a stalled handshake, STARTTLS twice or inside a transaction);
REQUIRETLS (RFC 8689). Certificates come from a test CA made here."""
import os
import re
import select
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import SLOW, Raw, free_port, greet, split_received
from test_metrics import parse, scrape, value
from tls_support import (Pki, client_hello, need, s_client, served_subject, tls_socket, tls_tables,
                         tls_with_split_client_hello)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.rsa = p.leaf("mx.sluice.test", "rsa")
    p.ec = p.leaf("ec.sluice.test", "ec")
    return p


def start_tls_gateway(sluice, pki, mode="starttls", tls=None, **extra):
    certs = [(*pki.rsa, ["mx.sluice.test"], {}), (*pki.ec, ["ec.sluice.test"], {})]
    tables = {**tls_tables(certs, mode=mode, tls=tls), **extra}
    return sluice.start(**tables)


# --- STARTTLS with the usual clients -------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_openssl_starttls_both_versions(sluice, pki, version):
    gw = start_tls_gateway(sluice, pki)
    out = s_client(gw.port, f"-tls1_{version[-1]}", "-CAfile", str(pki.ca), "-servername", "mx.sluice.test",
                   data=b"EHLO again.test\r\nQUIT\r\n")
    assert f"Protocol  : TLSv{version}" in out or f"New, TLSv{version}" in out, out
    assert "Verify return code: 0 (ok)" in out, out
    # RFC 3207 4.2: after TLS, EHLO lists no STARTTLS; REQUIRETLS is now offered.
    after = out[out.index("250-mx.sluice.test Hello again.test"):]
    assert "STARTTLS" not in after and "250-REQUIRETLS" in after, after
    assert "221 2.0.0" in out
    gw.wait_log("event=tls ")
    assert f"version=TLSv{version}" in gw.log()


def test_starttls_offered_only_when_configured(sluice, pki):
    plain = sluice.start()
    r = greet(plain.port)
    code, lines = r.cmd("EHLO c.test")
    assert not any("STARTTLS" in l for l in lines) and not any("REQUIRETLS" in l for l in lines)
    r.expect("STARTTLS", 502, "5.5.1")
    gw = start_tls_gateway(sluice, pki)
    r = greet(gw.port)
    code, lines = r.cmd("EHLO c.test")
    assert "250-STARTTLS" in lines and not any("REQUIRETLS" in l for l in lines), lines


def test_smtplib_starttls_message_is_marked_esmtps(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=10 * SLOW) as c:
        c.ehlo()
        assert c.has_extn("starttls")
        c._host = "mx.sluice.test"  # the name smtplib checks the certificate against
        c.starttls(context=pki.client_context())
        c.ehlo()
        assert not c.has_extn("starttls") and c.has_extn("requiretls")
        c.sendmail("a@sender.test", ["b@example.test"], b"Subject: tls\r\n\r\nhello\r\n")
    gw.wait_log("event=accepted")
    assert "P=esmtps" in gw.log()
    (rec, data), = gw.queued().values()
    assert rec["protocol"] == "esmtps"
    received, _ = split_received(data)
    assert "with ESMTPS (TLSv1.3 " in received, received


@pytest.mark.parametrize("chunking", [False, True])
def test_large_message_over_starttls_arrives_intact(sluice, pki, chunking):
    """Megabytes of 16 KiB records: reads that fill the landing buffer go on
    reading the socket directly, and every byte reaches the spool in order."""
    gw = start_tls_gateway(sluice, pki)
    lines = b"".join(b"%07d the quick brown fox jumps over the lazy dog %s\r\n" % (i, b"x" * (i % 50))
                     for i in range(40000))
    message = b"Subject: big over tls\r\n\r\n" + lines
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=30 * SLOW) as c:
        c._host = "mx.sluice.test"
        c.starttls(context=pki.client_context())
        c.ehlo()
        if chunking:
            assert c.has_extn("chunking")
            assert c.mail("a@sender.test")[0] == 250
            assert c.rcpt("b@example.test")[0] == 250
            for at in range(0, len(message), 1 << 20):
                part = message[at:at + (1 << 20)]
                last = at + len(part) >= len(message)
                c.send(b"BDAT %d%s\r\n" % (len(part), b" LAST" if last else b"") + part)
                assert c.getreply()[0] == 250
        else:
            c.sendmail("a@sender.test", ["b@example.test"], message)
    gw.wait_log("event=accepted")
    (rec, data), = gw.queued().values()
    _, body = split_received(data)
    assert len(message) > 2_500_000
    assert body == message


def test_gnutls_cli_starttls(sluice, pki):
    need("gnutls-cli")
    gw = start_tls_gateway(sluice, pki)
    p = subprocess.run(["gnutls-cli", "--starttls-proto=smtp", "--port", str(gw.port), "--x509cafile", str(pki.ca),
                        "--sni-hostname", "mx.sluice.test", "--verify-hostname", "mx.sluice.test", "127.0.0.1"],
                       input=b"EHLO gnutls.test\r\nQUIT\r\n", capture_output=True, timeout=30 * SLOW)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    assert "Handshake was completed" in out, out
    assert "250-mx.sluice.test Hello gnutls.test" in out and "221 2.0.0" in out, out


def test_gnutls_cli_resumes(sluice, pki):
    need("gnutls-cli")
    gw = start_tls_gateway(sluice, pki)
    p = subprocess.run(["gnutls-cli", "--resume", "--port", str(gw.port), "--x509cafile", str(pki.ca),
                        "--starttls-proto=smtp", "--verify-hostname", "mx.sluice.test", "127.0.0.1"],
                       input=b"QUIT\r\n", capture_output=True, timeout=30 * SLOW)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    assert "This is a resumed session" in out, out


def test_swaks_starttls_and_implicit(sluice, pki):
    need("swaks")
    implicit_port = free_port()
    gw = start_tls_gateway(sluice, pki, listener=[
        {"name": "smtp", "address": "127.0.0.1", "port": free_port(), "tls": "starttls"},
        {"name": "smtps", "address": "127.0.0.1", "port": implicit_port, "tls": "implicit"}])
    for flag, port in (("--tls", gw.port), ("--tlsc", implicit_port)):
        p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "a@sender.test",
                            "--to", "b@example.test", flag, "--timeout", str(10 * SLOW)],
                           capture_output=True, text=True, timeout=60 * SLOW)
        out = p.stdout + p.stderr
        assert p.returncode == 0, out
        assert "TLS started" in out and "250 2.0.0 OK id=" in out, out
    gw.wait_log("event=accepted", count=2)
    assert "mode=implicit" in gw.log() and "mode=starttls" in gw.log()


# --- CVE-2011-0411: plaintext pipelined behind STARTTLS ------------------------------------


def test_commands_pipelined_behind_starttls_are_discarded(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    r = greet(gw.port)
    r.send("STARTTLS\r\nRSET\r\n")  # one write: the RSET rides in clear behind STARTTLS
    code, lines = r.read_reply()
    assert code == 220 and lines[0].startswith("220 2.0.0"), lines
    assert r.buf == b""
    s = pki.client_context().wrap_socket(r.s, server_hostname="mx.sluice.test")
    # The injected RSET must not be answered over TLS: nothing arrives unasked.
    s.settimeout(1.0)
    with pytest.raises((socket.timeout, ssl.SSLWantReadError, TimeoutError)):
        extra = s.recv(4096)
        raise AssertionError(f"server answered the injected command: {extra!r}")
    s.settimeout(10 * SLOW)
    # The SMTP state was reset: EHLO is needed again, and MAIL before it fails.
    s.sendall(b"MAIL FROM:<a@sender.test>\r\n")
    assert s.recv(4096).startswith(b"503 5.5.1"), "MAIL before the new EHLO must be refused"
    s.sendall(b"EHLO c.test\r\n")
    reply = s.recv(4096)
    assert reply.startswith(b"250-mx.sluice.test Hello c.test"), reply
    s.close()
    gw.wait_log("event=starttls_pipelined")


def test_starttls_twice_and_inside_a_transaction(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("STARTTLS", 503, "5.5.1")
    r.expect("RSET", 250)
    r.expect("STARTTLS now", 501, "5.5.4")
    s = tls_socket(gw.port, pki.client_context())
    f = s.makefile("rb")
    s.sendall(b"EHLO c.test\r\n")
    while f.readline()[3:4] != b" ":
        pass
    s.sendall(b"STARTTLS\r\n")
    assert f.readline().startswith(b"503 5.5.1 TLS already active")


# --- Certificates: SNI, RSA and ECDSA ------------------------------------------------------


def test_sni_chooses_the_certificate(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    ec = s_client(gw.port, "-CAfile", str(pki.ca), "-servername", "ec.sluice.test", "-tls1_2")
    assert "CN = ec.sluice.test" in served_subject(ec), ec
    assert "ECDHE-ECDSA-" in ec, ec
    rsa = s_client(gw.port, "-CAfile", str(pki.ca), "-servername", "mx.sluice.test", "-tls1_2")
    assert "CN = mx.sluice.test" in served_subject(rsa) and "ECDHE-RSA-" in rsa, rsa
    # An unknown name (or none) gets the first certificate, the default.
    other = s_client(gw.port, "-CAfile", str(pki.ca), "-servername", "unknown.test", "-tls1_3")
    assert "CN = mx.sluice.test" in served_subject(other), other
    ec13 = s_client(gw.port, "-CAfile", str(pki.ca), "-servername", "ec.sluice.test", "-tls1_3")
    assert "CN = ec.sluice.test" in served_subject(ec13) and "Verify return code: 0 (ok)" in ec13, ec13
    assert "sni=ec.sluice.test" in gw.log()


def public_key_bits(output):
    for line in output.splitlines():
        if line.startswith("Server public key is "):
            return int(line.split()[4])
    return None


@pytest.mark.parametrize("sni", [True, False])
def test_rsa_and_ecdsa_for_one_name_chosen_by_what_the_client_takes(sluice, pki, sni):
    rsa, ec = pki.leaf("dual.sluice.test", "rsa"), pki.leaf("dual.sluice.test", "ec")
    names = ["dual.sluice.test"]
    # The pair is the default (first) too, so a client without SNI chooses the same way.
    gw = sluice.start(**tls_tables([(*rsa, names, {}), (*ec, names, {}), (*pki.ec, ["ec.sluice.test"], {})]))
    name = ["-servername", "dual.sluice.test"] if sni else ["-noservername"]

    def served(*args):
        out = s_client(gw.port, "-CAfile", str(pki.ca), *name, *args)
        assert "Verify return code: 0 (ok)" in out, out
        return public_key_bits(out), out

    # OpenSSL's defaults take ECDSA: the cheaper handshake, in both versions.
    assert served("-tls1_3")[0] == 256
    bits, out = served("-tls1_2")
    assert bits == 256 and "ECDHE-ECDSA-" in out, out
    # A client that can only verify RSA signatures, or only has RSA suites, gets RSA.
    assert served("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256")[0] == 2048
    bits, out = served("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert bits == 2048 and "ECDHE-RSA-" in out, out
    # And a TLS 1.2 client whose curves leave out the certificate's (RFC 8422 5.1.1).
    bits, out = served("-tls1_2", "-groups", "X25519")
    assert bits == 2048 and "ECDHE-RSA-" in out, out


def test_listener_certificate_overrides_tls_section(sluice, pki):
    own = pki.leaf("own.sluice.test", "ec")
    port = free_port()
    tables = tls_tables([(*pki.rsa, [], {})], port=port)
    tables["listener"][0]["tls_certificate"] = [{"cert": str(own[0]), "key": str(own[1])}]
    gw = sluice.start(**tables)
    out = s_client(gw.port, "-CAfile", str(pki.ca))
    assert "CN = own.sluice.test" in served_subject(out), out


def test_min_version_13_refuses_tls12(sluice, pki):
    gw = start_tls_gateway(sluice, pki, tls={"min_version": "1.3"})
    out = s_client(gw.port, "-CAfile", str(pki.ca), "-tls1_2")
    assert "New, TLSv1.2" not in out
    gw.wait_log("event=tls_failed")
    assert "New, TLSv1.3" in s_client(gw.port, "-CAfile", str(pki.ca), "-tls1_3")


def test_missing_key_is_a_startup_error(sluice, pki, tmp_path):
    tables = tls_tables([(pki.rsa[0], tmp_path / "missing.key", [], {})])
    gw = sluice.start(wait=False, **tables)
    assert gw.proc.wait(timeout=10 * SLOW) != 0
    assert "missing.key" in gw.log(), gw.log()


# --- Implicit TLS and bad input ------------------------------------------------------------


def test_implicit_tls_banner_after_handshake(sluice, pki):
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    s = tls_socket(gw.port, pki.client_context(), implicit=True)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220 mx.sluice.test")
    s.sendall(b"EHLO c.test\r\n")
    lines = []
    while True:
        line = f.readline()
        lines.append(line)
        if line[3:4] == b" ":
            break
    assert b"250-STARTTLS\r\n" not in lines and b"250-REQUIRETLS\r\n" in lines, lines
    s.close()


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_implicit_tls_banner_is_not_held_back_by_nagle(sluice, pki, version):
    """The banner follows the server's last handshake flight (TLS 1.2) or its
    NewSessionTicket (TLS 1.3) with nothing from the client in between. With
    Nagle's algorithm on, it waited for the client's delayed ACK: 40 ms or
    more on Linux, every time. TCP_NODELAY on the listener removes the wait."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    ctx = pki.client_context(version)
    took = []
    for _ in range(7):
        start = time.monotonic()
        s = tls_socket(gw.port, ctx, implicit=True)
        assert s.recv(512).startswith(b"220 mx.sluice.test")
        took.append(time.monotonic() - start)
        s.close()
    # A Nagle wait is never shorter than the 40 ms delayed-ACK timer, so
    # the fastest of seven handshakes tells even on a loaded machine.
    assert min(took) < 0.035, [f"{t * 1000:.1f} ms" for t in took]


def attach_strace(pid, prefix, calls="recvfrom"):
    """strace on every thread of pid, tracing `calls`, one file per thread
    (prefix.TID: lines of two threads never interleave); returns once it is
    attached. Skips when this machine does not allow ptrace."""
    st = subprocess.Popen([need("strace"), "-ff", "-e", f"trace={calls}", "-p", str(pid), "-o", str(prefix)],
                          stderr=subprocess.PIPE, text=True)
    line = st.stderr.readline()
    if "attached" not in line:
        st.kill()
        st.wait()
        if "Operation not permitted" in line or "ptrace" in line:
            pytest.skip(f"this machine does not allow ptrace, which the test needs: {line.strip()}")
        raise AssertionError(f"strace did not attach: {line!r}")
    return st


def trace_lines(prefix):
    return [l for f in sorted(prefix.parent.glob(prefix.name + ".*")) for l in f.read_text().splitlines()]


def hold_back_second_flight(port, ctx):
    """Sends a ClientHello and reads the server's answer until the client's
    next flight is ready, then holds that flight back for a moment, so the
    server waits in the middle of the handshake; then sends it and returns
    the banner."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ctx.wrap_bio(incoming, outgoing, server_hostname="mx.sluice.test")
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as s:

        def feed():
            data = s.recv(65536)
            assert data, "the server closed during the handshake"
            incoming.write(data)

        with pytest.raises(ssl.SSLWantReadError):
            client.do_handshake()
        s.sendall(outgoing.read())  # the ClientHello
        while True:
            feed()
            try:
                client.do_handshake()  # TLS 1.3: done once the server's Finished is in
                break
            except ssl.SSLWantReadError:
                if outgoing.pending:  # TLS 1.2: the client's key exchange and Finished are ready
                    break
        time.sleep(0.3)  # the client "computes": the server must wait, not poll
        s.sendall(outgoing.read())
        banner = b""
        while b"\r\n" not in banner:
            try:
                banner += client.read(512)  # finishes a TLS 1.2 handshake first
            except ssl.SSLWantReadError:
                feed()
        return banner


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_handshake_waits_for_the_client_without_polling(sluice, pki, tmp_path, version):
    """While the client computes its next flight the server waits for the
    socket with the event loop: one recv() that says "would block", then
    epoll. Before 36e2549 wolfSSL's SSL_MODE_AUTO_RETRY (on in Debian's
    build) made it eleven recv() calls on the spot; that the mode stays off
    is tls/server_context_test.cpp's to check."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    trace = tmp_path / "recvfrom.trace"
    st = attach_strace(gw.proc.pid, trace)
    try:
        banner = hold_back_second_flight(gw.port, pki.client_context(version))
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=10)
    assert banner.startswith(b"220 mx.sluice.test"), banner
    # Only the session's descriptor: the one whose first read was a TLS
    # handshake record (anything else, a DNS socket say, is not this test's).
    lines = trace_lines(trace)
    hello = next(l for l in lines if re.search(r'recvfrom\(\d+, "\\26\\3', l))
    fd = re.search(r"recvfrom\((\d+),", hello).group(1)
    calls = [l for l in lines if f"recvfrom({fd}," in l]
    would_block = [l for l in calls if "EAGAIN" in l]
    # At most one "would block" per wait: before the ClientHello came, while
    # the client held its flight back, after the banner. Eleven or more for
    # the second one alone with AUTO_RETRY.
    assert 1 <= len(would_block) <= 3, "\n".join(calls)


def test_waiting_for_a_tls_client_leaves_the_epoll_registration_alone(sluice, pki, tmp_path):
    """A TLS session waits for input with an Asio read, as a plain one does:
    an async_wait re-armed the descriptor with an epoll_ctl(MOD) every time
    the session waited (the handshake, then each command)."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    trace = tmp_path / "epoll.trace"
    st = attach_strace(gw.proc.pid, trace, calls="epoll_ctl,accept,accept4")
    try:
        s = tls_socket(gw.port, pki.client_context("1.3"), implicit=True)
        f = s.makefile("rb")
        assert f.readline().startswith(b"220 ")
        for line in [b"EHLO client.test"] + [b"NOOP"] * 5:
            s.sendall(line + b"\r\n")
            while (reply := f.readline())[3:4] == b"-":
                pass
            assert reply.startswith(b"250"), reply
        s.sendall(b"QUIT\r\n")
        assert f.readline().startswith(b"221")
        s.close()
        gw.wait_log("event=disconnect")
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=10)
    lines = trace_lines(trace)
    # Only the session's descriptor, the one accept() returned.
    fds = [m.group(1) for l in lines if (m := re.search(r"accept4?\(.*\) = (\d+)$", l))]
    assert len(fds) == 1, lines
    calls = [l for l in lines if f"epoll_ctl(" in l and re.search(rf"EPOLL_CTL_\w+, {fds[0]},", l)]
    assert any("EPOLL_CTL_ADD" in l for l in calls), lines  # the trace did see the session
    assert not [l for l in calls if "EPOLL_CTL_MOD" in l], "\n".join(calls)


def test_a_client_hello_larger_than_the_landing_buffer_is_read_whole(sluice, pki):
    """The first read takes 2 KiB; a longer ClientHello is completed from the
    socket before it is looked at (here: the client asked for a ticket, "A"
    in the resumption bits), and wolfSSL gets every byte of it."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    ctx = pki.client_context("1.2")
    ctx.set_alpn_protocols([f"p{i:02d}" + "x" * 200 for i in range(12)])  # about 2.5 KiB of extension
    s = tls_socket(gw.port, ctx, implicit=True)
    assert s.recv(512).startswith(b"220 mx.sluice.test")
    s.close()
    gw.wait_log("event=tls ")
    line = next(l for l in gw.log().splitlines() if "event=tls " in l)
    assert "resumption=SA" in line, line


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_a_client_hello_in_two_segments_is_read_whole(sluice, pki, version):
    """On a real network a hello longer than one TCP segment often arrives
    in two reads; it is completed (within the handshake deadline) before it
    is looked at: here the client asked for a ticket, "A"."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    banner, tls = tls_with_split_client_hello(gw.port, pki.client_context(version), first_part=60, pause=0.3 * SLOW,
                                              server_hostname="mx.sluice.test")
    assert banner.startswith("220 mx.sluice.test"), banner
    assert tls.version() == f"TLSv{version}"
    gw.wait_log("event=tls ")
    line = next(l for l in gw.log().splitlines() if "event=tls " in l)
    assert "resumption=SA" in line, line


def test_an_rsa_only_client_whose_hello_comes_in_two_segments_gets_the_rsa_certificate(sluice, pki):
    """With an ECDSA and an RSA certificate for one name, ECDSA first, the
    choice needs the whole hello: a client with only RSA suites must not be
    handed the ECDSA certificate because its hello came in two reads."""
    rsa, ec = pki.leaf("pair.sluice.test", "rsa"), pki.leaf("pair.sluice.test", "ec")
    names = ["pair.sluice.test"]
    gw = sluice.start(**tls_tables([(*ec, names, {}), (*rsa, names, {})], mode="implicit"))
    ctx = pki.client_context("1.2")
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    banner, tls = tls_with_split_client_hello(gw.port, ctx, first_part=40, pause=0.3 * SLOW,
                                              server_hostname="pair.sluice.test")
    assert banner.startswith("220 "), banner
    assert tls.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(open(rsa[0]).read())
    assert tls.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256"


def test_garbage_instead_of_client_hello(sluice, pki):
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    r = Raw(gw.port)
    r.send("EHLO i-forgot-tls.test\r\n")
    assert r.closed(), "the server must close after a failed handshake"
    assert not r.buf.startswith(b"220"), "no banner in clear on an implicit-TLS port"
    gw.wait_log("event=tls_failed")
    assert "mode=implicit" in gw.log()


def test_stalled_handshake_times_out(sluice, pki):
    gw = start_tls_gateway(sluice, pki, mode="implicit", tls={"handshake_timeout": "1s"})
    r = Raw(gw.port)
    t0 = time.time()
    r.send(b"\x16\x03\x01\x00\x80")  # a record header promising a ClientHello that never comes
    assert r.closed(timeout=5)
    assert time.time() - t0 < 4 * SLOW
    gw.wait_log("reason=\"TLS handshake timeout\"")


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_a_handshake_stalled_after_its_client_hello_times_out(sluice, pki, mode, version):
    """A whole ClientHello, then silence: the server has answered it and waits
    inside the handshake for the client's next flight. The handshake's
    deadline (1 s) ends that wait, not the command timeout: after STARTTLS
    the connection's watchdog was last armed for the five-minute read of the
    STARTTLS command, and a shorter deadline must wake it."""
    gw = start_tls_gateway(sluice, pki, mode=mode, tls={"handshake_timeout": "1s"})
    if mode == "implicit":
        r = Raw(gw.port)
    else:
        r = greet(gw.port)
        r.expect("STARTTLS", 220, "2.0.0")
    t0 = time.time()
    r.send(client_hello(pki, version))
    assert r.closed(timeout=6), "the stalled handshake was not cut"
    waited = time.time() - t0
    assert 0.9 <= waited < 4 * SLOW, waited
    gw.wait_log('reason="TLS handshake timeout"')


def test_waiting_for_the_client_to_leave_after_quit_is_bounded(sluice, pki):
    """Under the protocol-detail switch the server waits after its 221 to see
    how the client leaves (a reset, as Outlook does, is logged). A client
    that neither closes nor resets is given up after a second."""
    gw = start_tls_gateway(sluice, pki, tls={"log_protocol_details": True})
    s = tls_socket(gw.port, pki.client_context())
    s.sendall(b"EHLO c.test\r\nQUIT\r\n")
    got = b""
    while b"221 " not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    t0 = time.time()
    # Below TLS, so that the server's close_notify is not answered: until
    # the server's FIN, which comes when it stops waiting.
    raw = socket.socket(fileno=os.dup(s.fileno()))
    raw.settimeout(10 * SLOW)
    while raw.recv(4096):
        pass
    waited = time.time() - t0
    raw.close()
    assert 0.9 <= waited < 4 * SLOW, waited
    line = disconnect_line(gw)
    assert "reason=quit" in line, line
    assert "protocol_detail" not in gw.log()  # no reset to report
    s.close()


def test_starttls_then_garbage(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    r = greet(gw.port)
    r.expect("STARTTLS", 220, "2.0.0")
    r.send("this is not TLS\r\n")
    assert r.closed()
    gw.wait_log("event=tls_failed")


# --- REQUIRETLS (RFC 8689) -----------------------------------------------------------------


def test_requiretls_only_on_tls(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test> REQUIRETLS", 530, "5.7.10")
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=10 * SLOW) as c:
        c._host = "mx.sluice.test"
        c.starttls(context=pki.client_context())
        c.ehlo()
        assert c.has_extn("requiretls")
        c.sendmail("a@sender.test", ["b@example.test"], b"Subject: rt\r\n\r\nhi\r\n", mail_options=["REQUIRETLS"])
    gw.wait_log("event=accepted")
    (rec, data), = gw.queued().values()
    assert rec["requiretls"] is True
    received, _ = split_received(data)
    assert "REQUIRETLS" in received and "ESMTPS" in received, received


# --- Unusual states ------------------------------------------------------------------------


def test_reset_after_quit_is_not_an_error(sluice, pki):
    gw = start_tls_gateway(sluice, pki, tls={"log_protocol_details": True})
    for _ in range(5):
        s = tls_socket(gw.port, pki.client_context())
        s.sendall(b"EHLO c.test\r\nQUIT\r\n")
        time.sleep(0.1)
        # Outlook-style: reset, with no close_notify, as soon as QUIT is out.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    gw.wait_log("event=disconnect", count=5)
    log = gw.log()
    assert "level=error" not in log and "level=warn" not in log, log
    assert log.count("reason=quit") == 5, log
    # Under the switch, each reset is one debug line, nothing more.
    assert log.count("event=protocol_detail") == 5, log
    assert log.count("connection reset by the client after QUIT") == 5


def test_reset_after_quit_silent_without_the_switch(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    s = tls_socket(gw.port, pki.client_context())
    s.sendall(b"EHLO c.test\r\nQUIT\r\n")
    time.sleep(0.1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    gw.wait_log("event=disconnect")
    assert "protocol_detail" not in gw.log() and "reason=quit" in gw.log()


def disconnect_line(gw):
    gw.wait_log("event=disconnect")
    return next(l for l in gw.log().splitlines() if "event=disconnect" in l)


def s_client_typing(gw, pki, version, lines):
    """openssl s_client over STARTTLS, typing `lines` once the session is up,
    one write each and a pause between (s_client reads a command letter, R K
    k, only at the start of what one read of its input gives it); returns
    what it printed once the server has closed."""
    need("openssl")
    p = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{gw.port}",
                          f"-tls1_{version[-1]}", "-CAfile", str(pki.ca), "-servername", "mx.sluice.test"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        gw.wait_log("event=tls ")
        for line in lines:
            p.stdin.write(line)
            p.stdin.flush()
            time.sleep(0.3 * SLOW)
        return p.communicate(timeout=10 * SLOW)[0].decode(errors="replace")
    finally:
        p.kill()


def test_renegotiation_is_refused_and_logged(sluice, pki):
    # A client-initiated renegotiation costs the server a full handshake for
    # the client's nothing (the thc-ssl-dos class): refused, the session
    # ends, and the disconnect line says why instead of a bare "lost
    # connection". s_client's "R" line asks for it once the session is up;
    # s_client then waits on the renegotiation, which a server that let it
    # go on would complete (and the log would have no tls_error).
    gw = start_tls_gateway(sluice, pki)
    out = s_client_typing(gw, pki, "1.2", [b"R\n"])
    assert "RENEGOTIATING" in out, out
    line = disconnect_line(gw)
    assert 'reason="lost connection"' in line and "tls=TLSv1.2" in line, line
    assert 'tls_error="renegotiation refused"' in line, line
    # No work was done for the new hello: one handshake counted, not two.
    assert value(parse(scrape(gw)), "sluice_tls_handshakes_total", version="1.2", kind="full") == 1


def test_tls13_key_updates_from_the_client_keep_the_session_working(sluice, pki):
    # RFC 8446 4.6.3: s_client's "K" sends a KeyUpdate asking the server to
    # update its keys too, "k" one that does not. The server must read what
    # follows with the client's new keys (a NOOP after each is answered) and
    # the session ends normally.
    gw = start_tls_gateway(sluice, pki)
    out = s_client_typing(gw, pki, "1.3", [b"K\n", b"NOOP\r\n", b"k\n", b"NOOP\r\n", b"quit\r\n"])
    assert out.count("KEYUPDATE") == 2, out
    assert out.count("250 2.0.0 OK") == 2 and "221 2.0.0" in out, out
    line = disconnect_line(gw)
    assert "reason=quit" in line and "tls_error" not in line, line


def test_a_record_that_does_not_decrypt_ends_the_session_with_its_reason(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    s = tls_socket(gw.port, pki.client_context())
    s.sendall(b"EHLO c.test\r\n")
    assert b"250 " in s.recv(4096)
    # An application-data record of the negotiated version whose bytes are
    # not what the session keys make: the MAC / AEAD tag check fails.
    raw = socket.socket(fileno=os.dup(s.fileno()))
    raw.sendall(b"\x17\x03\x03\x00\x40" + os.urandom(64))
    line = disconnect_line(gw)
    raw.close()
    s.close()
    assert 'reason="lost connection"' in line and re.search(r'tls_error=("[^"]+"|\S+)', line), line


def test_a_client_close_notify_is_no_tls_error(sluice, pki):
    gw = start_tls_gateway(sluice, pki)
    s = tls_socket(gw.port, pki.client_context())
    s.sendall(b"EHLO c.test\r\n")
    assert b"250 " in s.recv(4096)
    s.unwrap().close()  # close_notify, then FIN, without QUIT
    line = disconnect_line(gw)
    assert 'reason="lost connection"' in line and "tls_error" not in line, line


# --- Bounded handshake work -----------------------------------------------------------------


def test_handshake_cap_per_worker(sluice, pki):
    implicit_port = free_port()
    gw = start_tls_gateway(sluice, pki, workers=1,
                           # Long enough that a slow (sanitizer) build still holds the
                           # slot when STARTTLS comes; the wait below is longer still.
                           tls={"max_handshakes_per_worker": 1, "handshake_timeout": f"{int(2 * SLOW)}s"},
                           listener=[{"name": "smtp", "address": "127.0.0.1", "port": free_port(), "tls": "starttls"},
                                     {"name": "smtps", "address": "127.0.0.1", "port": implicit_port,
                                      "tls": "implicit"}])
    # A whole ClientHello, then silence: the server answers it and waits for
    # the client's next flight, holding the worker's only handshake slot.
    staller = Raw(implicit_port)
    staller.send(client_hello(pki))
    time.sleep(0.3)
    r = greet(gw.port)
    r.expect("STARTTLS", 454, "4.7.0")  # RFC 3207 4: TLS not available for a temporary reason
    r.expect("NOOP", 250)               # the session goes on in clear
    # A whole hello that finds every slot taken: refused, the connection closed.
    late = Raw(implicit_port)
    late.send(client_hello(pki))
    assert late.closed(timeout=5)
    gw.wait_log("event=tls_refused")
    assert "mode=implicit" in next(l for l in gw.log().splitlines() if "event=tls_refused" in l)
    # Counted once each: the 454 and this refusal.
    assert value(parse(scrape(gw)), "sluice_tls_handshake_failures_total", reason="busy") == 2
    assert staller.closed(timeout=5)  # the stalled handshake times out and frees the slot
    r.expect("STARTTLS", 220, "2.0.0")
    s = pki.client_context().wrap_socket(r.s, server_hostname="mx.sluice.test")
    s.sendall(b"EHLO c.test\r\n")
    assert s.recv(4096).startswith(b"250-mx.sluice.test")
    s.close()


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_connections_without_a_whole_client_hello_hold_no_handshake_slot(sluice, pki, mode):
    """The cap bounds handshake work, which starts with a whole ClientHello:
    connections that send nothing after connecting (or after STARTTLS), or
    half a hello, must not keep real clients out (before, each held a slot
    until the handshake deadline)."""
    gw = start_tls_gateway(sluice, pki, workers=1, mode=mode,
                           tls={"max_handshakes_per_worker": 1, "handshake_timeout": f"{int(10 * SLOW)}s"})

    def ready_for_tls():
        if mode == "implicit":
            return Raw(gw.port)
        r = greet(gw.port)
        r.expect("STARTTLS", 220, "2.0.0")
        return r

    silent, half = ready_for_tls(), ready_for_tls()
    half.send(client_hello(pki)[:40])
    time.sleep(0.3)
    s = tls_socket(gw.port, pki.client_context(), implicit=mode == "implicit")
    if mode == "implicit":
        assert s.recv(512).startswith(b"220 mx.sluice.test")
    else:
        s.sendall(b"EHLO c.test\r\n")
        assert s.recv(4096).startswith(b"250-mx.sluice.test")
    s.close()
    # (tls_socket() has already checked the 220; a 454 would be logged as code=454.)
    assert "event=tls_refused" not in gw.log() and "code=454" not in gw.log()
    silent.s.close()
    half.s.close()


@pytest.mark.parametrize("header", [b"\x16\x03\x01\x40\x01", b"\x16\x03\x01\x00\x00"],
                         ids=["over 2^14", "empty"])
def test_a_record_header_no_client_hello_can_have_is_refused_at_once(sluice, pki, header):
    """A handshake record longer than 2^14 bytes, or empty, cannot hold a
    ClientHello (RFC 8446 5.1). wolfSSL would wait for up to about 17 KiB;
    the connection is closed at once instead, holding no slot meanwhile."""
    gw = start_tls_gateway(sluice, pki, workers=1, mode="implicit",
                           tls={"max_handshakes_per_worker": 1, "handshake_timeout": f"{int(10 * SLOW)}s"})
    bad = Raw(gw.port)
    t0 = time.time()
    bad.send(header)
    assert bad.closed(timeout=3) and time.time() - t0 < 3 * SLOW
    assert bad.buf == b""
    gw.wait_log("event=tls_failed")
    assert 'error="not a TLS ClientHello"' in gw.log()
    s = tls_socket(gw.port, pki.client_context(), implicit=True)
    assert s.recv(512).startswith(b"220 mx.sluice.test")
    s.close()


def test_a_drain_during_a_partial_client_hello_ends_the_handshake(sluice, pki):
    """SIGTERM cancels the wait for the rest of a hello: the handshake ends
    there, and the rest arriving afterwards starts no handshake work."""
    gw = start_tls_gateway(sluice, pki, mode="implicit")
    hello = client_hello(pki)
    r = Raw(gw.port)
    r.send(hello[:40])
    time.sleep(0.3)
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")
    try:
        r.send(hello[40:])
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert r.closed(timeout=5)
    assert r.buf == b"", "no ServerHello: the handshake must not go on after the drain"
    gw.wait_log("error=interrupted")
    assert gw.proc.wait(timeout=10 * SLOW) == 0


def test_check_config_reads_the_certificate_files(sluice, pki, tmp_path):
    from conftest import BIN, render_toml
    good = tmp_path / "good.toml"
    good.write_text(render_toml(sluice.config(**tls_tables([(*pki.rsa, [], {})]))))
    p = subprocess.run([BIN, "check-config", "--config", str(good)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(render_toml(sluice.config(**tls_tables([(pki.rsa[0], pki.ec[1], [], {})]))))
    p = subprocess.run([BIN, "check-config", "--config", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1 and "does not match" in p.stderr, p.stderr


@pytest.mark.parametrize("hello_in_two_parts", [False, True])
def test_implicit_tls_behind_proxy_header_in_the_same_packet(sluice, pki, hello_in_two_parts):
    # haproxy's send-proxy in front of a port-465 listener: the PROXY header
    # and the ClientHello can arrive in one read; the handshake must get the
    # ClientHello bytes read together with the header, and when only part of
    # the hello came with it, the rest before the hello is looked at.
    gw = start_tls_gateway(sluice, pki, listener=[{
        "name": "smtp", "address": "127.0.0.1", "port": free_port(), "tls": "implicit",
        "proxy_protocol": True, "proxy_trusted": ["127.0.0.1/32"]}])
    banner, _ = tls_with_split_client_hello(gw.port, pki.client_context("1.2"),
                                            first_part=50 if hello_in_two_parts else None, pause=0.3 * SLOW,
                                            server_hostname="mx.sluice.test",
                                            prefix=b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 465\r\n")
    assert banner.startswith("220 mx.sluice.test"), banner
    gw.wait_log("event=tls ")
    line = next(l for l in gw.log().splitlines() if "event=tls " in l)
    assert "198.51.100.7" in line and "resumption=SA" in line, line


def test_drain_reaches_an_idle_tls_session(sluice, pki):
    # SIGTERM cancels the pending read of every idle session; over TLS the
    # cancelled read must leave the stream usable for the 421.
    import signal
    gw = start_tls_gateway(sluice, pki)
    s = tls_socket(gw.port, pki.client_context())
    f = s.makefile("rb")
    s.sendall(b"EHLO c.test\r\n")
    while f.readline()[3:4] != b" ":
        pass
    gw.signal(signal.SIGTERM)
    assert f.readline().startswith(b"421 4.3.2"), "the drain's 421 must arrive over TLS"
    assert gw.proc.wait(timeout=10 * SLOW) == 0


# --- Deadlines over TLS (the read watchdog, as on plain connections) ---------------------------


def tls_reader(gw, pki, version="1.3"):
    s = tls_socket(gw.port, pki.client_context(version))
    f = s.makefile("rb")

    def reply(command=None):
        if command:
            s.sendall(command)
        lines = [f.readline()]
        while lines[-1][3:4] == b"-":
            lines.append(f.readline())
        return lines
    return s, f, reply


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_an_idle_tls_session_gets_its_421_at_the_command_timeout(sluice, pki, version):
    gw = start_tls_gateway(sluice, pki, timeouts={"command": 1})
    s, f, reply = tls_reader(gw, pki, version)
    assert reply(b"EHLO c.test\r\n")[-1].startswith(b"250 ")
    t0 = time.monotonic()
    line = f.readline()
    elapsed = time.monotonic() - t0
    assert line.startswith(b"421 4.4.2"), line
    assert 0.8 <= elapsed <= 3 * SLOW, elapsed
    assert f.readline() == b""  # then the session ends
    line = disconnect_line(gw)
    assert 'reason=timeout' in line and f"tls=TLSv{version}" in line, line


def test_tls_commands_answered_in_time_keep_the_session_past_the_first_deadline(sluice, pki):
    gw = start_tls_gateway(sluice, pki, timeouts={"command": 1})
    s, f, reply = tls_reader(gw, pki)
    assert reply(b"EHLO c.test\r\n")[-1].startswith(b"250 ")
    for _ in range(5):  # 3 s in all, three times the timeout
        time.sleep(0.6)
        assert reply(b"NOOP\r\n")[0].startswith(b"250 "), "a command within its timeout must be answered"
    assert reply(b"QUIT\r\n")[0].startswith(b"221 ")


def test_a_tls_client_stalled_in_data_gets_its_421(sluice, pki):
    gw = start_tls_gateway(sluice, pki, timeouts={"data_init": 30, "data_block": 1, "command": 30})
    s, f, reply = tls_reader(gw, pki)
    assert reply(b"EHLO c.test\r\n")[-1].startswith(b"250 ")
    assert reply(b"MAIL FROM:<a@sender.test>\r\n")[0].startswith(b"250 ")
    assert reply(b"RCPT TO:<bob@example.test>\r\n")[0].startswith(b"250 ")
    assert reply(b"DATA\r\n")[0].startswith(b"354 ")
    s.sendall(b"Subject: stalled\r\n\r\npart of a body")
    t0 = time.monotonic()
    line = f.readline()
    assert line.startswith(b"421 4.4.2"), line
    assert 0.8 <= time.monotonic() - t0 <= 3 * SLOW
    assert 'reason="timeout in DATA"' in disconnect_line(gw)
    assert gw.queued() == {}


def test_a_tls_client_stopping_halfway_through_a_record_gets_its_421(sluice, pki):
    # wolfSSL holds the header and part of the body and asks for more: the
    # wait for the rest is bounded by the same deadline as the command.
    gw = start_tls_gateway(sluice, pki, timeouts={"command": 1})
    s, f, reply = tls_reader(gw, pki)
    assert reply(b"EHLO c.test\r\n")[-1].startswith(b"250 ")
    raw = socket.socket(fileno=os.dup(s.fileno()))
    raw.sendall(b"\x17\x03\x03\x00\x40" + b"\x00" * 20)  # 20 of the 64 bytes announced
    t0 = time.monotonic()
    line = f.readline()
    elapsed = time.monotonic() - t0
    raw.close()
    assert line.startswith(b"421 4.4.2"), line
    assert 0.8 <= elapsed <= 3 * SLOW, elapsed
    assert "reason=timeout" in disconnect_line(gw)


# --- a TLS client that does not read its replies ----------------------------------------------


def small_window_tls_client(port, pki, version):
    """Implicit TLS from a socket whose receive window is 4 KiB from the start."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10 * SLOW)
    raw.connect(("127.0.0.1", port))
    return pki.client_context(version).wrap_socket(raw, server_hostname="mx.sluice.test")


def read_replies(s, count, buf=b""):
    """`count` single-line replies from a blocking TLS socket: ([codes], rest)."""
    codes = []
    while len(codes) < count:
        while b"\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, (codes, buf)
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        if line[3:4] == b" ":
            codes.append(int(line[:3]))
    return codes, buf


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_write_timeout_closes_a_tls_client_that_stops_reading(sluice, pki, version):
    """The replies to 600,000 NOOPs, encrypted, are far more than a 4 KiB
    window and the server's send buffer take; the client never reads them.
    The server's TLS write waits and is given up after timeouts.write."""
    gw = start_tls_gateway(sluice, pki, mode="implicit", timeouts={"write": 2},
                           limits={"max_junk_commands": 10_000_000})
    s = small_window_tls_client(gw.port, pki, version)
    s.sendall(b"EHLO stalled-reader.test\r\n")
    assert read_replies(s, 2)[0] == [220, 250]

    def flood():  # the only user of `s` from here on
        try:
            s.sendall(b"NOOP\r\n" * 600_000)
        except OSError:
            pass
    t0 = time.monotonic()
    threading.Thread(target=flood, daemon=True).start()
    line = disconnect_line(gw)
    assert 'reason="write timeout"' in line, line
    assert time.monotonic() - t0 >= 2
    # The gateway goes on serving, over TLS too.
    again = tls_socket(gw.port, pki.client_context(version), implicit=True)
    again.sendall(b"QUIT\r\n")
    assert read_replies(again, 2)[0] == [220, 221]


def test_sigterm_drain_finishes_replies_a_tls_client_is_slow_to_read(sluice, pki):
    """The TLS side of test_signals' slow reader: the drain wakes the
    session while its TLS write waits for a client with a 4 KiB window; the
    write goes on, every reply arrives whole, and the transaction finishes.
    One thread drives the socket (non-blocking, select), since Python's TLS
    socket is not safe to read in one thread and write in another."""
    gw = start_tls_gateway(sluice, pki, mode="implicit", timeouts={"drain": 60 * SLOW},
                           limits={"max_junk_commands": 1_000_000})
    s = small_window_tls_client(gw.port, pki, "1.3")
    s.sendall(b"EHLO slow-reader.test\r\nMAIL FROM:<a@src.test>\r\nRCPT TO:<b@example.test>\r\nNOOP\r\n")
    codes, buf = read_replies(s, 5)
    assert codes == [220, 250, 250, 250, 250] and buf == b"", (codes, buf)
    reply = b"250 2.0.0 OK\r\n"
    n = 300_000
    out = memoryview(b"NOOP\r\n" * n)
    want = len(reply) * n
    got = bytearray()
    sent = 0
    s.setblocking(False)

    def step(read):
        """One round: write what the server takes, read (when `read`) what it sent."""
        nonlocal sent
        readable, writable, _ = select.select([s] if read else [], [s] if sent < len(out) else [], [], 0.05)
        if writable:
            try:
                sent += s.send(out[sent:sent + 16384])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        if readable:
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    break
                assert chunk, f"closed after {len(got)} of {want} bytes of replies"
                got.extend(chunk)

    # Write without reading for a second: the server's replies (some 4 MB
    # before encryption) back up behind the 4 KiB window and its write waits.
    # The kernel's buffers may take every command meanwhile.
    t_end = time.monotonic() + 1.0 * SLOW
    while time.monotonic() < t_end:
        step(read=False)
    gw.signal(signal.SIGTERM)
    gw.wait_log("event=draining")
    time.sleep(0.3)
    deadline = time.monotonic() + 50 * SLOW  # inside the drain's time
    while len(got) < want or sent < len(out):
        assert time.monotonic() < deadline, (len(got), want, sent)
        step(read=True)
    assert bytes(got[:want]) == reply * n
    rest = bytes(got[want:])

    s.setblocking(True)
    s.settimeout(10 * SLOW)
    s.sendall(b"DATA\r\n")
    codes, rest = read_replies(s, 1, rest)
    assert codes == [354]
    s.sendall(b"Subject: slow TLS reader\r\n\r\nbody\r\n.\r\n")
    codes, rest = read_replies(s, 2, rest)
    assert codes == [250, 421], codes
    gw.proc.wait(timeout=10 * SLOW)
    assert gw.proc.returncode == 0
    assert len(gw.queued()) == 1
    assert 'reason="lost connection' not in gw.log()
