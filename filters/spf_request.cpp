#include "filters/spf_result.hpp"

namespace sluice::filters {

std::string_view to_string(SpfVerdict verdict) {
  switch (verdict) {
    case SpfVerdict::none: return "none";
    case SpfVerdict::neutral: return "neutral";
    case SpfVerdict::pass: return "pass";
    case SpfVerdict::fail: return "fail";
    case SpfVerdict::softfail: return "softfail";
    case SpfVerdict::temperror: return "temperror";
    case SpfVerdict::permerror: return "permerror";
  }
  return "none";
}

std::string_view to_string(SpfIdentity identity) {
  return identity == SpfIdentity::helo ? "helo" : "mailfrom";
}

SpfRequest make_helo_request(const gateway::IpBytes& ip, std::string_view helo, std::string_view receiving_host) {
  SpfRequest r;
  r.ip = ip;
  r.helo = std::string(helo);
  r.receiving_host = std::string(receiving_host);
  r.sender = "postmaster@" + r.helo;
  r.domain = r.helo;
  r.identity = SpfIdentity::helo;
  return r;
}

SpfRequest make_mail_from_request(const gateway::IpBytes& ip, std::string_view mail_from, std::string_view helo,
                                  std::string_view receiving_host) {
  if (mail_from.empty()) return make_helo_request(ip, helo, receiving_host);
  SpfRequest r;
  r.ip = ip;
  r.helo = std::string(helo);
  r.receiving_host = std::string(receiving_host);
  const std::size_t at = mail_from.rfind('@');
  // No '@' at all: RFC 7208 4.3 treats the whole as a domain with "postmaster".
  const std::string_view local = at == std::string_view::npos ? "" : mail_from.substr(0, at);
  r.domain = std::string(at == std::string_view::npos ? mail_from : mail_from.substr(at + 1));
  r.sender = (local.empty() ? std::string("postmaster") : std::string(local)) + "@" + r.domain;
  r.identity = SpfIdentity::mailfrom;
  return r;
}

}  // namespace sluice::filters
