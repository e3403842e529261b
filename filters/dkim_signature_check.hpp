// dkim_signature_check.hpp — turning one hashed signature plus the answer
// to its key lookup into a result (RFC 6376 6.1.1-6.1.3, RFC 8301, RFC
// 8463). Pure functions: no I/O, so every rule is testable without DNS.
//
// Order (each step can end it): field syntax → permerror; a=rsa-sha1 →
// policy (RFC 8301 3.1: not used for verifying, no lookup); x= passed →
// fail expired; t= too far ahead → fail future; the lookup: NXDOMAIN or no
// TXT → fail no_key, any other DNS failure → temperror; the record: syntax
// → fail key_syntax, empty p= → fail key_revoked, k= / h= / s= / t=s not
// allowing this signature → fail key_unsuitable; p= bytes that are not a
// key of that type → fail signature (the published key cannot have made
// it); RSA under 1024 bits → fail key_too_small, over 4096 → fail
// key_unsuitable; bh= → fail body_hash; b= → fail signature; else pass.
// With several TXT records at the name, the first that parses is used.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "filters/dkim_message_hasher.hpp"
#include "filters/dkim_result.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {

struct DkimCheckOptions {
  // t= may be this far in the future before the signature fails (clocks
  // drift; RFC 6376 3.5 lets verifiers tolerate it).
  std::uint64_t future_tolerance_seconds = 300;
  int min_rsa_bits = 1024;
  int max_rsa_bits = 4096;
};

// "<s>._domainkey.<d>" (RFC 6376 3.6.2.1).
std::string key_query_name(const DkimSignature& signature);

// The verdicts that need no key; nullopt when a lookup is needed.
std::optional<DkimResult> check_before_lookup(const DkimHashedSignature& hashed,
                                              const DkimCheckOptions& options, std::uint64_t now);

DkimResult check_with_key(const DkimHashedSignature& hashed, const DnsAnswer& answer,
                          const DkimCheckOptions& options);

}  // namespace sluice::filters
