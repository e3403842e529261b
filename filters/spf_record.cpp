#include "filters/spf_record.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "filters/spf_macro.hpp"

namespace sluice::filters {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
  bool alpha = false, hyphen = false;
  for (char c : label) {
    if (is_alpha(c)) alpha = true;
    else if (c == '-') hyphen = true;
    else if (!is_digit(c)) return false;
  }
  return alpha || hyphen;
}

// domain-spec = macro-string domain-end;
// domain-end = ( "." toplabel [ "." ] ) / macro-expand
bool is_domain_spec(std::string_view spec) {
  if (spec.empty() || !is_valid_macro_string(spec, MacroUse::domain_spec)) return false;
  if (spec.back() == '}') return true;  // ends in a macro-expand (the grammar check above saw it whole)
  if (spec.size() >= 2 && spec[spec.size() - 2] == '%') {
    // "%%", "%_", "%-" are macro-expands too, unless that '%' is itself escaped.
    std::size_t percents = 0;
    for (std::size_t i = spec.size() - 1; i > 0 && spec[i - 1] == '%'; --i) ++percents;
    if (percents % 2 == 1) return true;
  }
  std::string_view s = spec;
  if (s.back() == '.') s.remove_suffix(1);
  const std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) return false;
  return is_toplabel(s.substr(dot + 1));
}

// A CIDR length: "0" or no leading zero, at most `max`.
std::optional<unsigned> parse_length(std::string_view digits, unsigned max) {
  if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  unsigned v = 0;
  for (char c : digits) v = v * 10 + static_cast<unsigned>(c - '0');
  if (v > max) return std::nullopt;
  return v;
}

// qnum = a decimal 0..255 without leading zeros; ip4-network = 4 of them.
std::optional<gateway::IpBytes> parse_ip4(std::string_view text) {
  gateway::IpBytes out{};
  out[10] = out[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto v = parse_length(text.substr(0, dot), 255);
    if (!v) return std::nullopt;
    out[12 + i] = static_cast<std::uint8_t>(*v);
    text.remove_prefix(std::min(text.size(), dot + 1));
    if (i < 3 && dot + 1 > 0 && text.empty()) return std::nullopt;
  }
  return out;
}

std::optional<gateway::IpBytes> parse_ip6(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  return gateway::parse_ip(text);
}

// Splits a trailing "/n" or "//n" or "/n//m" off `arg` (a, mx, ip4, ip6).
struct CidrSuffix {
  std::optional<std::string_view> v4, v6;
  std::string_view rest;
};

CidrSuffix split_cidr(std::string_view arg) {
  CidrSuffix out;
  auto take_digits = [](std::string_view s) {
    std::size_t i = s.size();
    while (i > 0 && is_digit(s[i - 1])) --i;
    return i;
  };
  std::string_view s = arg;
  std::size_t i = take_digits(s);
  if (i < s.size() && i >= 2 && s[i - 1] == '/' && s[i - 2] == '/') {
    out.v6 = s.substr(i);
    s = s.substr(0, i - 2);
    i = take_digits(s);
  }
  if (i < s.size() && i >= 1 && s[i - 1] == '/') {
    out.v4 = s.substr(i);
    s = s.substr(0, i - 1);
  }
  out.rest = s;
  return out;
}

using Result = std::variant<SpfRecord, SpfSyntaxError>;

SpfSyntaxError error(std::string what, std::string_view term) {
  return SpfSyntaxError{what + " in \"" + std::string(term) + "\""};
}

