// dkim_key_record.hpp — a DKIM key record, the TXT at
// <selector>._domainkey.<domain> (RFC 6376 3.6.1; k=ed25519 from RFC 8463).
// Sans-I/O: parses text, decodes nothing cryptographic (p= stays the raw
// decoded bytes; filters/dkim_crypto.hpp turns them into a key).
//
// Contract: parse_dkim_key_record() returns a record or an error text.
// Errors (all "key syntax" failures for the verifier): tag-list grammar,
// v= present but not "DKIM1" or not first, p= missing or not base64, an
// unknown k=, h= naming no known hash. An empty p= is a revoked key (3.6.1),
// reported as such, not as a syntax error. s= without "email" or "*" makes
// the key unusable for mail. Unknown tags and unknown t= flags are ignored.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "filters/dkim_signature.hpp"

namespace sluice::filters {

struct DkimKeyRecord {
  DkimKeyType type = DkimKeyType::rsa;  // k=, default rsa
  std::string public_key;               // p=, base64-decoded; empty = revoked
  bool allows_sha1 = true;              // h=: absent means every hash
  bool allows_sha256 = true;
  bool testing = false;                 // t=y
  bool strict_identity = false;         // t=s: i= domain must equal d=
  bool email_service = true;            // s= includes email or *
  std::string notes;                    // n=

  bool revoked() const { return public_key.empty(); }
  bool allows(DkimHash hash) const { return hash == DkimHash::sha1 ? allows_sha1 : allows_sha256; }
};

struct DkimKeyRecordParse {
  std::optional<DkimKeyRecord> record;
  std::string error;
};

DkimKeyRecordParse parse_dkim_key_record(std::string_view text);

}  // namespace sluice::filters
