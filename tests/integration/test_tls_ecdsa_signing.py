"""Who signs with an EC certificate's key (tls.ecdsa_signing, docs/tls.md):
libcrypto by default, wolfSSL when asked. The clients verify every signature
themselves: openssl s_client with each ECDSA signature algorithm TLS 1.2 and
1.3 allow for P-256, P-384 and P-521 keys (P-256 in both key encodings), and gnutls-cli;
/metrics shows who signed, and that a resumed session signs nothing."""
import pytest

from tls_support import (Pki, assert_start_refused, gnutls_starttls_both_versions, run, s_client, sigalg_handshake,
                         signed_by_libcrypto, tls_tables)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.p256 = p.leaf("mx.sluice.test", "ec")  # openssl req writes PKCS#8 ("BEGIN PRIVATE KEY")
    p.p384 = p.leaf("p384.sluice.test", "ec384")  # another subject: one per OCSP index
    p.p521 = p.leaf("p521.sluice.test", "ec521")  # the largest signature: 139 bytes, all the room TLS 1.2 gives
    # The P-256 key as SEC1 ("BEGIN EC PRIVATE KEY"), as older tools write it.
    p.p256_sec1 = p.dir / "sec1.key"
    run(["openssl", "ec", "-in", p.p256[1], "-out", p.p256_sec1])
    assert b"BEGIN EC PRIVATE KEY" in p.p256_sec1.read_bytes()
    return p

# (key, TLS version, the one signature algorithm the client offers, the digest s_client reports).
# TLS 1.3 ties the hash to the curve; TLS 1.2 lets the client ask any hash of any curve's key,
# so a P-256 key signs a SHA-384 or SHA-512 digest, longer than its order (cut as ECDSA says).
SIGALGS = [
    ("p256", "1.2", "ecdsa_secp256r1_sha256", "SHA256"),
    ("p256", "1.2", "ecdsa_secp384r1_sha384", "SHA384"),
    ("p256", "1.2", "ecdsa_secp521r1_sha512", "SHA512"),
    ("p256", "1.3", "ecdsa_secp256r1_sha256", "SHA256"),
    ("p384", "1.2", "ecdsa_secp384r1_sha384", "SHA384"),
    ("p384", "1.2", "ecdsa_secp256r1_sha256", "SHA256"),
    ("p384", "1.3", "ecdsa_secp384r1_sha384", "SHA384"),
    ("p521", "1.2", "ecdsa_secp521r1_sha512", "SHA512"),
    ("p521", "1.2", "ecdsa_secp256r1_sha256", "SHA256"),
    ("p521", "1.3", "ecdsa_secp521r1_sha512", "SHA512"),
]


# (certificate and key, the curve's rows in SIGALGS)
KEYS = {"p256": (lambda p: p.p256, "p256"), "p256_sec1": (lambda p: (p.p256[0], p.p256_sec1), "p256"),
        "p384": (lambda p: p.p384, "p384"), "p521": (lambda p: p.p521, "p521")}


@pytest.mark.parametrize("key_name", KEYS)
def test_libcrypto_signs_every_ecdsa_signature_algorithm(sluice, pki, key_name):
    files, curve = KEYS[key_name]
    gw = sluice.start(**tls_tables([(*files(pki), ["mx.sluice.test"], {})]))
    assert signed_by_libcrypto(gw, "ecdsa") == 0
    cases = [c for c in SIGALGS if c[0] == curve]
    for n, (_, version, sigalg, digest) in enumerate(cases, start=1):
        out = sigalg_handshake(gw.port, pki.ca, version, sigalg)
        assert "Peer signature type: ECDSA" in out and f"Peer signing digest: {digest}" in out, (sigalg, out)
        assert signed_by_libcrypto(gw, "ecdsa") == n, sigalg
    assert signed_by_libcrypto(gw, "ecdsa", "failed") == 0
    assert signed_by_libcrypto(gw, "rsa") == 0


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_a_resumed_session_signs_nothing(sluice, pki, tmp_path, version):
    gw = sluice.start(**tls_tables([(*pki.p256, ["mx.sluice.test"], {})]))
    sess = tmp_path / "sess.pem"
    sigalg = "ecdsa_secp256r1_sha256"
    assert "New," in sigalg_handshake(gw.port, pki.ca, version, sigalg, "-sess_out", str(sess))
    assert signed_by_libcrypto(gw, "ecdsa") == 1
    assert "Reused," in sigalg_handshake(gw.port, pki.ca, version, sigalg, "-sess_in", str(sess))
    assert signed_by_libcrypto(gw, "ecdsa") == 1


def test_the_stapling_context_signs_with_libcrypto_too(sluice, pki, tmp_path):
    # A certificate with an OCSP file is two wolfSSL contexts (docs/tls.md). While the response is
    # fresh every session starts on the stapling one, asked for a status or not; the other is the
    # plain certificate, which the tests above cover.
    chain = pki.fullchain(pki.p256[0], tmp_path / "chain.pem")
    der = pki.ocsp_response(pki.p256[0], tmp_path / "mx.ocsp", days=1)
    gw = sluice.start(**tls_tables([(chain, pki.p256[1], ["mx.sluice.test"], {"ocsp": str(der)})]))
    for n, version in enumerate(("1.2", "1.3"), start=1):
        out = sigalg_handshake(gw.port, pki.ca, version, "ecdsa_secp256r1_sha256", "-status")
        assert "Cert Status: good" in out, out
        assert signed_by_libcrypto(gw, "ecdsa") == n
    sigalg_handshake(gw.port, pki.ca, "1.3", "ecdsa_secp256r1_sha256")  # no status asked
    assert signed_by_libcrypto(gw, "ecdsa") == 3


def test_wolfssl_signs_when_asked(sluice, pki):
    gw = sluice.start(**tls_tables([(*pki.p256, ["mx.sluice.test"], {})], tls={"ecdsa_signing": "wolfssl"}))
    sigalg_handshake(gw.port, pki.ca, "1.2", "ecdsa_secp256r1_sha256")
    sigalg_handshake(gw.port, pki.ca, "1.3", "ecdsa_secp256r1_sha256")
    assert signed_by_libcrypto(gw, "ecdsa") == 0


def test_gnutls_cli_verifies_libcrypto_signatures(sluice, pki):
    gw = sluice.start(**tls_tables([(*pki.p256, ["mx.sluice.test"], {})]))
    gnutls_starttls_both_versions(gw.port, pki.ca)  # GnuTLS's own ECDSA code checks each signature
    assert signed_by_libcrypto(gw, "ecdsa") == 2


def test_unknown_signer_is_a_config_error(sluice, pki):
    assert_start_refused(sluice, tls_tables([(*pki.p256, [], {})], tls={"ecdsa_signing": "openssl"}),
                         "ecdsa_signing", '"libcrypto", "wolfssl"')
