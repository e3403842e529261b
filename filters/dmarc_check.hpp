// dmarc_check.hpp — DMARC evaluation (RFC 7489 6.6): the author domain's
// policy record, found through the worker's Resolver, and the alignment of
// the SPF and DKIM results the chain already has.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <utility>
#include <vector>

#include "filters/dmarc_result.hpp"
#include "filters/header_block_scanner.hpp"
#include "filters/resolver.hpp"
#include "filters/spf_result.hpp"

namespace sluice::filters {

class PublicSuffixList;

struct DmarcRequest {
  FromHeaderFacts from;                // the author (RFC5322.From)
  SpfVerdict spf = SpfVerdict::none;   // SPF's verdict ...
  std::string spf_domain;              // ... for this domain (MAIL FROM's, or HELO's for <>); "" none
  struct Dkim {
    std::string domain;  // d=
    bool pass = false;
  };
  std::vector<Dkim> dkim;
  unsigned sample = 0;  // 0..99: this message's draw for pct= (the caller's random number)
};

// Which domain's record applies and what it says: the outcome words as the
// seeds list them. Never throws; DNS failures are temperror.
boost::asio::awaitable<DmarcResult> check_dmarc(Resolver& resolver, const PublicSuffixList& psl,
                                                const DmarcRequest& request);

// Alignment (RFC 7489 3.1): strict = same name; relaxed = same
// organizational domain. Names are compared case-insensitively.
bool dmarc_aligned(const PublicSuffixList& psl, std::string_view author_domain, std::string_view other,
                   bool strict);

}  // namespace sluice::filters
