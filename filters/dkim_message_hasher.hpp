// dkim_message_hasher.hpp — the synchronous, CPU-bound half of DKIM
// verification: fed the message bytes as they stream in, it finds the
// DKIM-Signature fields, hashes the signed header data of each once the
// header block is complete, and then hashes the body as it arrives — one
// canonicalizer per canonicalization in use, each feeding every body hash
// that needs it, each hash stopping at its own l=. Nothing is looked up
// and no signature is checked here (filters/dkim_verifier.hpp does that).
//
// Limits: the header block is buffered up to `max_header_bytes` (beyond
// that no signature is checked: one permerror result); at most
// `max_signatures` fields are hashed, the rest are reported not checked.
// Identical body hashes (same canonicalization, hash and l=) are computed
// once. The body itself is never kept.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/dkim_canonicalization.hpp"
#include "filters/dkim_header_splitter.hpp"
#include "filters/dkim_signature.hpp"

namespace sluice::filters {

struct DkimLimits {
  std::size_t max_signatures = 5;
  std::size_t max_header_bytes = 256 * 1024;
};

// One DKIM-Signature field, as far as hashing can take it.
struct DkimHashedSignature {
  std::optional<DkimSignature> signature;  // nullopt: syntax error
  std::string error;                       // why it did not parse
  bool checked = true;                     // false beyond max_signatures
  std::string header_hash;                 // hash of the signed header data
  std::string body_hash;                   // computed body hash (after finish_body)
  std::uint64_t body_bytes = 0;            // canonical body bytes hashed (≤ l=)
};

class DkimMessageHasher {
 public:
  explicit DkimMessageHasher(DkimLimits limits = {});
  ~DkimMessageHasher();
  DkimMessageHasher(const DkimMessageHasher&) = delete;
  DkimMessageHasher& operator=(const DkimMessageHasher&) = delete;

  // Message bytes (header, empty line, body; CRLF line ends), split anywhere.
  void feed(std::string_view bytes);
  // The end of the message; after this, signatures() is final.
  void finish();

  bool header_too_large() const { return splitter_.too_large(); }
  const std::vector<DkimHashedSignature>& signatures() const { return signatures_; }

 private:
  struct BodyHash;
  class CanonFanOut;

  void end_of_header(std::string_view block);
  void add_signature(const std::vector<HeaderField>& fields, const HeaderField& field);
  void feed_body(std::string_view bytes);

  DkimLimits limits_;
  HeaderSplitter splitter_;
  bool finished_ = false;
  std::vector<DkimHashedSignature> signatures_;
  std::vector<std::unique_ptr<BodyHash>> body_hashes_;
  std::vector<std::size_t> body_hash_of_;  // signature index → body_hashes_ index
  std::unique_ptr<CanonFanOut> simple_;
  std::unique_ptr<CanonFanOut> relaxed_;
};

}  // namespace sluice::filters
