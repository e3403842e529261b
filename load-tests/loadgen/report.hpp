// report.hpp — what a run counted and measured, and its JSON form.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "load-tests/loadgen/latency.hpp"
#include "load-tests/loadgen/options.hpp"

namespace sluice::loadgen {

struct Stats {
  std::uint64_t connections_opened = 0;   // TCP connects that completed
  std::uint64_t messages_sent = 0;        // end of data written (".", or the last BDAT chunk)
  std::uint64_t messages_acknowledged = 0;  // ... and answered 250
  std::uint64_t tls_handshakes = 0;
  std::uint64_t tls_resumed = 0;          // handshakes that reused the offered session
  std::uint64_t tls_offered = 0;          // handshakes that offered a saved session
  std::uint64_t sessions_completed = 0;   // handshake mode: connect, TLS, banner, 221 to QUIT
  std::uint64_t early_sessions = 0;       // pipeconnect: connections that sent EHLO before the banner
  bool pipeconnect_advertised = false;    // some EHLO reply listed PIPECONNECT
  // idle mode
  std::uint64_t idle_established = 0;     // connections that got their EHLO reply
  std::uint64_t idle_held_at_end = 0;     // still open when the hold time ended
  std::uint64_t idle_closed_by_server = 0;
  double idle_open_all_s = 0;             // time until every connect had finished (or failed)
  std::uint64_t fd_soft_limit = 0;

  std::map<std::string, std::uint64_t> errors;  // kind -> count, e.g. "rcpt_4xx", "timeout"

  Latency transaction;      // connect (first message of a connection) or MAIL -> 250 after the data
  Latency data_end;         // end of data written -> its 250
  Latency connect_banner;   // connect started -> banner read
  Latency tls_handshake;    // STARTTLS's 220 read (implicit TLS: connected) -> handshake done
  Latency ehlo;             // EHLO written -> its reply (idle mode)

  void error(const std::string& kind) { ++errors[kind]; }
};

// The JSON report (one object, keys documented in load-tests/README.md).
std::string to_json(const Options& options, const Stats& stats, double elapsed_s);

}  // namespace sluice::loadgen
