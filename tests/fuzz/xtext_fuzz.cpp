// xtext_fuzz.cpp — libFuzzer target for protocol/xtext.
//
// Checks properties, not just crashes: encode always yields valid xtext made
// of '!'..'~' without '=', decode inverts encode exactly, decode never
// grows its input, and whatever decodes re-encodes to something that decodes
// to the same bytes. Any violation aborts so the fuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/xtext.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::protocol;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const std::string enc = xtext_encode(in);
  check(enc.size() >= in.size() && enc.size() <= 3 * in.size());
  for (unsigned char c : enc) check(c >= 33 && c <= 126 && c != '=');
  const auto back = xtext_decode(enc);
  check(back.has_value() && *back == in);

  if (const auto dec = xtext_decode(in)) {
    check(dec->size() <= in.size());
    const auto again = xtext_decode(xtext_encode(*dec));
    check(again.has_value() && *again == *dec);
  }
  return 0;
}
