// ecdsa_signer.hpp — ECDSA signatures for the server's TLS handshakes, made by
// OpenSSL's libcrypto instead of wolfSSL (tls.ecdsa_signing = "libcrypto",
// the default; docs/tls.md "Who signs with the certificate's key").
//
// Why: Debian's wolfSSL 5.5 computes ECDSA on its generic big-number code
// (no SP ECC, no x86-64 assembly): 116-131 µs of CPU per P-256 signature on
// the Intel Xeon VM of docs/benchmarks.md 8.8, against 35-40 µs by libcrypto
// through its EVP API (load-tests/bench-crypto-speed.sh). A full handshake
// with an ECDSA certificate signs once (TLS 1.2 ServerKeyExchange, TLS 1.3
// CertificateVerify) and costs about 500 µs there, so the change saves about
// a sixth of it (measured: 1.20-1.24x the handshakes per CPU-second).
// wolfSSL's public-key callback
// hands over the digest it has already computed and the key it holds for the
// session; the rest of TLS stays wolfSSL's.
//
// Like rsa_signer.hpp, this header carries neither library's types.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice::tls::ecdsa_signer {

// Signs `digest` (the handshake hash, as TLS has already computed it) with
// the EC private key in `key_der` (SEC1 or PKCS#8 DER, as wolfSSL holds it)
// and writes the DER ECDSA-Sig-Value TLS sends (RFC 8446 4.2.3, RFC 4492 5.4)
// to `out`. Returns its length; 0 when the key does not parse or is not EC,
// `out` is too small, or libcrypto fails. Thread-safe (tls/libcrypto_keys.hpp).
std::size_t sign_digest(std::span<const std::uint8_t> key_der, std::span<const std::uint8_t> digest,
                        std::span<std::uint8_t> out);

// At config time: can libcrypto use the PEM key `pem` (the bytes of the key
// file `path`, which the caller read once for wolfSSL too) for these
// signatures? "" when it can, else why not.
std::string check_key_pem(std::string_view pem, const std::string& path);

}  // namespace sluice::tls::ecdsa_signer
