// spf_record.hpp — parses one SPF record (RFC 7208 4.5, 4.6.1, 5, 6, 12) into
// its terms. Pure: no I/O, no macro expansion (domain-specs are kept as
// written and only checked against the macro grammar).
//
// The whole record is checked before anything is evaluated: any syntax error
// (unknown mechanism, bad CIDR length, bad address, a macro error in any
// domain-spec, a second redirect= or exp=, a character outside printable
// ASCII) makes the record a permerror (RFC 7208 4.6). Terms are separated by
// spaces only (RFC 7208 4.6.1: not tabs or other control characters).
// Unknown modifiers are accepted and ignored (RFC 7208 6).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/network_list.hpp"

namespace sluice::filters {

enum class SpfQualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };

enum class SpfMechanismKind { all, include, a, mx, ptr, ip4, ip6, exists };

struct SpfMechanism {
  SpfQualifier qualifier = SpfQualifier::pass;
  SpfMechanismKind kind = SpfMechanismKind::all;
  std::string domain_spec;  // as written; "" when the mechanism has none (a, mx, ptr default to <domain>)
  gateway::IpBytes network{};  // ip4, ip6
  unsigned cidr4 = 32;         // a, mx, ip4 (IPv4 prefix)
  unsigned cidr6 = 128;        // a, mx, ip6
  std::string text;            // the term as written, for logs and Received-SPF
};

struct SpfRecord {
  std::vector<SpfMechanism> mechanisms;
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
};

struct SpfSyntaxError {
  std::string message;
};

// True when `text` is an SPF version 1 record: "v=spf1" (any case) alone or
// followed by a space (RFC 7208 4.5).
bool is_spf_record(std::string_view text);

std::variant<SpfRecord, SpfSyntaxError> parse_spf_record(std::string_view text);

std::string_view to_string(SpfMechanismKind kind);

// Does the mechanism need DNS (and so count against the limit of 10, RFC 7208 4.6.4)?
bool queries_dns(SpfMechanismKind kind);

}  // namespace sluice::filters
