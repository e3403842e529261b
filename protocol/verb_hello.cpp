// HELO and EHLO (RFC 5321 4.1.1.1): greet, reset any transaction, and for
// EHLO list the extensions this client may use.
#include "metrics/sluice_metrics.hpp"
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"
#include "protocol/xclient.hpp"

namespace sluice::protocol {

namespace {
// A HELO argument is a domain or an address literal; we check only that it is
// one printable token: many real clients send odd names, and the HELO name is
// informational (RFC 5321 4.1.4: no rejection for mismatch).
bool plausible_helo(std::string_view arg) {
  if (arg.empty() || arg.size() > 255) return false;
  for (unsigned char c : arg)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}
}  // namespace

Reply SmtpServer::ehlo_reply() const {
  Reply r;
  r.code = 250;
  r.lines.push_back(cfg_.smtp.hostname + " Hello " + s_.helo + " [" + s_.client.addr + "]");
  r.lines.push_back("SIZE " + std::to_string(cfg_.limits.max_message_size));
  if (cfg_.smtp.eight_bit_mime) r.lines.push_back("8BITMIME");
  if (cfg_.smtp.pipelining) {
    r.lines.push_back("PIPELINING");
    // Exim puts the early-pipelining keyword right after PIPELINING.
    if (s_.pipeconnect_allowed) r.lines.push_back(cfg_.smtp.pipeconnect_keyword);
  }
  if (cfg_.smtp.chunking) r.lines.push_back("CHUNKING");
  if (cfg_.smtp.smtputf8) r.lines.push_back("SMTPUTF8");
  if (cfg_.smtp.dsn) r.lines.push_back("DSN");
  // RFC 3207 4.2: never again once TLS is on; RFC 8689 4: REQUIRETLS only
  // where the obligation can be honoured, on a TLS session.
  if (s_.starttls_offered && !s_.tls) r.lines.push_back("STARTTLS");
  if (s_.tls) r.lines.push_back("REQUIRETLS");
  r.lines.push_back("ENHANCEDSTATUSCODES");
  // Every attribute the parser accepts (xclient.hpp), so the list cannot drift from it.
  if (s_.xclient_allowed) r.lines.push_back("XCLIENT " + std::string(kXclientAttributeNames));
  r.lines.push_back("HELP");
  return r;
}

Step SmtpServer::hello(const Command& cmd, bool extended) {
  if (!plausible_helo(cmd.args))
    return refuse(Reply(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"));
  tx_.reset();  // RFC 5321 4.1.4: EHLO/HELO implies RSET
  s_.helo = std::string(cmd.args);
  s_.greeted = true;
  s_.esmtp = extended;
  if (extended && s_.pipeconnect_allowed) {
    s_.pipeconnect_advertised = true;
    metrics::sluice_metrics().pipeconnect_advertised.inc();
  }
  Step st;
  if (extended) {
    st.reply = ehlo_reply();
  } else {
    st.reply.code = 250;
    st.reply.lines.push_back(cfg_.smtp.hostname + " Hello " + s_.helo + " [" + s_.client.addr + "]");
  }
  return st;
}

}  // namespace sluice::protocol
