// libcrypto_test_keys.hpp — for the signer tests (tls/*_signer_test.cpp):
// a libcrypto key as the DER bytes wolfSSL would hand a signer, and as a PEM
// file for the key-file checks. Test code only; OpenSSL's headers only.
#pragma once
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace sluice::tls::test_keys {

using Bytes = std::vector<std::uint8_t>;

// PKCS#8 PrivateKeyInfo, or the key type's own encoding (PKCS#1 RSAPrivateKey,
// SEC1 ECPrivateKey).
inline Bytes der_of(EVP_PKEY* k, bool pkcs8) {
  unsigned char* buf = nullptr;
  int n = -1;
  if (pkcs8) {
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> info(EVP_PKEY2PKCS8(k),
                                                                                   &PKCS8_PRIV_KEY_INFO_free);
    n = i2d_PKCS8_PRIV_KEY_INFO(info.get(), &buf);
  } else {
    n = i2d_PrivateKey(k, &buf);
  }
  EXPECT_GT(n, 0);
  Bytes out(buf, buf + (n > 0 ? n : 0));
  OPENSSL_free(buf);
  return out;
}

// The key as an unencrypted PEM file in the test's temporary folder.
inline std::string pem_file(EVP_PKEY* k, const std::string& name) {
  const std::string path = ::testing::TempDir() + name;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  EXPECT_TRUE(f && PEM_write_PrivateKey(f.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return path;
}

}  // namespace sluice::tls::test_keys
