// run_context.hpp — what every connection coroutine of one run shares (one
// thread: no locks): the options, the counters, the message budget, and what
// earlier connections learned (PIPECONNECT advertised, the last TLS session).
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>

#include "load-tests/loadgen/message.hpp"
#include "load-tests/loadgen/options.hpp"
#include "load-tests/loadgen/report.hpp"
#include "load-tests/loadgen/source_address.hpp"
#include "load-tests/loadgen/wolfssl_asio.hpp"

namespace sluice::loadgen {

struct RunContext {
  using clock = std::chrono::steady_clock;
  RunContext(const Options& o, const MessageTemplate& m, Stats& s) : options(o), message(m), stats(s) {}
  ~RunContext() {
    if (saved_session) SSL_SESSION_free(saved_session);
  }
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const Options& options;
  const MessageTemplate& message;
  Stats& stats;
  boost::asio::ip::tcp::endpoint target;
  SourceAddresses sources;
  boost::asio::ssl::context* tls = nullptr;  // set with --starttls
  clock::time_point end;                     // no transaction starts after this
  clock::time_point last_done;               // when the last transaction finished

  WOLFSSL_SESSION* saved_session = nullptr;  // offered on the next handshake (--resume)
  bool pipeconnect_known = false;            // the last EHLO reply listed PIPECONNECT
  bool server_chunking = false;              // the last EHLO reply listed CHUNKING
  bool server_pipelining = false;            // ... and PIPELINING
  bool give_up = false;                      // the server cannot do what the mode needs: stop the run
  std::uint64_t claimed = 0;                 // transactions started
  std::uint64_t next_connection = 0;         // index for the source address

  // One more transaction, unless --messages are all started or time is up.
  bool claim_message() {
    if (give_up) return false;
    if (options.messages && claimed >= options.messages) return false;
    if (clock::now() >= end) return false;
    ++claimed;
    return true;
  }
  void save_session(WOLFSSL_SESSION* session) {
    if (!session) return;
    if (saved_session) SSL_SESSION_free(saved_session);
    saved_session = session;
  }
};

}  // namespace sluice::loadgen
