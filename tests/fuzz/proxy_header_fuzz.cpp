// proxy_header_fuzz.cpp — libFuzzer target for parse_proxy_header().
//
// Beyond "no crash, no leak, no UB" (ASan/UBSan), it checks the contract the
// session relies on, and traps when it breaks:
//  - done: 0 < consumed <= input, within the v1/v2 bounds, and parsing just
//    the header bytes gives the same result (never reads past the header);
//  - every strict prefix of a done header is need_more (incremental reads);
//  - need_more: the input is still shorter than the largest header of its version;
//  - error: carries a reason.
// An input starting with '~' takes its v2 length limit from the next byte, so
// the limit path is reached without 4 KiB inputs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/proxy_header.hpp"

namespace {

using sluice::protocol::ProxyParseResult;
using sluice::protocol::ProxyParseStatus;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_result(std::string_view in, std::size_t limit, const ProxyParseResult& r) {
  using namespace sluice::protocol;
  switch (r.status) {
    case ProxyParseStatus::done: {
      check(r.consumed > 0 && r.consumed <= in.size());
      check(r.error.empty());
      const bool v1 = r.header.version == 1;
      check(v1 || r.header.version == 2);
      check(r.consumed <= (v1 ? kProxyV1MaxLength : kProxyV2FixedLength + limit));
      check(!r.header.local || r.header.src_addr.empty());
      const ProxyParseResult again = parse_proxy_header(in.substr(0, r.consumed), limit);
      check(again.status == ProxyParseStatus::done && again.consumed == r.consumed);
      check(again.header.src_addr == r.header.src_addr && again.header.src_port == r.header.src_port);
      check(again.header.tlvs.size() == r.header.tlvs.size());
      break;
    }
    case ProxyParseStatus::need_more:
      check(r.consumed == 0);
      check(in.size() < (!in.empty() && in[0] == 'P' ? kProxyV1MaxLength
                                                     : kProxyV2FixedLength + limit));
      break;
    case ProxyParseStatus::error:
      check(!r.error.empty());
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::protocol;
  std::size_t limit = kProxyV2DefaultMaxLength;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // '~' is never a header's first byte: strip it and the limit byte.
  if (size >= 2 && data[0] == '~') {
    limit = data[1];
    in.remove_prefix(2);
  }
  const ProxyParseResult r = parse_proxy_header(in, limit);
  check_result(in, limit, r);
  if (r.status == ProxyParseStatus::done && r.consumed <= 600) {
    // Quadratic, so only for headers of realistic size (PP 2: one segment).
    for (std::size_t n = 0; n < r.consumed; ++n)
      check(parse_proxy_header(in.substr(0, n), limit).status == ProxyParseStatus::need_more);
  }
  return 0;
}
