#include "filters/spf_header.hpp"

#include <cctype>

#include "filters/authentication_results_value.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {

namespace {

// RFC 5322 3.2.3 atext, plus '.' inside (dot-atom).
bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) == std::string_view::npos) return false;
  }
  return s.find("..") == std::string_view::npos;
}

std::string quoted(std::string_view raw) {
  const std::string s = printable(raw);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A Received-SPF value (RFC 7208 9.1: dot-atom / quoted-string). Not for
// Authentication-Results, whose values are MIME tokens (RFC 8601 2.2):
// those go through authentication_results_value.hpp.
std::string value(std::string_view raw) {
  const std::string s = printable(raw);
  return is_dot_atom(s) ? s : quoted(s);
}

// Comment text (RFC 5322 3.2.2): parentheses and backslashes escaped.
std::string comment_text(std::string_view raw) {
  std::string out;
  for (char c : printable(raw)) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string reason(const SpfResult& r, const SpfRequest& q) {
  const std::string ip = ip_text(q.ip);
  const std::string who = r.identity == SpfIdentity::helo ? "helo " + r.domain : "domain of " + r.sender;
  switch (r.verdict) {
    case SpfVerdict::pass: return who + " designates " + ip + " as permitted sender";
    case SpfVerdict::fail: return who + " does not designate " + ip + " as permitted sender";
    case SpfVerdict::softfail: return "transitioning " + who + " does not designate " + ip + " as permitted sender";
    case SpfVerdict::neutral: return ip + " is neither permitted nor denied by " + who;
    case SpfVerdict::none: return who + " does not designate permitted sender hosts";
    case SpfVerdict::temperror: return "error in processing during lookup of " + r.domain;
    case SpfVerdict::permerror: return "permanent error in processing during lookup of " + r.domain;
  }
  return "";
}

}  // namespace

std::string received_spf_header(const SpfResult& r, const SpfRequest& q) {
  std::string h = "Received-SPF: ";
  h += to_string(r.verdict);
  h += " (";
  if (!q.receiving_host.empty()) h += comment_text(q.receiving_host) + ": ";
  h += comment_text(reason(r, q)) + ")";
  h += " client-ip=" + ip_text(q.ip) + ";";
  if (r.identity == SpfIdentity::mailfrom) h += " envelope-from=" + quoted(r.sender) + ";";
  if (!q.helo.empty()) h += " helo=" + value(q.helo) + ";";
  if (!q.receiving_host.empty()) h += " receiver=" + value(q.receiving_host) + ";";
  h += " identity=" + std::string(to_string(r.identity)) + ";";
  if (!r.mechanism.empty()) h += " mechanism=" + value(r.mechanism) + ";";
  if (!r.problem.empty() && (r.verdict == SpfVerdict::permerror || r.verdict == SpfVerdict::temperror))
    h += " problem=" + quoted(r.problem) + ";";
  if (h.back() == ';') h.pop_back();
  return h;
}

std::string authentication_results_spf(const SpfResult& r) {
  std::string out = "spf=" + std::string(to_string(r.verdict));
  if (!r.problem.empty() && (r.verdict == SpfVerdict::permerror || r.verdict == SpfVerdict::temperror))
    out += " (" + comment_text(r.problem) + ")";
  if (r.identity == SpfIdentity::helo)
    out += " smtp.helo=" + authentication_results_value(r.domain);
  else
    out += " smtp.mailfrom=" + authentication_results_address(r.sender);
  return out;
}

}  // namespace sluice::filters
