// dkim_header_splitter.hpp — finds the end of the header block in a message
// that arrives in pieces (the empty line may straddle two pieces), keeping
// the header block (bounded) and handing back the body bytes as they come.
// Shared by the verifier's hasher and the signer.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::filters {

class HeaderSplitter {
 public:
  explicit HeaderSplitter(std::size_t max_header_bytes) : max_(max_header_bytes) {}

  // Body bytes found in one fed piece: those that had been held in the
  // header buffer, then those of the piece itself. Either may be empty.
  struct Body {
    std::string body_from_buffer;
    std::string_view body_from_piece;
  };

  // Feeds a piece. Before the header is complete this returns nothing; the
  // call that completes it (header_done() turns true) returns the first
  // body bytes; later calls return the piece as body.
  Body feed(std::string_view piece);
  // At the end of the message: a message without the empty line is all
  // header (a CRLF is added to its last field when missing).
  void finish();

  bool header_done() const { return done_; }
  bool too_large() const { return too_large_; }
  // The header block, up to and including its last field's CRLF.
  std::string_view header_block() const { return header_; }
  void release_header() { header_.clear(); header_.shrink_to_fit(); }

 private:
  std::size_t max_;
  std::string header_;
  bool done_ = false;
  bool too_large_ = false;
};

}  // namespace sluice::filters
