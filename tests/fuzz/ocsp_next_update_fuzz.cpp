// ocsp_next_update_fuzz.cpp — libFuzzer target for tls::scan_next_update()
// (tls/ocsp_next_update.hpp), which reads the OCSP response file an operator
// or a cron job supplies, when wolfSSL has refused it. Beyond "no crash, no
// out-of-bounds read" (ASan), it checks the scan's promise: a time is only
// ever found at the first nextUpdate tag, from the 15 octets after it and
// nothing else, and those end in 'Z'.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "tls/ocsp_next_update.hpp"

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
constexpr std::uint8_t kTag[] = {0xA0, 0x11, 0x18, 0x0F};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> der(data, size);
  const std::time_t t = sluice::tls::scan_next_update(der);
  if (t == 0) return 0;  // none (or exactly the epoch, which no response has)
  const auto at = std::search(der.begin(), der.end(), std::begin(kTag), std::end(kTag));
  check(at != der.end() && der.end() - at >= 4 + 15);
  check(at[4 + 14] == 'Z');
  // The same 19 octets alone give the same time: nothing before or after counts.
  check(sluice::tls::scan_next_update(std::span<const std::uint8_t>(at, at + 4 + 15)) == t);
  return 0;
}
