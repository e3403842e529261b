// lookup.hpp — the single-key lookup interface: "what does this file say
// about this key?", answered found (with the stored value), not found, or
// defer (the source cannot answer now: missing, unreadable or corrupt file).
//
// Contract: keys are compared byte for byte; callers normalise them first
// (domain lists lower-case the domain, host lists write the IP in its
// canonical text form). find() is safe to call from any thread at once and
// never throws. A defer is never a "no": whoever asks must turn it into a
// temporary failure (SMTP 4xx) or the safe answer, never a 5xx.
//
// The only implementation so far is LmdbLookup (lmdb_lookup.hpp), Exim's
// `lmdb;/path` single-key lookup; others (cdb, a map service) would slot in here.
#pragma once
#include <string>
#include <string_view>

namespace sluice::storage {

struct LookupResult {
  enum class Status { found, not_found, defer };
  Status status = Status::not_found;
  // found: the stored value (may be empty); defer: why, for the log.
  std::string value;

  static LookupResult found(std::string value) { return {Status::found, std::move(value)}; }
  static LookupResult not_found() { return {Status::not_found, {}}; }
  static LookupResult defer(std::string why) { return {Status::defer, std::move(why)}; }
  bool is_found() const { return status == Status::found; }
  bool is_defer() const { return status == Status::defer; }
};

class Lookup {
 public:
  virtual ~Lookup() = default;
  virtual LookupResult find(std::string_view key) = 0;
  // The file (or other source) it reads, for logs and config problems.
  virtual const std::string& source() const = 0;
};

}  // namespace sluice::storage
