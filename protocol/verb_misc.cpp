// The verbs that need no state of their own: RSET, NOOP, QUIT, VRFY, EXPN,
// HELP, and the one this build does not offer (AUTH).
#include "gateway/log.hpp"
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol {

namespace {
bool is_junk(Verb v) {
  return v == Verb::noop || v == Verb::rset || v == Verb::vrfy || v == Verb::expn || v == Verb::help;
}
}  // namespace

Step SmtpServer::simple(const Command& cmd) {
  // Commands that move no mail cost us a reply each and nothing bounds them
  // but the session's lifetime: past limits.max_junk_commands since the last
  // message accepted, each one also counts as a bad command (once: one
  // refused anyway, as EXPN is, is not counted again), so a client that only
  // idles or probes reaches the 421 of max_bad_commands. An accepted message
  // starts the count again (MessageReceiver), so a client that sends RSET or
  // NOOP between the messages it gets through never meets the limit.
  const unsigned bad_before = s_.bad_commands;
  Step st = answer_simple(cmd);
  if (!is_junk(cmd.verb) || ++s_.junk_commands <= cfg_.limits.max_junk_commands) return st;
  if (s_.junk_commands == cfg_.limits.max_junk_commands + 1ull) {
    gateway::log_info("junk_commands")
        .field("conn", s_.id)
        .field("H", s_.host_for_log())
        .field("limit", cfg_.limits.max_junk_commands);
  }
  if (s_.bad_commands != bad_before) return st;
  if (++s_.bad_commands > cfg_.limits.max_bad_commands) return on_too_many_bad_commands();
  return st;
}

Step SmtpServer::answer_simple(const Command& cmd) {
  switch (cmd.verb) {
    case Verb::rset:
      if (!cmd.args.empty()) return refuse(Reply(501, "5.5.4", "Syntax: RSET"));
      tx_.reset();
      return reply_step(250, "2.0.0", "OK");
    case Verb::noop:
      return reply_step(250, "2.0.0", "OK");
    case Verb::quit: {
      Step st;
      st.reply = Reply(221, "2.0.0", cfg_.smtp.hostname + " closing connection");
      st.next = Step::Next::close;
      return st;
    }
    case Verb::vrfy:
      // RFC 5321 3.5.3: 252 when we will not say, but would accept.
      if (cmd.args.empty()) return refuse(Reply(501, "5.5.4", "Syntax: VRFY address"));
      return reply_step(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    case Verb::expn:
      return refuse(Reply(502, "5.5.1", "EXPN not available"));
    case Verb::help: {
      Step st;
      st.reply.code = 214;
      st.reply.enhanced = "2.0.0";
      st.reply.lines = {"Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP",
                        "See RFC 5321 for their use"};
      return st;
    }
    case Verb::auth:
      return refuse(Reply(502, "5.5.1", "AUTH not offered"));
    default:
      return refuse(Reply(500, "5.5.1", "Command unrecognized"));
  }
}

}  // namespace sluice::protocol
