// dns_answer.hpp — what a DNS question gets back (filters/resolver.hpp):
// the record types filters ask for, how the lookup ended, and the records.
// Plain data, no Asio: the reply reader (filters/dns_reply.hpp) and its fuzz
// target use it without the resolver's coroutine interface.
#pragma once
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

}  // namespace sluice::filters
