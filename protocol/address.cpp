#include "protocol/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace sluice::protocol {
namespace {

// What went wrong inside "<>"; mapped to a reply by fault_reply().
enum class Fault {
  syntax, local_too_long, domain_too_long, label_too_long, path_too_long,
  missing_domain, bad_literal, bad_utf8, null_recipient
};

bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_ascii_control(unsigned char c) { return c < 0x20 || c == 0x7f; }
char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower_ascii(s[i]) != to_lower_ascii(prefix[i])) return false;
  }
  return true;
}

// RFC 5321 4.1.2 atext (as RFC 5322 3.2.3): ALPHA / DIGIT and these specials.
bool is_atext(unsigned char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// Length of one well-formed UTF-8 sequence at s[i] (RFC 3629 4: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0. C1 controls U+0080..
// U+009F are refused too: they are control characters in any encoding.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return at(k) >= lo && at(k) <= hi;
  };
  const unsigned c = at(0);
  if (c == 0xC2) return cont(1, 0xA0, 0xBF) ? 2 : 0;  // skips C1 controls
  if (c >= 0xC3 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// A cursor over the argument. peek() returns 0 at the end; a real NUL never
// reaches it because parse_path() refuses control octets first.
struct Scan {
  std::string_view s;
  std::size_t i = 0;
  Fault fault = Fault::syntax;
  bool non_ascii = false;

  unsigned char peek(std::size_t ahead = 0) const {
    return i + ahead < s.size() ? static_cast<unsigned char>(s[i + ahead]) : 0;
  }
  bool fail(Fault f) {
    fault = f;
    return false;
  }
  // Consumes one UTF8-non-ascii character (RFC 6531 3.3) or fails.
  bool take_utf8() {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return fail(Fault::bad_utf8);
    non_ascii = true;
    i += n;
    return true;
  }
};

// Relay tricks seen in local-part content, quoted or not (see the header).
void note_local_char(unsigned char c, bool quoted, PathFlags& flags) {
  if (c == '%') flags.percent_hack = true;
  if (c == '!') flags.bang_path = true;
  if (c == '@' && quoted) flags.quoted_at = true;
}

// Dot-string = Atom *("." Atom); Atom = 1*atext (RFC 5321 4.1.2).
bool parse_dot_string(Scan& sc, PathFlags& flags) {
  for (;;) {
    const std::size_t atom_start = sc.i;
    for (;;) {
      const unsigned char c = sc.peek();
      if (c >= 0x80) {
        if (!sc.take_utf8()) return false;
      } else if (is_atext(c)) {
        note_local_char(c, false, flags);
        ++sc.i;
      } else {
        break;
      }
    }
    if (sc.i == atom_start) return sc.fail(Fault::syntax);  // empty atom: ".a", "a..b", "a."
    if (sc.peek() != '.') return true;
    ++sc.i;
  }
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 4.1.2);
// qtextSMTP = %d32-33 / %d35-91 / %d93-126; quoted-pairSMTP = "\" %d32-126.
bool parse_quoted_string(Scan& sc, PathFlags& flags) {
  ++sc.i;  // opening quote
  for (;;) {
    const unsigned char c = sc.peek();
    if (c == 0) return sc.fail(Fault::syntax);  // unterminated
    if (c == '"') {
      ++sc.i;
      return true;
    }
    if (c >= 0x80) {
      if (!sc.take_utf8()) return false;
      continue;
    }
    if (c == '\\') {
      const unsigned char escaped = sc.peek(1);
      if (escaped < 32 || escaped > 126) return sc.fail(Fault::syntax);
      note_local_char(escaped, true, flags);
      sc.i += 2;
      continue;
    }
    if (c < 32 || c > 126) return sc.fail(Fault::syntax);
    note_local_char(c, true, flags);
    ++sc.i;
  }
}

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]"
// (RFC 5321 4.1.3), checked with inet_pton. General-address-literal
// ("[tag:...]") names no standardized tag we could route to: refused.
bool parse_address_literal(Scan& sc) {
  ++sc.i;  // '['
  const std::size_t close = sc.s.find(']', sc.i);
  if (close == std::string_view::npos) return sc.fail(Fault::bad_literal);
  std::string_view inner = sc.s.substr(sc.i, close - sc.i);
  int family = AF_INET;
  if (starts_with_nocase(inner, "IPv6:")) {
    family = AF_INET6;
    inner.remove_prefix(5);
  } else if (inner.find(':') != std::string_view::npos) {
    return sc.fail(Fault::bad_literal);
  }
  char text[INET6_ADDRSTRLEN];  // 46: the longest IPv6 text plus NUL
  if (inner.empty() || inner.size() >= sizeof text) return sc.fail(Fault::bad_literal);
  std::memcpy(text, inner.data(), inner.size());
  text[inner.size()] = '\0';
  unsigned char binary[16];
  if (inet_pton(family, text, binary) != 1) return sc.fail(Fault::bad_literal);
  sc.i = close + 1;
  return true;
}

// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
// (RFC 5321 4.1.2), or a U-label (RFC 6531 3.3). Labels neither start nor end
// with '-'. `allow_literal`: a source route takes names only.
bool parse_domain(Scan& sc, std::string& out, bool allow_literal) {
  const std::size_t start = sc.i;
  if (sc.peek() == '[') {
    if (!allow_literal) return sc.fail(Fault::syntax);
    if (!parse_address_literal(sc)) return false;
    out.assign(sc.s.substr(start, sc.i - start));  // kept as written
    return true;
  }
  for (;;) {
    const std::size_t label_start = sc.i;
    bool ascii = true;
    for (;;) {
      const unsigned char c = sc.peek();
      if (c >= 0x80) {
        if (!sc.take_utf8()) return false;
        ascii = false;
      } else if (is_alpha(c) || is_digit(c) || c == '-') {
        ++sc.i;
      } else {
        break;
      }
    }
    const std::size_t len = sc.i - label_start;
    if (len == 0) return sc.fail(Fault::syntax);  // empty label, trailing dot
    if (sc.s[label_start] == '-' || sc.s[sc.i - 1] == '-') return sc.fail(Fault::syntax);
    // A U-label's limit applies to its A-label form, which we do not compute;
    // the whole-domain limit below still bounds it.
    if (ascii && len > kMaxLabel) return sc.fail(Fault::label_too_long);
    if (sc.peek() != '.') break;
    ++sc.i;
  }
  if (sc.i - start > kMaxDomain) return sc.fail(Fault::domain_too_long);
  out.assign(sc.s.substr(start, sc.i - start));
  for (char& c : out) c = to_lower_ascii(c);  // safe on UTF-8: only bytes < 0x80 change
  return true;
}

// A-d-l = At-domain *( "," At-domain ) ":" (RFC 5321 4.1.2). Each domain is
// checked, then dropped (RFC 5321 3.3: the route SHOULD be ignored).
bool parse_source_route(Scan& sc) {
  std::string ignored;
  for (;;) {
    if (sc.peek() != '@') return sc.fail(Fault::syntax);
    ++sc.i;
    if (!parse_domain(sc, ignored, false)) return false;
    if (sc.peek() == ':') {
      ++sc.i;
      return true;
    }
    if (sc.peek() != ',') return sc.fail(Fault::syntax);
    ++sc.i;
  }
}

// Mailbox = Local-part "@" ( Domain / address-literal ) (RFC 5321 4.1.2),
// or RCPT's "<Postmaster>" without a domain (RFC 5321 4.1.1.3).
bool parse_mailbox(Scan& sc, bool postmaster_ok, Mailbox& mb, PathFlags& flags) {
  constexpr std::string_view kPostmaster = "postmaster";
  if (postmaster_ok && starts_with_nocase(sc.s.substr(sc.i), kPostmaster) &&
      sc.peek(kPostmaster.size()) == '>') {
    mb.local_part.assign(sc.s.substr(sc.i, kPostmaster.size()));
    sc.i += kPostmaster.size();
    return true;
  }
  const std::size_t start = sc.i;
  mb.quoted_local = sc.peek() == '"';
  const bool parsed = mb.quoted_local ? parse_quoted_string(sc, flags) : parse_dot_string(sc, flags);
  if (!parsed) return false;
  if (sc.i - start > kMaxLocalPart) return sc.fail(Fault::local_too_long);
  mb.local_part.assign(sc.s.substr(start, sc.i - start));
  if (sc.peek() != '@') return sc.fail(sc.peek() == '>' ? Fault::missing_domain : Fault::syntax);
  ++sc.i;
  return parse_domain(sc, mb.domain, true);
}

