// data_decoder.hpp — streaming, sans-I/O decoder for the SMTP DATA phase.
//
// Bytes in, message bytes out: after the 354 reply the session hands every
// received chunk to feed(), which appends the message (dot-unstuffed, RFC 5321
// 4.5.2) to a string and reports how much input it used and whether the end
// of data (RFC 5321 4.1.1.4) was seen. Bytes after the end marker are left
// unconsumed: with PIPELINING they are the next commands.
//
// Contract and limits
// - Chunk boundaries never change the result: any split of the input gives
//   the same output, flags and end position as one feed. Across calls the
//   decoder holds at most two undecided bytes (a line-start "." and a CR),
//   encoded in its state, never a buffer; memory does not grow with the
//   message or the line length.
// - Output is at most the input size (reject mode) or twice it (normalize
//   mode, a bare CR or LF becomes CRLF). message_bytes() counts it, so the
//   session can apply the message size limit (552 5.3.4) while streaming.
// - Lines longer than max_line_length (including CRLF, not counting a
//   stuffed dot, RFC 5321 4.5.3.1.6) are flagged and still decoded, so the
//   dialogue stays in sync; the session decides what to reply.
// - NUL bytes are flagged (saw_nul) and passed through.
//
// Security: SMTP smuggling (SEC Consult, December 2023; the Postfix
// smtpd_forbid_bare_newline and Exim 4.97.1 fixes). Servers that disagree on
// where DATA ends let a sender hide a second message, with a forged envelope,
// inside the first. Here ONLY the exact bytes CR LF "." CR LF end the data;
// the CR LF before the dot may be the one that ended the DATA command, so
// ".\r\n" as the very first line ends an empty message. "\n.\n", "\n.\r\n",
// "\r.\r", "\r\n.\n", "\r.\r\n" and every other mix of bare CR or LF around
// a dot are message content, in both modes.
// - BareLineEnding::reject: a CR not followed by LF, or an LF not preceded by
//   CR, sets saw_bare_cr / saw_bare_lf and is passed through unchanged;
//   decoding goes on to the real end marker so the session can reply
//   550 5.5.2 there and stay in step with the client. The content of such a
//   message is meant to be dropped.
// - BareLineEnding::normalize: each bare CR or bare LF is written as CRLF,
//   so the output never contains a bare line ending. A line that began after
//   a bare line ending did not begin after a real CRLF, so a "." at its
//   start is neither an end marker nor dot-stuffing: it is kept as is
//   ("\n.\n" becomes "\r\n.\r\n"), and whoever relays the message dot-stuffs
//   it again (RFC 5321 4.5.2) — the next hop can never read it as the end.
// - Dot-unstuffing follows the wire grammar, where a bare CR or LF is not a
//   line ending: a line that began after a real CRLF and starts with "."
//   loses that dot unless the line is exactly "." CRLF, whatever follows the
//   dot. So "\r\n.\n" decodes to "\r\n" plus the normalised "\r\n" (an empty
//   line), never to an end of data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::protocol {

enum class BareLineEnding { reject, normalize };

class DataDecoder {
 public:
  // max_line_length counts the CRLF, e.g. 1000 (RFC 5321 4.5.3.1.6).
  DataDecoder(BareLineEnding mode, std::size_t max_line_length);

  struct Step {
    std::size_t consumed = 0;  // input bytes used; bytes after the end marker are not
    bool finished = false;     // saw CR LF "." CR LF
  };

  // Decodes as much of `in` as possible, appending message bytes
  // (dot-unstuffed, CRLF line endings, end marker removed) to `out`. Call
  // again with the next input until finished; once finished, further calls
  // consume nothing until reset(). Unless finished, all of `in` is consumed.
  Step feed(std::string_view in, std::string& out);

  bool finished() const { return state_ == State::done; }
  bool saw_bare_cr() const { return saw_bare_cr_; }
  bool saw_bare_lf() const { return saw_bare_lf_; }
  bool saw_bare_line_ending() const { return saw_bare_cr_ || saw_bare_lf_; }
  bool saw_overlong_line() const { return saw_overlong_; }
  // Longest line so far including its line ending (counted as two bytes,
  // whatever the client sent); a line still in progress counts as if it
  // ended here. The end marker is not a line of the message.
  std::size_t longest_line() const;
  bool saw_nul() const { return saw_nul_; }
  std::uint64_t message_bytes() const { return message_bytes_; }
  BareLineEnding mode() const { return mode_; }
  std::size_t max_line_length() const { return max_line_length_; }

  // Ready for the next message (same mode and limit); clears every flag.
  void reset();

 private:
  enum class State : std::uint8_t {
    line_start,  // after a real CRLF, or the start of data: "." is special here
    dot,         // line_start then "." (held, not yet written)
    dot_cr,      // line_start then "." CR (both held): one LF from the end
    in_line,     // inside a line, or at the start of one after a bare ending
    in_line_cr,  // in_line then CR (held): CRLF or a bare CR
    done,        // end marker seen
  };

  void end_line();
  void note_line_bytes(std::size_t n);
  void note_bare(char c);

  BareLineEnding mode_;
  std::size_t max_line_length_;
  State state_ = State::line_start;
  std::size_t line_length_ = 0;  // decoded bytes of the current line, no ending
  std::size_t longest_line_ = 0;
  std::uint64_t message_bytes_ = 0;
  bool saw_bare_cr_ = false;
  bool saw_bare_lf_ = false;
  bool saw_overlong_ = false;
  bool saw_nul_ = false;
};

}  // namespace sluice::protocol
