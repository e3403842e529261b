#include "protocol/mail_params.hpp"

#include <cstring>
#include <limits>

#include "protocol/xtext.hpp"

namespace sluice::protocol {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char to_upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_upper_ascii(a[i]) != to_upper_ascii(b[i])) return false;
  }
  return true;
}

// RFC 5322 3.2.3 atext, for RFC 3461 4.2's addr-type = atom.
bool is_atext(char c) {
  return is_alpha(c) || is_digit(c) || (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

ParamsParse accepted() {
  ParamsParse r;
  r.ok = true;
  return r;
}

ParamsParse refused(int code, const char* enhanced, std::string text) {
  ParamsParse r;
  r.error = Reply(code, enhanced, std::move(text));
  return r;
}

// 501 5.5.4: "invalid command arguments" (RFC 3463 3.6).
ParamsParse bad_value(std::string text) { return refused(501, "5.5.4", std::move(text)); }

// 555 5.5.4: RFC 5321 4.1.1.11 "MAIL FROM/RCPT TO parameters not recognized
// or not implemented".
ParamsParse not_supported(std::string text) { return refused(555, "5.5.4", std::move(text)); }

struct Param {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// esmtp-param = esmtp-keyword ["=" esmtp-value];
// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-");
// esmtp-value = 1*(%d33-60 / %d62-126) (RFC 5321 4.1.2).
bool split_param(std::string_view token, Param& p) {
  const std::size_t eq = token.find('=');
  p.keyword = token.substr(0, eq);
  p.has_value = eq != std::string_view::npos;
  p.value = p.has_value ? token.substr(eq + 1) : std::string_view{};
  if (p.keyword.empty() || p.keyword.front() == '-') return false;
  for (char c : p.keyword) {
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  if (p.has_value && p.value.empty()) return false;
  for (char c : p.value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '=') return false;
  }
  return true;
}

// Known keywords of one verb; `enabled` hides extensions not advertised.
struct Keyword {
  std::string_view name;
  bool enabled;
};

// Walks the space-separated list (extra spaces tolerated), looks each keyword
// up in `table`, refuses unknowns and duplicates, and hands the rest to
// `handle(index, param)`. Stops at the first error.
template <std::size_t N, typename Handle>
ParamsParse walk_params(std::string_view params, const Keyword (&table)[N], const char* verb,
                        Handle&& handle) {
  bool seen[N] = {};
  std::size_t i = 0;
  while (i < params.size()) {
    if (params[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t end = params.find(' ', i);
    if (end == std::string_view::npos) end = params.size();
    Param p;
    if (!split_param(params.substr(i, end - i), p)) {
      return bad_value(std::string("Malformed ") + verb + " parameter");
    }
    i = end;
    std::size_t k = 0;
    while (k < N && !(table[k].enabled && equals_nocase(p.keyword, table[k].name))) ++k;
    if (k == N) return not_supported(std::string(verb) + " parameter not recognized or not implemented");
    if (seen[k]) return bad_value("Duplicate " + std::string(table[k].name) + " parameter");
    seen[k] = true;
    ParamsParse r = handle(k, p);
    if (!r.ok) return r;
  }
  return accepted();
}

// RFC 3461 4.2 and 4.4: decoded ENVID and ORCPT are printable US-ASCII.
bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Decodes an xtext value into `out`; empty text on success.
std::string decode_dsn_xtext(std::string_view value, const char* what, std::string& out) {
  std::optional<std::string> decoded = xtext_decode(value);
  if (!decoded) return std::string(what) + " is not valid xtext";
  if (!printable_ascii(*decoded)) return std::string(what) + " must decode to printable ASCII";
  out = std::move(*decoded);
  return {};
}

// size-value ::= 1*20DIGIT (RFC 1870 6). All digits are checked before the
// overflow verdict, so "99999999999999999999x" is a syntax error, not 552.
ParamsParse parse_size(const Param& p, MailParams& m) {
  if (!p.has_value || p.value.size() > 20) {
    return bad_value("SIZE needs a decimal value of at most 20 digits");
  }
  std::uint64_t v = 0;
  bool overflow = false;
  for (char c : p.value) {
    if (!is_digit(c)) return bad_value("SIZE needs a decimal value of at most 20 digits");
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
    if (!overflow) v = v * 10 + digit;
  }
  // RFC 1870 6.1: larger than the fixed maximum, whatever it is configured to.
  if (overflow) return refused(552, "5.3.4", "Message size exceeds fixed maximum message size");
  m.size = v;
  return accepted();
}

// BODY=7BIT / 8BITMIME (RFC 6152 2) / BINARYMIME (RFC 3030 3).
ParamsParse parse_body(const Param& p, const ParamOptions& o, MailParams& m) {
  if (p.has_value && equals_nocase(p.value, "7BIT")) {
    m.body = MailParams::Body::sevenbit;
  } else if (p.has_value && equals_nocase(p.value, "8BITMIME")) {
    if (!o.allow_8bitmime) return not_supported("BODY=8BITMIME not supported");
    m.body = MailParams::Body::eightbitmime;
  } else if (p.has_value && equals_nocase(p.value, "BINARYMIME")) {
    if (!o.allow_binarymime) return not_supported("BODY=BINARYMIME not supported");
    m.body = MailParams::Body::binarymime;
  } else {
    return bad_value("BODY must be 7BIT, 8BITMIME or BINARYMIME");
  }
  return accepted();
}

// RET=FULL / HDRS (RFC 3461 4.3).
ParamsParse parse_ret(const Param& p, MailParams& m) {
  if (p.has_value && equals_nocase(p.value, "FULL")) {
    m.ret = MailParams::Ret::full;
  } else if (p.has_value && equals_nocase(p.value, "HDRS")) {
    m.ret = MailParams::Ret::hdrs;
  } else {
    return bad_value("RET must be FULL or HDRS");
  }
  return accepted();
}

// ENVID=xtext, at most 100 characters (RFC 3461 4.4).
ParamsParse parse_envid(const Param& p, MailParams& m) {
  if (!p.has_value) return bad_value("ENVID needs a value");
  if (p.value.size() > kMaxEnvid) return bad_value("ENVID exceeds 100 characters");
  std::string problem = decode_dsn_xtext(p.value, "ENVID", m.envid);
  if (!problem.empty()) return bad_value(std::move(problem));
  return accepted();
}

// NOTIFY=NEVER / 1#(SUCCESS / FAILURE / DELAY) (RFC 3461 4.1). Repeating a
// value is harmless and tolerated; NEVER with anything else is not.
ParamsParse parse_notify(const Param& p, RcptParams& r) {
  constexpr const char* kUsage = "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY";
  if (!p.has_value) return bad_value(kUsage);
  unsigned bits = 0;
  std::string_view rest = p.value;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    if (equals_nocase(item, "NEVER")) {
      bits |= kNotifyNever;
    } else if (equals_nocase(item, "SUCCESS")) {
      bits |= kNotifySuccess;
    } else if (equals_nocase(item, "FAILURE")) {
      bits |= kNotifyFailure;
    } else if (equals_nocase(item, "DELAY")) {
      bits |= kNotifyDelay;
    } else {
      return bad_value(kUsage);  // unknown or empty item
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if ((bits & kNotifyNever) && bits != kNotifyNever) {
    return bad_value("NOTIFY=NEVER cannot be combined with other values");
  }
  r.notify = bits;
  return accepted();
}

// ORCPT=addr-type ";" xtext; addr-type = atom (RFC 3461 4.2).
ParamsParse parse_orcpt(const Param& p, RcptParams& r) {
  constexpr const char* kUsage = "ORCPT must be addr-type;address";
  if (!p.has_value) return bad_value(kUsage);
  if (p.value.size() > kMaxOrcpt) return bad_value("ORCPT exceeds 500 characters");
  const std::size_t semi = p.value.find(';');
  if (semi == 0 || semi == std::string_view::npos) return bad_value(kUsage);
  const std::string_view type = p.value.substr(0, semi);
  for (char c : type) {
    if (!is_atext(c)) return bad_value(kUsage);
  }
  const std::string_view addr = p.value.substr(semi + 1);
  if (addr.empty()) return bad_value("ORCPT address missing");
  std::string problem = decode_dsn_xtext(addr, "ORCPT address", r.orcpt_addr);
  if (!problem.empty()) return bad_value(std::move(problem));
  r.orcpt_type.assign(type);
  for (char& c : r.orcpt_type) c = to_lower_ascii(c);
  return accepted();
}

ParamsParse no_value(const Param& p, const char* keyword, bool& flag) {
  if (p.has_value) return bad_value(std::string(keyword) + " takes no value");
  flag = true;
  return accepted();
}

}  // namespace

ParamsParse parse_mail_params(std::string_view params, const ParamOptions& o, MailParams& out) {
  enum { kSize, kBody, kSmtputf8, kRet, kEnvid, kRequiretls };
  const Keyword table[] = {
      {"SIZE", true},  // RFC 1870: always offered
      {"BODY", o.allow_8bitmime || o.allow_binarymime},
      {"SMTPUTF8", o.allow_smtputf8},
      {"RET", o.allow_dsn},
      {"ENVID", o.allow_dsn},
      {"REQUIRETLS", o.allow_requiretls},
  };
  MailParams m;  // committed to `out` only when everything parsed
  ParamsParse r = walk_params(params, table, "MAIL", [&](std::size_t k, const Param& p) {
    switch (k) {
      case kSize: return parse_size(p, m);
      case kBody: return parse_body(p, o, m);
      case kSmtputf8: return no_value(p, "SMTPUTF8", m.smtputf8);  // RFC 6531 3.4
      case kRet: return parse_ret(p, m);
      case kEnvid: return parse_envid(p, m);
      default: return no_value(p, "REQUIRETLS", m.requiretls);  // RFC 8689 4.1
    }
  });
  if (r.ok) out = std::move(m);
  return r;
}

ParamsParse parse_rcpt_params(std::string_view params, const ParamOptions& o, RcptParams& out) {
  enum { kNotify, kOrcpt };
  const Keyword table[] = {
      {"NOTIFY", o.allow_dsn},
      {"ORCPT", o.allow_dsn},
  };
  RcptParams rp;
  ParamsParse r = walk_params(params, table, "RCPT", [&](std::size_t k, const Param& p) {
    return k == kNotify ? parse_notify(p, rp) : parse_orcpt(p, rp);
  });
  if (r.ok) out = std::move(rp);
  return r;
}

}  // namespace sluice::protocol
