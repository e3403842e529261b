"""Certificate, key and OCSP files in use: OCSP stapling (RFC 6066 8) with a
response made by `openssl ocsp` against the test CA, shown by
`openssl s_client -status`; a stale response (past nextUpdate) is not
stapled and is logged; files replaced on disk are picked up without a
restart, and on SIGHUP; a broken new file is refused with a log line and the
certificate in use stays."""
import datetime
import signal

import pytest

from tls_support import Pki, replace, s_client, served_subject, tls_tables


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.rsa = p.leaf("mx.sluice.test", "rsa")
    p.chain = p.fullchain(p.rsa[0], p.dir / "mx-fullchain.pem")
    return p


def stale_ocsp_response(pki, cert_path, out):
    """A correctly signed response whose nextUpdate has passed (openssl ocsp
    cannot date one in the past; Python's cryptography can)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    now = datetime.datetime.utcnow()
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=ca, algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=now - datetime.timedelta(days=2), next_update=now - datetime.timedelta(days=1),
        revocation_time=None, revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.NAME, ca)
    out.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    return out


def test_ocsp_staple(sluice, pki, tmp_path):
    der = pki.ocsp_response(pki.rsa[0], tmp_path / "mx.ocsp", days=1)
    gw = sluice.start(**tls_tables([(pki.chain, pki.rsa[1], [], {"ocsp": str(der)})]))
    for version in ("-tls1_2", "-tls1_3"):
        out = s_client(gw.port, version, "-CAfile", str(pki.ca), "-status")
        assert "OCSP Response Status: successful" in out, out
        assert "Cert Status: good" in out, out
    gw.wait_log("ocsp=requested", count=2)
    gw.stop()
    # wolfSSL took the response from us once and cached it for the second handshake.
    assert "ocsp_lookups=1 " in gw.log(), gw.log()[-800:]


def test_stale_ocsp_not_stapled_and_replaced_file_picked_up(sluice, pki, tmp_path):
    ocsp_file = tmp_path / "mx.ocsp"
    stale_ocsp_response(pki, pki.rsa[0], ocsp_file)
    gw = sluice.start(**tls_tables([(pki.chain, pki.rsa[1], [], {"ocsp": str(ocsp_file)})], tls={"reload_check_interval": "1s"}))
    out = s_client(gw.port, "-CAfile", str(pki.ca), "-status")
    assert "OCSP response: no response sent" in out, out
    gw.wait_log("event=tls_ocsp_stale")
    # A fresh response written over it is stapled from the next check on.
    fresh = pki.ocsp_response(pki.rsa[0], tmp_path / "fresh.ocsp", days=1)
    replace(ocsp_file, fresh.read_bytes())
    gw.wait_log("event=tls_ocsp_loaded")
    assert "OCSP Response Status: successful" in s_client(gw.port, "-CAfile", str(pki.ca), "-status")


def test_broken_ocsp_file_keeps_the_previous_response(sluice, pki, tmp_path):
    ocsp_file = pki.ocsp_response(pki.rsa[0], tmp_path / "mx.ocsp", days=1)
    gw = sluice.start(**tls_tables([(pki.chain, pki.rsa[1], [], {"ocsp": str(ocsp_file)})], tls={"reload_check_interval": "1s"}))
    ocsp_file.write_bytes(b"garbage")
    gw.wait_log("event=tls_ocsp_refused")
    assert "previous response kept" in gw.log()
    assert "OCSP Response Status: successful" in s_client(gw.port, "-CAfile", str(pki.ca), "-status")


def test_certificate_files_reloaded_when_changed(sluice, pki, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    replace(cert, pki.rsa[0].read_bytes())
    replace(key, pki.rsa[1].read_bytes())
    gw = sluice.start(**tls_tables([(cert, key, [], {})], tls={"reload_check_interval": "1s"}))
    assert "CN = mx.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    # A broken certificate is refused; the one in use stays.
    cert.write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    gw.wait_log("event=tls_reload_refused")
    assert "certificates in use kept" in gw.log()
    assert "CN = mx.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    # A new pair (an ECDSA one, other name) is picked up without a restart.
    new_cert, new_key = pki.leaf("renewed.sluice.test", "ec")
    replace(key, new_key.read_bytes())
    replace(cert, new_cert.read_bytes())
    gw.wait_log("event=tls_reloaded")
    out = s_client(gw.port, "-CAfile", str(pki.ca))
    assert "CN = renewed.sluice.test" in served_subject(out), out


def test_sighup_reload_refuses_a_bad_certificate(sluice, pki, tmp_path):
    gw = sluice.start(**tls_tables([(*pki.rsa, [], {})]))
    tables = dict(gw.tables)
    tables["tls"] = {"certificate": [{"cert": str(pki.rsa[0]), "key": str(tmp_path / "gone.key")}]}
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reload_refused")
    assert "gone.key" in gw.log()
    assert "CN = mx.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    other = pki.leaf("hup.sluice.test", "rsa")
    tables["tls"] = {"certificate": [{"cert": str(other[0]), "key": str(other[1])}]}
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    assert "CN = hup.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