Reply framing_reply(PathKind kind, const char* what) {
  std::string text = what;
  text += kind == PathKind::reverse ? " (syntax: MAIL FROM:<address>)" : " (syntax: RCPT TO:<address>)";
  return Reply(501, "5.5.4", std::move(text));
}

// 5.1.7 "bad sender's mailbox address syntax", 5.1.3 "bad destination
// mailbox address syntax" (RFC 3463 3.2).
Reply fault_reply(PathKind kind, Fault fault) {
  const bool mail = kind == PathKind::reverse;
  std::string text = mail ? "Bad sender address" : "Bad recipient address";
  switch (fault) {
    case Fault::syntax: text += " syntax"; break;
    case Fault::local_too_long: text += ": local part exceeds 64 octets"; break;
    case Fault::domain_too_long: text += ": domain exceeds 255 octets"; break;
    case Fault::label_too_long: text += ": domain label exceeds 63 octets"; break;
    case Fault::path_too_long: text += ": path exceeds 256 octets"; break;
    case Fault::missing_domain: text += ": domain missing"; break;
    case Fault::bad_literal: text += ": invalid address literal"; break;
    case Fault::bad_utf8: text += ": malformed UTF-8 or control character"; break;
    case Fault::null_recipient: text += ": null path not allowed"; break;
  }
  return Reply(501, mail ? "5.1.7" : "5.1.3", std::move(text));
}

}  // namespace

std::string Mailbox::str() const {
  if (domain.empty()) return local_part;
  std::string out;
  out.reserve(local_part.size() + 1 + domain.size());
  out += local_part;
  out += '@';
  out += domain;
  return out;
}

PathParse parse_path(std::string_view arg, PathKind kind, bool utf8_allowed) {
  PathParse r;
  for (unsigned char c : arg) {
    if (is_ascii_control(c)) {
      r.error = framing_reply(kind, "Control characters not allowed");
      return r;
    }
  }
  const std::size_t open = arg.find_first_not_of(' ');
  if (open == std::string_view::npos || arg[open] != '<') {
    r.error = framing_reply(kind, "Address must be enclosed in <>");
    return r;
  }
  Scan sc{arg, open + 1};
  Mailbox mb;
  PathFlags flags;
  bool route_non_ascii = false;
  bool null_path = false;
  bool parsed = true;
  if (sc.peek() == '>') {
    null_path = true;  // RFC 5321 4.5.5: the null reverse-path
    ++sc.i;
    if (kind == PathKind::forward) parsed = sc.fail(Fault::null_recipient);
  } else {
    if (sc.peek() == '@') {
      flags.source_route = true;
      parsed = parse_source_route(sc);
      route_non_ascii = sc.non_ascii;
      sc.non_ascii = false;
    }
    parsed = parsed && parse_mailbox(sc, kind == PathKind::forward && !flags.source_route, mb, flags);
    if (parsed && sc.peek() != '>') parsed = sc.fail(Fault::syntax);
    if (parsed) ++sc.i;
  }
  if (parsed && sc.i - open > kMaxPath) parsed = sc.fail(Fault::path_too_long);
  if (!parsed) {
    r.error = fault_reply(kind, sc.fault);
    return r;
  }
  // Parameters follow after at least one SP (RFC 5321 4.1.1.2, 4.1.1.3).
  std::string_view rest = arg.substr(sc.i);
  if (!rest.empty() && rest.front() != ' ') {
    r.error = framing_reply(kind, "Unexpected text after address");
    return r;
  }
  const std::size_t params_at = rest.find_first_not_of(' ');
  rest = params_at == std::string_view::npos ? std::string_view{} : rest.substr(params_at);
  // RFC 6531 3.5: a non-ASCII address without SMTPUTF8 gets X.6.7, with
  // 550 ("mailbox unavailable") on MAIL and 553 ("mailbox name not allowed")
  // on RCPT.
  if ((sc.non_ascii || route_non_ascii) && !utf8_allowed) {
    r.error = kind == PathKind::reverse
                  ? Reply(550, "5.6.7", "Non-ASCII sender address requires SMTPUTF8")
                  : Reply(553, "5.6.7", "Non-ASCII recipient address requires SMTPUTF8");
    return r;
  }
  mb.needs_smtputf8 = sc.non_ascii;
  r.ok = true;
  r.null_path = null_path;
  r.mailbox = std::move(mb);
  r.flags = flags;
  r.params = rest;
  return r;
}

}  // namespace sluice::protocol
