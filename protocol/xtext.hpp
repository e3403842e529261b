// xtext.hpp — the xtext encoding of RFC 3461 section 4, used by XCLIENT
// attribute values and by the DSN parameters ENVID and ORCPT.
//
// Contract: xtext_encode() maps any byte string (NUL and 8-bit included) to
// plain printable ASCII; xtext_decode() is its strict inverse and returns
// nullopt for anything that is not well-formed xtext. Both are pure, linear,
// allocate only their result and never throw.
//
// Decision on hex case: RFC 3461 section 4 requires "+" followed by two
// *upper-case* hex digits, and every encoder we interoperate with (nginx,
// Postfix) writes upper case. We reject lower or mixed case ("+2b") as
// malformed, although Postfix accepts it. Reason: XCLIENT falls back to the
// raw text when a value is not valid xtext (for pre-2.3 Postfix clients), and
// raw logins such as "bob+ca@example.org" must not be silently decoded into
// "bob\xCA@example.org". Strictness keeps that fallback predictable.
//
// Security: a decoded value may contain any byte, NUL included. Callers
// validate it for their field and never log it without sanitize_for_log().
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace sluice::protocol {

// Decodes RFC 3461 xtext. Returns nullopt when the input holds a byte outside
// '!'..'~' (33..126), a bare '=', or a '+' not followed by two upper-case hex
// digits. The empty string is valid xtext and decodes to itself.
std::optional<std::string> xtext_decode(std::string_view in);

// Encodes bytes as xtext: '+', '=' and bytes outside 33..126 become "+XX"
// (upper-case hex), everything else stands for itself. Never fails;
// xtext_decode(xtext_encode(s)) == s for every s.
std::string xtext_encode(std::string_view in);

}  // namespace sluice::protocol
