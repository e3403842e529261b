// address_fuzz.cpp — libFuzzer target for parse_path() and the MAIL/RCPT
// parameter parsers (protocol/address.hpp, protocol/mail_params.hpp).
//
// Input: byte 0 picks the verb (bit 0), SMTPUTF8 permission (bit 1) and which
// extensions are on (bits 2-6); the rest is the argument after "FROM:"/"TO:".
// Besides crashes and sanitizer reports, it traps when an invariant breaks:
// limits hold on success, no control octet survives, errors are 5xx with an
// enhanced code, the mailbox re-parses to itself from str(), `params` is a
// view into the input, and failed parameter parses leave their output alone.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/address.hpp"
#include "protocol/mail_params.hpp"

namespace sp = sluice::protocol;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void check_error(const sp::Reply& e) {
  check(e.code == 501 || e.code == 550 || e.code == 552 || e.code == 553 || e.code == 555);
  check(!e.enhanced.empty() && e.enhanced[0] == '5');
  check(!has_control(e.text()));
}

void check_path(std::string_view arg, sp::PathKind kind, bool utf8, const sp::PathParse& r) {
  if (!r.ok) {
    check_error(r.error);
    return;
  }
  check(r.error.empty());
  // params is a view into arg, at its end.
  if (!r.params.empty()) {
    check(r.params.data() >= arg.data() &&
          r.params.data() + r.params.size() == arg.data() + arg.size());
    check(r.params.front() != ' ');
  }
  const sp::Mailbox& mb = r.mailbox;
  if (r.null_path) {
    check(kind == sp::PathKind::reverse && mb.local_part.empty() && mb.domain.empty());
    return;
  }
  check(!mb.local_part.empty() && mb.local_part.size() <= sp::kMaxLocalPart);
  check(mb.domain.size() <= sp::kMaxDomain);
  check(!mb.domain.empty() || kind == sp::PathKind::forward);
  check(!has_control(mb.local_part) && !has_control(mb.domain));
  check(utf8 || !mb.needs_smtputf8);
  check(mb.quoted_local == (mb.local_part.front() == '"'));
  if (!mb.domain.empty() && mb.domain.front() != '[') {  // literals are kept as written
    for (char c : mb.domain) check(c < 'A' || c > 'Z');
  }
  // The canonical form parses back to the same mailbox; only the source
  // route (dropped from the mailbox) may differ in the flags.
  const std::string again = "<" + mb.str() + ">";
  const sp::PathParse r2 = sp::parse_path(again, kind, utf8);
  check(r2.ok && !r2.null_path && r2.mailbox == mb && r2.params.empty());
  sp::PathFlags expected = r.flags;
  expected.source_route = false;
  check(r2.flags == expected);
}

sp::ParamOptions options_from(std::uint8_t sel) {
  sp::ParamOptions o;
  o.allow_8bitmime = sel & 0x04;
  o.allow_binarymime = sel & 0x08;
  o.allow_smtputf8 = sel & 0x10;
  o.allow_dsn = sel & 0x20;
  o.allow_requiretls = sel & 0x40;
  return o;
}

void check_params(std::string_view params, const sp::ParamOptions& o) {
  sp::MailParams m;
  m.envid = "sentinel";
  const sp::ParamsParse mr = sp::parse_mail_params(params, o, m);
  if (mr.ok) {
    check(mr.error.empty());
    check(m.envid.size() <= sp::kMaxEnvid && printable(m.envid));
    check(o.allow_dsn || (m.envid.empty() && m.ret == sp::MailParams::Ret::none));
    check(o.allow_smtputf8 || !m.smtputf8);
    check(o.allow_requiretls || !m.requiretls);
    check(o.allow_8bitmime || m.body != sp::MailParams::Body::eightbitmime);
    check(o.allow_binarymime || m.body != sp::MailParams::Body::binarymime);
  } else {
    check_error(mr.error);
    check(m.envid == "sentinel");
  }

  sp::RcptParams rp;
  rp.orcpt_addr = "sentinel";
  const sp::ParamsParse rr = sp::parse_rcpt_params(params, o, rp);
  if (rr.ok) {
    check(rr.error.empty());
    check(rp.notify <= 15 && (!(rp.notify & sp::kNotifyNever) || rp.notify == sp::kNotifyNever));
    check(printable(rp.orcpt_addr) && rp.orcpt_addr.size() <= sp::kMaxOrcpt);
    check(rp.orcpt_type.empty() == rp.orcpt_addr.empty());
    check(o.allow_dsn || (rp.notify == 0 && rp.orcpt_type.empty()));
  } else {
    check_error(rr.error);
    check(rp.orcpt_addr == "sentinel");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t sel = data[0];
  const std::string_view arg(reinterpret_cast<const char*>(data + 1), size - 1);
  const sp::PathKind kind = (sel & 1) ? sp::PathKind::forward : sp::PathKind::reverse;
  const bool utf8 = sel & 2;

  const sp::PathParse r = sp::parse_path(arg, kind, utf8);
  check_path(arg, kind, utf8, r);
  const sp::ParamOptions o = options_from(sel);
  if (r.ok) check_params(r.params, o);
  // The parameter parsers also see raw bytes: a session may call them on
  // whatever follows a path another component extracted.
  check_params(arg, o);
  return 0;
}
