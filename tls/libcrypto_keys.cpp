// libcrypto_keys.cpp — tls/libcrypto_keys.hpp. OpenSSL's headers only.
#include "tls/libcrypto_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace sluice::tls::libcrypto_keys {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct ParsedKey {
  std::vector<std::uint8_t> der;  // private key bytes: wiped when the entry goes
  Pkey key;
  ParsedKey(std::span<const std::uint8_t> d, Pkey k) : der(d.begin(), d.end()), key(std::move(k)) {}
  // A move takes the other's buffer (std::vector leaves it empty), so key
  // bytes are only ever freed through wipe().
  ParsedKey(ParsedKey&&) noexcept = default;
  ParsedKey& operator=(ParsedKey&& other) noexcept {
    if (this != &other) {
      wipe();
      der = std::move(other.der);
      key = std::move(other.key);
    }
    return *this;
  }
  ~ParsedKey() { wipe(); }
  void wipe() {
    if (!der.empty()) OPENSSL_cleanse(der.data(), der.size());
  }
};

}  // namespace

EVP_PKEY* parsed(std::span<const std::uint8_t> der, int type) {
  thread_local std::vector<ParsedKey> keys;
  for (auto it = keys.begin(); it != keys.end(); ++it)
    if (it->der.size() == der.size() && std::memcmp(it->der.data(), der.data(), der.size()) == 0) {
      if (it != keys.begin()) std::rotate(keys.begin(), it, it + 1);  // most recent first
      EVP_PKEY* key = keys.front().key.get();
      return EVP_PKEY_get_base_id(key) == type ? key : nullptr;
    }
  const unsigned char* p = der.data();
  Pkey key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (!key || EVP_PKEY_get_base_id(key.get()) != type) return nullptr;
  if (keys.size() == kKeysPerThread) keys.pop_back();
  keys.insert(keys.begin(), ParsedKey(der, std::move(key)));
  return keys.front().key.get();
}

void forget_errors() { ERR_clear_error(); }

std::string check_key_pem(std::string_view pem, const std::string& path, int type, const char* what) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  // No passphrase callback: an encrypted key is refused, as wolfSSL refuses it.
  Pkey key(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
              : nullptr);
  if (!key) {
    forget_errors();
    return "libcrypto cannot read the private key " + path;
  }
  if (EVP_PKEY_get_base_id(key.get()) != type) return path + " is not " + what;
  return "";
}

}  // namespace sluice::tls::libcrypto_keys
