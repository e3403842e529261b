// dns_reply.hpp — turns what c-ares hands a query callback (its status and
// the raw reply) into a DnsAnswer. Pure: no I/O, testable on bytes.
//
// Record data comes from c-ares's own parsers where they exist (TXT with its
// string boundaries, MX); the TTLs and the authority section's SOA, which
// c-ares 1.18's parsers do not expose, come from a small bounds-checked walk
// over the reply. A reply that does not parse is status error, never a crash.
#pragma once
#include <chrono>

#include "filters/dns_answer.hpp"

namespace sluice::filters {

// Longest positive TTL honoured: a record claiming more is reused for a day
// at most, so a mistake in a zone cannot pin an answer for weeks.
constexpr std::uint32_t kMaxPositiveTtl = 86400;

// ares_status: the status the ares_callback got (ARES_SUCCESS, ARES_ENODATA,
// ARES_ENOTFOUND, ...). negative_ttl: dns.negative_ttl, the cap for (and the
// fallback when the reply has no SOA) nxdomain and nodata answers.
DnsAnswer parse_reply(int ares_status, const unsigned char* reply, int length, DnsType type,
                      std::chrono::seconds negative_ttl);

}  // namespace sluice::filters
