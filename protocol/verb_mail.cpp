// MAIL FROM (RFC 5321 4.1.1.2) with SIZE, BODY, SMTPUTF8, DSN and REQUIRETLS parameters.
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol {

Step SmtpServer::mail(const Command& cmd) {
  if (!s_.greeted) return refuse(Reply(503, "5.5.1", "Send EHLO or HELO first"));
  if (tx_.active) return refuse(Reply(503, "5.5.1", "Nested MAIL command"));
  if (!istarts_with(cmd.args, "FROM:")) return refuse(Reply(501, "5.5.4", "Syntax: MAIL FROM:<address>"));

  const bool utf8_possible = s_.esmtp && cfg_.smtp.smtputf8;
  PathParse path = parse_path(cmd.args.substr(5), PathKind::reverse, utf8_possible);
  if (!path.ok) return refuse(path.error);

  MailParams params;
  if (!path.params.empty() && !s_.esmtp)
    return refuse(Reply(555, "5.5.4", "MAIL parameters need EHLO"));
  ParamOptions opts;
  opts.allow_8bitmime = cfg_.smtp.eight_bit_mime;
  opts.allow_binarymime = cfg_.smtp.chunking;
  opts.allow_smtputf8 = cfg_.smtp.smtputf8;
  opts.allow_dsn = cfg_.smtp.dsn;
  opts.allow_requiretls = true;  // known everywhere, so that outside TLS it gets its own reply below
  ParamsParse pp = parse_mail_params(path.params, opts, params);
  if (!pp.ok) return refuse(pp.error);
  // RFC 8689 4: REQUIRETLS is offered only on a TLS session; a client that
  // asks for it without TLS must not have its message accepted.
  if (params.requiretls && !s_.tls) return refuse(Reply(530, "5.7.10", "REQUIRETLS needs a TLS session"));

  // RFC 6531 3.5: a non-ASCII reverse path needs the SMTPUTF8 parameter (550 on MAIL).
  if (path.mailbox.needs_smtputf8 && !params.smtputf8)
    return refuse(Reply(550, "5.6.7", "Non-ASCII sender address needs SMTPUTF8"));
  // RFC 1870 6.1: refuse early when the declared size is already too big.
  if (params.size && *params.size > cfg_.limits.max_message_size)
    return refuse(Reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));

  tx_.reset();
  tx_.active = true;
  tx_.null_sender = path.null_path;
  tx_.sender = std::move(path.mailbox);
  tx_.params = std::move(params);
  return reply_step(250, "2.1.0", "Sender OK");
}

}  // namespace sluice::protocol
