// dkim_canonicalization.hpp — RFC 6376 3.4: "simple" and "relaxed" for
// header fields and for the body. Sans-I/O.
//
// The body canonicalizer streams: it is fed the body in pieces of any size
// (a CRLF may be split across two pieces) and hands canonical bytes to a
// sink as it goes, holding back only what it cannot decide yet (a CR that
// may start a CRLF, a run of whitespace that may end a line, and a count of
// empty lines that may be the body's last). So its memory is a few words
// whatever the body size, and no copy of the body is ever kept.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/dkim_header_fields.hpp"
#include "filters/dkim_signature.hpp"

namespace sluice::filters {

// One header field canonicalized, with its CRLF (3.4.1, 3.4.2). The
// DKIM-Signature field being verified is hashed without that CRLF (3.7):
// the caller drops the last two bytes.
std::string canonical_header(const HeaderField& field, DkimCanon canon);
std::string canonical_header(std::string_view raw_field, DkimCanon canon);

class CanonicalSink {
 public:
  virtual ~CanonicalSink() = default;
  virtual void consume(std::string_view canonical_bytes) = 0;
};

class BodyCanonicalizer {
 public:
  BodyCanonicalizer(DkimCanon canon, CanonicalSink& sink) : canon_(canon), sink_(sink) {}

  void write(std::string_view body_piece);
  // The end of the body: settles what was held back (3.4.3, 3.4.4).
  void finish();

 private:
  void content(char c);  // a byte that is part of a line's text
  void end_of_line();
  void out(std::string_view bytes);
  void out(char c);
  void flush();

  DkimCanon canon_;
  CanonicalSink& sink_;
  bool pending_cr_ = false;   // a CR not yet known to start a CRLF
  bool pending_wsp_ = false;  // relaxed: a whitespace run inside a line
  bool at_line_start_ = true;
  bool any_output_ = false;
  std::uint64_t empty_lines_ = 0;  // held back: they may be the body's last
  char buffer_[4096];
  std::size_t used_ = 0;
};

}  // namespace sluice::filters
