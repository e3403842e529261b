"""Helpers for the TLS tests: a test PKI made with the openssl command, and
runners for the real TLS clients (openssl s_client, gnutls-cli, swaks,
Python's ssl module)."""
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from conftest import SLOW, free_port


def need(program):
    path = shutil.which(program)
    assert path, f"{program} is not installed (scripts/install-deps.sh test installs it)"
    return path


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, check=True, timeout=60, **kw)


class Pki:
    """A test CA and leaf certificates signed by it, in `directory`."""

    def __init__(self, directory):
        need("openssl")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.ca_key, "-out", self.ca,
             "-days", "30", "-subj", "/CN=Sluice Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        self.index = self.dir / "index.txt"
        self.index.write_text("")

    def leaf(self, name, kind="rsa", tag=None, days=30):
        """(cert path, key path) for CN=name with a subjectAltName, valid for `days`; kind rsa
        (2048), ec (P-256), ec384 (P-384), ec521 (P-521) or ed25519."""
        tag = tag or f"{name}-{kind}"
        key, csr, cert = (self.dir / f"{tag}.{ext}" for ext in ("key", "csr", "pem"))
        newkey = {"rsa": ["-newkey", "rsa:2048"], "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                  "ec384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
                  "ec521": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
                  "ed25519": ["-newkey", "ed25519"]}[kind]
        run(["openssl", "req", *newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}"])
        ext = self.dir / f"{tag}.ext"
        ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n")
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
             "-out", cert, "-days", str(days), "-extfile", ext])
        # The index `openssl ocsp` answers from: V(alid), expiry, serial, unknown, subject.
        serial = run(["openssl", "x509", "-in", cert, "-noout", "-serial"]).stdout.decode().strip().split("=")[1]
        with open(self.index, "a") as f:
            f.write(f"V\t991231235959Z\t\t{serial}\tunknown\t/CN={name}\n")
        return cert, key

    def dated_leaf(self, name, not_before, not_after):
        """(cert path, key path) for CN=name, EC P-256, valid between two datetimes (openssl req
        cannot date a certificate in the past; Python's cryptography can)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        ca = x509.load_pem_x509_certificate(self.ca.read_bytes())
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), None)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        cert_path, key_path = self.dir / f"{name}-dated.pem", self.dir / f"{name}-dated.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path

    def fullchain(self, cert, out):
        """The leaf followed by its issuer, as a chain file for stapling."""
        Path(out).write_bytes(Path(cert).read_bytes() + self.ca.read_bytes())
        return Path(out)

    def ocsp_response(self, cert, out, days=None, minutes=None):
        """A signed DER OCSP response for `cert` (good), valid for days or minutes."""
        validity = ["-ndays", str(days)] if days is not None else ["-nmin", str(minutes if minutes is not None else 60)]
        req = self.dir / "ocsp.req"
        run(["openssl", "ocsp", "-issuer", self.ca, "-cert", cert, "-reqout", req, "-no_nonce"])
        run(["openssl", "ocsp", "-index", self.index, "-rsigner", self.ca, "-rkey", self.ca_key, "-CA", self.ca,
             "-reqin", req, "-respout", out, *validity])
        return out

    def client_context(self, version=None):
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if version == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif version == "1.3":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx


def replace(path, data):
    """Writes `data` (bytes or text) to a temporary file beside `path` and
    renames it over `path`, as deploy tools do: a file check never sees a
    half-written file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.replace(tmp, path)


def tls_tables(pki_certs, mode="starttls", tls=None, port=None, extra_listeners=()):
    """Config overrides for one TLS listener (named smtp, the fixture's first)."""
    certs = [{"cert": str(c), "key": str(k), **({"names": names} if names else {}), **extra}
             for c, k, names, extra in pki_certs]
    return {
        "listener": [{"name": "smtp", "address": "127.0.0.1", "port": port or free_port(), "tls": mode},
                     *extra_listeners],
        "tls": {"certificate": certs, **(tls or {})},
    }


def s_client(port, *args, starttls=True, data=b"QUIT\r\n", timeout=20):
    """openssl s_client against 127.0.0.1:port; returns its stdout+stderr as text."""
    need("openssl")
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-ign_eof", *args]
    if starttls:
        argv[2:2] = ["-starttls", "smtp"]
    p = subprocess.run(argv, input=data, capture_output=True, timeout=timeout * SLOW)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def served_subject(output):
    for line in output.splitlines():
        if line.startswith("subject="):
            return line
    return None


