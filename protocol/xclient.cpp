#include "protocol/xclient.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "protocol/xtext.hpp"

namespace sluice::protocol {
namespace {

enum class Attr { name, reverse_name, addr, port, proto, helo, login, destaddr, destport };

// Flat table: canonical name, slot, and which special values it accepts
// (XCLIENT_README: [TEMPUNAVAIL] exists only for the DNS-derived names, and
// PROTO has no special value at all).
struct AttrInfo {
  std::string_view name;
  Attr attr;
  bool takes_unavailable;
  bool takes_tempunavail;
};
constexpr std::array<AttrInfo, 9> kAttrs{{
    {"NAME", Attr::name, true, true},
    {"REVERSE_NAME", Attr::reverse_name, true, true},
    {"ADDR", Attr::addr, true, false},
    {"PORT", Attr::port, true, false},
    {"PROTO", Attr::proto, false, false},
    {"HELO", Attr::helo, true, false},
    {"LOGIN", Attr::login, true, false},
    {"DESTADDR", Attr::destaddr, true, false},
    {"DESTPORT", Attr::destport, true, false},
}};

// Echoed client text is cut short: a reply line must stay well under the
// 512-octet limit of RFC 5321 4.5.3.1.5.
constexpr std::size_t kEchoMax = 64;

char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// ASCII-only case folding: locale-dependent tolower() has no place in a
// protocol comparison.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (ascii_upper(c) >= 'A' && ascii_upper(c) <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (ascii_upper(c) >= 'A' && ascii_upper(c) <= 'F'); }

Reply syntax_error(std::string text) { return Reply(501, "5.5.4", std::move(text)); }

Reply bad_value(std::string_view attr, std::string_view raw) {
  std::string text = "Bad ";
  text += attr;
  text += " syntax: ";
  text += sanitize_for_log(raw, kEchoMax);
  return syntax_error(std::move(text));
}

const AttrInfo* find_attr(std::string_view name) {
  for (const auto& info : kAttrs)
    if (iequals(info.name, name)) return &info;
  return nullptr;
}

// inet_pton() wants a C string and stops at the first NUL, so a decoded
// "1.2.3.4\0junk" would pass; only address characters get that far.
std::optional<std::string> normalize_ip(std::string_view text, int family) {
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  for (char c : text)
    if (!(is_hex(c) || c == ':' || c == '.')) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char bin[sizeof(in6_addr)];
  if (inet_pton(family, buf, bin) != 1) return std::nullopt;
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bin, out, sizeof out) == nullptr) return std::nullopt;
  return std::string(out);
}

// XCLIENT_README: IPv4 as is, IPv6 only as "IPV6:" + address (any case), no
// brackets. An unprefixed IPv6 address is refused, as Postfix does.
std::optional<std::string> parse_addr(std::string_view v, bool& ipv6) {
  constexpr std::string_view kV6Prefix = "IPV6:";
  ipv6 = istarts_with(v, kV6Prefix);
  if (ipv6) return normalize_ip(v.substr(kV6Prefix.size()), AF_INET6);
  return normalize_ip(v, AF_INET);
}

// Decimal, 1..5 digits, 0..65535; leading zeros allowed but dropped.
std::optional<std::string> parse_port(std::string_view v) {
  if (v.empty() || v.size() > 5) return std::nullopt;
  unsigned n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n > 65535) return std::nullopt;
  return std::to_string(n);
}

