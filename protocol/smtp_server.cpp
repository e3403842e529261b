#include "protocol/smtp_server.hpp"

#include <ctime>

#include "gateway/log.hpp"
#include "protocol/command.hpp"
#include "storage/message_id.hpp"

namespace sluice::protocol {

void SmtpServer::evaluate_permissions() {
  s_.xclient_allowed = host_allowed(cfg_.smtp.xclient_hosts, "smtp.xclient_hosts", s_.client.addr);
  s_.relay_trusted = host_allowed(cfg_.smtp.trusted_networks, "smtp.trusted_networks", s_.client.addr) ||
                     s_.tls_client_relay;
  // PIPECONNECT is judged on the real peer: it is decided before any PROXY or
  // XCLIENT identity could matter (the banner has not been sent yet).
  s_.pipeconnect_allowed =
      cfg_.smtp.pipelining && host_allowed(cfg_.smtp.pipeconnect_hosts, "smtp.pipeconnect_hosts", s_.peer.addr);
}

bool SmtpServer::host_allowed(const gateway::HostList& list, std::string_view list_name,
                              std::string_view addr) const {
  const gateway::ListAnswer a = list.match(addr);
  // Fail closed: a permission is never granted because its file was missing.
  if (a.defer())
    gateway::log_warn("lookup_defer")
        .field("conn", s_.id)
        .field("list", list_name)
        .field("item", a.item)
        .field("key", addr)
        .field("error", a.error)
        .field("effect", "not granted")
        .emit();
  return a.yes();
}

Reply SmtpServer::greeting() const {
  Reply r;
  r.code = 220;
  r.lines.push_back(cfg_.smtp.hostname + " " + cfg_.smtp.banner_text);
  return r;
}

namespace {
bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }
bool has_non_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return true;
  return false;
}
}  // namespace

Step SmtpServer::on_line(std::string_view line) {
  if (has_nul(line)) return refuse(Reply(500, "5.5.2", "NUL character in command"));
  Command cmd = parse_command(line);
  // Only MAIL and RCPT may carry UTF-8 (RFC 6531 3.3, addresses); their
  // parsers decide whether SMTPUTF8 allows it.
  if (cmd.verb != Verb::mail && cmd.verb != Verb::rcpt && has_non_ascii(line))
    return refuse(Reply(500, "5.5.2", "Non-ASCII characters in command"));
  return dispatch(cmd);
}

Step SmtpServer::dispatch(const Command& cmd) {
  switch (cmd.verb) {
    case Verb::ehlo: return hello(cmd, true);
    case Verb::helo: return hello(cmd, false);
    case Verb::mail: return mail(cmd);
    case Verb::rcpt: return rcpt(cmd);
    case Verb::data: return data(cmd);
    case Verb::bdat: return bdat(cmd);
    case Verb::xclient: return xclient(cmd);
    case Verb::starttls: return starttls(cmd);
    default: return simple(cmd);
  }
}

Step SmtpServer::refuse(Reply r) {
  ++s_.bad_commands;
  if (s_.bad_commands > cfg_.limits.max_bad_commands) return on_too_many_bad_commands();
  Step s;
  s.reply = std::move(r);
  return s;
}

Step SmtpServer::on_too_many_bad_commands() {
  Step s;
  s.reply = Reply(421, "4.7.0", cfg_.smtp.hostname + " Too many errors, closing connection");
  s.next = Step::Next::close;
  return s;
}

Step SmtpServer::on_overlong_line() {
  return refuse(Reply(500, "5.5.2", "Line too long"));
}

Step SmtpServer::on_timeout() const {
  Step s;
  s.reply = Reply(421, "4.4.2", cfg_.smtp.hostname + " Timeout, closing connection");
  s.next = Step::Next::close;
  return s;
}

