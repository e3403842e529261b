// exim_message_converter.hpp — splits a stored message (CRLF line ends, as
// received) into what Exim keeps in its two spool files: typed header records
// for the -H file and the body with LF line ends for the -D file.
//
// Sans-I/O: bytes in through feed(), body bytes out through the sink given
// at construction (in pieces of up to 64 KiB), header records kept in memory.
// Header records are bounded by `max_header_bytes` (default 1 MiB, Exim's own
// header_maxsize default: an Exim could not have received more either);
// beyond it feed() fails with std::errc::message_size. The body is never held.
//
// Rules (../shared/specs/exim-spool-format.md sections 2 and 3.5):
//  - the header block ends at the first empty line, which is stored nowhere;
//    a line that is neither a header field ("Name:") nor a continuation
//    (leading SP/HT) also ends it and is the first line of the body, as when
//    Exim receives such a message;
//  - CRLF becomes LF everywhere; a bare CR is kept as it is;
//  - a non-empty body that does not end in a line end gets one (Exim ends
//    every spooled body with LF), and that line is counted.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/message_source.hpp"

namespace sluice::storage {

// The one-character type Exim gives a header field in -H: P Received,
// F From, T To, C Cc, B Bcc, I Message-ID, R Reply-To, S Sender, space for
// the rest. Matched on the field name, case-insensitively.
char exim_header_type(std::string_view field);

// Appends "<len><type> <text>" with len = bytes of text (LFs included),
// printed with at least three digits, as Exim does.
void append_exim_header_record(std::string& out, char type, std::string_view text);

struct EximMessageCounts {
  std::uint64_t header_bytes = 0;        // sum of record text lengths
  std::uint64_t body_bytes = 0;          // bytes written to the body sink
  std::uint64_t body_lines = 0;          // LFs in the body: -body_linecount
  std::uint64_t body_zeros = 0;          // NULs in the body: -body_zerocount
  std::uint64_t max_line_length = 0;     // longest line, without its line end
};

class EximMessageConverter {
 public:
  explicit EximMessageConverter(ChunkSink body_out, std::size_t max_header_bytes = 1024 * 1024);

  std::error_code feed(std::string_view chunk);
  std::error_code finish();  // flushes the body; call once, after the last feed

  const std::string& header_records() const { return records_; }
  const EximMessageCounts& counts() const { return counts_; }

 private:
  std::error_code header_line(std::string_view line);  // line without CR LF
  std::error_code end_field();
  std::error_code body_bytes(std::string_view bytes);
  std::error_code put_body(char c);
  std::error_code flush_body();
  void note_line_length(std::uint64_t n);

  ChunkSink body_out_;
  std::size_t max_header_bytes_;
  bool in_headers_ = true;
  std::string line_;       // header phase: the line being assembled
  std::string field_;      // header phase: the field being assembled, LF line ends
  std::string records_;
  std::string body_buffer_;
  bool pending_cr_ = false;   // body phase: a CR whose successor is not seen yet
  char last_body_char_ = '\n';
  std::uint64_t body_line_length_ = 0;
  EximMessageCounts counts_;
};

}  // namespace sluice::storage
