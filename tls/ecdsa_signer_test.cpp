// The libcrypto ECDSA signer on its own: signatures that verify for P-256 and
// P-384 keys in both encodings wolfSSL may hold (SEC1 and PKCS#8), a digest
// longer than the curve, and the refusals. The handshakes that use it are in
// tests/integration/test_tls_ecdsa_signing.py.
#include "tls/ecdsa_signer.hpp"
#include "tls/rsa_signer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "metrics/tls_counters.hpp"
#include "tls/libcrypto_test_keys.hpp"

namespace sluice::tls {
namespace {

using Bytes = test_keys::Bytes;
using test_keys::der_of;
using test_keys::pem_of;
using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bytes digest(const EVP_MD* md, std::string_view s) {
  Bytes h(EVP_MD_get_size(md));
  unsigned len = 0;
  EVP_Digest(s.data(), s.size(), h.data(), &len, md, nullptr);
  return h;
}

// Verifies with libcrypto's message API, which hashes `message` itself and
// parses the DER signature: this checks the encoding TLS sends, not just the
// arithmetic.
bool verifies(EVP_PKEY* k, const Bytes& sig, const EVP_MD* md, std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, k) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Bytes sign(const Bytes& der, const Bytes& d, std::size_t room = 139) {
  Bytes sig(room);
  sig.resize(ecdsa_signer::sign_digest(der, d, sig));
  return sig;
}

TEST(EcdsaSigner, SignaturesVerifyForBothKeyEncodingsAndCurves) {
  struct Case {
    const char* curve;
    const EVP_MD* md;
  };
  for (const Case c : {Case{"P-256", EVP_sha256()}, Case{"P-384", EVP_sha384()}}) {
    Pkey k(EVP_EC_gen(c.curve), &EVP_PKEY_free);
    ASSERT_TRUE(k);
    for (bool pkcs8 : {false, true}) {
      const Bytes sig = sign(der_of(k.get(), pkcs8), digest(c.md, "handshake transcript"));
      ASSERT_FALSE(sig.empty()) << c.curve;
      EXPECT_EQ(sig[0], 0x30);  // DER SEQUENCE { r, s }
      EXPECT_TRUE(verifies(k.get(), sig, c.md, "handshake transcript")) << c.curve << " pkcs8=" << pkcs8;
      EXPECT_FALSE(verifies(k.get(), sig, c.md, "another transcript")) << c.curve;
    }
  }
}

TEST(EcdsaSigner, EachSignatureIsFreshAndSignsWithTheKeyAskedFor) {
  Pkey a(EVP_EC_gen("P-256"), &EVP_PKEY_free), b(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  const Bytes d = digest(EVP_sha256(), "m");
  const Bytes s1 = sign(der_of(a.get(), false), d), s2 = sign(der_of(a.get(), false), d);
  const Bytes s3 = sign(der_of(b.get(), false), d);
  EXPECT_NE(s1, s2);  // a new nonce each time
  EXPECT_TRUE(verifies(a.get(), s2, EVP_sha256(), "m"));
  EXPECT_TRUE(verifies(b.get(), s3, EVP_sha256(), "m"));
  EXPECT_FALSE(verifies(a.get(), s3, EVP_sha256(), "m"));
}

TEST(EcdsaSigner, ADigestLongerThanTheCurveIsCutAsEcdsaSays) {
  // TLS 1.2 lets a client ask for ecdsa_secp384r1_sha384 from a P-256 key.
  Pkey k(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  const Bytes sig = sign(der_of(k.get(), true), digest(EVP_sha384(), "transcript"));
  ASSERT_FALSE(sig.empty());
  EXPECT_TRUE(verifies(k.get(), sig, EVP_sha384(), "transcript"));
}

TEST(EcdsaSigner, Refusals) {
  Pkey ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  Pkey rsa(EVP_RSA_gen(1024), &EVP_PKEY_free);
  auto& failures = metrics::tls_counters().ecdsa_signature_failures;
  auto& made = metrics::tls_counters().ecdsa_signatures_libcrypto;
  const auto failed_before = failures.load(), made_before = made.load();
  const Bytes d = digest(EVP_sha256(), "x");
  EXPECT_TRUE(sign({0x30, 0x03, 0x02, 0x01, 0x00}, d).empty());   // garbage
  EXPECT_TRUE(sign(der_of(rsa.get(), false), d).empty());         // not an EC key
  EXPECT_TRUE(sign(der_of(ec.get(), false), d, 16).empty());      // no room for a signature
  EXPECT_TRUE(sign(der_of(ec.get(), false), Bytes{}).empty());    // nothing to sign
  EXPECT_EQ(failures.load() - failed_before, 4u);
  EXPECT_EQ(made.load(), made_before);
  EXPECT_FALSE(sign(der_of(ec.get(), false), d).empty());
  EXPECT_EQ(made.load() - made_before, 1u);
}

TEST(EcdsaSigner, TheRoomWolfSslLeavesIsExactlyEnough) {
  // TLS 1.2 gives the callback wc_ecc_sig_size(): the curve's largest DER
  // signature, which is also the least libcrypto accepts.
  struct Case {
    const char* curve;
    std::size_t largest;
  };
  for (const Case c : {Case{"P-256", 72}, Case{"P-384", 104}, Case{"P-521", 139}}) {
    Pkey k(EVP_EC_gen(c.curve), &EVP_PKEY_free);
    ASSERT_TRUE(k);
    const Bytes der = der_of(k.get(), false), d = digest(EVP_sha256(), "m");
    EXPECT_FALSE(sign(der, d, c.largest).empty()) << c.curve;
    EXPECT_TRUE(sign(der, d, c.largest - 1).empty()) << c.curve;
  }
}

TEST(EcdsaSigner, AKeyParsedForOneSignerIsNotUsedByTheOther) {
  // The thread's key list holds RSA and EC keys together; a hit must still
  // check the type.
  Pkey ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  const Bytes der = der_of(ec.get(), true);
  ASSERT_FALSE(sign(der, digest(EVP_sha256(), "m")).empty());  // now in the list
  Bytes sig(256);
  EXPECT_EQ(rsa_signer::sign_pkcs1(der, digest(EVP_sha256(), "m"), sig), 0u);
  EXPECT_FALSE(sign(der, digest(EVP_sha256(), "m")).empty());  // and still there for ECDSA
}

TEST(EcdsaSigner, KeyCheck) {
  // The server reads a key file once and checks those bytes (tls/server_context.cpp).
  Pkey ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  Pkey rsa(EVP_RSA_gen(1024), &EVP_PKEY_free);
  const std::string pem = pem_of(ec.get());
  EXPECT_EQ(ecdsa_signer::check_key_pem(pem, "k.pem"), "");
  EXPECT_NE(ecdsa_signer::check_key_pem(pem_of(rsa.get()), "k.pem").find("k.pem is not an EC key"), std::string::npos);
  EXPECT_NE(ecdsa_signer::check_key_pem(pem.substr(0, pem.size() / 2), "k.pem").find("cannot read"),
            std::string::npos);
  EXPECT_NE(ecdsa_signer::check_key_pem("", "k.pem").find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace sluice::tls
