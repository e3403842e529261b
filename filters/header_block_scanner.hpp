// header_block_scanner.hpp — the message's header block, read as it streams
// by on its way to the spool.
//
// Two jobs, both needing only the header block:
//  - RFC 8601 5: an incoming Authentication-Results field that claims our
//    authserv-id is a forgery (or a loop) and is removed before the message
//    is stored, so the one we add is the only one with our name on it;
//  - the From field(s), kept for DMARC (RFC 7489 3.1: the author domain).
// Everything else passes through unchanged, byte for byte. After the empty
// line that ends the header block, input is copied straight through.
//
// Memory: a field is held until the next one starts (we cannot know before
// whether it is one to remove); a field over kMaxHeldField is written out
// as it is and no longer examined, except that a From field is still counted
// (its value then reads as malformed). From values are kept up to kMaxFromKept.
// Input may be split anywhere; lines end in LF, with or without CR.
// Threads: one scanner per message, on its session's worker.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters {

// RFC 5322 3.6.2 and RFC 7489 6.6.1: what the From field(s) say about the author.
struct FromHeaderFacts {
  enum class State {
    ok,                 // one From field with one mailbox: `address`, `domain`
    none,               // no From field
    several_fields,     // more than one From field
    several_addresses,  // one field listing several mailboxes (or a group)
    malformed,          // no usable addr-spec, or a domain that is not a name
  };
  State state = State::none;
  std::string address;  // local@domain as written (comments and display name removed)
  std::string domain;   // lower case, no trailing dot
};

std::string_view to_string(FromHeaderFacts::State s);

// The From facts for the raw (unfolded) values of the From fields found.
FromHeaderFacts from_header_facts(const std::vector<std::string>& from_values);

class HeaderBlockScanner {
 public:
  static constexpr std::size_t kMaxHeldField = 64 * 1024;
  static constexpr std::size_t kMaxFromKept = 8;

  // `authserv_id`: ours; A-R fields naming it (case-insensitively) are removed.
  explicit HeaderBlockScanner(std::string authserv_id);

  // Appends to `out` the bytes to store for `in`.
  void feed(std::string_view in, std::string& out);
  // End of the message: writes out whatever is still held.
  void finish(std::string& out);

  bool header_block_ended() const { return in_body_; }
  unsigned removed_authentication_results() const { return removed_; }
  // Raw From values (after "From:"), line breaks of folding removed.
  const std::vector<std::string>& from_values() const { return from_values_; }
  FromHeaderFacts from_header() const { return from_header_facts(from_values_); }
  // The header block as stored (forged A-R removed), up to kMaxHeaderCopy
  // bytes of whole fields: what a DMARC failure report quotes.
  static constexpr std::size_t kMaxHeaderCopy = 64 * 1024;
  const std::string& header_copy() const { return header_copy_; }

 private:
  void line(std::string_view l, std::string& out);  // one complete line, with its LF
  void end_field(std::string& out);
  void pass_field_through(std::string& out);  // field_ grew too long: out, unexamined
  void note_unexamined_field(std::string_view start);
  bool is_our_authentication_results(std::string_view field) const;

  std::string authserv_id_;
  bool in_body_ = false;
  std::string field_;             // the field being read (all its lines)
  bool field_passthrough_ = false;  // the current field was too long: pass its lines on
  std::string partial_;           // an unfinished line
  bool line_passthrough_ = false;   // the current line was too long: copy until its LF
  unsigned removed_ = 0;
  std::vector<std::string> from_values_;
  unsigned from_fields_ = 0;      // counted even beyond kMaxFromKept
  std::string header_copy_;
};

}  // namespace sluice::filters
