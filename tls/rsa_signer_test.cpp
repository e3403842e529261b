// The libcrypto RSA signer on its own: signatures that verify, PKCS#1 and
// PKCS#8 keys, the per-thread key list past its size, and the refusals.
// Keys are made here with libcrypto; the handshakes that use the signer are
// in tests/integration/test_tls_rsa_signing.py.
#include "tls/rsa_signer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <string>
#include <memory>
#include <vector>

#include "metrics/tls_counters.hpp"
#include "tls/libcrypto_keys.hpp"
#include "tls/libcrypto_test_keys.hpp"

namespace sluice::tls {
namespace {

using Bytes = test_keys::Bytes;
using test_keys::der_of;
using test_keys::pem_of;

struct Key {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey{nullptr, &EVP_PKEY_free};
  Bytes pkcs1;  // RSAPrivateKey
  Bytes pkcs8;  // PrivateKeyInfo
};

Key make_key(unsigned bits) {
  Key k;
  k.pkey.reset(EVP_RSA_gen(bits));
  EXPECT_TRUE(k.pkey);
  k.pkcs1 = der_of(k.pkey.get(), false);
  k.pkcs8 = der_of(k.pkey.get(), true);
  return k;
}

const Key& key2048() {
  static const Key k = make_key(2048);
  return k;
}

// SHA-256's DigestInfo prefix (RFC 8017 9.2, note 1) followed by the hash.
Bytes digest_info(const Bytes& hash) {
  Bytes out = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
               0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  out.insert(out.end(), hash.begin(), hash.end());
  return out;
}

Bytes sha256(std::string_view s) {
  Bytes h(32);
  unsigned len = 0;
  EVP_Digest(s.data(), s.size(), h.data(), &len, EVP_sha256(), nullptr);
  return h;
}

// Verifies with libcrypto's ordinary message API: it hashes `message`
// itself, so this checks the signer's padding and encoding, not just the
// modular arithmetic.
bool verifies(const Key& k, const Bytes& sig, std::string_view message, bool pss) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, k.pkey.get()) != 1) return false;
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))  // exactly the hash's length
    return false;
  return EVP_DigestVerify(md.get(), sig.data(), sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

TEST(RsaSigner, Pkcs1SignatureVerifiesForBothKeyEncodings) {
  const Key& k = key2048();
  for (const Bytes* der : {&k.pkcs1, &k.pkcs8}) {
    Bytes sig(256);
    const Bytes di = digest_info(sha256("handshake transcript"));
    ASSERT_EQ(rsa_signer::sign_pkcs1(*der, di, sig), 256u);
    EXPECT_TRUE(verifies(k, sig, "handshake transcript", false));
    EXPECT_FALSE(verifies(k, sig, "another transcript", false));
  }
}

TEST(RsaSigner, PssSignatureVerifiesWithSaltAsLongAsTheHash) {
  const Key& k = key2048();
  Bytes a(256), b(256);
  ASSERT_EQ(rsa_signer::sign_pss(k.pkcs8, rsa_signer::PssHash::sha256, sha256("transcript"), a), 256u);
  ASSERT_EQ(rsa_signer::sign_pss(k.pkcs8, rsa_signer::PssHash::sha256, sha256("transcript"), b), 256u);
  EXPECT_TRUE(verifies(k, a, "transcript", true));
  EXPECT_TRUE(verifies(k, b, "transcript", true));
  EXPECT_NE(a, b);  // a fresh random salt each time
}

TEST(RsaSigner, Refusals) {
  const Key& k = key2048();
  auto& failures = metrics::tls_counters().rsa_signature_failures;
  const auto before = failures.load();
  Bytes sig(256), small(255);
  const Bytes di = digest_info(sha256("x"));
  const Bytes garbage = {0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_EQ(rsa_signer::sign_pkcs1(garbage, di, sig), 0u);
  EXPECT_EQ(rsa_signer::sign_pkcs1(k.pkcs1, di, small), 0u);  // no room for the signature
  // A digest whose length is not the named hash's.
  EXPECT_EQ(rsa_signer::sign_pss(k.pkcs1, rsa_signer::PssHash::sha384, sha256("x"), sig), 0u);
  // An EC key is not an RSA key.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  ASSERT_TRUE(ec);
  EXPECT_EQ(rsa_signer::sign_pkcs1(der_of(ec.get(), true), di, sig), 0u);
  EXPECT_EQ(failures.load() - before, 4u);
}

TEST(RsaSigner, MoreKeysThanTheThreadKeepsStillSignWithTheirOwnKey) {
  // More keys than a thread keeps parsed: each signature must still come
  // from the key it was asked for, after the first ones were dropped.
  std::vector<Key> keys;
  for (std::size_t i = 0; i < libcrypto_keys::kKeysPerThread + 2; ++i) keys.push_back(make_key(1024));
  const Bytes di = digest_info(sha256("m"));
  for (int round = 0; round < 2; ++round)
    for (const Key& k : keys) {
      Bytes sig(128);
      ASSERT_EQ(rsa_signer::sign_pkcs1(k.pkcs1, di, sig), 128u);
      EXPECT_TRUE(verifies(k, sig, "m", false));
      EXPECT_FALSE(verifies(keys[0].pkey.get() == k.pkey.get() ? keys[1] : keys[0], sig, "m", false));
    }
}

TEST(RsaSigner, KeyCheck) {
  EXPECT_EQ(rsa_signer::check_key_pem(pem_of(key2048().pkey.get()), "k.pem"), "");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  EXPECT_NE(rsa_signer::check_key_pem(pem_of(ec.get()), "k.pem").find("k.pem is not an RSA key"), std::string::npos);
  EXPECT_NE(rsa_signer::check_key_pem("not a key\n", "k.pem").find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace sluice::tls
