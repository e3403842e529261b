// dkim_signature_check.cpp — the verdict for one signature.
#include "filters/dkim_signature_check.hpp"

#include "filters/dkim_crypto.hpp"
#include "filters/dkim_key_record.hpp"

namespace sluice::filters {
namespace {

DkimResult base_result(const DkimHashedSignature& hashed) {
  DkimResult r;
  if (!hashed.signature) return r;
  const DkimSignature& s = *hashed.signature;
  r.domain = s.domain;
  r.selector = s.selector;
  r.identity = s.identity;
  r.b_text = s.b_text;
  r.algorithm = s.algorithm;
  return r;
}

DkimResult verdict(DkimResult r, DkimStatus status, DkimReason reason, std::string detail = {}) {
  r.status = status;
  r.reason = reason;
  r.detail = std::move(detail);
  return r;
}

// The first TXT record at the name that parses as a key record, or the
// first one's error.
DkimKeyRecordParse pick_record(const DnsAnswer& answer) {
  DkimKeyRecordParse first;
  for (std::size_t i = 0; i < answer.texts.size(); ++i) {
    auto parsed = parse_dkim_key_record(answer.texts[i].text);
    if (parsed.record) return parsed;
    if (i == 0) first = std::move(parsed);
  }
  return first;
}

// k=, h=, s=, t=s: does this record allow this signature? "" when it does.
std::string unsuitable(const DkimKeyRecord& key, const DkimSignature& sig) {
  if (key.type != key_type_of(sig.algorithm))
    return "key type does not match a=" + std::string(to_string(sig.algorithm));
  if (!key.allows(hash_of(sig.algorithm))) return "key h= does not allow the hash of a=";
  if (!key.email_service) return "key s= does not include email";
  // RFC 6376 3.6.1 t=s: the i= domain must be d= itself, not a subdomain.
  if (key.strict_identity && to_lower(identity_domain(sig.identity)) != sig.domain)
    return "key t=s and i= is a subdomain of d=";
  return "";
}

}  // namespace

std::string key_query_name(const DkimSignature& signature) {
  return signature.selector + "._domainkey." + signature.domain;
}

std::optional<DkimResult> check_before_lookup(const DkimHashedSignature& hashed,
                                              const DkimCheckOptions& options, std::uint64_t now) {
  DkimResult r = base_result(hashed);
  if (!hashed.checked) return verdict(r, DkimStatus::neutral, DkimReason::not_checked);
  if (!hashed.signature)
    return verdict(r, DkimStatus::permerror, DkimReason::signature_syntax, hashed.error);
  const DkimSignature& s = *hashed.signature;
  // RFC 8301 3.1: rsa-sha1 MUST NOT be used for verifying, so its key is
  // not even looked up; whether it would verify does not matter.
  if (s.algorithm == DkimAlgorithm::rsa_sha1)
    return verdict(r, DkimStatus::policy, DkimReason::rsa_sha1, "rsa-sha1 is not accepted for verifying");
  if (s.expiration && now > *s.expiration)
    return verdict(r, DkimStatus::fail, DkimReason::expired,
                   "x=" + std::to_string(*s.expiration) + " is before now");
  if (s.timestamp && *s.timestamp > now + options.future_tolerance_seconds)
    return verdict(r, DkimStatus::fail, DkimReason::future,
                   "t=" + std::to_string(*s.timestamp) + " is in the future");
  return std::nullopt;
}

DkimResult check_with_key(const DkimHashedSignature& hashed, const DnsAnswer& answer,
                          const DkimCheckOptions& options) {
  DkimResult r = base_result(hashed);
  const DkimSignature& s = *hashed.signature;
  if (answer.status == DnsStatus::nxdomain || answer.status == DnsStatus::nodata ||
      (answer.ok() && answer.texts.empty()))
    return verdict(r, DkimStatus::fail, DkimReason::no_key, std::string(to_string(answer.status)));
  if (!answer.ok())
    return verdict(r, DkimStatus::temperror, DkimReason::dns,
                   std::string(to_string(answer.status)) + " " + answer.error);

  auto parsed = pick_record(answer);
  if (!parsed.record) return verdict(r, DkimStatus::fail, DkimReason::key_syntax, parsed.error);
  const DkimKeyRecord& key = *parsed.record;
  r.testing = key.testing;
  if (key.revoked()) return verdict(r, DkimStatus::fail, DkimReason::key_revoked);
  if (auto why = unsuitable(key, s); !why.empty())
    return verdict(r, DkimStatus::fail, DkimReason::key_unsuitable, why);

  std::string error;
  auto public_key = decode_public_key(key.type, key.public_key, error);
  if (!public_key) return verdict(r, DkimStatus::fail, DkimReason::signature, error);
  r.key_bits = public_key->bits;
  if (key.type == DkimKeyType::rsa && public_key->bits < options.min_rsa_bits)
    return verdict(r, DkimStatus::fail, DkimReason::key_too_small,
                   std::to_string(public_key->bits) + "-bit RSA key");
  if (key.type == DkimKeyType::rsa && public_key->bits > options.max_rsa_bits)
    return verdict(r, DkimStatus::fail, DkimReason::key_unsuitable,
                   std::to_string(public_key->bits) + "-bit RSA key is over the limit");

  if (s.body_length && hashed.body_bytes < *s.body_length)
    return verdict(r, DkimStatus::fail, DkimReason::body_hash, "body shorter than l=");
  if (hashed.body_hash != s.body_hash) return verdict(r, DkimStatus::fail, DkimReason::body_hash);
  if (!verify_signature(*public_key, s.algorithm, hashed.header_hash, s.signature))
    return verdict(r, DkimStatus::fail, DkimReason::signature);
  return verdict(r, DkimStatus::pass, DkimReason::none);
}

}  // namespace sluice::filters
