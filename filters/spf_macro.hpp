// spf_macro.hpp — SPF macro strings (RFC 7208 7): syntax check and
// expansion. Pure: no I/O. The one macro that needs DNS, %{p} (the validated
// reverse name), is looked up by the evaluator beforehand and handed in, and
// only when mentions_macro() says the string uses it.
//
// Two uses: a domain-spec inside a record (macro-string; c, r, t are not
// allowed there, RFC 7208 7.2) and the explanation string of exp= (spaces
// allowed, and c, r, t too). An upper-case letter URL-escapes the value
// (RFC 7208 7.3, with RFC 3986 unreserved characters kept and upper-case
// hex for the rest).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/network_list.hpp"

namespace sluice::filters {

enum class MacroUse { domain_spec, explanation };

// The values the letters stand for, for one check_host() step.
struct SpfMacroValues {
  std::string_view sender;          // s: "local@domain"
  std::string_view local_part;      // l
  std::string_view sender_domain;   // o
  std::string_view domain;          // d: the domain being checked now
  gateway::IpBytes ip{};            // i, c, v
  std::string_view validated_name;  // p ("unknown" when none validates)
  std::string_view helo;            // h
  std::string_view receiver;        // r ("unknown" when the caller gave none)
  std::int64_t now = 0;             // t, seconds since the epoch
};

// Does `text` follow the macro-string (or explain-string) grammar?
bool is_valid_macro_string(std::string_view text, MacroUse use);

// Does `text` use the letter (either case), e.g. 'p' for the validated name?
bool mentions_macro(std::string_view text, char letter);

// The expansion, or nothing when the syntax is wrong.
std::optional<std::string> expand_macros(std::string_view text, const SpfMacroValues& values, MacroUse use);

// RFC 7208 7.3: a domain name longer than 253 octets loses labels from the
// left until it fits.
std::string shorten_domain(std::string name);

}  // namespace sluice::filters
