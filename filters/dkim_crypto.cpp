// dkim_crypto.cpp — wolfCrypt behind the DKIM crypto interface.
// <wolfssl/options.h> must come first: it carries the build's feature macros
// (HAVE_ED25519, RSA sizes), without which the structs have other layouts.
#include <wolfssl/options.h>
// (the rest after options.h)
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <cstring>
#include <vector>

#include "filters/dkim_crypto.hpp"

namespace sluice::filters {
namespace {

const byte* bytes_of(std::string_view s) { return reinterpret_cast<const byte*>(s.data()); }

wc_HashType wc_hash(DkimAlgorithm algorithm) {
  return hash_of(algorithm) == DkimHash::sha1 ? WC_HASH_TYPE_SHA : WC_HASH_TYPE_SHA256;
}

// RAII for a decoded RSA public key.
struct RsaPublic {
  RsaKey key;
  bool ok = false;
  explicit RsaPublic(std::string_view der) {
    if (wc_InitRsaKey(&key, nullptr) != 0) return;
    word32 idx = 0;
    // wolfCrypt's decoder takes SubjectPublicKeyInfo and bare RSAPublicKey
    // alike; it must also consume every byte (no trailing junk).
    ok = wc_RsaPublicKeyDecode(bytes_of(der), &idx, &key, static_cast<word32>(der.size())) == 0 &&
         idx == der.size();
  }
  ~RsaPublic() { wc_FreeRsaKey(&key); }
};

// The modulus's length in bits. wc_RsaEncryptSize() counts whole bytes, so
// a 1017..1023-bit modulus would read as 1024 and slip past RFC 8301 3.2's
// minimum; count the leading zero bits of the first byte instead.
int modulus_bits(RsaKey& key) {
  // Sized from the key, not RSA_MAX_SIZE: a key over the build's maximum
  // must still report its size (and fail max_rsa_bits), not read as 0.
  const int bytes = wc_RsaEncryptSize(&key);
  if (bytes <= 0) return 0;
  std::vector<byte> n(static_cast<std::size_t>(bytes)), e(static_cast<std::size_t>(bytes));
  word32 n_size = static_cast<word32>(n.size()), e_size = static_cast<word32>(e.size());
  if (wc_RsaFlattenPublicKey(&key, e.data(), &e_size, n.data(), &n_size) != 0) return 0;
  std::size_t first = 0;  // the export has no leading zero bytes; be sure anyway
  while (first < n_size && n[first] == 0) ++first;
  if (first == n_size) return 0;
  int bits = static_cast<int>(n_size - first) * 8;
  for (byte top = n[first]; (top & 0x80) == 0; top = static_cast<byte>(top << 1)) --bits;
  return bits;
}

// EMSA-PKCS1-v1_5's DigestInfo (RFC 8017 9.2): the hash's DER prefix and
// the hash. wolfCrypt's *Hash signature calls expect it already encoded.
std::string digest_info(DkimAlgorithm algorithm, std::string_view hash) {
  std::string out(hash.size() + 64, '\0');  // DER prefixes are under 20 bytes
  const word32 len = wc_EncodeSignature(reinterpret_cast<byte*>(out.data()), bytes_of(hash),
                                        static_cast<word32>(hash.size()),
                                        wc_HashGetOID(wc_hash(algorithm)));
  out.resize(len);
  return out;
}

}  // namespace

struct DkimHasher::State {
  DkimHash hash;
  wc_Sha sha1;
  wc_Sha256 sha256;
  explicit State(DkimHash h) : hash(h) {
    if (hash == DkimHash::sha1) wc_InitSha(&sha1);
    else wc_InitSha256(&sha256);
  }
  ~State() {
    if (hash == DkimHash::sha1) wc_ShaFree(&sha1);
    else wc_Sha256Free(&sha256);
  }
};

DkimHasher::DkimHasher(DkimHash hash) : state_(std::make_unique<State>(hash)) {}
DkimHasher::~DkimHasher() = default;
DkimHasher::DkimHasher(DkimHasher&&) noexcept = default;
DkimHasher& DkimHasher::operator=(DkimHasher&&) noexcept = default;

void DkimHasher::update(std::string_view bytes) {
  if (bytes.empty()) return;
  const auto len = static_cast<word32>(bytes.size());
  if (state_->hash == DkimHash::sha1) wc_ShaUpdate(&state_->sha1, bytes_of(bytes), len);
  else wc_Sha256Update(&state_->sha256, bytes_of(bytes), len);
}

std::string DkimHasher::digest() {
  std::string out;
  if (state_->hash == DkimHash::sha1) {
    out.resize(WC_SHA_DIGEST_SIZE);
    wc_ShaFinal(&state_->sha1, reinterpret_cast<byte*>(out.data()));
  } else {
    out.resize(WC_SHA256_DIGEST_SIZE);
    wc_Sha256Final(&state_->sha256, reinterpret_cast<byte*>(out.data()));
  }
  return out;
}

std::string dkim_digest(DkimHash hash, std::string_view bytes) {
  DkimHasher h(hash);
  h.update(bytes);
  return h.digest();
}

std::optional<DkimPublicKey> decode_public_key(DkimKeyType type, std::string_view bytes,
                                               std::string& error) {
  DkimPublicKey key;
  key.type = type;
  if (type == DkimKeyType::ed25519) {
    // RFC 8463 4: p= is the raw 32-byte public key.
    if (bytes.size() != ED25519_PUB_KEY_SIZE) {
      error = "ed25519 key is not 32 bytes";
      return std::nullopt;
    }
    ed25519_key k;
    wc_ed25519_init(&k);
    const bool ok = wc_ed25519_import_public(bytes_of(bytes), ED25519_PUB_KEY_SIZE, &k) == 0;
    wc_ed25519_free(&k);
    if (!ok) {
      error = "ed25519 key does not import";
      return std::nullopt;
    }
    key.der = std::string(bytes);
    return key;
  }
  RsaPublic rsa(bytes);
  if (!rsa.ok) {
    error = "p= is not an RSA public key";
    return std::nullopt;
  }
  key.bits = modulus_bits(rsa.key);
  if (key.bits == 0) {
    error = "the RSA modulus of p= cannot be read";
    return std::nullopt;
  }
  key.der = std::string(bytes);
  return key;
}

bool verify_signature(const DkimPublicKey& key, DkimAlgorithm algorithm,
                      std::string_view data_hash, std::string_view signature) {
  if (key.type != key_type_of(algorithm)) return false;
  if (key.type == DkimKeyType::ed25519) {
    ed25519_key k;
    wc_ed25519_init(&k);
    int verified = 0;
    const bool ok =
        wc_ed25519_import_public(bytes_of(key.der), ED25519_PUB_KEY_SIZE, &k) == 0 &&
        wc_ed25519_verify_msg(bytes_of(signature), static_cast<word32>(signature.size()),
                              bytes_of(data_hash), static_cast<word32>(data_hash.size()), &verified,
                              &k) == 0 &&
        verified == 1;
    wc_ed25519_free(&k);
    return ok;
  }
  RsaPublic rsa(key.der);
  if (!rsa.ok) return false;
  // The signature must be exactly the modulus size (RFC 8017 8.2.2 step 1).
  if (signature.size() != static_cast<std::size_t>(wc_RsaEncryptSize(&rsa.key))) return false;
  // Recover the padded block's payload and compare it, whole, with the
  // DigestInfo we expect (EMSA-PKCS1-v1_5 verification by re-encoding).
  std::string block(signature);
  byte* payload = nullptr;
  const int len = wc_RsaSSL_VerifyInline(reinterpret_cast<byte*>(block.data()),
                                         static_cast<word32>(block.size()), &payload, &rsa.key);
  if (len <= 0 || payload == nullptr) return false;
  const std::string expected = digest_info(algorithm, data_hash);
  return static_cast<std::size_t>(len) == expected.size() &&
         std::memcmp(payload, expected.data(), expected.size()) == 0;
}

struct DkimPrivateKey::State {
  DkimKeyType type = DkimKeyType::rsa;
  RsaKey rsa;
  ed25519_key ed;
  bool rsa_init = false;
  bool ed_init = false;
  ~State() {
    if (rsa_init) wc_FreeRsaKey(&rsa);
    if (ed_init) wc_ed25519_free(&ed);
  }
};

DkimPrivateKey::DkimPrivateKey(std::unique_ptr<State> state) : state_(std::move(state)) {}
DkimPrivateKey::~DkimPrivateKey() = default;
DkimPrivateKey::DkimPrivateKey(DkimPrivateKey&&) noexcept = default;
DkimPrivateKey& DkimPrivateKey::operator=(DkimPrivateKey&&) noexcept = default;
DkimKeyType DkimPrivateKey::type() const { return state_->type; }

std::optional<DkimPrivateKey> DkimPrivateKey::rsa_from_pem(std::string_view pem,
                                                           std::string& error) {
  std::vector<byte> der(pem.size() + 16);
  const int der_len = wc_KeyPemToDer(bytes_of(pem), static_cast<int>(pem.size()), der.data(),
                                     static_cast<int>(der.size()), nullptr);
  if (der_len <= 0) {
    error = "not a PEM private key";
    return std::nullopt;
  }
  auto state = std::make_unique<State>();
  if (wc_InitRsaKey(&state->rsa, nullptr) != 0) {
    error = "wolfCrypt RSA init failed";
    return std::nullopt;
  }
  state->rsa_init = true;
  word32 idx = 0;
  if (wc_RsaPrivateKeyDecode(der.data(), &idx, &state->rsa, static_cast<word32>(der_len)) != 0) {
    error = "not an RSA private key";
    return std::nullopt;
  }
  state->type = DkimKeyType::rsa;
  return DkimPrivateKey(std::move(state));
}

std::optional<DkimPrivateKey> DkimPrivateKey::ed25519_from_seed(std::string_view seed,
                                                                std::string& error) {
  if (seed.size() != ED25519_KEY_SIZE) {
    error = "ed25519 seed is not 32 bytes";
    return std::nullopt;
  }
  auto state = std::make_unique<State>();
  wc_ed25519_init(&state->ed);
  state->ed_init = true;
  byte pub[ED25519_PUB_KEY_SIZE];
  if (wc_ed25519_import_private_only(bytes_of(seed), ED25519_KEY_SIZE, &state->ed) != 0 ||
      wc_ed25519_make_public(&state->ed, pub, sizeof pub) != 0 ||
      wc_ed25519_import_private_key(bytes_of(seed), ED25519_KEY_SIZE, pub, sizeof pub,
                                    &state->ed) != 0) {
    error = "ed25519 seed does not import";
    return std::nullopt;
  }
  state->type = DkimKeyType::ed25519;
  return DkimPrivateKey(std::move(state));
}

std::optional<std::string> DkimPrivateKey::sign(DkimAlgorithm algorithm,
                                                std::string_view data_hash) const {
  if (key_type_of(algorithm) != state_->type) return std::nullopt;
  if (state_->type == DkimKeyType::ed25519) {
    std::string sig(ED25519_SIG_SIZE, '\0');
    word32 len = ED25519_SIG_SIZE;
    if (wc_ed25519_sign_msg(bytes_of(data_hash), static_cast<word32>(data_hash.size()),
                            reinterpret_cast<byte*>(sig.data()), &len, &state_->ed) != 0)
      return std::nullopt;
    sig.resize(len);
    return sig;
  }
  WC_RNG rng;  // RSA blinding needs one; PKCS#1 v1.5 output stays deterministic
  if (wc_InitRng(&rng) != 0) return std::nullopt;
  const int size = wc_RsaEncryptSize(&state_->rsa);
  std::string sig(static_cast<std::size_t>(size), '\0');
  word32 len = static_cast<word32>(size);
  const std::string encoded = digest_info(algorithm, data_hash);
  const int rc = wc_RsaSSL_Sign(bytes_of(encoded), static_cast<word32>(encoded.size()),
                                reinterpret_cast<byte*>(sig.data()), len, &state_->rsa, &rng);
  wc_FreeRng(&rng);
  if (rc <= 0) return std::nullopt;
  sig.resize(static_cast<std::size_t>(rc));
  return sig;
}

}  // namespace sluice::filters
