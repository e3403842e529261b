// ticket_keys.hpp — the keys that seal TLS session tickets (RFC 5077 for
// TLS 1.2, RFC 8446 4.6.1 for TLS 1.3), so that resumption needs no
// server-side session cache.
//
// Two modes:
//  - in memory (default): a random key is made at start and a new one every
//    `rotation`; a key stops sealing when its successor arrives and still
//    opens tickets for `lifetime` after that, so every ticket we issue stays
//    usable for its whole advertised lifetime. Nothing touches the disk.
//  - shared file (`tls.ticket_key_file`): a file, or a directory of files as
//    a Kubernetes Secret is mounted, holding one key per line (base64 of 48
//    random bytes: 16 name + 32 secret, e.g. `openssl rand -base64 48`). Every
//    key opens tickets; the last one (last line of the last file in name
//    order) seals. Rotation is the operator's: append a new key, drop the
//    oldest later. Replicas that read the same file accept each other's
//    tickets. The file is re-read when it changes (reload()).
//
// Sealing: ChaCha20-Poly1305 with the key's secret, a random 96-bit nonce in
// the IV field, and the key name and IV as associated data; the tag goes in
// the MAC field. Thread-safe: workers seal and open concurrently; the key
// list is guarded by a mutex held only to copy one key.
// Security: secrets never leave memory in memory mode; in file mode their
// confidentiality is the file's (mode 0600 or a Secret).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace sluice::tls {

struct TicketKey {
  std::array<std::uint8_t, 16> name{};
  std::array<std::uint8_t, 32> secret{};
  std::chrono::system_clock::time_point created{};  // memory mode: for rotation and expiry
};

// What open() found, as wolfSSL wants to know it.
enum class TicketOpen { ok, ok_renew, unknown_key, bad };

class TicketKeys {
 public:
  using Clock = std::chrono::system_clock;
  struct Options {
    std::chrono::seconds rotation{3600};
    std::chrono::seconds lifetime{7200};
    std::string file;  // empty: memory mode
  };

  explicit TicketKeys(Options options);
  // File mode: reads the file (or directory). False, with `error`, when it
  // is missing, empty or malformed; the keys in use stay.
  bool reload(std::string& error);
  // File mode: has the file (or a file of the directory) changed since the
  // last reload()? Cheap: stat() only. Files as a refused reload() left them
  // count as unchanged: the same bytes would be refused again.
  bool file_changed() const;
  // Forgets a refused state, so that file_changed() says yes to it again
  // (an operator's SIGHUP asks for everything to be tried once more).
  void forget_refusal();
  bool file_mode() const { return !options_.file.empty(); }
  const Options& options() const { return options_; }

  // Seals `data` in place with the current key; fills name, iv and mac.
  // False when no key is there (file mode with no usable file yet).
  bool seal(std::span<std::uint8_t, 16> name, std::span<std::uint8_t, 16> iv, std::span<std::uint8_t, 32> mac,
            std::span<std::uint8_t> data, Clock::time_point now = Clock::now());
  TicketOpen open(std::span<const std::uint8_t, 16> name, std::span<const std::uint8_t, 16> iv,
                  std::span<const std::uint8_t, 32> mac, std::span<std::uint8_t> data,
                  Clock::time_point now = Clock::now());

  std::size_t key_count() const;

  // Parses the key file format; exposed for tests. Appends to `out`.
  static bool parse_key_text(std::string_view text, std::vector<TicketKey>& out, std::string& error);

 private:
  // Memory mode: start a new key when the current one is due, forget keys
  // whose tickets have all expired. Called with mutex_ held.
  void rotate_if_due(Clock::time_point now);
  std::string current_signature() const;  // of the key files, tls/file_signature.hpp
  bool read_key_files(std::vector<TicketKey>& keys, std::string& error) const;

  Options options_;
  mutable std::mutex mutex_;
  std::vector<TicketKey> keys_;  // oldest first; back() seals
  std::string signature_;        // file mode: the files' stat() when the keys in use were read
  std::string refused_signature_;  // ... and when reload() last refused them: not tried again until they change
};

}  // namespace sluice::tls
