// libcrypto_keys.hpp — the private keys libcrypto signs handshakes with
// (tls/rsa_signer.hpp, tls/ecdsa_signer.hpp), parsed once per worker thread.
//
// OpenSSL's types are in this header: only the *_libcrypto.cpp files include
// it, never a file that includes wolfSSL's headers (see rsa_signer.hpp).
#pragma once
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace sluice::tls::libcrypto_keys {

// The key in `der` (PKCS#1, SEC1 or PKCS#8 DER, as wolfSSL holds it) ready
// for libcrypto, or nullptr when it does not parse or is not of `type`
// (EVP_PKEY_RSA, EVP_PKEY_EC). Owned by the calling thread's short list and
// valid until that thread's next call.
//
// Why a list per thread: a worker signs with a handful of keys (one per
// certificate, plus the old ones for a while after a reload), found again by
// the bytes wolfSSL hands over, so a reload needs no coordination with
// workers, and no key is parsed once per handshake.
EVP_PKEY* parsed(std::span<const std::uint8_t> der, int type);

// How many keys a thread keeps; the least recently used goes first. RSA and
// EC keys share the list: 16 covers a dual-certificate listener's two keys,
// several listeners' own, and the old ones kept for a while after reloads.
constexpr std::size_t kKeysPerThread = 16;

// A signing context on a key from parsed(); it holds its own reference.
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// After a failed libcrypto call: empties the thread's OpenSSL error queue,
// which would otherwise grow with each failure and be blamed on the next
// caller.
void forget_errors();

// At config time: can libcrypto use the PEM key `pem` (the bytes of the file
// `path`, read once for wolfSSL and for this check, so both see the same
// key), and is it of `type`? "" when it can, else why not (`what` names the
// type: "an RSA key").
std::string check_key_pem(std::string_view pem, const std::string& path, int type, const char* what);

}  // namespace sluice::tls::libcrypto_keys
