// dkim_signer.hpp — makes a DKIM-Signature field (RFC 6376 5, RFC 8463):
// rsa-sha256 or ed25519-sha256, simple or relaxed. Fed the message as it
// streams, like the verifier (the body is hashed on the way, not kept); the
// header block is kept (bounded) until finish() signs it. ARC sealing will
// reuse it.
//
// The field's tags come in a fixed order (v a c d i q s t x l h bh b),
// joined by "; " and folded before 78 columns, h= names joined by
// `header_separator` (":" by default; RFC 8463's example uses " : "). So
// signing RFC 8463's message with its keys, t= and h= gives its b= exactly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/dkim_canonicalization.hpp"
#include "filters/dkim_crypto.hpp"
#include "filters/dkim_header_splitter.hpp"

namespace sluice::filters {

struct DkimSignRequest {
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  DkimCanon header_canon = DkimCanon::relaxed;
  DkimCanon body_canon = DkimCanon::relaxed;
  std::string domain;
  std::string selector;
  std::vector<std::string> headers = {"from", "to", "subject", "date", "message-id"};
  std::string header_separator = ":";
  std::optional<std::string> identity;     // i=
  bool with_query_method = false;          // q=dns/txt (optional; RFC 8463's example has it)
  std::optional<std::uint64_t> timestamp;  // t=
  std::optional<std::uint64_t> expiration; // x=
  std::optional<std::uint64_t> body_length;  // l=: sign only this many canonical body bytes
  std::size_t max_header_bytes = 1024 * 1024;
};

class DkimSigner {
 public:
  // The key must outlive the signer.
  DkimSigner(const DkimPrivateKey& key, DkimSignRequest request);
  void feed(std::string_view message_bytes);
  // "DKIM-Signature: ...\r\n", to put above the header; nullopt with
  // error() set when the key and algorithm disagree or the header was over
  // the limit.
  std::optional<std::string> finish();
  const std::string& error() const { return error_; }

 private:
  class BodySink final : public CanonicalSink {
   public:
    BodySink(DkimHash hash, std::optional<std::uint64_t> limit) : hasher(hash), limit(limit) {}
    void consume(std::string_view bytes) override;
    DkimHasher hasher;
    std::optional<std::uint64_t> limit;
    std::uint64_t hashed = 0;
  };

  std::string field_without_b(const std::string& body_hash_b64) const;

  const DkimPrivateKey& key_;
  DkimSignRequest request_;
  HeaderSplitter splitter_;
  BodySink body_sink_;
  BodyCanonicalizer body_;
  std::string error_;
};

}  // namespace sluice::filters
