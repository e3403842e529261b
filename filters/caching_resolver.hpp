// caching_resolver.hpp — a Resolver that answers from the worker's DnsCache
// and asks the upstream resolver (c-ares) only on a miss.
//
// Same thread contract as the upstream: one per worker, used on its thread.
// Two sessions missing the same name at once both ask upstream (no
// coalescing yet); the later answer replaces the earlier in the cache.
#pragma once
#include "filters/dns_cache.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {

class CachingResolver final : public Resolver {
 public:
  CachingResolver(Resolver& upstream, std::size_t max_entries) : upstream_(upstream), cache_(max_entries) {}

  boost::asio::awaitable<DnsAnswer> query(std::string_view name, DnsType type) override;

  const DnsCache& cache() const { return cache_; }

 private:
  Resolver& upstream_;
  DnsCache cache_;
};

}  // namespace sluice::filters
