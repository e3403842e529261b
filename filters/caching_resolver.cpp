#include "filters/caching_resolver.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "metrics/sluice_metrics.hpp"

namespace sluice::filters {

namespace asio = boost::asio;

namespace {

struct DnsMetrics {
  metrics::Counter& hits;
  metrics::Counter& misses;
  metrics::Counter& coalesced;
  metrics::Histogram& seconds;
};

DnsMetrics& dns_metrics() {
  auto& m = metrics::sluice_metrics();
  static DnsMetrics d{m.dns_cache_lookups.with({"hit"}), m.dns_cache_lookups.with({"miss"}),
                      m.dns_cache_lookups.with({"coalesced"}), m.dns_query_seconds};
  return d;
}

// Names are case-insensitive and "x." asks what "x" asks (resolver.hpp).
std::string flight_key(std::string_view name, DnsType type) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string key = std::to_string(static_cast<unsigned>(type));
  key += ' ';
  for (char c : name) key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return key;
}

// Wakes the waiters however the leader leaves (an answer, or an exception
// unwinding it), so nobody waits on a question nobody is asking.
struct WakeOnExit {
  asio::steady_timer& wake;
  ~WakeOnExit() { wake.cancel(); }
};

}  // namespace

// One upstream question and the sessions waiting for it. The waiters sleep
// on a timer that never expires by itself; the leader cancels it to wake
// them, with `answer` set (or unset, when the leader was cancelled).
struct CachingResolver::InFlight {
  explicit InFlight(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer wake;
  std::optional<DnsAnswer> answer;
};

CachingResolver::CachingResolver(Resolver& upstream, std::size_t max_entries)
    : upstream_(upstream), cache_(max_entries) {}

CachingResolver::~CachingResolver() {
  // Wake anyone still waiting (only at shutdown): they see no answer.
  for (auto& [key, flight] : in_flight_) flight->wake.cancel();
}

asio::awaitable<DnsAnswer> CachingResolver::query(std::string_view name, DnsType type) {
  std::string qname(name);  // the caller's view need not outlive our first suspension
  // Read now, tested later without awaiting: after a cancellation the next
  // co_await would throw (Asio's throw_if_cancelled default).
  const auto cancellation = co_await asio::this_coro::cancellation_state;
  const std::string key = flight_key(qname, type);
  auto& m = dns_metrics();
  for (;;) {
    if (auto hit = cache_.find(qname, type, DnsCache::Clock::now())) {
      m.hits.inc();
      co_return std::move(*hit);
    }
    auto found = in_flight_.find(key);
    if (found == in_flight_.end()) break;  // we lead

    // Someone asked already: wait for their answer.
    std::shared_ptr<InFlight> flight = found->second;
    boost::system::error_code ec;
    co_await flight->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (flight->answer) {
      m.coalesced.inc();
      DnsAnswer copy = *flight->answer;
      co_return copy;
    }
    if (cancellation.cancelled() != asio::cancellation_type::none) {
      DnsAnswer cancelled;
      cancelled.error = "cancelled";
      co_return cancelled;
    }
    // The leader was cancelled before its answer came: ask again.
  }

  m.misses.inc();
  auto executor = co_await asio::this_coro::executor;
  auto flight = std::make_shared<InFlight>(executor);
  in_flight_.emplace(key, flight);
  WakeOnExit wake_waiters{flight->wake};
  const auto started = std::chrono::steady_clock::now();
  DnsAnswer answer = co_await upstream_.query(qname, type);
  m.seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  // Labels are a small fixed set (5 types × 6 statuses); with() after the
  // first time is a lookup in the family, off the per-message hot path.
  metrics::sluice_metrics()
      .dns_queries.with({std::string(to_string(type)), std::string(to_string(answer.status))})
      .inc();
  auto mine = in_flight_.find(key);
  if (mine != in_flight_.end() && mine->second == flight) in_flight_.erase(mine);
  // A cancelled leader's answer is "cancelled", not the name's: neither
  // cached nor handed on; a waiter asks again.
  if (cancellation.cancelled() == asio::cancellation_type::none) {
    cache_.store(qname, type, answer, DnsCache::Clock::now());
    flight->answer = answer;
  }
  co_return answer;
}

}  // namespace sluice::filters
