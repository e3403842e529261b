// dkim_result.cpp — result words and the Authentication-Results fragment.
#include "filters/dkim_result.hpp"

#include "filters/authentication_results_value.hpp"

namespace sluice::filters {

std::string_view to_string(DkimStatus status) {
  switch (status) {
    case DkimStatus::pass: return "pass";
    case DkimStatus::fail: return "fail";
    case DkimStatus::policy: return "policy";
    case DkimStatus::neutral: return "neutral";
    case DkimStatus::temperror: return "temperror";
    case DkimStatus::permerror: return "permerror";
  }
  return "?";
}

std::string_view to_string(DkimReason reason) {
  switch (reason) {
    case DkimReason::none: return "";
    case DkimReason::body_hash: return "body hash mismatch";
    case DkimReason::signature: return "signature did not verify";
    case DkimReason::expired: return "signature expired";
    case DkimReason::future: return "signature timestamp in the future";
    case DkimReason::key_revoked: return "key revoked";
    case DkimReason::no_key: return "no key";
    case DkimReason::key_syntax: return "key record syntax";
    case DkimReason::key_unsuitable: return "key not usable for this signature";
    case DkimReason::key_too_small: return "key too small";
    case DkimReason::signature_syntax: return "signature syntax";
    case DkimReason::header_too_large: return "header too large";
    case DkimReason::dns: return "key lookup failed";
    case DkimReason::not_checked: return "not checked: too many signatures";
    case DkimReason::rsa_sha1: return "rsa-sha1 not accepted (RFC 8301)";
  }
  return "?";
}

std::string authentication_results_fragment(const DkimResult& result) {
  std::string out = "dkim=";
  out += to_string(result.status);
  if (result.reason != DkimReason::none) {
    out += " reason=";
    out += authentication_results_value(to_string(result.reason));
  }
  if (!result.domain.empty()) out += " header.d=" + authentication_results_value(result.domain);
  if (!result.selector.empty()) out += " header.s=" + authentication_results_value(result.selector);
  if (!result.b_text.empty()) out += " header.b=" + authentication_results_value(result.b_text.substr(0, 8));
  return out;
}

}  // namespace sluice::filters
