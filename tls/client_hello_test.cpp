#include "tls/client_hello.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::tls {
namespace {

// A minimal ClientHello body with the given extensions (type, data).
std::vector<std::uint8_t> hello(std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> exts,
                                bool with_header) {
  std::vector<std::uint8_t> b = {3, 3};
  b.insert(b.end(), 32, 0xaa);           // random
  b.push_back(0);                        // session id
  b.insert(b.end(), {0, 2, 0x13, 0x01}); // one cipher suite
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

}  // namespace
}  // namespace sluice::tls
