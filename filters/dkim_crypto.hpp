// dkim_crypto.hpp — the cryptography DKIM needs, on wolfCrypt (Debian's
// libwolfssl): SHA-1/SHA-256 hashing that streams, public-key decoding
// (RSA as SubjectPublicKeyInfo or bare PKCS#1 RSAPublicKey, RFC 6376 3.6.1
// says the former but real records use both; Ed25519 as the raw 32 bytes,
// RFC 8463 4), verification (RSASSA-PKCS1-v1_5, RFC 8017 8.2; PureEdDSA over
// the SHA-256 of the header data, RFC 8463 3), and signing for the signer.
//
// No wolfSSL types leak out of this header. Everything is CPU-bound and
// synchronous; results are values, never exceptions.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "filters/dkim_signature.hpp"

namespace sluice::filters {

class DkimHasher {
 public:
  explicit DkimHasher(DkimHash hash);
  ~DkimHasher();
  DkimHasher(DkimHasher&&) noexcept;
  DkimHasher& operator=(DkimHasher&&) noexcept;
  void update(std::string_view bytes);
  std::string digest();  // final; the hasher is spent afterwards

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string dkim_digest(DkimHash hash, std::string_view bytes);

// RFC 8301 3.2: keys under 1024 bits MUST NOT be considered valid; above
// 4096 we refuse to spend the CPU (and wolfSSL's RSA_MAX_SIZE is 4096).
inline constexpr int kMinRsaBits = 1024;
inline constexpr int kMaxRsaBits = 4096;

struct DkimPublicKey {
  DkimKeyType type = DkimKeyType::rsa;
  std::string der;  // RSA: the DER as published (SPKI or PKCS#1); Ed25519: the 32 bytes
  int bits = 0;     // RSA: the modulus's length in bits (not rounded up to bytes)
};

// nullopt with `error` set when the bytes are not a key of that type.
std::optional<DkimPublicKey> decode_public_key(DkimKeyType type, std::string_view bytes,
                                               std::string& error);

// Verifies `signature` over `data_hash` (the hash of the canonical header
// data, already computed with the algorithm's hash).
bool verify_signature(const DkimPublicKey& key, DkimAlgorithm algorithm,
                      std::string_view data_hash, std::string_view signature);

// A private key for signing: RSA from PEM (PKCS#1 or PKCS#8) or DER; Ed25519
// from its 32-byte seed (RFC 8032 5.1.5).
class DkimPrivateKey {
 public:
  static std::optional<DkimPrivateKey> rsa_from_pem(std::string_view pem, std::string& error);
  static std::optional<DkimPrivateKey> ed25519_from_seed(std::string_view seed, std::string& error);
  ~DkimPrivateKey();
  DkimPrivateKey(DkimPrivateKey&&) noexcept;
  DkimPrivateKey& operator=(DkimPrivateKey&&) noexcept;

  DkimKeyType type() const;
  // The signature of `data_hash`; nullopt when the library refused.
  std::optional<std::string> sign(DkimAlgorithm algorithm, std::string_view data_hash) const;

 private:
  struct State;
  explicit DkimPrivateKey(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sluice::filters
