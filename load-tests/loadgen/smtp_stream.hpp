// smtp_stream.hpp — one client connection: TCP, optionally TLS after
// STARTTLS, SMTP replies read whole (multi-line), every step under a deadline.
//
// The deadline is a watchdog coroutine rather than a timer per operation:
// each step moves `deadline_` forward (a store, no timer call), and the
// watchdog, waking at the old deadline, re-arms for the new one or, when the
// step is really late, closes the socket so the pending operation fails. Run
// it beside the session: `co_await (session() || stream.watchdog())`.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "load-tests/loadgen/wolfssl_asio.hpp"

namespace sluice::loadgen {

enum class Outcome { ok, timeout, closed, tls_failed, bad_reply };
const char* outcome_name(Outcome o);

struct Reply {
  int code = 0;
  std::string lines;  // every line of the reply without CRLF, joined by '\n'
  bool has_keyword(std::string_view keyword) const;  // an EHLO keyword, case-insensitive
};

class SmtpStream {
 public:
  using clock = std::chrono::steady_clock;
  SmtpStream(const boost::asio::any_io_executor& ex, clock::duration step_timeout);

  boost::asio::awaitable<Outcome> connect(const boost::asio::ip::tcp::endpoint& to,
                                          const std::optional<boost::asio::ip::address>& from);
  boost::asio::awaitable<Outcome> write(std::string_view data);
  boost::asio::awaitable<Outcome> read_reply(Reply& out);
  // TLS client handshake on the connected socket (after STARTTLS's 220),
  // offering `offer` (may be null) for resumption; sets `resumed`.
  boost::asio::awaitable<Outcome> start_tls(boost::asio::ssl::context& ctx, WOLFSSL_SESSION* offer, bool& resumed);
  // The current TLS session (new reference, caller frees), null without TLS.
  WOLFSSL_SESSION* session();
  bool tls_active() const { return tls_.has_value(); }
  bool tls_resumed() const { return resumed_; }

  // Idle mode: waits, without a deadline and with a tiny buffer, until the
  // server closes the connection (or sends anything, e.g. a 421) or close().
  boost::asio::awaitable<void> wait_closed();

  boost::asio::awaitable<void> watchdog();
  void close();

 private:
  void arm() { deadline_ = clock::now() + step_timeout_; }
  Outcome failure(const boost::system::error_code& ec) const;
  boost::asio::awaitable<Outcome> read_more();

  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::steady_timer timer_;
  clock::duration step_timeout_;
  clock::time_point deadline_ = clock::time_point::max();
  bool timed_out_ = false;
  bool resumed_ = false;
  std::string in_;          // received, not yet parsed
  std::size_t parsed_ = 0;  // bytes of in_ already returned as replies
};

}  // namespace sluice::loadgen
