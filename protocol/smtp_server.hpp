// smtp_server.hpp — the SMTP server state machine for one connection
// (RFC 5321), without I/O.
//
// The connection (server_connection.hpp) feeds it command lines and does what
// each Step says: write the reply, read message data, or close. Handlers for
// each verb family live in their own file (verb_hello.cpp, verb_mail.cpp,
// verb_rcpt.cpp, verb_data.cpp, verb_xclient.cpp, verb_misc.cpp); each checks
// sequence, limits, syntax and policy in that order and changes state only
// when it is about to answer 2xx/3xx.
// Replies are values; nothing here writes to a socket or throws on bad input.
// Security: relay control (verb_rcpt.cpp) and the XCLIENT permission
// (verb_xclient.cpp) are enforced here, from the effective client identity.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config.hpp"
#include "protocol/reply.hpp"
#include "protocol/session_state.hpp"

namespace sluice::protocol {

struct Command;

struct Step {
  enum class Next {
    reply,      // write `reply`, go on reading commands
    data,       // write the 354, then read DATA until CRLF.CRLF
    bdat,       // read `chunk_size` bytes, then reply (reply is filled in later)
    close,      // write `reply`, then close the connection
    starttls,   // write `reply` (220), drop pipelined input, then the TLS handshake (RFC 3207)
  };
  Reply reply;
  Next next = Next::reply;
  std::uint64_t chunk_size = 0;  // BDAT
  bool last_chunk = false;       // BDAT LAST
  bool discard_chunk = false;    // BDAT that failed its checks: read and drop, then send `reply`
};

// What the data phase saw, for the final verdict.
struct MessageFacts {
  std::uint64_t size = 0;       // decoded bytes, without our Received header
  bool size_exceeded = false;
  bool bare_line_ending = false;
  bool overlong_line = false;
  bool nul = false;
  bool bdat = false;
};

class SmtpServer {
 public:
  SmtpServer(const gateway::Config& config, Session& session, Transaction& tx)
      : cfg_(config), s_(session), tx_(tx) {}

  // Sets the per-host permissions from the current client identity.
  void evaluate_permissions();
  Reply greeting() const;
  Step on_line(std::string_view line);
  Step on_overlong_line();
  Step on_timeout() const;
  Step on_too_many_bad_commands();

  // DATA/BDAT: the header block we put on top (Received), built once the
  // transaction has its id.
  std::string received_header(std::int64_t now) const;
  // After the data: any reason to refuse it? empty() means go ahead and commit.
  Reply check_message(const MessageFacts& facts) const;
  Reply accepted_reply() const;
  Reply commit_failed_reply(bool no_space) const;
  // The transaction is over (accepted or refused): reset for the next MAIL.
  void end_transaction();
  // RFC 3030: BDAT reply for a chunk that was not the last.
  Reply chunk_reply(std::uint64_t bytes) const;
  // RFC 3207 4.2: the handshake after STARTTLS succeeded; forget what the
  // client said before it (EHLO, any transaction) and note the TLS state.
  void tls_started(std::string version, std::string cipher_for_log);

  const gateway::Config& config() const { return cfg_; }

 private:
  Step dispatch(const Command& cmd);
  Step hello(const Command& cmd, bool extended);   // verb_hello.cpp
  Step mail(const Command& cmd);                   // verb_mail.cpp
  Step rcpt(const Command& cmd);                   // verb_rcpt.cpp
  Step data(const Command& cmd);                   // verb_data.cpp
  Step bdat(const Command& cmd);                   // verb_data.cpp
  Step xclient(const Command& cmd);                // verb_xclient.cpp
  Step simple(const Command& cmd);                 // verb_misc.cpp
  Step answer_simple(const Command& cmd);          // verb_misc.cpp: the reply alone
  Step starttls(const Command& cmd);               // verb_starttls.cpp
  Step refuse(Reply r);                            // counts a bad command
  Reply ehlo_reply() const;
  // Is `domain` one we accept mail for (our host name, local_domains,
  // relay_domains)? defer when a lookup file could not answer (logged).
  gateway::ListAnswer our_domain(std::string_view domain) const;
  // A host list's answer for the client; a defer grants nothing (logged).
  bool host_allowed(const gateway::HostList& list, std::string_view list_name, std::string_view addr) const;
  void start_transaction_id();

  const gateway::Config& cfg_;
  Session& s_;
  Transaction& tx_;
};

// Convenience for handlers: a Step that only replies.
inline Step reply_step(int code, std::string enh, std::string text) {
  Step s;
  s.reply = Reply(code, std::move(enh), std::move(text));
  return s;
}

}  // namespace sluice::protocol
