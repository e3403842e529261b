// exim_converter_fuzz.cpp — libFuzzer target for storage/exim_message_converter
// (a stored message → Exim's header records and LF body, for the queuefile
// export).
//
// Properties: the output does not depend on how the input is cut into
// chunks (one feed versus two at a point the input chooses, as the spool's
// 64 KiB reads would cut it); the body sink receives exactly body_bytes
// bytes, and body_lines is the number of LFs in them; header records never
// exceed the configured bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/exim_message_converter.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Output {
  std::string records, body;
  sluice::storage::EximMessageCounts counts;
  bool failed = false;
};

Output convert(std::string_view in, std::size_t cut) {
  Output out;
  sluice::storage::EximMessageConverter conv(
      [&](std::string_view chunk) {
        out.body.append(chunk);
        return std::error_code{};
      },
      4096);
  std::error_code ec = conv.feed(in.substr(0, cut));
  if (!ec) ec = conv.feed(in.substr(cut));
  if (!ec) ec = conv.finish();
  out.failed = static_cast<bool>(ec);
  out.records = conv.header_records();
  out.counts = conv.counts();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t cut_seed = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = in.empty() ? 0 : cut_seed % (in.size() + 1);
  const Output whole = convert(in, in.size());
  const Output split = convert(in, cut);
  check(whole.failed == split.failed);
  if (whole.failed) return 0;
  check(whole.records == split.records);
  check(whole.body == split.body);
  check(whole.body.size() == whole.counts.body_bytes);
  std::uint64_t lfs = 0;
  for (char c : whole.body) lfs += c == '\n';
  check(lfs == whole.counts.body_lines);
  check(whole.counts.header_bytes <= 4096);
  return 0;
}
