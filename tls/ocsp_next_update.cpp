#include "tls/ocsp_next_update.hpp"

#include <algorithm>
#include <iterator>
#include <string>

namespace sluice::tls {

std::time_t scan_next_update(std::span<const unsigned char> der) {
  // RFC 6960 4.2.1: nextUpdate [0] EXPLICIT GeneralizedTime, which RFC 5280
  // 4.1.2.5.2 fixes at 15 octets "YYYYMMDDHHMMSSZ": A0 11 18 0F ...
  static constexpr unsigned char kTag[] = {0xA0, 0x11, 0x18, 0x0F};
  auto it = std::search(der.begin(), der.end(), std::begin(kTag), std::end(kTag));
  if (it == der.end() || der.end() - it < 4 + 15) return 0;
  const std::string t(it + 4, it + 4 + 15);
  struct tm tm {};
  if (t[14] != 'Z' || !strptime(t.c_str(), "%Y%m%d%H%M%SZ", &tm)) return 0;
  return timegm(&tm);
}

}  // namespace sluice::tls
