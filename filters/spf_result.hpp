// spf_result.hpp — what an SPF check is asked (SpfRequest) and what it
// answers (SpfResult), RFC 7208 2.6 and 8. Plain data; no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/network_list.hpp"

namespace sluice::filters {

enum class SpfVerdict { none, neutral, pass, fail, softfail, temperror, permerror };

std::string_view to_string(SpfVerdict verdict);

// Which identity was checked (RFC 7208 2.3, 2.4).
enum class SpfIdentity { mailfrom, helo };

std::string_view to_string(SpfIdentity identity);

// The text used when a fail has no usable exp= (RFC 7208 6.2 leaves it to
// the receiver); a macro-string in explanation syntax.
inline constexpr std::string_view kDefaultSpfExplanation =
    "%{o} does not designate %{c} as a permitted sender";

struct SpfRequest {
  gateway::IpBytes ip{};       // the SMTP client's address
  std::string sender;          // MAIL FROM without <>; "" for the null sender
  std::string helo;            // the HELO/EHLO name as given
  std::string receiving_host;  // our name: %{r} and Received-SPF's receiver=
  // The domain to check. Empty: derived from the identity, as
  // make_mail_from_request() and make_helo_request() do.
  std::string domain;
  SpfIdentity identity = SpfIdentity::mailfrom;
  std::string default_explanation = std::string(kDefaultSpfExplanation);
  std::int64_t now = 0;  // %{t}; 0: the current time
};

// MAIL FROM identity (RFC 7208 2.4): the domain after the last '@'; a sender
// without a local part gets "postmaster"; the null sender checks the HELO
// identity as postmaster@helo instead.
SpfRequest make_mail_from_request(const gateway::IpBytes& ip, std::string_view mail_from, std::string_view helo,
                                  std::string_view receiving_host);
// HELO identity (RFC 7208 2.3): sender postmaster@helo, domain = helo.
SpfRequest make_helo_request(const gateway::IpBytes& ip, std::string_view helo, std::string_view receiving_host);

struct SpfResult {
  SpfVerdict verdict = SpfVerdict::none;
  SpfIdentity identity = SpfIdentity::mailfrom;
  std::string domain;       // the domain checked first (after the identity was chosen)
  std::string sender;       // the sender as checked (postmaster@... filled in)
  std::string explanation;  // fail only: exp= text, or the default explanation
  std::string problem;      // permerror/temperror (and other notes) for logs
  std::string mechanism;    // the term that decided ("default" when none matched)
  int dns_terms = 0;        // DNS-querying terms used (limit 10, RFC 7208 4.6.4)
  int void_lookups = 0;     // lookups that found nothing (limit 2)
};

}  // namespace sluice::filters
