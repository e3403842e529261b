// dkim_key_record_fuzz.cpp — libFuzzer target for the DKIM key record
// parser (filters/dkim_key_record). Properties: a record or an error, never
// both; v=, when present, was first and "DKIM1"; a parsed record allows at
// least one hash; parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filters/dkim_key_record.hpp"
#include "filters/dkim_tag_list.hpp"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::filters;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_dkim_key_record(in);
  check(parsed.record.has_value() == parsed.error.empty());
  if (parsed.record) {
    check(parsed.record->allows_sha1 || parsed.record->allows_sha256);
    const auto tags = parse_tag_list(in);
    check(tags.list.has_value());
    if (auto v = tags.list->find("v")) check(*v == "DKIM1" && tags.list->tags.front().name == "v");
  }
  const auto again = parse_dkim_key_record(in);
  check(again.error == parsed.error);
  return 0;
}
