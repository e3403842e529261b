// xclient.hpp — parser for the arguments of the Postfix XCLIENT command
// (Postfix XCLIENT_README; xtext per RFC 3461 section 4).
//
// Contract: sans-I/O and stateless. parse_xclient_args() takes everything
// after "XCLIENT " (no CRLF) and either returns every attribute checked and
// normalized (ok), or a 501 5.5.4 Reply for the first bad element and empty
// attrs: nothing is half-applied. Attributes absent from the command stay
// nullopt, so the caller keeps their current values (XCLIENT_README).
//
// Not done here, by design: whether the peer may send XCLIENT at all (550),
// "not inside a mail transaction" (503), the "ADDR first" policy, applying
// the new identity and the 220 re-greeting. Those belong to the session.
//
// Rules, in checking order for each space-separated element:
//   name "=" value, both non-empty   else "Error: attribute=value expected"
//   name is known (case-insensitive) else "Bad XCLIENT attribute name: X"
//   name not repeated in one command else "Error: duplicate XCLIENT attribute: X"
//   value xtext-decoded (RFC 3461 s4); raw value kept when it is not valid
//   xtext, for pre-2.3 Postfix clients. NAME/REVERSE_NAME are never decoded:
//   nginx sends them raw and a valid host name needs no escaping anyway.
//   decoded value <= 255 octets      else "Error: attribute value too long"
//   "[UNAVAILABLE]" (any case) for every attribute but PROTO; "[TEMPUNAVAIL]"
//   (any case) for NAME/REVERSE_NAME only; both give an empty value.
//   Elsewhere "[TEMPUNAVAIL]" is an ordinary value: literal for HELO and
//   LOGIN, a syntax error for the others.
//   per attribute syntax             else "Bad <ATTR> syntax: <value>"
// REVERSE_NAME is checked like NAME and then ignored.
//
// Limits: at most one of each of the nine attributes, so a command that
// passes has at most nine elements; the line length is the caller's limit.
//
// Security: XCLIENT rewrites the client identity used for access control and
// audit. Every value is syntax-checked here so that later code never sees an
// address with trailing junk (inet_pton stops at NUL, so "1.2.3.4+00x" is
// refused before it), a name shaped like an IPv4 address (RFC 1123 s2.1), or
// control characters. Client text echoed in an error reply goes through
// sanitize_for_log(), so a reply never carries CR, LF or 8-bit bytes. LOGIN
// may hold 8-bit (UTF-8) bytes: sanitize it before logging.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "protocol/reply.hpp"

namespace sluice::protocol {

// Longest accepted decoded value (Postfix: NAME and HELO up to 255).
inline constexpr std::size_t kXclientMaxValueLength = 255;

// Attribute names for the EHLO keyword line: "XCLIENT " + this.
inline constexpr std::string_view kXclientAttributeNames =
    "NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT";

enum class XclientSpecial { none, unavailable, tempunavail };

// `value` is empty whenever `special` is not none.
struct XclientValue {
  std::string value;
  XclientSpecial special = XclientSpecial::none;
};

struct XclientAttributes {
  // name: host name as sent. addr/destaddr: inet_ntop() form without the
  // "IPV6:" prefix. port/destport: decimal without leading zeros.
  // proto: "SMTP" or "ESMTP". helo: printable ASCII (space allowed).
  // login: any bytes except controls and DEL.
  std::optional<XclientValue> name, addr, port, proto, helo, login, destaddr, destport;
  // addr/destaddr: normalized text without "IPV6:" prefix; flag ipv6 when it had one
  bool addr_ipv6 = false, destaddr_ipv6 = false;
};

struct XclientParse {
  bool ok = false;
  XclientAttributes attrs;  // empty unless ok
  Reply error;              // when !ok: 501 5.5.4 naming the problem
};

// `args` is everything after "XCLIENT " (already without CRLF). Elements are
// separated by runs of SP or HTAB; leading and trailing blanks are ignored.
XclientParse parse_xclient_args(std::string_view args);

}  // namespace sluice::protocol
