// libcrypto_test_keys.hpp — for the signer tests (tls/*_signer_test.cpp):
// a libcrypto key as the DER bytes wolfSSL would hand a signer, and as the
// PEM bytes of a key file for the key checks. Test code only; OpenSSL's headers only.
#pragma once
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
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

// The key as an unencrypted PEM key file's bytes.
inline std::string pem_of(EVP_PKEY* k) {
  std::unique_ptr<BIO, decltype(&BIO_free)> mem(BIO_new(BIO_s_mem()), &BIO_free);
  EXPECT_TRUE(mem && PEM_write_bio_PrivateKey(mem.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long n = mem ? BIO_get_mem_data(mem.get(), &data) : 0;
  return std::string(data ? data : "", static_cast<std::size_t>(n > 0 ? n : 0));
}

}  // namespace sluice::tls::test_keys
