// dmarc_report_destination.hpp — RFC 7489 7.1, "Verifying External
// Destinations": a report goes to an address outside the organizational
// domain of the domain that published the policy only when that address's
// host publishes "<policy domain>._report._dmarc.<host>" TXT beginning with
// "v=DMARC1". Without such a record, or when DNS cannot say, nothing is sent
// there: a domain owner cannot aim our reports at a third party's mailbox.
// The record's own rua=/ruf= (which 7.1 lets a destination use to redirect)
// are not followed.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "filters/dns_answer.hpp"

namespace sluice::filters {

class Resolver;
class PublicSuffixList;

// "<policy domain>._report._dmarc.<destination host>", lower case.
std::string report_authorization_name(std::string_view policy_domain, std::string_view destination_host);

// Does this TXT answer authorize reports (a record that starts as a DMARC
// record does, the test discovery uses)?
bool authorizes_reports(const DnsAnswer& answer);

// The addresses (local@host) that may receive reports about `policy_domain`,
// in their order: those in its organizational domain, and the others whose
// host authorizes it. One TXT query per outside host. The arguments must
// outlive the coroutine (references: docs/architecture.md's GCC 12 rules
// forbid class-type temporaries in a co_await expression).
boost::asio::awaitable<std::vector<std::string>> authorized_report_addresses(
    Resolver& dns, const PublicSuffixList& psl, const std::string& policy_domain,
    const std::vector<std::string>& addresses);

}  // namespace sluice::filters
