// dkim_result.cpp — result words and the Authentication-Results fragment.
#include "filters/dkim_result.hpp"

namespace sluice::filters {
namespace {

// RFC 8601 2.2 values are RFC 2045 tokens or quoted strings; d= and s= are
// checked as domain-ish by the parser, but quote anything else to be safe.
bool is_token(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos)
      return false;
  }
  return true;
}

std::string value(std::string_view v) {
  if (is_token(v)) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) continue;  // never pass control bytes into a header
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string_view to_string(DkimStatus status) {
  switch (status) {
    case DkimStatus::pass: return "pass";
    case DkimStatus::fail: return "fail";
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
  }
  return "?";
}

std::string authentication_results_fragment(const DkimResult& result) {
  std::string out = "dkim=";
  out += to_string(result.status);
  if (result.passed() && result.weak) out += " (weak algorithm rsa-sha1)";
  if (result.reason != DkimReason::none) {
    out += " reason=";
    out += value(to_string(result.reason));
  }
  if (!result.domain.empty()) out += " header.d=" + value(result.domain);
  if (!result.selector.empty()) out += " header.s=" + value(result.selector);
  if (!result.b_text.empty()) out += " header.b=" + value(result.b_text.substr(0, 8));
  return out;
}

}  // namespace sluice::filters
