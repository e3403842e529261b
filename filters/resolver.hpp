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
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/network_list.hpp"

namespace sluice::filters {

// The record types filters need (RFC 1035 3.2.2, RFC 3596). CNAMEs are
// followed by the server; answers carry only records of the asked type.
enum class DnsType : std::uint16_t { A = 1, PTR = 12, MX = 15, TXT = 16, AAAA = 28 };

enum class DnsStatus {
  ok,        // at least one record of the asked type
  nxdomain,  // RCODE 3: the name does not exist
  nodata,    // NOERROR, but no record of that type (RFC 2308 2.2)
  servfail,  // RCODE 2 or REFUSED: the server could not answer
  timeout,   // no answer within the configured timeout and tries
  error,     // anything else: bad name, no server reachable, cancelled, shut down
};

std::string_view to_string(DnsStatus status);
std::string_view to_string(DnsType type);

// One TXT record. RFC 7208 3.3: a record made of several character-strings
// is read as their concatenation without spaces; `strings` keeps them apart
// for the filters that care (DKIM keys are concatenated too, RFC 6376 3.6.2.2).
struct TxtRecord {
  std::string text;
  std::vector<std::string> strings;
};

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  // lower-case, no trailing dot; "" for the null MX "." (RFC 7505)
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::error;
  std::string error;        // why, for servfail, timeout and error (for logs)
  // How long this answer may be reused, in seconds: the smallest TTL of the
  // records for ok; RFC 2308 5 (min of the SOA's TTL and MINIMUM, capped by
  // dns.negative_ttl) for nxdomain and nodata; 0 otherwise.
  std::uint32_t ttl = 0;
  bool from_cache = false;  // answered by this worker's cache
  // The CNAME target the name led to ("" when there was none). A server that
  // answers with only a CNAME (an authoritative server whose target is out of
  // its zones) leaves the chase to us: the resolver asks the target, at most
  // kMaxCnameHops times, and the answer is the target's.
  std::string canonical_name;
  std::vector<gateway::IpBytes> addresses;  // A (IPv4-mapped form) and AAAA
  std::vector<TxtRecord> texts;             // TXT
  std::vector<MxRecord> mx;                 // MX, in answer order
  std::vector<std::string> names;           // PTR: lower-case, no trailing dot

  bool ok() const { return status == DnsStatus::ok; }
};

inline constexpr int kMaxCnameHops = 8;

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
