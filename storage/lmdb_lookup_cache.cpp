#include "storage/lmdb_lookup_cache.hpp"

namespace sluice::storage {

LmdbLookupCache& LmdbLookupCache::process_wide() {
  static LmdbLookupCache cache;
  return cache;
}

std::shared_ptr<LmdbLookup> LmdbLookupCache::get(const std::string& path, std::chrono::milliseconds recheck) {
  std::lock_guard lock(mu_);
  // Forget closed files first, so the map stays as small as the set of
  // files live configs name.
  std::erase_if(files_, [](const auto& entry) { return entry.second.expired(); });
  if (auto it = files_.find(path); it != files_.end()) {
    if (auto live = it->second.lock()) {
      live->set_recheck_interval(recheck);
      return live;
    }
  }
  auto fresh = std::make_shared<LmdbLookup>(path, recheck);
  files_[path] = fresh;
  return fresh;
}

std::size_t LmdbLookupCache::size() {
  std::lock_guard lock(mu_);
  std::erase_if(files_, [](const auto& entry) { return entry.second.expired(); });
  return files_.size();
}

}  // namespace sluice::storage
