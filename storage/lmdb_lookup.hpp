// lmdb_lookup.hpp — Exim-style single-key lookup in a read-only LMDB file:
// the file `mdb_load -n` builds (no subdirectory), or an environment
// directory holding data.mdb. The main (unnamed) database is read; keys are
// exact, byte for byte (the caller lower-cases domains).
//
// Opening: MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK (| MDB_NOSUBDIR for a file).
//   NOLOCK because nothing ever writes the file we read: the lock file only
//   tells a writer which pages readers still hold, and our files are only
//   ever replaced whole, by rename. So no "-lock" file is created or needed
//   (a read-only directory works), and there is no reader table to fill or
//   leave stale. NOTLS because lookups come from every worker thread.
//   The price: updating a file in place (mdb_load into the live file) is not
//   supported — build a new file beside it and rename it over the old one.
//
// Replacement: at most once per recheck interval (default 1 s) a lookup
// stat()s the path; when the inode, device, size or mtime differ from the
// open file's, the file is reopened, and when the path is gone or unusable
// every lookup defers until it is back. An env that was replaced stays open
// only while a lookup still holds it (shared_ptr), then closes.
//
// Cost: a lookup is a read transaction and a B-tree search on the mmap: no
// system call, only page faults on pages not yet touched (the file is in the
// page cache after the first use). A reopen (open + mmap + reading the two
// meta pages) runs on the thread that notices the change, under this
// object's mutex, once per change. See docs/storage.md for measurements.
//
// Safety: a file truncated in place while mapped would fault (SIGBUS); a
// file is checked at open to be as long as its meta page says, which catches
// a truncated copy renamed into place.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/lookup.hpp"

namespace sluice::storage {

class LmdbLookup final : public Lookup {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kDefaultRecheck{1000};

  explicit LmdbLookup(std::string path, std::chrono::milliseconds recheck = kDefaultRecheck);
  ~LmdbLookup() override;

  LookupResult find(std::string_view key) override;
  const std::string& source() const override { return path_; }

  // Checks the file now (stat, reopen if it changed) whatever the interval;
  // returns why it cannot be used, or nullopt when it can. For config checks.
  std::optional<std::string> check_now();
  // 0 means "stat before every lookup".
  void set_recheck_interval(std::chrono::milliseconds interval);

 private:
  struct Env;  // one opened file: the MDB_env and the identity of its file

  static std::shared_ptr<const Env> open_env(const std::string& path, std::string& error);
  std::shared_ptr<const Env> current(std::string& error);
  void refresh_locked();

  const std::string path_;
  std::mutex mu_;
  std::chrono::milliseconds recheck_;  // guarded by mu_
  std::shared_ptr<const Env> env_;     // null while the file cannot be used
  std::string error_;                  // why env_ is null
  Clock::time_point next_check_{};     // the next lookup after this stat()s
};

}  // namespace sluice::storage
