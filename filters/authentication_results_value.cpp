#include "filters/authentication_results_value.hpp"

namespace sluice::filters {

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

namespace {

// RFC 2045 5.1 token.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos)
      return false;
  }
  return true;
}

bool is_let_dig(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 5321 sub-domain: Let-dig [Ldh-str], so letters, digits and hyphens,
// starting and ending with a letter or digit.
bool is_sub_domain(std::string_view label) {
  if (label.empty() || !is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
  for (char c : label)
    if (!is_let_dig(c) && c != '-') return false;
  return true;
}

// RFC 6376 3.5 domain-name: sub-domain 1*("." sub-domain).
bool is_domain_name(std::string_view s) {
  int labels = 0;
  for (std::size_t start = 0;;) {
    const std::size_t dot = s.find('.', start);
    if (!is_sub_domain(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    ++labels;
    if (dot == std::string_view::npos) return labels >= 2;
    start = dot + 1;
  }
}

// A token that is also an RFC 5322 dot-atom: no leading, trailing or double dot.
bool is_token_dot_atom(std::string_view s) {
  return is_token(s) && s.front() != '.' && s.back() != '.' && s.find("..") == std::string_view::npos;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string authentication_results_value(std::string_view raw) {
  const std::string s = printable(raw);
  return is_token(s) ? s : quoted(s);
}

std::string authentication_results_address(std::string_view raw) {
  const std::string s = printable(raw);
  const std::size_t at = s.rfind('@');
  if (at != std::string::npos && is_token_dot_atom(std::string_view(s).substr(0, at)) &&
      is_domain_name(std::string_view(s).substr(at + 1)))
    return s;
  return authentication_results_value(s);
}

}  // namespace sluice::filters
