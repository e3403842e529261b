// options.hpp — what one sluice-loadgen run does, from its command line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::loadgen {

enum class Mode {
  plain,        // one command, one reply, as a client without PIPELINING
  pipelining,   // MAIL, RCPT..., DATA in one write (RFC 2920)
  pipeconnect,  // pipelining, and EHLO + the first group sent before the banner
  bdat,         // MAIL, RCPT..., BDAT chunks in one write (RFC 3030 CHUNKING)
  idle,         // open connections, EHLO, hold them without a transaction
  handshake,    // connect, TLS (implicit or STARTTLS), banner, QUIT: no transaction
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 25;
  Mode mode = Mode::plain;
  bool starttls = false;           // STARTTLS after EHLO, then EHLO again
  bool implicit_tls = false;       // TLS from the first byte (RFC 8314), before the banner
  std::string tls_version;         // "1.2" or "1.3" to pin the version; empty = the best both have
  // Key-exchange groups in preference order; the first is the TLS 1.3 key
  // share. OpenSSL's order by default, as most MTAs' clients send it.
  std::string tls_groups = "X25519:P-256:P-384:P-521";
  bool resume = false;             // offer the last TLS session (ticket/PSK) on the next connection
  bool tls() const { return starttls || implicit_tls; }
  bool force_pipeconnect = false;  // send early even before the server has advertised PIPECONNECT

  unsigned connections = 10;       // concurrent connections (idle mode: connections to hold)
  std::uint64_t messages = 1000;   // total messages; 0 = until --duration
  double duration_s = 60;          // hard cap on the run (idle mode: how long to hold)
  std::size_t size = 1024;         // message size in bytes, headers included
  unsigned recipients = 1;
  unsigned per_connection = 1;     // messages per connection before QUIT
  std::size_t chunk = 0;           // BDAT chunk size; 0 = the whole message in one BDAT LAST
  double timeout_s = 30;           // per SMTP step (connect, a reply, a write)

  std::string helo = "loadgen.test";
  std::string from = "loadgen@sender.test";
  std::string rcpt_domain = "example.org";
  std::string source;              // "ADDR" or "ADDR/PREFIX": local addresses to connect from
  unsigned per_source = 20000;     // connections per source address before moving to the next
  unsigned connect_burst = 500;    // idle mode: connects in flight at once
  std::string output;              // JSON report file; empty = stdout
  std::string message_file;        // send this message (e.g. DKIM-signed) instead of a generated one
};

// Parses argv; on a bad or missing value returns nullopt after printing why
// (and the usage) to stderr. --help prints the usage and exits 0.
std::optional<Options> parse_options(int argc, char** argv);
const char* mode_name(Mode mode);

}  // namespace sluice::loadgen