// RFC 1035 2.3.1 / RFC 1123 2.1 host name: labels of letters, digits and
// inner hyphens, 1..63 octets, no empty label (so no trailing dot). '_' is
// tolerated because real PTR data has it. A name whose last label is all
// digits is refused: RFC 1123 2.1 rules it out, and a NAME "192.0.2.1"
// could otherwise pass for an address in name-based access rules.
bool valid_hostname(std::string_view v) {
  std::size_t start = 0;
  bool last_label_numeric = false;
  while (true) {
    const std::size_t dot = v.find('.', start);
    const std::string_view label =
        v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last_label_numeric = true;
    for (char c : label) {
      if (!(is_alnum(c) || c == '-' || c == '_')) return false;
      if (!is_digit(c)) last_label_numeric = false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !last_label_numeric;
}

// HELO is stored for logs and Received: lines; printable ASCII only (SP
// allowed, as some clients send it), so no control or 8-bit bytes get in.
bool valid_helo(std::string_view v) {
  for (char c : v)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// A SASL name may be UTF-8 (nginx escapes 8-bit bytes, RFC 4616), but
// never NUL or another control, which would cut or split it downstream.
bool valid_login(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Checks and normalizes an ordinary (non-special) value; returns false
// when it does not fit the attribute's syntax.
bool store_value(Attr attr, std::string_view v, XclientAttributes& out) {
  switch (attr) {
    case Attr::name:
    case Attr::reverse_name:
      if (!valid_hostname(v)) return false;
      if (attr == Attr::name) out.name = XclientValue{std::string(v)};
      return true;
    case Attr::addr:
    case Attr::destaddr: {
      bool ipv6 = false;
      auto ip = parse_addr(v, ipv6);
      if (!ip) return false;
      (attr == Attr::addr ? out.addr : out.destaddr) = XclientValue{std::move(*ip)};
      (attr == Attr::addr ? out.addr_ipv6 : out.destaddr_ipv6) = ipv6;
      return true;
    }
    case Attr::port:
    case Attr::destport: {
      auto port = parse_port(v);
      if (!port) return false;
      (attr == Attr::port ? out.port : out.destport) = XclientValue{std::move(*port)};
      return true;
    }
    case Attr::proto:
      if (!iequals(v, "SMTP") && !iequals(v, "ESMTP")) return false;
      out.proto = XclientValue{iequals(v, "SMTP") ? "SMTP" : "ESMTP"};
      return true;
    case Attr::helo:
      if (!valid_helo(v)) return false;
      out.helo = XclientValue{std::string(v)};
      return true;
    case Attr::login:
      if (!valid_login(v)) return false;
      out.login = XclientValue{std::string(v)};
      return true;
  }
  return false;
}

void store_special(Attr attr, XclientSpecial special, XclientAttributes& out) {
  const XclientValue v{std::string(), special};
  switch (attr) {
    case Attr::name: out.name = v; break;
    case Attr::reverse_name: break;  // accepted, not kept
    case Attr::addr: out.addr = v; out.addr_ipv6 = false; break;
    case Attr::port: out.port = v; break;
    case Attr::proto: out.proto = v; break;  // unreachable: table refuses it
    case Attr::helo: out.helo = v; break;
    case Attr::login: out.login = v; break;
    case Attr::destaddr: out.destaddr = v; out.destaddr_ipv6 = false; break;
    case Attr::destport: out.destport = v; break;
  }
}

// One "name=value" element; returns an empty Reply on success.
Reply parse_element(std::string_view element, unsigned& seen, XclientAttributes& out) {
  const std::size_t eq = element.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == element.size())
    return syntax_error("Error: attribute=value expected");
  const std::string_view name = element.substr(0, eq);
  const std::string_view raw = element.substr(eq + 1);

  const AttrInfo* info = find_attr(name);
  if (info == nullptr)
    return syntax_error("Bad XCLIENT attribute name: " + sanitize_for_log(name, kEchoMax));
  const unsigned bit = 1u << static_cast<unsigned>(info->attr);
  // Two ADDRs in one command would let a log and the policy disagree on
  // which one counted; refuse rather than pick one.
  if (seen & bit)
    return syntax_error("Error: duplicate XCLIENT attribute: " + std::string(info->name));
  seen |= bit;

  // Legacy clients send raw text: keep it when it is not valid xtext.
  const bool is_name = info->attr == Attr::name || info->attr == Attr::reverse_name;
  std::optional<std::string> decoded;
  if (!is_name) decoded = xtext_decode(raw);
  const std::string_view value = decoded ? std::string_view(*decoded) : raw;
  if (value.size() > kXclientMaxValueLength)
    return syntax_error("Error: attribute value too long");

  if (info->takes_unavailable && iequals(value, "[UNAVAILABLE]")) {
    store_special(info->attr, XclientSpecial::unavailable, out);
  } else if (info->takes_tempunavail && iequals(value, "[TEMPUNAVAIL]")) {
    store_special(info->attr, XclientSpecial::tempunavail, out);
  } else if (!store_value(info->attr, value, out)) {
    return bad_value(info->name, raw);
  }
  return Reply();
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

XclientParse parse_xclient_args(std::string_view args) {
  XclientParse result;
  XclientAttributes attrs;
  unsigned seen = 0;
  std::size_t i = 0;
  while (true) {
    while (i < args.size() && is_blank(args[i])) ++i;
    if (i == args.size()) break;
    std::size_t end = i;
    while (end < args.size() && !is_blank(args[end])) ++end;
    Reply error = parse_element(args.substr(i, end - i), seen, attrs);
    if (!error.empty()) {
      result.error = std::move(error);
      return result;
    }
    i = end;
  }
  // RFC-style "1*( SP attribute )": at least one element.
  if (seen == 0) {
    result.error = syntax_error("Syntax: XCLIENT attribute=value...");
    return result;
  }
  result.ok = true;
  result.attrs = std::move(attrs);
  return result;
}

}  // namespace sluice::protocol
