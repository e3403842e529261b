#include "filters/caching_resolver.hpp"

#include <chrono>

#include "metrics/sluice_metrics.hpp"

namespace sluice::filters {

namespace {

struct DnsMetrics {
  metrics::Counter& hits;
  metrics::Counter& misses;
  metrics::Histogram& seconds;
};

DnsMetrics& dns_metrics() {
  auto& m = metrics::sluice_metrics();
  static DnsMetrics d{m.dns_cache_lookups.with({"hit"}), m.dns_cache_lookups.with({"miss"}), m.dns_query_seconds};
  return d;
}

}  // namespace

boost::asio::awaitable<DnsAnswer> CachingResolver::query(std::string_view name, DnsType type) {
  std::string qname(name);  // the caller's view need not outlive our first suspension
  auto& m = dns_metrics();
  if (auto hit = cache_.find(qname, type, DnsCache::Clock::now())) {
    m.hits.inc();
    co_return std::move(*hit);
  }
  m.misses.inc();
  const auto started = std::chrono::steady_clock::now();
  DnsAnswer answer = co_await upstream_.query(qname, type);
  m.seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  // Labels are a small fixed set (5 types × 6 statuses); with() after the
  // first time is a lookup in the family, off the per-message hot path.
  metrics::sluice_metrics()
      .dns_queries.with({std::string(to_string(type)), std::string(to_string(answer.status))})
      .inc();
  cache_.store(qname, type, answer, DnsCache::Clock::now());
  co_return answer;
}

}  // namespace sluice::filters
