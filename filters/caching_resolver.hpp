// caching_resolver.hpp — a Resolver that answers from the worker's DnsCache
// and asks the upstream resolver (c-ares) only on a miss.
//
// Same thread contract as the upstream: one per worker, used on its thread.
// Identical questions in flight are asked upstream once: a burst of sessions
// from one sender domain (SPF, DKIM key, DMARC record of the same names)
// would otherwise send the same query once per session until the first
// answer lands in the cache. The first asker leads; the others wait for its
// answer. A waiter that is cancelled leaves at once; a leader that is
// cancelled hands the question back, and one of the waiters asks again.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include "filters/dns_cache.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {

class CachingResolver final : public Resolver {
 public:
  CachingResolver(Resolver& upstream, std::size_t max_entries);
  ~CachingResolver() override;

  boost::asio::awaitable<DnsAnswer> query(std::string_view name, DnsType type) override;

  const DnsCache& cache() const { return cache_; }
  // Questions waiting for an upstream answer now (for tests).
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  struct InFlight;
  Resolver& upstream_;
  DnsCache cache_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> in_flight_;
};

}  // namespace sluice::filters
