#include "tls/client_hello.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::tls {
namespace {

// A minimal ClientHello body with the given extensions (type, data).
std::vector<std::uint8_t> hello(std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> exts,
                                bool with_header, std::vector<std::uint8_t> suites = {0x13, 0x01}) {
  std::vector<std::uint8_t> b = {3, 3};
  b.insert(b.end(), 32, 0xaa);           // random
  b.push_back(0);                        // session id
  b.insert(b.end(), {0, std::uint8_t(suites.size())});  // cipher suites
  b.insert(b.end(), suites.begin(), suites.end());
  b.insert(b.end(), {1, 0});             // compression: null
  std::vector<std::uint8_t> e;
  for (auto& [type, data] : exts) {
    e.insert(e.end(), {std::uint8_t(type >> 8), std::uint8_t(type), std::uint8_t(data.size() >> 8),
                       std::uint8_t(data.size())});
    e.insert(e.end(), data.begin(), data.end());
  }
  b.insert(b.end(), {std::uint8_t(e.size() >> 8), std::uint8_t(e.size())});
  b.insert(b.end(), e.begin(), e.end());
  if (!with_header) return b;
  std::vector<std::uint8_t> m = {1, 0, std::uint8_t(b.size() >> 8), std::uint8_t(b.size())};
  m.insert(m.end(), b.begin(), b.end());
  return m;
}

TEST(ClientHello, EmptySessionTicketAsksForOne) {
  auto f = scan_client_hello(hello({{35, {}}}, true));
  EXPECT_TRUE(f.parsed && f.asks_ticket && !f.offers_ticket);
}

TEST(ClientHello, TicketAndPskAreOffers) {
  EXPECT_TRUE(scan_client_hello(hello({{35, {1, 2, 3}}}, false)).offers_ticket);
  auto f = scan_client_hello(hello({{45, {1, 1}}, {41, {0, 0}}, {5, {1, 0, 0, 0, 0}}}, true));
  EXPECT_TRUE(f.asks_ticket && f.offers_ticket && f.asks_ocsp);
}

TEST(ClientHello, NoExtensionsAndTruncation) {
  auto f = scan_client_hello(hello({}, true));
  EXPECT_TRUE(f.parsed && !f.asks_ticket);
  auto full = hello({{35, {1, 2, 3}}}, false);
  for (std::size_t n = 0; n + 1 < full.size(); ++n) {
    auto cut = scan_client_hello(std::span<const std::uint8_t>(full.data(), n));
    EXPECT_FALSE(cut.offers_ticket) << n;
  }
}

// A list extension's data: a 2-byte length, then 2-byte code points.
std::vector<std::uint8_t> list(std::vector<std::uint16_t> values) {
  std::vector<std::uint8_t> d = {0, std::uint8_t(values.size() * 2)};
  for (auto v : values) d.insert(d.end(), {std::uint8_t(v >> 8), std::uint8_t(v)});
  return d;
}

TEST(ClientHello, EcdsaNeedsASuiteASignatureAlgorithmAndACurve) {
  const auto ecdsa_sigs = list({0x0804, 0x0403}), rsa_sigs = list({0x0804, 0x0401});
  const auto p256 = list({29, 23}), x25519_only = list({29});
  // TLS 1.3 suite, ECDSA signature, P-256: yes.
  EXPECT_TRUE(scan_client_hello(hello({{13, ecdsa_sigs}, {10, p256}}, true)).takes_ecdsa);
  // RSA signatures only, or no NIST curve: no.
  EXPECT_FALSE(scan_client_hello(hello({{13, rsa_sigs}, {10, p256}}, true)).takes_ecdsa);
  EXPECT_FALSE(scan_client_hello(hello({{13, ecdsa_sigs}, {10, x25519_only}}, true)).takes_ecdsa);
  // TLS 1.2: ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 yes, ECDHE_RSA only no, even with ECDSA signatures.
  EXPECT_TRUE(scan_client_hello(hello({{13, ecdsa_sigs}}, false, {0xC0, 0x2B, 0xC0, 0x2F})).takes_ecdsa);
  EXPECT_FALSE(scan_client_hello(hello({{13, ecdsa_sigs}}, false, {0xC0, 0x2F})).takes_ecdsa);
  // No extensions: the suite decides (RFC 5246 7.4.1.4.1).
  EXPECT_TRUE(scan_client_hello(hello({}, false, {0xC0, 0x2B})).takes_ecdsa);
  EXPECT_FALSE(scan_client_hello(hello({}, false, {0x00, 0x9C})).takes_ecdsa);
  // A list whose length runs past its extension is malformed, not a yes.
  EXPECT_FALSE(scan_client_hello(hello({{13, {0, 8, 0x04, 0x03}}}, true)).takes_ecdsa);
}

}  // namespace
}  // namespace sluice::tls
