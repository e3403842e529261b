// rsa_signer_libcrypto.cpp — tls/rsa_signer.hpp on OpenSSL's libcrypto.
// Only OpenSSL's headers here, never wolfSSL's (see the header).
#include "tls/rsa_signer.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

#include "metrics/tls_counters.hpp"
#include "tls/libcrypto_keys.hpp"

namespace sluice::tls::rsa_signer {

namespace {

using libcrypto_keys::PkeyCtx;

EVP_PKEY* parsed(std::span<const std::uint8_t> der) { return libcrypto_keys::parsed(der, EVP_PKEY_RSA); }

std::size_t finish(bool ok, std::size_t len) {
  auto& counters = metrics::tls_counters();
  metrics::TlsCounters::add(ok ? counters.rsa_signatures_libcrypto : counters.rsa_signature_failures);
  if (!ok) libcrypto_keys::forget_errors();
  return ok ? len : 0;
}

const EVP_MD* md_of(PssHash h) {
  switch (h) {
    case PssHash::sha256: return EVP_sha256();
    case PssHash::sha384: return EVP_sha384();
    case PssHash::sha512: return EVP_sha512();
  }
  return nullptr;
}

}  // namespace

std::size_t sign_pkcs1(std::span<const std::uint8_t> key_der, std::span<const std::uint8_t> digest_info,
                       std::span<std::uint8_t> out) {
  EVP_PKEY* key = parsed(key_der);
  if (!key) return finish(false, 0);
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  std::size_t len = out.size();
  // No message digest set: libcrypto pads and signs the bytes as given,
  // which is what a DigestInfo needs.
  const bool ok = ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                  EVP_PKEY_sign(ctx.get(), out.data(), &len, digest_info.data(), digest_info.size()) == 1;
  return finish(ok, len);
}

std::size_t sign_pss(std::span<const std::uint8_t> key_der, PssHash hash, std::span<const std::uint8_t> digest,
                     std::span<std::uint8_t> out) {
  EVP_PKEY* key = parsed(key_der);
  const EVP_MD* md = md_of(hash);
  if (!key || !md || digest.size() != static_cast<std::size_t>(EVP_MD_get_size(md))) return finish(false, 0);
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  std::size_t len = out.size();
  const bool ok = ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1 &&
                  EVP_PKEY_sign(ctx.get(), out.data(), &len, digest.data(), digest.size()) == 1;
  return finish(ok, len);
}

std::string check_key_pem(std::string_view pem, const std::string& path) {
  return libcrypto_keys::check_key_pem(pem, path, EVP_PKEY_RSA, "an RSA key");
}

}  // namespace sluice::tls::rsa_signer
