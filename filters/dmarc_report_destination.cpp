#include "filters/dmarc_report_destination.hpp"

#include <algorithm>
#include <cctype>

#include "filters/dmarc_record.hpp"
#include "filters/public_suffix.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {
namespace {

std::string lower_without_final_dot(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

std::string report_authorization_name(std::string_view policy_domain, std::string_view destination_host) {
  return lower_without_final_dot(policy_domain) + "._report._dmarc." + lower_without_final_dot(destination_host);
}

bool authorizes_reports(const DnsAnswer& answer) {
  if (answer.status != DnsStatus::ok) return false;
  return std::any_of(answer.texts.begin(), answer.texts.end(),
                     [](const TxtRecord& t) { return looks_like_dmarc_record(t.text); });
}

boost::asio::awaitable<std::vector<std::string>> authorized_report_addresses(
    Resolver& dns, const PublicSuffixList& psl, const std::string& policy_domain,
    const std::vector<std::string>& addresses) {
  const std::string policy_org = psl.organizational_domain(lower_without_final_dot(policy_domain));
  std::vector<std::string> out;
  for (const auto& address : addresses) {
    const auto at = address.rfind('@');
    if (at == std::string::npos || at + 1 == address.size()) continue;
    const std::string host = lower_without_final_dot(std::string_view(address).substr(at + 1));
    if (psl.organizational_domain(host) == policy_org) {
      out.push_back(address);
      continue;
    }
    const std::string qname = report_authorization_name(policy_domain, host);
    const DnsAnswer answer = co_await dns.query(qname, DnsType::TXT);
    if (authorizes_reports(answer)) out.push_back(address);
  }
  co_return out;
}

}  // namespace sluice::filters