gateway::ListAnswer SmtpServer::our_domain(std::string_view domain) const {
  if (iequals(domain, cfg_.smtp.hostname)) return gateway::ListAnswer{gateway::ListMatch::yes, "smtp.hostname", {}, {}};
  gateway::ListAnswer local = cfg_.smtp.local_domains.lookup(domain);
  if (local.yes()) return local;
  gateway::ListAnswer relay = cfg_.smtp.relay_domains.lookup(domain);
  if (relay.yes()) return relay;
  // Neither said yes; if either could not answer, the truth is unknown.
  const bool local_deferred = local.defer();
  gateway::ListAnswer& deferred = local_deferred ? local : relay;
  if (deferred.defer())
    gateway::log_warn("lookup_defer")
        .field("conn", s_.id)
        .field("list", local_deferred ? "smtp.local_domains" : "smtp.relay_domains")
        .field("item", deferred.item)
        .field("key", domain)
        .field("error", deferred.error)
        .field("effect", "451 4.3.0")
        .emit();
  return deferred;
}

void SmtpServer::start_transaction_id() {
  if (tx_.id.empty()) tx_.id = storage::make_message_id();
}

Reply SmtpServer::check_message(const MessageFacts& f) const {
  if (f.size_exceeded)
    return Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
  // In normalize mode the decoder has already turned them into CRLF.
  if (f.bare_line_ending && cfg_.smtp.bare_line_ending == gateway::BareLineEndingPolicy::reject)
    return Reply(550, "5.5.2", "Bare CR or LF in message data is not allowed (RFC 5321 2.3.8)");
  if (f.overlong_line) return Reply(500, "5.5.2", "Message has a line longer than " +
                                                      std::to_string(cfg_.limits.text_line_max) + " octets");
  return Reply{};
}

Reply SmtpServer::accepted_reply() const { return Reply(250, "2.0.0", "OK id=" + tx_.id); }

Reply SmtpServer::commit_failed_reply(bool no_space) const {
  if (no_space) return Reply(452, "4.3.1", "Insufficient system storage, try again later");
  return Reply(451, "4.3.0", "Local error in processing, try again later");
}

Reply SmtpServer::chunk_reply(std::uint64_t bytes) const {
  return Reply(250, "2.0.0", std::to_string(bytes) + " octets received");
}

void SmtpServer::end_transaction() {
  tx_.reset();
}

std::string SmtpServer::received_header(std::int64_t now) const {
  // RFC 5321 4.4: "from" clause with the client's own name for itself and
  // what we saw (TCP-info); "by", "with" (RFC 3848 / RFC 6531 names), "id",
  // and "for" when there is exactly one recipient (to avoid leaking Bcc).
  std::string h = "Received: from ";
  h += s_.helo.empty() ? "unknown" : s_.helo;
  h += " (";
  if (!s_.client.name.empty()) {
    h += s_.client.name;
    h += ' ';
  }
  h += '[';
  h += s_.client.addr;
  h += ']';
  if (s_.client.port != 0) {  // 0: unknown (XCLIENT ADDR without PORT)
    h += ':';
    h += std::to_string(s_.client.port);
  }
  if (s_.origin != Origin::direct) {
    h += s_.origin == Origin::proxy ? " via proxy [" : " via xclient [";
    h += s_.peer.addr;
    h += ']';
  }
  h += ")\r\n\tby ";
  h += cfg_.smtp.hostname;
  h += " (Sluice) with ";
  const bool utf8 = tx_.params.smtputf8;
  std::string with = utf8 ? "UTF8SMTP" : (s_.esmtp ? "ESMTP" : "SMTP");
  if (s_.tls && (s_.esmtp || utf8)) with += 'S';   // RFC 3848: ESMTPS; RFC 6531: UTF8SMTPS
  if (!s_.login.empty() && s_.esmtp) with += 'A';  // RFC 3848 registers ESMTPA, not SMTPA
  h += with;
  if (s_.tls) {
    // What protected the hop, as other MTAs note it: version and cipher.
    h += " (";
    h += s_.tls_version;
    h += ' ';
    h += s_.tls_cipher;
    if (tx_.params.requiretls) h += " REQUIRETLS";  // RFC 8689: the obligation travels with the message
    if (s_.tls_client_verified) {
      h += " verified CN=";
      h += s_.tls_client_name;
    }
    h += ')';
  }
  h += "\r\n\tid ";
  h += tx_.id;
  if (tx_.recipients.size() == 1) {
    h += "\r\n\tfor <";
    h += tx_.recipients.front().mailbox.str();
    h += '>';
  }
  h += ";\r\n\t";
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  h += date;
  h += "\r\n";
  return h;
}

}  // namespace sluice::protocol
