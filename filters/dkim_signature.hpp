// dkim_signature.hpp — a DKIM-Signature header field's value parsed into
// typed tags (RFC 6376 3.5; ed25519-sha256 from RFC 8463). Sans-I/O.
//
// Contract: parse_dkim_signature() returns either a complete signature or
// an error text; every error is a PERMFAIL in RFC 6376 terms (6.1.1), which
// the verifier reports as permerror. Checked here: the tag-list grammar
// (duplicates too), v=1, the required tags (v a b bh d h s), a known
// algorithm and canonicalization, h= naming From, i= inside d=, numeric l=,
// t=, x= (at most 12 digits, RFC 6376 3.5), x= not before t=, q= offering
// dns/txt. Unknown tags are ignored (3.2). b=, bh= are base64-decoded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters {

enum class DkimAlgorithm { rsa_sha1, rsa_sha256, ed25519_sha256 };
enum class DkimCanon { simple, relaxed };
enum class DkimKeyType { rsa, ed25519 };
enum class DkimHash { sha1, sha256 };

std::string_view to_string(DkimAlgorithm algorithm);
DkimHash hash_of(DkimAlgorithm algorithm);
DkimKeyType key_type_of(DkimAlgorithm algorithm);

struct DkimSignature {
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  std::string signature;      // b=, decoded
  std::string b_text;         // b= as written, FWS removed (for header.b= in A-R)
  std::string body_hash;      // bh=, decoded
  DkimCanon header_canon = DkimCanon::simple;
  DkimCanon body_canon = DkimCanon::simple;
  std::string domain;         // d=, lower-cased
  std::string selector;       // s=, as written (DNS is case-insensitive)
  std::vector<std::string> signed_headers;  // h=, lower-cased, in order
  std::string identity;       // i=, default "@" + d=
  std::optional<std::uint64_t> body_length;  // l=
  std::optional<std::uint64_t> timestamp;    // t=
  std::optional<std::uint64_t> expiration;   // x=
};

struct DkimSignatureParse {
  std::optional<DkimSignature> signature;
  std::string error;
};

// `value`: the field's value, after "DKIM-Signature:" (folding kept).
DkimSignatureParse parse_dkim_signature(std::string_view value);

// The part of an identity after its last "@" (RFC 6376 3.5 i=).
std::string_view identity_domain(std::string_view identity);

// True when `sub` is `parent` or a subdomain of it (case-insensitive).
bool is_same_or_subdomain(std::string_view sub, std::string_view parent);

std::string to_lower(std::string_view text);

}  // namespace sluice::filters
