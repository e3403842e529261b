#include "tls/ticket_keys.hpp"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/coding.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "tls/file_signature.hpp"

namespace sluice::tls {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kKeyBytes = 48;   // 16 name + 32 secret
constexpr std::size_t kMaxKeys = 64;    // a key file is small; more is a mistake
constexpr std::uintmax_t kMaxFileBytes = 64 * 1024;

bool random_bytes(std::span<std::uint8_t> out) {
  static const bool ready = wolfSSL_Init() == WOLFSSL_SUCCESS;  // reference-counted; safe to repeat
  if (!ready) return false;
  return wolfSSL_RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

TicketKey fresh_key(TicketKeys::Clock::time_point now) {
  TicketKey k;
  if (!random_bytes(k.name) || !random_bytes(k.secret)) throw std::runtime_error("tls: no random bytes for a ticket key");
  k.created = now;
  return k;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The files a key directory holds, in name order; dot-files are skipped
// (Kubernetes keeps its ..data bookkeeping there).
std::vector<fs::path> key_files(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return {p};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(p, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (fs::is_regular_file(e.path(), ec)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TicketKeys::TicketKeys(Options options) : options_(std::move(options)) {
  if (!file_mode()) keys_.push_back(fresh_key(Clock::now()));
}

bool TicketKeys::parse_key_text(std::string_view text, std::vector<TicketKey>& out, std::string& error) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::array<std::uint8_t, 64> raw{};
    word32 n = raw.size();
    if (line.size() > 100 ||
        Base64_Decode(reinterpret_cast<const byte*>(line.data()), static_cast<word32>(line.size()), raw.data(), &n) != 0 ||
        n != kKeyBytes) {
      error = "line " + std::to_string(line_no) + ": not the base64 form of 48 bytes";
      return false;
    }
    TicketKey k;
    std::memcpy(k.name.data(), raw.data(), 16);
    std::memcpy(k.secret.data(), raw.data() + 16, 32);
    out.push_back(k);
    if (out.size() > kMaxKeys) {
      error = "more than " + std::to_string(kMaxKeys) + " keys";
      return false;
    }
  }
  return true;
}

std::string TicketKeys::current_signature() const {
  std::vector<std::string> paths;
  for (const auto& f : key_files(options_.file)) paths.push_back(f.string());
  return file_signature(paths);
}

bool TicketKeys::file_changed() const {
  if (!file_mode()) return false;
  const std::string now = current_signature();
  std::lock_guard lock(mutex_);
  return now != signature_ && now != refused_signature_;
}

void TicketKeys::forget_refusal() {
  std::lock_guard lock(mutex_);
  refused_signature_.clear();
}

bool TicketKeys::reload(std::string& error) {
  if (!file_mode()) return true;
  const std::string sig = current_signature();
  std::vector<TicketKey> keys;
  if (!read_key_files(keys, error)) {
    std::lock_guard lock(mutex_);
    refused_signature_ = sig;
    return false;
  }
  std::lock_guard lock(mutex_);
  keys_ = std::move(keys);
  signature_ = sig;
  refused_signature_.clear();
  return true;
}

bool TicketKeys::read_key_files(std::vector<TicketKey>& keys, std::string& error) const {
  const auto files = key_files(options_.file);
  for (const auto& f : files) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(f, ec);
    if (ec) {
      error = f.string() + ": cannot read (" + ec.message() + ")";
      return false;
    }
    if (size > kMaxFileBytes) {
      error = f.string() + ": larger than 64 KiB";
      return false;
    }
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      error = f.string() + ": cannot open";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    if (!parse_key_text(text.str(), keys, why)) {
      error = f.string() + ": " + why;
      return false;
    }
  }
  if (keys.empty()) {
    error = options_.file + ": no ticket key found";
    return false;
  }
  return true;
}

void TicketKeys::rotate_if_due(Clock::time_point now) {
  if (file_mode()) return;
  if (keys_.empty() || now - keys_.back().created >= options_.rotation) keys_.push_back(fresh_key(now));
  // A key seals until its successor's birth and opens for `lifetime` after it.
  while (keys_.size() > 1 && keys_[1].created + options_.lifetime <= now) keys_.erase(keys_.begin());
}

std::size_t TicketKeys::key_count() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

bool TicketKeys::seal(std::span<std::uint8_t, 16> name, std::span<std::uint8_t, 16> iv, std::span<std::uint8_t, 32> mac,
                      std::span<std::uint8_t> data, Clock::time_point now) {
  TicketKey key;
  {
    std::lock_guard lock(mutex_);
    rotate_if_due(now);
    if (keys_.empty()) return false;
    key = keys_.back();
  }
  std::copy(key.name.begin(), key.name.end(), name.begin());
  std::fill(iv.begin(), iv.end(), 0);
  std::fill(mac.begin(), mac.end(), 0);
  if (!random_bytes(iv.first(CHACHA20_POLY1305_AEAD_IV_SIZE))) return false;
  std::array<std::uint8_t, 32> aad;
  std::copy(name.begin(), name.end(), aad.begin());
  std::copy(iv.begin(), iv.end(), aad.begin() + 16);
  return wc_ChaCha20Poly1305_Encrypt(key.secret.data(), iv.data(), aad.data(), aad.size(), data.data(),
                                     static_cast<word32>(data.size()), data.data(), mac.data()) == 0;
}

TicketOpen TicketKeys::open(std::span<const std::uint8_t, 16> name, std::span<const std::uint8_t, 16> iv,
                            std::span<const std::uint8_t, 32> mac, std::span<std::uint8_t> data,
                            Clock::time_point now) {
  TicketKey key;
  bool found = false, current = false;
  {
    std::lock_guard lock(mutex_);
    rotate_if_due(now);
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (std::equal(name.begin(), name.end(), keys_[i].name.begin())) {
        key = keys_[i];
        found = true;
        current = i + 1 == keys_.size();
      }
  }
  if (!found) return TicketOpen::unknown_key;
  std::array<std::uint8_t, 32> aad;
  std::copy(name.begin(), name.end(), aad.begin());
  std::copy(iv.begin(), iv.end(), aad.begin() + 16);
  if (wc_ChaCha20Poly1305_Decrypt(key.secret.data(), iv.data(), aad.data(), aad.size(), data.data(),
                                  static_cast<word32>(data.size()), mac.data(), data.data()) != 0)
    return TicketOpen::bad;
  // Opened with an older key: good, but give the client a ticket under the current one.
  return current ? TicketOpen::ok : TicketOpen::ok_renew;
}

}  // namespace sluice::tls