def tls_socket(port, ctx, server_hostname="mx.sluice.test", implicit=False):
    """A Python TLS socket: implicit TLS, or after EHLO + STARTTLS on a raw connection.
    Returns (ssl socket, file-like reader)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
    if not implicit:
        f = raw.makefile("rb")
        assert f.readline().startswith(b"220")
        raw.sendall(b"EHLO client.test\r\n")
        while True:
            line = f.readline()
            if line[3:4] == b" ":
                break
        raw.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220 2.0.0")
    s = ctx.wrap_socket(raw, server_hostname=server_hostname)
    return s


def client_hello(pki, version="1.2", server_hostname="mx.sluice.test"):
    """The bytes of a real ClientHello, from Python's ssl on memory buffers."""
    outgoing = ssl.MemoryBIO()
    tls = pki.client_context(version).wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=server_hostname)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:  # the hello is written; it waits for the server's answer
        return outgoing.read()
    raise AssertionError("a handshake cannot finish before the server answers")


def tls_with_split_client_hello(port, ctx, first_part=None, pause=0.0, server_hostname=None, prefix=b""):
    """Implicit TLS through Python's ssl on memory buffers, so the test owns
    the bytes on the wire: `prefix` (a PROXY header, say) and the ClientHello
    go out in one write, or, with `first_part`, that many bytes of the hello
    and, `pause` seconds later, the rest (two TCP segments, as a hello longer
    than one segment arrives on a real network). Returns the banner line read
    through TLS and the ssl.SSLObject (its certificate, version); raises
    ssl.SSLError when the handshake fails."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        try:  # the first call only writes the ClientHello
            tls.do_handshake()
            raise AssertionError("a handshake cannot finish before the server answers")
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        if first_part is None:
            raw.sendall(prefix + hello)
        else:
            assert 0 < first_part < len(hello), (first_part, len(hello))
            raw.sendall(prefix + hello[:first_part])
            time.sleep(pause)
            raw.sendall(hello[first_part:])
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            finally:
                if outgoing.pending:
                    raw.sendall(outgoing.read())
            data = raw.recv(65536)
            if not data:
                raise ssl.SSLError("the server closed the connection during the handshake")
            incoming.write(data)
        banner = b""
        while not banner.endswith(b"\r\n"):
            try:
                banner += tls.read(4096)
            except ssl.SSLWantReadError:
                data = raw.recv(65536)
                if not data:
                    break
                incoming.write(data)
        return banner.decode(errors="replace"), tls
    finally:
        raw.close()


def gnutls_starttls_both_versions(port, ca, name="mx.sluice.test"):
    """gnutls-cli STARTTLS once with TLS 1.2 and once with 1.3, GnuTLS's own code checking the
    certificate and the handshake's signature; asserts both complete and QUIT gets its 221."""
    need("gnutls-cli")
    for priority in ("NORMAL:-VERS-ALL:+VERS-TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.3"):
        p = subprocess.run(["gnutls-cli", "--starttls-proto=smtp", "--port", str(port), "--x509cafile", str(ca),
                            "--verify-hostname", name, "--priority", priority, "127.0.0.1"],
                           input=b"QUIT\r\n", capture_output=True, timeout=30 * SLOW)
        out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
        assert "Handshake was completed" in out and "221 2.0.0" in out, (priority, out)


def assert_start_refused(sluice, tables, *words):
    """Sluice started with `tables` exits non-zero, its log naming every one of `words`."""
    gw = sluice.start(wait=False, **tables)
    assert gw.proc.wait(timeout=10 * SLOW) != 0
    assert all(w in gw.log() for w in words), gw.log()


def sigalg_handshake(port, ca, version, sigalg, *more):
    """openssl s_client STARTTLS with TLS `version` ("1.2", "1.3") offering the one signature
    algorithm `sigalg`, verifying against `ca`, then EHLO and QUIT; asserts it verified and got
    the 221, and returns s_client's output (its "Peer signature type" and "digest" lines)."""
    out = s_client(port, f"-tls1_{version[-1]}", "-sigalgs", sigalg, "-CAfile", str(ca),
                   "-servername", "mx.sluice.test", *more, data=b"EHLO c.test\r\nQUIT\r\n")
    assert "Verify return code: 0 (ok)" in out and "221 2.0.0" in out, (sigalg, out)
    return out


def signed_by_libcrypto(gw, key, result="ok"):
    """sluice_tls_libcrypto_signatures_total{key, result} from gw's /metrics."""
    from test_metrics import parse, scrape, value  # test_metrics imports half the suite
    return value(parse(scrape(gw)), "sluice_tls_libcrypto_signatures_total", key=key, result=result)
