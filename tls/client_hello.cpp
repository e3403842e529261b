#include "tls/client_hello.hpp"

namespace sluice::tls {

namespace {
constexpr std::uint16_t kStatusRequest = 5, kSessionTicket = 35, kPreSharedKey = 41, kPskModes = 45;
constexpr std::uint16_t kSupportedGroups = 10, kSignatureAlgorithms = 13;

// TLS 1.3 suites (0x13xx) say nothing of the certificate; these TLS 1.2 ones
// need an ECDSA one (RFC 8422 6, RFC 5289, RFC 7905, RFC 7251).
bool ecdsa_suite(std::size_t s) {
  if ((s >> 8) == 0x13) return true;
  switch (s) {
    case 0xC009: case 0xC00A: case 0xC023: case 0xC024: case 0xC02B: case 0xC02C: case 0xCCA9:
    case 0xC0AC: case 0xC0AD: case 0xC0AE: case 0xC0AF:
      return true;
  }
  return false;
}

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
  bool suite_ok = false;
  for (std::size_t n = r.u(2) / 2; r.ok && n > 0; --n) suite_ok |= ecdsa_suite(r.u(2));
  r.skip(r.u(1));     // legacy_compression_methods
  ClientHelloFacts f;
  if (!r.ok) return f;
  bool sigalg_ok = true, group_ok = true;  // absent lists allow it
  if (r.at == msg.size()) {  // no extensions at all
    f.parsed = true;
    f.takes_ecdsa = suite_ok;
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
    } else if (type == kSignatureAlgorithms || type == kSupportedGroups) {
      // A 2-byte length, then 2-byte code points.
      Reader list{msg.subspan(r.at, len)};
      bool found = false;
      for (std::size_t n = list.u(2) / 2; list.ok && n > 0; --n) {
        const std::size_t v = list.u(2);
        // ecdsa_secp256r1_sha256 .. secp521r1_sha512; secp256r1 .. secp521r1
        found |= type == kSignatureAlgorithms ? (v == 0x0403 || v == 0x0503 || v == 0x0603) : (v >= 23 && v <= 25);
      }
      (type == kSignatureAlgorithms ? sigalg_ok : group_ok) = found && list.ok;
    }
    r.skip(len);
  }
  f.parsed = r.ok;
  f.takes_ecdsa = f.parsed && suite_ok && sigalg_ok && group_ok;
  return f;
}

}  // namespace sluice::tls
