// lmdb_lookup_cache.hpp — the open lookup files, shared by path, so that
// every list naming the same file (local_domains, relay_domains, a route,
// and the lists of a reloaded config) reads through one LmdbLookup: one
// mmap, one stat per recheck interval.
//
// Entries are weak: a file no live config names any more is closed when the
// last list holding it goes away (for example the old Config after SIGHUP),
// and the next config that names it opens it afresh.
// Thread-safe; get() is called while loading a config, never per lookup.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/lmdb_lookup.hpp"

namespace sluice::storage {

class LmdbLookupCache {
 public:
  // The one the config loader uses.
  static LmdbLookupCache& process_wide();

  // The lookup for `path`, made on first use. An existing one takes the
  // given recheck interval (the newest config's setting wins).
  std::shared_ptr<LmdbLookup> get(const std::string& path,
                                  std::chrono::milliseconds recheck = LmdbLookup::kDefaultRecheck);
  // Paths with a live lookup, for tests.
  std::size_t size();

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<LmdbLookup>> files_;
};

}  // namespace sluice::storage
