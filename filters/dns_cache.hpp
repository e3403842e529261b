// dns_cache.hpp — one worker's DNS answers, kept as long as their TTL says.
//
// Per worker and used only on its thread: no locks. Positive answers live
// their smallest record TTL (capped at a day, filters/dns_reply.hpp);
// NXDOMAIN and NODATA live their RFC 2308 negative TTL (SOA-derived, capped
// by dns.negative_ttl). Failures (servfail, timeout, error) are never kept: the
// next message asks again. Bounded twice: at most `max_entries` answers and
// kMaxCacheBytes of them (a TXT answer can be 64 KiB); the least recently
// used goes first. The counters are relaxed atomics so that a metrics
// reader on another thread may read them.
#pragma once
#include <atomic>
#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "filters/resolver.hpp"

namespace sluice::filters {

constexpr std::size_t kMaxCacheBytes = 32u << 20;

class DnsCache {
 public:
  using Clock = std::chrono::steady_clock;

  struct Stats {
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> evictions{0};  // pushed out by the size bounds (not expiry)
  };

  explicit DnsCache(std::size_t max_entries, std::size_t max_bytes = kMaxCacheBytes);

  // A copy of the stored answer with `ttl` lowered to what is left and
  // from_cache set; nullopt when absent or expired (counted as a miss).
  std::optional<DnsAnswer> find(std::string_view name, DnsType type, Clock::time_point now);
  // Keeps ok, nxdomain and nodata answers whose ttl is above 0.
  void store(std::string_view name, DnsType type, const DnsAnswer& answer, Clock::time_point now);

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string key;
    DnsAnswer answer;
    Clock::time_point expires;
    std::size_t bytes;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void erase(Lru::iterator it);

  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // keys point into the entries
  Stats stats_;
};

}  // namespace sluice::filters
