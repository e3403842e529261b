#include "filters/spf_macro.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace sluice::filters {

namespace {

bool is_v4(const gateway::IpBytes& ip) {
  return std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; }) && ip[10] == 0xff &&
         ip[11] == 0xff;
}

// "192.0.2.1" or "2001:db8::1". Not resolver.hpp's ip_text: this file stays
// free of Asio so the fuzz targets can link it alone.
std::string address_text(const gateway::IpBytes& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4(ip)) return inet_ntop(AF_INET, ip.data() + 12, buf, sizeof buf) ? buf : "";
  return inet_ntop(AF_INET6, ip.data(), buf, sizeof buf) ? buf : "";
}

bool is_delimiter(char c) { return std::string_view(".-+,/_=").find(c) != std::string_view::npos; }

bool is_macro_letter(char c, MacroUse use) {
  const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::string_view("slodiphv").find(l) != std::string_view::npos) return true;
  return use == MacroUse::explanation && std::string_view("crt").find(l) != std::string_view::npos;
}

// macro-literal = %x21-24 / %x26-7E; an explain-string also allows SP.
bool is_literal(char c, MacroUse use) {
  const auto u = static_cast<unsigned char>(c);
  if (u == ' ') return use == MacroUse::explanation;
  return u >= 0x21 && u <= 0x7e && u != '%';
}

// %{i} for IPv6: 32 nibbles, dot-separated (RFC 7208 7.3). Upper-case hex,
// as the openspf suite expects in explanations (v-macro-ip6); DNS names are
// case-insensitive, so lookups are unaffected.
std::string dotted_nibbles(const gateway::IpBytes& ip) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t b : ip) {
    if (!out.empty()) out += '.';
    out += kHex[b >> 4];
    out += '.';
    out += kHex[b & 0x0f];
  }
  return out;
}

std::string letter_value(char letter, const SpfMacroValues& v) {
  switch (std::tolower(static_cast<unsigned char>(letter))) {
    case 's': return std::string(v.sender);
    case 'l': return std::string(v.local_part);
    case 'o': return std::string(v.sender_domain);
    case 'd': return std::string(v.domain);
    case 'i': return is_v4(v.ip) ? address_text(v.ip) : dotted_nibbles(v.ip);
    case 'p': return v.validated_name.empty() ? "unknown" : std::string(v.validated_name);
    case 'h': return std::string(v.helo);
    case 'v': return is_v4(v.ip) ? "in-addr" : "ip6";
    case 'c': return address_text(v.ip);
    case 'r': return v.receiver.empty() ? "unknown" : std::string(v.receiver);
    case 't': return std::to_string(v.now);
  }
  return "";
}

// RFC 3986 2.3 unreserved characters stay; everything else becomes %XX.
std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

// One "%{...}" body after the brace: letter, digits, optional r, delimiters.
struct MacroTerm {
  char letter = 0;
  unsigned keep = 0;  // 0: all parts
  bool reverse = false;
  std::string delimiters;
};

// Parses text[pos..] just after "%{"; returns the position after "}" or npos.
std::size_t parse_term(std::string_view text, std::size_t pos, MacroUse use, MacroTerm& term) {
  if (pos >= text.size() || !is_macro_letter(text[pos], use)) return std::string_view::npos;
  term.letter = text[pos++];
  std::size_t digits = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    term.keep = std::min(term.keep * 10 + static_cast<unsigned>(text[pos] - '0'), 1000u);
    ++pos;
    ++digits;
  }
  // A transformer of zero parts means nothing sensible (RFC 7208 7.3): error.
  if (digits > 0 && term.keep == 0) return std::string_view::npos;
  if (pos < text.size() && (text[pos] == 'r' || text[pos] == 'R')) {
    term.reverse = true;
    ++pos;
  }
  while (pos < text.size() && is_delimiter(text[pos])) term.delimiters += text[pos++];
  if (pos >= text.size() || text[pos] != '}') return std::string_view::npos;
  return pos + 1;
}

std::string apply_transformers(const std::string& value, const MacroTerm& term) {
  const std::string delims = term.delimiters.empty() ? "." : term.delimiters;
  std::vector<std::string> parts(1);
  for (char c : value) {
    if (delims.find(c) != std::string::npos)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (term.reverse) std::reverse(parts.begin(), parts.end());
  std::size_t first = term.keep > 0 && term.keep < parts.size() ? parts.size() - term.keep : 0;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

// Walks the string; with `values` set, builds the expansion too.
std::optional<std::string> walk(std::string_view text, const SpfMacroValues* values, MacroUse use) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const char c = text[pos];
    if (c != '%') {
      if (!is_literal(c, use)) return std::nullopt;
      out += c;
      ++pos;
      continue;
    }
    if (pos + 1 >= text.size()) return std::nullopt;
    const char next = text[pos + 1];
    if (next == '%' || next == '_' || next == '-') {
      out += next == '%' ? "%" : next == '_' ? " " : "%20";
      pos += 2;
      continue;
    }
    if (next != '{') return std::nullopt;
    MacroTerm term;
    const std::size_t end = parse_term(text, pos + 2, use, term);
    if (end == std::string_view::npos) return std::nullopt;
    if (values) {
      std::string expanded = apply_transformers(letter_value(term.letter, *values), term);
      out += std::isupper(static_cast<unsigned char>(term.letter)) ? url_escape(expanded) : expanded;
    }
    pos = end;
  }
  return out;
}

}  // namespace

bool is_valid_macro_string(std::string_view text, MacroUse use) { return walk(text, nullptr, use).has_value(); }

bool mentions_macro(std::string_view text, char letter) {
  const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(letter)));
  for (std::size_t pos = text.find("%{"); pos != std::string_view::npos; pos = text.find("%{", pos + 2)) {
    // "%%{p}" is a literal percent followed by "{p}", not a macro.
    std::size_t percents = 0;
    for (std::size_t i = pos; i > 0 && text[i - 1] == '%'; --i) ++percents;
    if (percents % 2 == 1) continue;
    if (pos + 2 < text.size() && std::tolower(static_cast<unsigned char>(text[pos + 2])) == lower) return true;
  }
  return false;
}

std::optional<std::string> expand_macros(std::string_view text, const SpfMacroValues& values, MacroUse use) {
  return walk(text, &values, use);
}

std::string shorten_domain(std::string name) {
  while (name.size() > 253) {
    const std::size_t dot = name.find('.');
    if (dot == std::string::npos) return name;
    name.erase(0, dot + 1);
  }
  return name;
}

}  // namespace sluice::filters
