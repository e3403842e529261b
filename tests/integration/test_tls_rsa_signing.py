"""Who signs with an RSA certificate's key (tls.rsa_signing, docs/tls.md):
libcrypto by default, wolfSSL when asked. The clients verify every signature
themselves: openssl s_client with each PKCS#1 v1.5 and RSA-PSS signature
algorithm of TLS 1.2 and 1.3, and gnutls-cli; /metrics shows who signed."""
import pytest

from tls_support import (Pki, assert_start_refused, gnutls_starttls_both_versions, run, s_client, sigalg_handshake,
                         signed_by_libcrypto, tls_tables)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.rsa = p.leaf("mx.sluice.test", "rsa")  # openssl req writes PKCS#8 ("BEGIN PRIVATE KEY")
    # The same key as PKCS#1 ("BEGIN RSA PRIVATE KEY"), as older tools write it.
    p.rsa_traditional = p.dir / "traditional.key"
    run(["openssl", "rsa", "-in", p.rsa[1], "-traditional", "-out", p.rsa_traditional])
    assert b"BEGIN RSA PRIVATE KEY" in p.rsa_traditional.read_bytes()
    return p

# (TLS version, the one signature algorithm the client offers, what s_client then reports)
SIGALGS = [
    ("1.2", "rsa_pkcs1_sha256", "RSA", "SHA256"),
    ("1.2", "rsa_pkcs1_sha384", "RSA", "SHA384"),
    ("1.2", "rsa_pkcs1_sha512", "RSA", "SHA512"),
    ("1.2", "rsa_pss_rsae_sha256", "RSA-PSS", "SHA256"),
    ("1.2", "rsa_pss_rsae_sha384", "RSA-PSS", "SHA384"),
    ("1.3", "rsa_pss_rsae_sha256", "RSA-PSS", "SHA256"),
    ("1.3", "rsa_pss_rsae_sha384", "RSA-PSS", "SHA384"),
    ("1.3", "rsa_pss_rsae_sha512", "RSA-PSS", "SHA512"),
]


@pytest.mark.parametrize("key_format", ["pkcs8", "traditional"])
def test_libcrypto_signs_every_rsa_signature_algorithm(sluice, pki, key_format):
    key = pki.rsa[1] if key_format == "pkcs8" else pki.rsa_traditional
    gw = sluice.start(**tls_tables([(pki.rsa[0], key, ["mx.sluice.test"], {})]))
    assert signed_by_libcrypto(gw, "rsa") == 0
    for n, (version, sigalg, kind, digest) in enumerate(SIGALGS, start=1):
        out = sigalg_handshake(gw.port, pki.ca, version, sigalg)
        assert f"Peer signature type: {kind}" in out and f"Peer signing digest: {digest}" in out, (sigalg, out)
        assert signed_by_libcrypto(gw, "rsa") == n, sigalg
    assert signed_by_libcrypto(gw, "rsa", "failed") == 0


def test_wolfssl_signs_when_asked(sluice, pki):
    gw = sluice.start(**tls_tables([(*pki.rsa, ["mx.sluice.test"], {})], tls={"rsa_signing": "wolfssl"}))
    sigalg_handshake(gw.port, pki.ca, "1.2", "rsa_pkcs1_sha256")
    sigalg_handshake(gw.port, pki.ca, "1.3", "rsa_pss_rsae_sha256")
    assert signed_by_libcrypto(gw, "rsa") == 0


def test_ed25519_keys_are_left_to_wolfssl(sluice, pki):
    # RSA and EC keys go to libcrypto (EC: test_tls_ecdsa_signing.py);
    # Ed25519 ones start and sign as before.
    name = "ed25519.sluice.test"
    cert = pki.leaf(name, "ed25519")
    gw = sluice.start(**tls_tables([(*cert, [name], {})]))
    out = s_client(gw.port, "-tls1_3", "-CAfile", str(pki.ca), "-servername", name)
    assert "Verify return code: 0 (ok)" in out and "Peer signature type: ed25519" in out, out
    assert signed_by_libcrypto(gw, "rsa") == 0 and signed_by_libcrypto(gw, "ecdsa") == 0


def test_gnutls_cli_verifies_libcrypto_signatures(sluice, pki):
    gw = sluice.start(**tls_tables([(*pki.rsa, ["mx.sluice.test"], {})]))
    gnutls_starttls_both_versions(gw.port, pki.ca)  # GnuTLS's own RSA code checks each signature
    assert signed_by_libcrypto(gw, "rsa") == 2


def test_unknown_signer_is_a_config_error(sluice, pki):
    assert_start_refused(sluice, tls_tables([(*pki.rsa, [], {})], tls={"rsa_signing": "openssl"}),
                         "rsa_signing", '"libcrypto", "wolfssl"')
