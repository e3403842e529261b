// dkim_signature_fuzz.cpp — libFuzzer target for the DKIM-Signature parser
// and the sans-I/O pieces around it (filters/dkim_signature, dkim_tag_list,
// dkim_header_fields, dkim_canonicalization, dkim_base64).
//
// Properties, not just crashes: a parsed signature has the required tags
// and From in h=; i= lies within d=; emptying b= of a field never grows it
// and is idempotent; relaxed body canonicalization is idempotent (feeding
// its own output gives the same bytes) and does not depend on how the input
// is split; base64 re-encodes what it decodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filters/dkim_base64.hpp"
#include "filters/dkim_canonicalization.hpp"
#include "filters/dkim_header_fields.hpp"
#include "filters/dkim_signature.hpp"

namespace {

using namespace sluice::filters;

void check(bool ok) {
  if (!ok) std::abort();
}

class Collect final : public CanonicalSink {
 public:
  void consume(std::string_view b) override { out.append(b); }
  std::string out;
};

std::string canonical_body(std::string_view in, DkimCanon canon, std::size_t piece) {
  Collect c;
  BodyCanonicalizer b(canon, c);
  for (std::size_t i = 0; i < in.size(); i += piece) b.write(in.substr(i, piece));
  b.finish();
  return c.out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto parsed = parse_dkim_signature(in);
  check(parsed.signature.has_value() == parsed.error.empty());
  if (parsed.signature) {
    const auto& s = *parsed.signature;
    check(!s.domain.empty() && !s.selector.empty() && !s.signature.empty() && !s.body_hash.empty());
    bool from = false;
    for (const auto& h : s.signed_headers) from = from || h == "from";
    check(from);
    check(is_same_or_subdomain(identity_domain(s.identity), s.domain));
    check(!s.expiration || !s.timestamp || *s.expiration >= *s.timestamp);
  }

  const std::string field = "DKIM-Signature:" + std::string(in);
  const std::string emptied = without_b_value(field);
  check(emptied.size() <= field.size());
  check(without_b_value(emptied) == emptied);

  for (const auto& f : split_header_fields(in)) check(f.raw.size() <= in.size());

  for (auto canon : {DkimCanon::simple, DkimCanon::relaxed}) {
    const std::string whole = canonical_body(in, canon, in.size() + 1);
    check(canonical_body(in, canon, 1) == whole);
    check(canonical_body(in, canon, 7) == whole);
    check(canonical_body(whole, canon, 4096) == whole);
  }

  // Non-zero bits in the last character's unused part are accepted (RFC
  // 4648 3.5 leaves it to the decoder), so compare decoded bytes.
  if (const auto decoded = base64_decode(in)) check(base64_decode(base64_encode(*decoded)) == decoded);
  return 0;
}
