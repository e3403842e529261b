// ecdsa_signer_libcrypto.cpp — tls/ecdsa_signer.hpp on OpenSSL's libcrypto.
// Only OpenSSL's headers here, never wolfSSL's (see rsa_signer.hpp).
#include "tls/ecdsa_signer.hpp"

#include <openssl/evp.h>

#include <memory>

#include "metrics/tls_counters.hpp"
#include "tls/libcrypto_keys.hpp"

namespace sluice::tls::ecdsa_signer {

namespace {

std::size_t finish(bool ok, std::size_t len) {
  auto& counters = metrics::tls_counters();
  metrics::TlsCounters::add(ok ? counters.ecdsa_signatures_libcrypto : counters.ecdsa_signature_failures);
  if (!ok) libcrypto_keys::forget_errors();
  return ok ? len : 0;
}

}  // namespace

std::size_t sign_digest(std::span<const std::uint8_t> key_der, std::span<const std::uint8_t> digest,
                        std::span<std::uint8_t> out) {
  EVP_PKEY* key = libcrypto_keys::parsed(key_der, EVP_PKEY_EC);
  if (!key || digest.empty()) return finish(false, 0);
  libcrypto_keys::PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  // libcrypto refuses to write into a buffer shorter than the largest
  // signature the curve allows, even when this one would fit: a buffer
  // wolfSSL sized for the key always is that large.
  std::size_t len = out.size();
  // No message digest set: libcrypto signs the bytes as the digest, which is
  // what TLS hands over (a digest longer than the curve's order is cut as
  // ECDSA says, FIPS 186-4 6.4).
  const bool ok = ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
                  EVP_PKEY_sign(ctx.get(), out.data(), &len, digest.data(), digest.size()) == 1;
  return finish(ok, len);
}

std::string check_key_pem(std::string_view pem, const std::string& path) {
  return libcrypto_keys::check_key_pem(pem, path, EVP_PKEY_EC, "an EC key");
}

}  // namespace sluice::tls::ecdsa_signer
