// queue_record_fuzz.cpp — libFuzzer target for storage/queue_record (the
// JSON the queue keeps per message; `sluice queue` and the runner parse it).
//
// Properties: parsing never throws or crashes; whatever parses re-serialises
// to JSON that parses to the same record (to_json is a fixed point after one
// round), and peek_state (the scrape-time shortcut) agrees with the parser
// on what to_json wrote.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/queue_record.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::storage;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto rec = queue_record_from_json(in);
  if (!rec) return 0;
  const std::string once = to_json(*rec);
  const auto again = queue_record_from_json(once);
  check(again.has_value());
  check(to_json(*again) == once);
  const auto peeked = peek_state(once);
  check(peeked.has_value() && *peeked == rec->state);
  return 0;
}
