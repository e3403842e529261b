#include "filters/caching_resolver.hpp"

namespace sluice::filters {

boost::asio::awaitable<DnsAnswer> CachingResolver::query(std::string_view name, DnsType type) {
  std::string qname(name);  // the caller's view need not outlive our first suspension
  if (auto hit = cache_.find(qname, type, DnsCache::Clock::now())) co_return std::move(*hit);
  DnsAnswer answer = co_await upstream_.query(qname, type);
  cache_.store(qname, type, answer, DnsCache::Clock::now());
  co_return answer;
}

}  // namespace sluice::filters
