#include "tls/client_hello.hpp"

namespace sluice::tls {

namespace {
constexpr std::uint16_t kStatusRequest = 5, kSessionTicket = 35, kPreSharedKey = 41, kPskModes = 45;

struct Reader {
  std::span<const std::uint8_t> s;
  std::size_t at = 0;
  bool ok = true;
  std::size_t u(std::size_t n) {
    if (!ok || s.size() - at < n) {
      ok = false;
      return 0;
    }
    std::size_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | s[at++];
    return v;
  }
  void skip(std::size_t n) {
    if (!ok || s.size() - at < n) ok = false;
    else at += n;
  }
};
}  // namespace

ClientHelloFacts scan_client_hello(std::span<const std::uint8_t> msg) {
  // RFC 8446 4.1.2 (the same layout as RFC 5246 7.4.1.2).
  if (msg.size() >= 4 && msg[0] == 1 && ((std::size_t{msg[1]} << 16) | (msg[2] << 8) | msg[3]) == msg.size() - 4)
    msg = msg.subspan(4);
  Reader r{msg};
  r.skip(2 + 32);     // legacy_version, random
  r.skip(r.u(1));     // legacy_session_id
  r.skip(r.u(2));     // cipher_suites
  r.skip(r.u(1));     // legacy_compression_methods
  ClientHelloFacts f;
  if (!r.ok) return f;
  if (r.at == msg.size()) {  // no extensions at all
    f.parsed = true;
    return f;
  }
  const std::size_t end = r.u(2) + r.at;
  if (!r.ok || end > msg.size()) return {};
  while (r.ok && r.at < end) {
    const std::size_t type = r.u(2), len = r.u(2);
    if (!r.ok || r.at + len > end) return {};
    if (type == kSessionTicket) {
      f.asks_ticket = true;
      if (len > 0) f.offers_ticket = true;
    } else if (type == kPskModes) {
      f.asks_ticket = true;
    } else if (type == kPreSharedKey) {
      f.offers_ticket = true;
    } else if (type == kStatusRequest) {
      f.asks_ocsp = true;
    }
    r.skip(len);
  }
  f.parsed = r.ok;
  return f;
}

}  // namespace sluice::tls
