// session_state.hpp — what we know about one SMTP connection (Session) and
// about the mail transaction in progress on it (Transaction).
//
// Kept apart on purpose: RSET, MAIL and the end of DATA reset the
// Transaction, never the Session. The client the socket shows (`peer`) and
// the client a trusted front end told us about (`client`, set by PROXY or
// XCLIENT) are both kept; policy, logs and Received use `client`, and `peer`
// stays visible as the proxy's own address.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/address.hpp"
#include "protocol/mail_params.hpp"

namespace sluice::protocol {

struct Endpoint {
  std::string addr;       // textual IP, no brackets
  std::uint16_t port = 0; // 0: unknown (XCLIENT ADDR given without PORT)
  std::string name;       // host name when known (XCLIENT NAME), else empty
};

enum class Origin { direct, proxy, xclient };

struct Session {
  Endpoint peer;          // the TCP peer as the socket reports it
  Endpoint local;         // our address and port
  Endpoint client;        // effective client: peer, or what PROXY/XCLIENT said
  Origin origin = Origin::direct;
  std::string listener;   // listener name, for logs
  std::string id;         // connection id for logs

  std::string helo;       // argument of the last HELO/EHLO
  bool greeted = false;   // HELO or EHLO accepted since the last reset
  bool esmtp = false;     // it was EHLO
  std::string login;      // XCLIENT LOGIN (authenticated as)
  bool xclient_allowed = false;       // re-evaluated after each XCLIENT
  bool xclient_seen = false;
  bool pipeconnect_allowed = false;   // host may talk before the banner
  bool pipeconnect_advertised = false;
  bool pipeconnect_used = false;      // it did
  bool relay_trusted = false;         // client in trusted_networks
  // TLS (RFC 3207, RFC 8314): set by the connection, read by EHLO, MAIL and Received.
  bool starttls_offered = false;      // the listener offers STARTTLS and TLS is not on yet
  bool tls = false;                   // the session runs over TLS now
  std::string tls_version;            // "TLSv1.3"
  std::string tls_cipher;             // as logged: "*" appended when resumed
  bool tls_client_verified = false;   // a client certificate verified against tls.client_ca_file
  std::string tls_client_name;        // its first name (CN or DNS SAN), for logs and Received
  bool tls_client_relay = false;      // ... and its name may relay (tls.client_cert_relay_names)
  unsigned bad_commands = 0;
  std::uint64_t junk_commands = 0;    // since the last message accepted (limits.max_junk_commands)
  std::uint64_t messages = 0;

  // "esmtp", "esmtps", "esmtpsa", "utf8esmtps", ... (RFC 3848, RFC 6531), lower case for logs.
  std::string protocol_name(bool utf8) const;
  // Exim's L= mark: "." advertised but unused, "*" used, "" not advertised.
  std::string_view pipelining_mark() const;
  // "name [addr]:port", Exim's H= shape.
  std::string host_for_log() const;
};

struct Recipient {
  Mailbox mailbox;
  RcptParams params;
};

struct Transaction {
  bool active = false;          // MAIL accepted
  bool null_sender = false;
  Mailbox sender;
  MailParams params;
  std::vector<Recipient> recipients;
  std::string id;               // queue id, chosen at the first accepted RCPT
  // BDAT state (RFC 3030): a BDAT chunk has been accepted in this transaction.
  bool bdat_started = false;
  bool bdat_failed = false;     // an earlier chunk failed: later ones get 503/5xx
  void reset() { *this = Transaction{}; }
};

}  // namespace sluice::protocol
