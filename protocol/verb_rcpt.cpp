// RCPT TO (RFC 5321 4.1.1.3): recipient syntax, limits and relay control.
//
// Security: we accept a recipient only for our local or relay domains, or
// from a trusted network. Tricks that make a relay of a naive MTA are refused
// for everyone, since we never interpret them: the percent hack
// (user%other@ours), source routes (@a:user@b), bang paths (a!b@ours) and a
// quoted local part holding an '@' ("u@other"@ours). When a domain list's
// lookup file cannot answer, the recipient gets 451 4.3.0 (and a log line
// naming the file), never a 5xx.
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol {

Step SmtpServer::rcpt(const Command& cmd) {
  if (!tx_.active) return refuse(Reply(503, "5.5.1", "Need MAIL command first"));
  if (tx_.bdat_started) return refuse(Reply(503, "5.5.1", "RCPT not allowed after BDAT"));
  if (!istarts_with(cmd.args, "TO:")) return refuse(Reply(501, "5.5.4", "Syntax: RCPT TO:<address>"));

  PathParse path = parse_path(cmd.args.substr(3), PathKind::forward, tx_.params.smtputf8);
  if (!path.ok) return refuse(path.error);

  // RFC 5321 4.1.1.11: parameters are service extensions, offered only by EHLO.
  if (!path.params.empty() && !s_.esmtp) return refuse(Reply(555, "5.5.4", "RCPT parameters need EHLO"));
  RcptParams params;
  ParamOptions opts;
  opts.allow_dsn = cfg_.smtp.dsn;
  ParamsParse pp = parse_rcpt_params(path.params, opts, params);
  if (!pp.ok) return refuse(pp.error);

  // RFC 5321 4.5.3.1.8: 452 for too many recipients, and the client sends
  // the rest in a later transaction. Not counted as a bad command.
  if (tx_.recipients.size() >= cfg_.limits.max_recipients)
    return reply_step(452, "4.5.3", "Too many recipients");

  const auto& f = path.flags;
  if (f.source_route || f.percent_hack || f.bang_path || f.quoted_at)
    return refuse(Reply(550, "5.7.1", "Relay access denied: routing in the address is not supported"));

  const std::string& domain = path.mailbox.domain;
  // RFC 5321 4.5.1: <postmaster> with no domain is always ours. A trusted
  // client may relay anywhere, so its recipients need no domain lookup.
  const bool postmaster = domain.empty();
  if (!postmaster && !s_.relay_trusted) {
    const gateway::ListAnswer ours = our_domain(domain);
    // A lookup file that cannot answer is our problem, not the client's:
    // a temporary failure (RFC 3463 4.3.0), never a 5xx, and not counted
    // as a bad command.
    if (ours.defer()) return reply_step(451, "4.3.0", "Temporary lookup failure, try again later");
    if (!ours.yes()) return refuse(Reply(550, "5.7.1", "Relay access denied"));
  }

  tx_.recipients.push_back(Recipient{std::move(path.mailbox), std::move(params)});
  return reply_step(250, "2.1.5", "Recipient OK");
}

}  // namespace sluice::protocol
