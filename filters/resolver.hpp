// resolver.hpp — the DNS questions filters ask (SPF, DKIM, DMARC, later ARC),
// as one awaitable call with a typed answer. No socket or c-ares types here:
// filters depend on this interface only; filters/ares_resolver.hpp answers it
// on the worker's event loop and filters/caching_resolver.hpp puts the
// per-worker cache in front.
//
// Contract: query() is called, and resumes, on the thread of the io_context
// that owns the resolver (each worker has its own; nothing is shared between
// workers, so there are no locks). Names are absolute: no search list, no
// ndots games ("example.org" and "example.org." ask the same). Every outcome
// is a value, never an exception: SPF and DMARC need to tell "the name does
// not exist" (nxdomain), "it exists but has no such record" (nodata, RFC 2308
// 1 and RFC 7208 4.3 void lookups) and "could not find out" (servfail,
// timeout, error → temperror) apart.
//
// Cancellation: the coroutine may be cancelled (per-operation cancellation,
// e.g. `query(...) || timer`); it then resumes at once with status error and
// the late answer is dropped when it comes.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "filters/dns_answer.hpp"
#include "gateway/network_list.hpp"

namespace sluice::filters {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // `name` must stay valid until the first suspension only (it is copied).
  virtual boost::asio::awaitable<DnsAnswer> query(std::string_view name, DnsType type) = 0;
};

// The PTR name for an address: "4.3.2.1.in-addr.arpa" for 1.2.3.4 (also when
// held IPv4-mapped), nibbles under "ip6.arpa" for IPv6 (RFC 1035 3.5, RFC 3596 2.5).
std::string reverse_name(const gateway::IpBytes& ip);

// "192.0.2.1" or "2001:db8::1" (IPv4-mapped addresses print as IPv4).
std::string ip_text(const gateway::IpBytes& ip);

}  // namespace sluice::filters
