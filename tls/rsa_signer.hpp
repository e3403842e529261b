// rsa_signer.hpp — RSA signatures for the server's TLS handshakes, made by
// OpenSSL's libcrypto instead of wolfSSL (tls.rsa_signing = "libcrypto", the
// default; docs/tls.md "Who signs with the certificate's key").
//
// Why: Debian's wolfSSL 5.5 is built without its SP RSA code and x86-64
// assembly, and takes about 1.56 ms per RSA-2048 signature where libcrypto
// takes 0.25 ms on the same machine (docs/benchmarks.md 8.2). A full
// handshake with an RSA certificate is mostly that one signature. wolfSSL's
// public-key callbacks (HAVE_PK_CALLBACKS, on in Debian's build) hand the
// private-key operation to these functions; everything else in TLS stays
// wolfSSL's, and wolfSSL still checks each signature with the public key
// before sending it.
//
// This header carries neither library's types: wolfSSL's OpenSSL-compatible
// headers and OpenSSL's own must never meet in one translation unit, so the
// implementation (rsa_signer_libcrypto.cpp) includes OpenSSL's alone and the
// callbacks that call it (server_context.cpp) wolfSSL's alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice::tls::rsa_signer {

enum class PssHash { sha256, sha384, sha512 };

// Both sign with the private key in `key_der` (PKCS#1 or PKCS#8 DER, as
// wolfSSL holds it) and return the signature's length in `out`; 0 when the
// key does not parse or is not RSA, `out` is too small, or libcrypto fails.
// Thread-safe: each thread keeps its own few parsed keys, so a worker parses
// a key once, not once per handshake.

// PKCS#1 v1.5 (type 1 padding) over `digest_info`: the DER DigestInfo that
// TLS 1.2 signs (wolfSSL has already wrapped the hash).
std::size_t sign_pkcs1(std::span<const std::uint8_t> key_der, std::span<const std::uint8_t> digest_info,
                       std::span<std::uint8_t> out);

// RSASSA-PSS over `digest` with MGF1 of the same hash and a salt as long as
// the hash (RFC 8446 4.2.3, what TLS 1.3 and rsa_pss_rsae in TLS 1.2 need).
std::size_t sign_pss(std::span<const std::uint8_t> key_der, PssHash hash, std::span<const std::uint8_t> digest,
                     std::span<std::uint8_t> out);

// At config time: can libcrypto use the PEM key `pem` (the bytes of the key
// file `path`, which the caller read once for wolfSSL too) for these
// signatures? "" when it can, else why not.
std::string check_key_pem(std::string_view pem, const std::string& path);

}  // namespace sluice::tls::rsa_signer
