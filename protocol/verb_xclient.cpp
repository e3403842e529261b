// XCLIENT (Postfix's extension, ../shared/specs/xclient.md): a trusted front
// end such as nginx's mail proxy tells us who the real client is.
//
// Security: only clients in xclient_hosts may use it, and the permission is
// evaluated again for the new identity afterwards, so XCLIENT can never widen
// its own access ("XCLIENT must not override its own access control"). The
// proxy's own address stays in Session::peer for logs and Received.
#include "metrics/sluice_metrics.hpp"
#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"
#include "protocol/xclient.hpp"

namespace sluice::protocol {

namespace {
std::string special_or(const XclientValue& v, const char* unavailable) {
  return v.special == XclientSpecial::none ? v.value : std::string(unavailable);
}
}  // namespace

Step SmtpServer::xclient(const Command& cmd) {
  if (!s_.xclient_allowed) {
    metrics::sluice_metrics().session_rejected(metrics::SessionReject::xclient_refused);
    return refuse(Reply(550, "5.7.0", "Insufficient authorization"));
  }
  if (tx_.active) return refuse(Reply(503, "5.5.1", "Mail transaction in progress"));
  XclientParse parsed = parse_xclient_args(cmd.args);
  if (!parsed.ok) return refuse(parsed.error);
  const XclientAttributes& a = parsed.attrs;
  // The first XCLIENT of a session must say who the client is. nginx sends
  // ADDR, NAME and LOGIN without PORT, which Postfix accepts; Exim's rule
  // that PORT is needed too is an option.
  if (!s_.xclient_seen) {
    if (!a.addr) return refuse(Reply(501, "5.5.4", "The first XCLIENT must carry ADDR"));
    if (cfg_.smtp.xclient_require_port && !a.port)
      return refuse(Reply(501, "5.5.4", "The first XCLIENT must carry ADDR and PORT"));
  }

  if (a.addr) {
    s_.client.addr = special_or(*a.addr, "unknown");
    // A new address without a PORT must not keep the old port: that would
    // pair the client's address with the proxy's own source port in logs
    // and Received. 0 means unknown and is not shown.
    s_.client.port = 0;
  }
  if (a.port) {
    s_.client.port = 0;
    if (a.port->special == XclientSpecial::none) s_.client.port = static_cast<std::uint16_t>(std::stoul(a.port->value));
  }
  if (a.name) s_.client.name = a.name->special == XclientSpecial::none ? a.name->value : std::string{};
  if (a.destaddr && a.destaddr->special == XclientSpecial::none) s_.local.addr = a.destaddr->value;
  if (a.destport && a.destport->special == XclientSpecial::none)
    s_.local.port = static_cast<std::uint16_t>(std::stoul(a.destport->value));
  // Postfix's reset rules: HELO, protocol and login are cleared unless given.
  s_.helo = (a.helo && a.helo->special == XclientSpecial::none) ? a.helo->value : std::string{};
  s_.esmtp = a.proto && iequals(a.proto->value, "ESMTP");
  s_.login = (a.login && a.login->special == XclientSpecial::none) ? a.login->value : std::string{};

  if (!s_.xclient_seen) metrics::sluice_metrics().xclient_sessions.inc();
  s_.origin = Origin::xclient;
  s_.xclient_seen = true;
  s_.greeted = false;  // a fresh EHLO is required after the new greeting
  tx_.reset();
  evaluate_permissions();  // PIPECONNECT stays as it was: it is judged on the socket peer

  Step st;
  st.reply = greeting();
  return st;
}

}  // namespace sluice::protocol
