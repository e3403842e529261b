// scan_next_update(): the nextUpdate of OCSP responses built here byte by
// byte (RFC 6960 4.2.1 layout), and nothing from responses without one,
// cut short, or not DER at all.
#include "tls/ocsp_next_update.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::tls {
namespace {

using Bytes = std::vector<std::uint8_t>;

// One DER element: tag, definite length (short or long form), contents.
Bytes tlv(std::uint8_t tag, const Bytes& body) {
  Bytes out{tag};
  const std::size_t n = body.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n <= 0xff) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes generalized_time(const std::string& s) { return tlv(0x18, text(s)); }

// A successful OCSPResponse carrying a BasicOCSPResponse with one
// SingleResponse (status good); `next_update` empty leaves the field out, as
// `openssl ocsp` does without -ndays/-nmin. The signature is not a real one:
// the scan does not look at it.
Bytes ocsp_response(const std::string& next_update) {
  const Bytes sha1 = tlv(0x30, cat({tlv(0x06, {0x2b, 0x0e, 0x03, 0x02, 0x1a}), tlv(0x05, {})}));
  const Bytes cert_id =
      tlv(0x30, cat({sha1, tlv(0x04, Bytes(20, 0x11)), tlv(0x04, Bytes(20, 0x22)), tlv(0x02, {0x10, 0x01})}));
  Bytes single = cat({cert_id, tlv(0x80, {}), generalized_time("20291231120000Z")});
  if (!next_update.empty()) single = cat({single, tlv(0xa0, generalized_time(next_update))});
  const Bytes tbs = tlv(0x30, cat({tlv(0xa2, tlv(0x04, Bytes(20, 0x33))),  // responderID byKey
                                   generalized_time("20291231120500Z"),   // producedAt
                                   tlv(0x30, tlv(0x30, single))}));
  const Bytes sha256_rsa =
      tlv(0x30, cat({tlv(0x06, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}), tlv(0x05, {})}));
  Bytes signature{0x00};
  signature.insert(signature.end(), 256, 0x5a);
  const Bytes basic = tlv(0x30, cat({tbs, sha256_rsa, tlv(0x03, signature)}));
  const Bytes ocsp_basic_oid = tlv(0x06, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01});
  return tlv(0x30, cat({tlv(0x0a, {0x00}),  // responseStatus successful
                        tlv(0xa0, tlv(0x30, cat({ocsp_basic_oid, tlv(0x04, basic)})))}));
}

constexpr std::time_t k20300101T120000Z = 1893499200;

TEST(OcspNextUpdate, FindsTheNextUpdateOfAResponse) {
  EXPECT_EQ(scan_next_update(ocsp_response("20300101120000Z")), k20300101T120000Z);
  // A past one is found the same way: that is what the "stale" log needs.
  EXPECT_EQ(scan_next_update(ocsp_response("20200229235959Z")), 1583020799);
}

TEST(OcspNextUpdate, AResponseWithoutNextUpdateHasNone) {
  // thisUpdate and producedAt are GeneralizedTimes too (18 0F ...), not under [0].
  EXPECT_EQ(scan_next_update(ocsp_response("")), 0);
}

TEST(OcspNextUpdate, ATruncatedResponseHasNone) {
  const Bytes full = ocsp_response("20300101120000Z");
  const Bytes tag = {0xa0, 0x11, 0x18, 0x0f};
  const auto at = std::search(full.begin(), full.end(), tag.begin(), tag.end()) - full.begin();
  ASSERT_LT(at, static_cast<std::ptrdiff_t>(full.size()));
  // Cut anywhere inside the time, its last octet (the Z) included.
  for (std::ptrdiff_t keep = 0; keep < 15; ++keep)
    EXPECT_EQ(scan_next_update(Bytes(full.begin(), full.begin() + at + 4 + keep)), 0) << keep;
  // All 15 octets and nothing after them is enough.
  EXPECT_EQ(scan_next_update(Bytes(full.begin(), full.begin() + at + 4 + 15)), k20300101T120000Z);
  EXPECT_EQ(scan_next_update(Bytes{}), 0);
}

TEST(OcspNextUpdate, GarbageHasNone) {
  EXPECT_EQ(scan_next_update(text("-----BEGIN OCSP RESPONSE-----\nMIIB...\n")), 0);
  // The right tag, then octets that are not a time, or a time not in UTC.
  const Bytes tag = {0xa0, 0x11, 0x18, 0x0f};
  EXPECT_EQ(scan_next_update(cat({tag, text("notatimeatall!Z")})), 0);
  EXPECT_EQ(scan_next_update(cat({tag, text("20300101120000+")})), 0);
  EXPECT_EQ(scan_next_update(cat({tag, text("20301301120000Z")})), 0);  // month 13
  Bytes noise(4096);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 7919 + 13);
  EXPECT_EQ(scan_next_update(noise), 0);
}

}  // namespace
}  // namespace sluice::tls
