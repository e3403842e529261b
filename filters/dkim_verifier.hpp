// dkim_verifier.hpp — DKIM verification of one message (RFC 6376, RFC
// 8463): feed() the message bytes while DATA streams in (synchronous,
// CPU-bound hashing, never a second copy of the body), then co_await
// finish(resolver) for the key lookups and signature checks.
//
// One result per DKIM-Signature field, in header order (top first). The
// key of each distinct <s>._domainkey.<d> is asked for once, through the
// worker's Resolver (TXT); lookups run one after another — the filter
// chain puts its own deadline around finish(). A header block over the
// limit yields a single permerror result with no domain.
//
// Threads: one verifier per message, used on its session's worker only.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "filters/dkim_message_hasher.hpp"
#include "filters/dkim_result.hpp"
#include "filters/dkim_signature_check.hpp"
#include "filters/resolver.hpp"

namespace sluice::filters {

struct DkimVerifyOptions {
  DkimLimits limits;
  DkimCheckOptions checks;
  std::optional<std::uint64_t> now;  // Unix seconds for x=/t=; default: the clock at finish()
};

class DkimVerifier {
 public:
  explicit DkimVerifier(DkimVerifyOptions options = {});

  void feed(std::string_view message_bytes) { hasher_.feed(message_bytes); }
  // The caller keeps `resolver` alive until the coroutine completes.
  boost::asio::awaitable<std::vector<DkimResult>> finish(Resolver& resolver);

  const DkimMessageHasher& hasher() const { return hasher_; }

 private:
  DkimVerifyOptions options_;
  DkimMessageHasher hasher_;
};

}  // namespace sluice::filters
