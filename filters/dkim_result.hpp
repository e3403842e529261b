// dkim_result.hpp — what DKIM verification says about one signature, and
// its Authentication-Results fragment (RFC 8601 2.7.1).
//
// Status follows RFC 8601's dkim values. A failure carries a reason, so
// policy and logs can tell a broken body from a missing key:
//   fail      body_hash, signature, expired, future, key_revoked, no_key,
//             key_syntax, key_unsuitable (k=, h=, s=, t=s do not allow this
//             signature), key_too_small (RFC 8301: under 1024 bits)
//   permerror signature_syntax (the DKIM-Signature field is unusable),
//             header_too_large (the header block passed the limit)
//   temperror dns (servfail, timeout: asking again later may succeed)
//   neutral   not_checked (beyond the limit of signatures checked)
//   policy    rsa_sha1 (RFC 8301 3.1: rsa-sha1 MUST NOT be used for
//             verifying; RFC 8601 2.7.1: signed, but not acceptable to the
//             ADMD). Never verified, never a pass, so DMARC cannot count it.
#pragma once
#include <string>
#include <string_view>

#include "filters/dkim_signature.hpp"

namespace sluice::filters {

enum class DkimStatus { pass, fail, policy, neutral, temperror, permerror };

enum class DkimReason {
  none,
  body_hash,
  signature,
  expired,
  future,
  key_revoked,
  no_key,
  key_syntax,
  key_unsuitable,
  key_too_small,
  signature_syntax,
  header_too_large,
  dns,
  not_checked,
  rsa_sha1,
};

std::string_view to_string(DkimStatus status);
std::string_view to_string(DkimReason reason);  // words for logs and A-R: "body hash mismatch"

struct DkimResult {
  DkimStatus status = DkimStatus::permerror;
  DkimReason reason = DkimReason::none;
  std::string detail;  // more words for the log ("p= is not an RSA public key")
  std::string domain;     // d=
  std::string selector;   // s=
  std::string identity;   // i=
  std::string b_text;     // b= without FWS (A-R header.b= takes its first 8)
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  bool testing = false;   // the key record says t=y
  int key_bits = 0;       // RSA modulus size, when a key was decoded

  bool passed() const { return status == DkimStatus::pass; }
};

// "dkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh" (RFC 8601
// 2.7.1, header.b= from RFC 6008); any other result adds reason="..." (RFC
// 8601 2.2). Values that are not MIME tokens are quoted.
std::string authentication_results_fragment(const DkimResult& result);

}  // namespace sluice::filters