std::optional<SpfSyntaxError> parse_mechanism(std::string_view term, SpfRecord& record) {
  SpfMechanism m;
  m.text = std::string(term);
  std::string_view body = term;
  if (std::string_view("+-~?").find(body.front()) != std::string_view::npos) {
    m.qualifier = static_cast<SpfQualifier>(body.front());
    body.remove_prefix(1);
  }
  std::size_t name_end = 0;
  while (name_end < body.size() && (is_alnum(body[name_end]) || body[name_end] == '-' || body[name_end] == '_' ||
                                    body[name_end] == '.'))
    ++name_end;
  const std::string_view name = body.substr(0, name_end);
  std::string_view arg = body.substr(name_end);  // "", ":...", "/..."
  static constexpr std::array<std::pair<std::string_view, SpfMechanismKind>, 8> kNames{{
      {"all", SpfMechanismKind::all}, {"include", SpfMechanismKind::include}, {"a", SpfMechanismKind::a},
      {"mx", SpfMechanismKind::mx}, {"ptr", SpfMechanismKind::ptr}, {"ip4", SpfMechanismKind::ip4},
      {"ip6", SpfMechanismKind::ip6}, {"exists", SpfMechanismKind::exists},
  }};
  auto known = std::find_if(kNames.begin(), kNames.end(), [&](const auto& n) { return iequals(n.first, name); });
  if (known == kNames.end()) return error("unknown mechanism", term);
  m.kind = known->second;

  const bool has_colon = !arg.empty() && arg.front() == ':';
  switch (m.kind) {
    case SpfMechanismKind::all:
      if (!arg.empty()) return error("\"all\" takes no argument", term);
      break;
    case SpfMechanismKind::include:
    case SpfMechanismKind::exists:
    case SpfMechanismKind::ptr: {
      if (m.kind != SpfMechanismKind::ptr && !has_colon) return error("missing domain", term);
      if (!arg.empty() && !has_colon) return error("unexpected text", term);
      if (has_colon) {
        m.domain_spec = std::string(arg.substr(1));
        if (!is_domain_spec(m.domain_spec)) return error("bad domain-spec", term);
      }
      break;
    }
    case SpfMechanismKind::a:
    case SpfMechanismKind::mx: {
      CidrSuffix cidr = split_cidr(arg);
      if (cidr.v4) {
        auto v = parse_length(*cidr.v4, 32);
        if (!v) return error("bad IPv4 CIDR length", term);
        m.cidr4 = *v;
      }
      if (cidr.v6) {
        auto v = parse_length(*cidr.v6, 128);
        if (!v) return error("bad IPv6 CIDR length", term);
        m.cidr6 = *v;
      }
      if (!cidr.rest.empty()) {
        if (cidr.rest.front() != ':') return error("unexpected text", term);
        m.domain_spec = std::string(cidr.rest.substr(1));
        if (!is_domain_spec(m.domain_spec)) return error("bad domain-spec", term);
      }
      break;
    }
    case SpfMechanismKind::ip4:
    case SpfMechanismKind::ip6: {
      if (!has_colon) return error("missing address", term);
      const bool v4 = m.kind == SpfMechanismKind::ip4;
      CidrSuffix cidr = split_cidr(arg.substr(1));
      if (cidr.v6) return error("unexpected \"//\"", term);
      if (cidr.v4) {
        auto v = parse_length(*cidr.v4, v4 ? 32 : 128);
        if (!v) return error("bad CIDR length", term);
        (v4 ? m.cidr4 : m.cidr6) = *v;
      }
      auto ip = v4 ? parse_ip4(cidr.rest) : parse_ip6(cidr.rest);
      if (!ip) return error(v4 ? "bad IPv4 address" : "bad IPv6 address", term);
      m.network = *ip;
      break;
    }
  }
  record.mechanisms.push_back(std::move(m));
  return std::nullopt;
}

std::optional<SpfSyntaxError> parse_modifier(std::string_view term, std::size_t eq, SpfRecord& record) {
  const std::string_view name = term.substr(0, eq);
  const std::string_view value = term.substr(eq + 1);
  if (iequals(name, "redirect") || iequals(name, "exp")) {
    std::optional<std::string>& slot = iequals(name, "redirect") ? record.redirect : record.exp;
    if (slot) return error("repeated modifier", term);
    if (!is_domain_spec(value)) return error("bad domain-spec", term);
    slot = std::string(value);
    return std::nullopt;
  }
  if (!is_valid_macro_string(value, MacroUse::domain_spec)) return error("bad macro-string", term);
  return std::nullopt;  // unknown modifier: ignored (RFC 7208 6)
}

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "=": a modifier.
std::size_t modifier_equals(std::string_view term) {
  if (term.empty() || !is_alpha(term.front())) return std::string_view::npos;
  std::size_t i = 1;
  while (i < term.size() && (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.')) ++i;
  return i < term.size() && term[i] == '=' ? i : std::string_view::npos;
}

}  // namespace

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && iequals(text.substr(0, 6), "v=spf1") && (text.size() == 6 || text[6] == ' ');
}

std::variant<SpfRecord, SpfSyntaxError> parse_spf_record(std::string_view text) {
  if (!is_spf_record(text)) return SpfSyntaxError{"not an SPF version 1 record"};
  SpfRecord record;
  std::string_view rest = text.substr(6);
  while (!rest.empty()) {
    if (rest.front() != ' ') return SpfSyntaxError{"terms must be separated by spaces"};
    const std::size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;  // trailing spaces are allowed
    rest.remove_prefix(start);
    const std::size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view term = rest.substr(0, end);
    rest.remove_prefix(end);
    for (char c : term)
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
        return error("character outside printable ASCII", term);
    const std::size_t eq = modifier_equals(term);
    auto problem = eq != std::string_view::npos ? parse_modifier(term, eq, record) : parse_mechanism(term, record);
    if (problem) return *problem;
  }
  return record;
}

std::string_view to_string(SpfMechanismKind kind) {
  switch (kind) {
    case SpfMechanismKind::all: return "all";
    case SpfMechanismKind::include: return "include";
    case SpfMechanismKind::a: return "a";
    case SpfMechanismKind::mx: return "mx";
    case SpfMechanismKind::ptr: return "ptr";
    case SpfMechanismKind::ip4: return "ip4";
    case SpfMechanismKind::ip6: return "ip6";
    case SpfMechanismKind::exists: return "exists";
  }
  return "?";
}

bool queries_dns(SpfMechanismKind kind) {
  return kind == SpfMechanismKind::include || kind == SpfMechanismKind::a || kind == SpfMechanismKind::mx ||
         kind == SpfMechanismKind::ptr || kind == SpfMechanismKind::exists;
}

}  // namespace sluice::filters
