// xclient_fuzz.cpp — libFuzzer target for parse_xclient_args().
//
// Besides crashes and sanitizer reports, checks the parser's contract on
// every input: a failure is a single-line 501 5.5.4 whose text is printable
// ASCII (client text must never reach the wire raw) and leaves no attribute
// set; a success has no error and only values that meet their syntax.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/xclient.hpp"

namespace {

using sluice::protocol::XclientSpecial;
using sluice::protocol::XclientValue;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_special_has_no_value(const std::optional<XclientValue>& v) {
  if (v && v->special != XclientSpecial::none) check(v->value.empty());
}

void check_ip(const std::optional<XclientValue>& v, bool ipv6) {
  if (!v || v->special != XclientSpecial::none) return;
  unsigned char bin[16];
  check(v->value.find('\0') == std::string::npos);
  check(inet_pton(ipv6 ? AF_INET6 : AF_INET, v->value.c_str(), bin) == 1);
}

void check_port(const std::optional<XclientValue>& v) {
  if (!v || v->special != XclientSpecial::none) return;
  check(!v->value.empty() && v->value.size() <= 5);
  check(std::stoul(v->value) <= 65535 && std::to_string(std::stoul(v->value)) == v->value);
}

void check_printable(const std::optional<XclientValue>& v) {
  if (!v) return;
  for (unsigned char c : v->value) check(c >= 0x20 && c < 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::protocol;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const XclientParse p = parse_xclient_args(in);
  const XclientAttributes& a = p.attrs;

  if (!p.ok) {
    check(p.error.code == 501 && p.error.enhanced == "5.5.4" && p.error.lines.size() == 1);
    for (unsigned char c : p.error.text()) check(c >= 0x20 && c < 0x7f);
    check(!a.name && !a.addr && !a.port && !a.proto && !a.helo && !a.login && !a.destaddr &&
          !a.destport);
    return 0;
  }

  check(p.error.empty());
  for (const auto* v : {&a.name, &a.addr, &a.port, &a.proto, &a.helo, &a.login, &a.destaddr,
                        &a.destport}) {
    check_special_has_no_value(*v);
    if (*v) check((*v)->value.size() <= kXclientMaxValueLength);
  }
  check_ip(a.addr, a.addr_ipv6);
  check_ip(a.destaddr, a.destaddr_ipv6);
  check_port(a.port);
  check_port(a.destport);
  if (a.proto) check(a.proto->value == "SMTP" || a.proto->value == "ESMTP");
  if (a.proto) check(a.proto->special == XclientSpecial::none);
  check_printable(a.name);
  check_printable(a.helo);
  if (a.login)
    for (unsigned char c : a.login->value) check(c >= 0x20 && c != 0x7f);
  return 0;
}
