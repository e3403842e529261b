// STARTTLS (RFC 3207): the reply only; the connection runs the handshake
// (Step::Next::starttls) and then calls tls_started().
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol {

Step SmtpServer::starttls(const Command& cmd) {
  if (s_.tls) return refuse(Reply(503, "5.5.1", "TLS already active"));  // RFC 3207 4.2: not offered again
  if (!s_.starttls_offered) return refuse(Reply(502, "5.5.1", "STARTTLS not offered"));
  if (!cmd.args.empty()) return refuse(Reply(501, "5.5.4", "Syntax: STARTTLS"));  // RFC 3207 4: no parameters
  if (!s_.greeted) return refuse(Reply(503, "5.5.1", "Send EHLO first"));
  // Mid-transaction TLS would protect only the rest of an envelope that was
  // partly given in clear; refuse it as Postfix does.
  if (tx_.active) return refuse(Reply(503, "5.5.1", "STARTTLS not allowed during a mail transaction"));
  Step st;
  st.reply = Reply(220, "2.0.0", "Ready to start TLS");
  st.next = Step::Next::starttls;
  return st;
}

void SmtpServer::tls_started(std::string version, std::string cipher_for_log) {
  // RFC 3207 4.2: discard any knowledge obtained from the client that was
  // not obtained from the TLS negotiation itself: the EHLO argument, any
  // envelope. The client must say EHLO again.
  tx_.reset();
  s_.helo.clear();
  s_.greeted = false;
  s_.esmtp = false;
  s_.tls = true;
  s_.tls_version = std::move(version);
  s_.tls_cipher = std::move(cipher_for_log);
}

}  // namespace sluice::protocol
