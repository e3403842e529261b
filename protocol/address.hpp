// address.hpp — the path argument of MAIL FROM and RCPT TO, parsed sans I/O.
//
// parse_path() takes what follows "MAIL FROM:" or "RCPT TO:" and returns the
// mailbox, the routing tricks it noticed, and a view of the ESMTP parameters
// after the path (parse those with mail_params.hpp). Pure, linear, never
// throws; `params` is a view into the caller's buffer.
//
// Grammar: RFC 5321 4.1.2 (Path, Mailbox, Dot-string, Quoted-string, Domain,
// address literals 4.1.3), extended by RFC 6531 3.3 (UTF-8 in atext, qtext
// and U-labels) only when the caller says UTF-8 is allowed.
// Tolerated: spaces before "<" and trailing spaces after ">" (common clients).
// Not accepted: spaces inside "<>", a bare address without "<>", general
// address literals ("[tag:...]"), a trailing dot in a domain.
//
// Limits (RFC 5321 4.5.3.1.1-3), in octets as written, quotes and "<>"
// included: local part 64, domain 255, whole path 256; ASCII labels 63
// (RFC 1035 2.3.4).
//
// Replies (RFC 3463 codes; texts are ours, input is never echoed):
//   501 5.5.4  the argument is not "<path>": empty, no "<", text glued to
//              ">", or a control octet (0x00-0x1F, 0x7F) anywhere in it.
//   501 5.1.7  MAIL: anything wrong inside "<>" (syntax, length, malformed
//              UTF-8, C1 controls, bad address literal, missing domain).
//   501 5.1.3  RCPT: the same, plus "<>" (the null path is MAIL only).
//   550 5.6.7  MAIL: well-formed non-ASCII address but UTF-8 not allowed;
//   553 5.6.7  RCPT: the same (RFC 6531 3.5 picks 550 for MAIL, 553 for
//              RCPT, and X.6.7 for both).
// Syntax errors take precedence over 550/553 5.6.7.
//
// Security: open-relay tricks are parsed and flagged in PathFlags, never
// rejected here; relay control decides. The percent/bang/at flags look at the
// local part's content whether quoted or not, because a later hop may strip
// the quotes and route on it. A source route is dropped from the mailbox
// (RFC 5321 3.3 and Appendix C: servers SHOULD ignore it). Domains have ASCII
// letters lower-cased; U-labels are kept as given (no IDNA mapping or NFC), so
// never compare them with A-labels without converting first.
#pragma once
#include <string>
#include <string_view>

#include "protocol/reply.hpp"

namespace sluice::protocol {

struct Mailbox {
  std::string local_part;  // as written, quotes kept when quoted
  std::string domain;      // ASCII lower-cased, U-labels as given; literals as "[1.2.3.4]"
  bool quoted_local = false;
  bool needs_smtputf8 = false;  // non-ASCII in local part or domain
  // "local@domain"; just the local part for RCPT's bare "<Postmaster>".
  std::string str() const;
  bool operator==(const Mailbox&) const = default;
};

// Trouble that relay control must refuse (open-relay tricks).
struct PathFlags {
  bool source_route = false;  // "<@a,@b:user@c>"
  bool percent_hack = false;  // '%' in the local part: "user%other@ours"
  bool bang_path = false;     // '!' in the local part: "other!user@ours"
  bool quoted_at = false;     // '@' inside a quoted local part: "\"u@other\"@ours"
  bool any() const { return source_route || percent_hack || bang_path || quoted_at; }
  bool operator==(const PathFlags&) const = default;
};

struct PathParse {
  bool ok = false;
  Reply error;              // set when !ok (see the table above)
  bool null_path = false;   // "<>", MAIL only
  Mailbox mailbox;          // empty for the null path
  PathFlags flags;
  std::string_view params;  // after ">" and its spaces; view into the input
};

enum class PathKind { reverse /*MAIL*/, forward /*RCPT*/ };

// `arg`: the text after "MAIL FROM:" / "RCPT TO:". `utf8_allowed`: true when
// MAIL carried SMTPUTF8 (RFC 6531 3.4) or the session otherwise permits it.
PathParse parse_path(std::string_view arg, PathKind kind, bool utf8_allowed);

inline constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 4.5.3.1.1
inline constexpr std::size_t kMaxDomain = 255;    // RFC 5321 4.5.3.1.2
inline constexpr std::size_t kMaxPath = 256;      // RFC 5321 4.5.3.1.3
inline constexpr std::size_t kMaxLabel = 63;      // RFC 1035 2.3.4

}  // namespace sluice::protocol
