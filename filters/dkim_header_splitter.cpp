// dkim_header_splitter.cpp — the empty line between header and body (RFC 5322 2.1).
#include "filters/dkim_header_splitter.hpp"

#include <algorithm>

namespace sluice::filters {

HeaderSplitter::Body HeaderSplitter::feed(std::string_view piece) {
  Body out;
  if (too_large_) return out;
  if (done_) {
    out.body_from_piece = piece;
    return out;
  }
  // Search again from three bytes before the old end: "\r\n\r\n" may
  // straddle the pieces.
  const std::size_t from = header_.size() >= 3 ? header_.size() - 3 : 0;
  const std::size_t take = std::min(max_ + 4 - header_.size(), piece.size());
  header_.append(piece.substr(0, take));
  std::size_t split = std::string::npos;
  std::size_t body_at = 0;
  if (header_.starts_with("\r\n")) {  // no header fields at all
    split = 0;
    body_at = 2;
  } else if (const std::size_t p = header_.find("\r\n\r\n", from); p != std::string::npos) {
    split = p + 2;  // the block keeps its last field's CRLF
    body_at = p + 4;
  }
  if (split == std::string::npos || split > max_) {
    if (header_.size() > max_ || split != std::string::npos) {
      too_large_ = true;
      release_header();
    }
    return out;
  }
  done_ = true;
  out.body_from_buffer = header_.substr(body_at);
  header_.resize(split);
  out.body_from_piece = piece.substr(take);
  return out;
}

void HeaderSplitter::finish() {
  if (done_ || too_large_) return;
  done_ = true;
  if (!header_.empty() && !header_.ends_with("\r\n")) header_ += "\r\n";
}

}  // namespace sluice::filters
